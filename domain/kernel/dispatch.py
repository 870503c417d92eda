"""The command registry: which handler applies each command, and which roles may send it.

Each aggregate's module of handlers registers itself here with `@handles(...)`; the
dispatcher (`Ledger.handle`) looks the command up. A handler gets the ledger (as `Ledger`
here: what a handler may ask of it), the command, the actor and the time, and returns a
`Decision`: what to save, in one atomic write. Most commands load one aggregate and call
one of its methods: `handles_loaded` registers such a function of the loaded aggregate,
and writes the loading and saving once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from domain.kernel import command_types as c
from domain.kernel.errors import NotFound
from domain.kernel.metadata import Actor, LedgerAggregate

TAggregate = TypeVar("TAggregate", bound=LedgerAggregate)


class Ledger(Protocol):
    """The ledger as a handler sees it (`domain.application.Ledger` is one): the records to decide on.

    A protocol rather than the class, which imports every handler module to register it.
    """

    repository: Any
    subject_keys: Any
    #: who commissions what (`domain.commissioning.Commissioning`)
    commissioning: Any

    def aggregate(self, cls: type[TAggregate], reference: str, *, as_of: datetime | None = None) -> TAggregate: ...

    def exists(self, cls: type[LedgerAggregate], reference: str) -> bool: ...

    def competition(self, reference: str, *, as_of: datetime | None = None) -> Any: ...

    def commissioners_of_home(self, location: Any) -> frozenset[str]: ...

    def commissioners_of_contract(self, contract: Any) -> frozenset[str]: ...


def find(ledger: Ledger, cls: type[TAggregate], reference: str) -> TAggregate | None:
    """The record, or None where there is none yet (a first submission, a first import)."""
    try:
        return ledger.aggregate(cls, reference)
    except NotFound:
        return None


@dataclass
class Decision:
    """What a handler produced: aggregates to save and an optional value for the caller."""

    aggregates: list[Any]
    value: dict[str, Any] | None = None
    #: done only once the events are stored (e.g. destroying an erased subject's key)
    after: Callable[[], None] | None = None


Handler = Callable[[Any, Any, Actor, datetime], Decision]
HANDLERS: dict[type[c.Command], tuple[tuple[str, ...], str, Handler]] = {}


def handles(command_type: type[c.Command], roles: tuple[str, ...], action: str) -> Callable[[Handler], Handler]:
    def register(func: Handler) -> Handler:
        HANDLERS[command_type] = (roles, action, func)
        return func

    return register


def handles_one(
    command_type: type[c.Command],
    roles: tuple[str, ...],
    action: str,
    *,
    load: Callable[[Any, Any], Any],
    decide: Callable[[Any, Any, Actor, datetime, Any], Any],
    check: Callable[[Any, Any, Actor, str], None] | None = None,
) -> None:
    """Register the common shape of a handler: load one aggregate, check the actor, decide, save it.

    `load(ledger, cmd)` finds the aggregate; `check(ledger, aggregate, actor, action)` refuses an actor
    who may not act on it; `decide(aggregate, cmd, actor, now, ledger)` calls its method. A
    dict the method returns is handed back to the caller as the command's value.
    """

    def handler(ledger: Any, cmd: Any, actor: Actor, now: datetime) -> Decision:
        aggregate = load(ledger, cmd)
        if check is not None:
            check(ledger, aggregate, actor, action)
        value = decide(aggregate, cmd, actor, now, ledger)
        return Decision([aggregate], value if isinstance(value, dict) else None)

    handles(command_type, roles, action)(handler)


#: a function of the loaded aggregate: (aggregate, command, actor, now) -> a value for the caller, or None
Decide = Callable[[Any, Any, Actor, datetime], dict[str, Any] | None]


def handles_loaded(
    command_type: type[c.Command],
    roles: tuple[str, ...],
    action: str,
    *,
    load: Callable[[Any, Any], Any],
    check: Callable[[Any, Any, Actor, str], None] | None = None,
) -> Callable[[Decide], Decide]:
    """Register the decorated function of one loaded aggregate as the handler of `command_type`.

    As `handles_one`: the aggregate is loaded and checked, the function called with it, and the
    aggregate saved; the function is returned unchanged, so it can be called (and tested) by name.
    A context names its own decorator over this one, e.g. `on_competition(Command, roles, action)`.
    """

    def register(decide: Decide) -> Decide:
        handles_one(
            command_type,
            roles,
            action,
            load=load,
            check=check,
            decide=lambda aggregate, cmd, actor, now, _ledger: decide(aggregate, cmd, actor, now),
        )
        return decide

    return register
