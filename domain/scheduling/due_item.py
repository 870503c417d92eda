"""A due item: one thing the scheduler raised, once, for a mailer and the people it concerns.

Why an aggregate (events) rather than rows of a table beside the scheduler's position: a
reminder sent, a standstill's end announced, an action plan's due date raised are things
the commissioners may later have to show happened ("the home was reminded on 9 June and
still did not return"; seed 000 s.6.2.1 has the system issue the reporting links and the
reminder e-mails). The ledger's rule is that what may have to be explained is an event
(DESIGN.md, principle 1: events are the only truth; read models are disposable), so each
due item is an event in the Merkle log, with who raised it (the scheduler, a system
principal) and when. A table would be state that no rebuild could restore and no auditor
could verify.

Its id is derived from its key, `KIND|SUBJECT|DUE_ON` (`due_key`), so raising the same
item again (a repeated tick, a crash between raising and the scheduler noting its tick)
finds it and records nothing: the idempotence is the record's identity, not the scheduler's
memory. A mailer (issue 18 item 5) follows the `DueItem.Raised` events in the log from its
own position; each event says what kind of item it is, its subject, when it is due, the
organisations it concerns (never a person: the mailer looks the contacts up, so no personal
data is copied here) and a sentence to say.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.kernel.errors import ValidationFailed
from domain.kernel.metadata import LedgerAggregate
from domain.kernel.topics import stored_as

#: the kinds of due item (see `domain.scheduling.rules` for when each is raised)
KINDS = (
    "return_open",  # a return can be submitted from today: the monthly reporting link (seed 000 s.6.2.1)
    "return_reminder",  # a return's deadline is near and it has not been received
    "escalation_due",  # the due date of the notice of the contract's current escalation stage
    "action_due",  # an improvement action plan's action is due and not complete
    "standstill_end",  # a competition's standstill has ended: the award may be concluded
    "contract_expiry",  # a contract's term has ended
    "extension_decision",  # the day by which to decide whether to extend a contract
)


def due_key(kind: str, subject: str, due_on: date) -> str:
    return f"{kind}|{subject}|{due_on.isoformat()}"


@stored_as("domain.scheduling")
class DueItem(LedgerAggregate):
    """One due item, raised once (its id is its key's)."""

    KIND = "due_item"

    def __init__(self) -> None:
        self.reference = ""
        self.kind = ""
        self.subject = ""
        self.due_on = ""
        self.concerns: list[str] = []
        self.summary = ""
        self.raised_on = ""

    @classmethod
    def raise_item(cls, *, kind: str, subject: str, due_on: date, concerns: list[str], summary: str, today: date) -> DueItem:
        if kind not in KINDS:
            raise ValidationFailed(f"A due item's kind is one of {', '.join(KINDS)}, not {kind!r}.", code="unknown_kind", field="kind")
        reference = due_key(kind, subject, due_on)
        return cls._create(
            cls.Raised,
            id=cls.id_for(reference),
            reference=reference,
            kind=kind,
            subject=subject,
            due_on=due_on.isoformat(),
            concerns=sorted(set(concerns)),
            summary=summary,
            raised_on=today.isoformat(),
        )

    class Raised(LedgerAggregate.Created):
        reference: str
        kind: str
        subject: str
        due_on: str
        concerns: list
        summary: str
        raised_on: str

        def apply(self, d: DueItem) -> None:
            d.reference, d.kind, d.subject, d.due_on = self.reference, self.kind, self.subject, self.due_on
            d.concerns, d.summary, d.raised_on = list(self.concerns), self.summary, self.raised_on


def due_item_state(d: DueItem) -> dict[str, Any]:
    return {
        "reference": d.reference,
        "id": str(d.id),
        "version": d.version,
        "kind": d.kind,
        "subject": d.subject,
        "due_on": d.due_on,
        "concerns": list(d.concerns),
        "summary": d.summary,
        "raised_on": d.raised_on,
    }
