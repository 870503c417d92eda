"""The building blocks of every command: the base class and the constrained value types.

Kept apart from domain/commands.py so that each area's commands (procurement, contracts,
providers) can build on them while domain/commands.py gathers every command into the union.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec

from domain.kernel.errors import DomainError

from msgspec import Meta, Struct

Reference = Annotated[str, Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
Text = Annotated[str, Meta(min_length=1, max_length=20_000)]
ShortText = Annotated[str, Meta(min_length=1, max_length=500)]
Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
Pence = Annotated[int, Meta(ge=0)]
Instant = Annotated[datetime, Meta(tz=True)]


class Command(Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    """Base of every command. `reason` is recorded in the events' metadata."""

    reason: str | None = None


# --------------------------------------------------------------------- results


class FieldError(Struct):
    field: str
    rule: str
    message: str


class ErrorInfo(Struct, omit_defaults=True):
    code: str
    message: str
    #: validation | conflict | not_found | forbidden
    kind: str = "conflict"
    fields: list[FieldError] = []


class RecordedEvent(Struct):
    type: str
    aggregate_id: str
    version: int
    #: position in the notification log (the global order projections and the audit log follow)
    position: int | None = None


class CommandResult(Struct, omit_defaults=True):
    ok: bool
    events: list[RecordedEvent] = []
    error: ErrorInfo | None = None
    #: a value the command produced, e.g. the id of a new clarification
    value: dict[str, Any] | None = None
    #: the notification id of the last event the command stored (None if it stored nothing):
    #: a read model whose position has reached it reflects this command (read-your-writes,
    #: `projections.runner.wait_for`)
    position: int | None = None


def command_to_builtins(command: Command) -> dict[str, Any]:
    return msgspec.to_builtins(command)


def error_info(err: DomainError) -> ErrorInfo:
    if err.fields:
        fields = [FieldError(field=f["field"], rule=f["rule"], message=f["message"]) for f in err.fields]
    else:
        fields = [FieldError(field=err.field, rule=err.code, message=err.message)] if err.field else []
    return ErrorInfo(code=err.code, message=err.message, kind=err.kind, fields=fields)
