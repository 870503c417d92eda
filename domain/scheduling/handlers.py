"""Handlers of the scheduling commands: only the system (the scheduler) raises due items."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.access import SCHEDULERS
from domain.kernel.dispatch import Decision, find, handles
from domain.kernel.metadata import Actor
from domain.providers.location import london_day
from domain.scheduling.commands import RaiseDueItem
from domain.scheduling.due_item import DueItem, due_key

if TYPE_CHECKING:
    from domain.kernel.dispatch import Ledger


@handles(RaiseDueItem, SCHEDULERS, "raise a due item")
def _raise_due_item(ledger: Ledger, cmd: RaiseDueItem, actor: Actor, now: datetime) -> Decision:
    key = due_key(cmd.kind, cmd.subject, cmd.due_on)
    existing = find(ledger, DueItem, key)
    if existing is not None:
        return Decision([existing], {"due_item": key, "recorded": False})
    item = DueItem.raise_item(
        kind=cmd.kind, subject=cmd.subject, due_on=cmd.due_on, concerns=list(cmd.concerns), summary=cmd.summary, today=london_day(now)
    )
    return Decision([item], {"due_item": key, "recorded": True})
