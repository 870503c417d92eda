"""Commands of scheduling (part of the one command union in domain/commands.py).

`due.raise` is sent by the scheduler (a system principal, `domain.access.SCHEDULER`) for each
due item it finds; raising the same item (kind, subject, due day) again records nothing.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta

from domain.kernel.command_types import Command, Day, Reference, ShortText, unique

#: what a due item is about, e.g. return:1-101/london-aqp-care-home-monthly/2026-04, contract:REF
Subject = Annotated[str, Meta(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
Kind = Literal[
    "return_open", "return_reminder", "escalation_due", "action_due", "standstill_end", "contract_expiry", "extension_decision"
]


class RaiseDueItem(Command, tag="due.raise"):
    """Record a due item once: what kind, about what, due when, and the organisations it concerns."""

    kind: Kind
    subject: Subject
    due_on: Day
    #: a sentence saying what is due (no personal data)
    summary: ShortText
    #: the organisations it concerns (a provider's CQC id, a home's, a commissioner's), never a person
    concerns: Annotated[list[Reference], unique(max_length=100)] = []


SCHEDULING_COMMANDS = (RaiseDueItem,)
