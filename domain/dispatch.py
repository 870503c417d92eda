"""The command registry: which handler applies each command, and which roles may send it.

Each aggregate's module of handlers registers itself here with `@handles(...)`; the
dispatcher (`Ledger.handle`) looks the command up. A handler gets the ledger, the command,
the actor and the time, and returns a `Decision`: what to save, in one atomic write.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import commands as c
from domain.metadata import Actor


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
