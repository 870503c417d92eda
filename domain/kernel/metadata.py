"""Who, when and why: the metadata every event carries, filled in one place.

The dispatcher opens a `CommandContext` for each command (`acting(ctx)`); every event an
aggregate triggers while it is open is stamped with the context's actor, times, reason and
correlation/causation ids, and takes its timestamp from the context rather than a clock.
So an aggregate method cannot forget the metadata, and replaying a scenario file with its
own `at` times reproduces the same events.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any, ClassVar, Literal
from uuid import NAMESPACE_URL, UUID, uuid5

import msgspec
from eventsourcing.domain import Aggregate

from domain.kernel.errors import RuleBroken

Role = Literal[
    "procurement_lead",
    "evaluator",
    "contract_manager",
    "commissioner",
    "provider",
    "auditor",
    "foi_officer",
    "admin",
    "system",
]

ROLES: tuple[str, ...] = Role.__args__  # type: ignore[attr-defined]

#: The namespace of every id the ledger derives from a human reference.
LEDGER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:aqp-ledger")


class Actor(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A person or system acting for an organisation in a role."""

    id: str
    org: str
    role: Role


class CommandContext(msgspec.Struct, frozen=True):
    actor: Actor
    #: when the ledger recorded the command (the clock, or a scenario line's `at`)
    at: datetime
    command_id: str
    command_type: str
    correlation_id: str
    #: what caused this command: the request, or the event a process reacted to
    causation_id: str
    reason: str | None = None
    #: the time the action refers to, where it differs from `at`
    business_time: datetime | None = None

    def as_meta(self) -> dict[str, Any]:
        return {
            "actor": {"id": self.actor.id, "org": self.actor.org, "role": self.actor.role},
            "recorded_at": self.at.isoformat(),
            "business_time": self.business_time.isoformat() if self.business_time else None,
            "reason": self.reason,
            "command": self.command_type,
            "command_id": self.command_id,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
        }


_current: ContextVar[CommandContext | None] = ContextVar("aqp_command_context", default=None)


@contextmanager
def acting(ctx: CommandContext) -> Iterator[CommandContext]:
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)


def current_context() -> CommandContext:
    ctx = _current.get()
    if ctx is None:
        # An event without who/when/why would be unexplainable later: refuse to make one.
        raise RuntimeError("an event was triggered outside a command context (use `acting(ctx)`)")
    return ctx


class LedgerAggregate(Aggregate):
    """Base of every aggregate: deterministic ids and metadata-stamped events."""

    #: the kind used in ids and error messages, e.g. "competition"
    KIND: ClassVar[str] = ""

    class Event(Aggregate.Event):
        meta: dict

    class Created(Event, Aggregate.Created):
        pass

    @classmethod
    def id_for(cls, reference: str) -> UUID:
        """The aggregate id for a human reference, stable across stores and replays."""
        return uuid5(LEDGER_NAMESPACE, f"{cls.KIND}:{reference}")

    @classmethod
    def _create(cls, event_class: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        ctx = current_context()
        kwargs["meta"] = ctx.as_meta()
        kwargs["timestamp"] = ctx.at
        return super()._create(event_class, **kwargs)

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:  # type: ignore[override]
        ctx = current_context()
        if ctx.at < self.modified_on:
            # An aggregate's history must read forwards in time, or "as of" replays would lie.
            raise RuleBroken(
                f"This {self.KIND} was last changed at {self.modified_on.isoformat()}; "
                f"a change cannot be recorded earlier, at {ctx.at.isoformat()}.",
                code="time_before_last_change",
            )
        kwargs["meta"] = ctx.as_meta()
        kwargs["timestamp"] = ctx.at
        super().trigger_event(event_class, **kwargs)
