"""The building blocks of every command: the base class and the constrained value types.

Kept apart from domain/commands.py so that each area's commands (procurement, contracts,
providers) can build on them while domain/commands.py gathers every command into the union.

Every field has the bound a user would expect, declared in its type so that the OpenAPI
document shows it and a decoded command (HTTP body, scenario line) is refused at the door.
What msgspec cannot say itself is declared in the type's `Meta(extra=...)` and checked by
`check_bounds` for every command the dispatcher takes, however it was made: no duplicates
where a list is a set (`unique`, `unique_by`), every date within `EARLIEST`..`LATEST`, and,
where a date means "about now" (a deadline, the day vacancies are for, a return's period),
within a window of the command's own clock (`window`): the schema can only carry the outer
bound, the window moves with the day. And no text anywhere in a command, a document it carries
whole included, may hold a NUL character (U+0000): no user means one, and PostgreSQL cannot
keep it in a read model's text column, so a command recorded with one would stop that read
model following the log at its event (SQLite takes it, so only one store would break).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from functools import cache
from typing import Annotated, Any

import msgspec
import msgspec.inspect as mi

from domain.kernel.errors import DomainError, ValidationFailed

from msgspec import Meta, Struct

Reference = Annotated[str, Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
Text = Annotated[str, Meta(min_length=1, max_length=20_000)]
ShortText = Annotated[str, Meta(min_length=1, max_length=500)]
#: free text that may be left empty (a note, a justification the domain asks for by its own rule)
Note = Annotated[str, Meta(max_length=20_000)]
ShortNote = Annotated[str, Meta(max_length=500)]
#: a key of a JSON document a command carries whole (a template, a KPI set, a CQC record)
JsonKey = Annotated[str, Meta(max_length=200)]
Sha256 = Annotated[str, Meta(pattern=r"^[0-9a-f]{64}$")]
#: an amount of money in pence, at most GBP 10 billion (no framework or contract is near it)
MAX_PENCE = 10**12
Pence = Annotated[int, Meta(ge=0, le=MAX_PENCE)]
#: a change of value in pence, either way
PenceChange = Annotated[int, Meta(ge=-MAX_PENCE, le=MAX_PENCE)]
#: a figure of a company's filed accounts, in pence: at most GBP 1 trillion either way
AccountsPence = Annotated[int, Meta(ge=-(10**14), le=10**14)]
#: a weekly or hourly rate of care in pence: at most GBP 20,000 (a week of the most complex care)
RatePence = Annotated[int, Meta(ge=1, le=2_000_000)]
#: a document's or a tender's size: at most 10 GiB
SizeBytes = Annotated[int, Meta(ge=1, le=10 * 2**30)]
#: beds of one type vacant in one home (England's largest homes have under 300 beds)
Beds = Annotated[int, Meta(le=500)]
#: hours a week of home care (a large branch delivers a few thousand)
HoursAWeek = Annotated[int, Meta(le=20_000)]
#: lots of one competition or framework (seed 002 has four; London's 32 directorates would be 32)
MAX_LOTS = 100

#: the outer bound of every date a command carries
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)
_THIS_CENTURY = "^20[0-9]{2}-"


def _dated(kind: type, description: str, window: tuple[int | None, int | None] | None = None) -> Any:
    extra: dict[str, Any] = {"window": window} if window else {}
    return Annotated[kind, Meta(extra_json_schema={"description": description, "extra": {"pattern": _THIS_CENTURY}}, extra=extra)]


Day = _dated(date, "a day from 2000-01-01 to 2099-12-31")
Instant = Annotated[
    datetime,
    Meta(tz=True, extra_json_schema={"description": "a time with its zone, from 2000 to 2099", "extra": {"pattern": _THIS_CENTURY}}),
]
#: a deadline: no more than two years after the command is sent
Deadline = Annotated[
    datetime,
    Meta(tz=True, extra_json_schema={"description": "a time with its zone, at most two years after the command is sent",
                                     "extra": {"pattern": _THIS_CENTURY}}, extra={"window": (None, 731)}),
]
#: the day a report is for (vacancies, availability): within the year before the command is sent
RecentDay = _dated(date, "a day within the year before the command is sent", (366, None))
#: a day something is planned for: no more than two years after the command is sent
PlannedDay = _dated(date, "a day at most two years after the command is sent", (None, 731))


def unique(*, max_length: int, min_length: int | None = None, by: str | None = None, domain_rule: str | None = None) -> Meta:
    """The Meta of a list that is a set: `by` names the key of its items (their ids) when they are records.

    Checked by `check_bounds`, unless the domain has its own rule for it (`domain_rule`, the
    code it answers with: it reports every failure at once, or names the duplicate better).
    """
    what = f"each item's `{by}` appears once" if by else "no item appears twice"
    checked: dict[str, Any] = {} if domain_rule else ({"unique_by": by} if by else {"unique": True})
    return Meta(
        min_length=min_length,
        max_length=max_length,
        extra_json_schema={"description": f"at most {max_length} items; {what}", "extra": {"uniqueItems": True}},
        extra=checked,
    )


def entries(*, max_length: int, min_length: int | None = None) -> Meta:
    """The Meta of a mapping (by lot, by metric...) of at most `max_length` entries."""
    counts = {"maxProperties": max_length, **({"minProperties": min_length} if min_length else {})}
    return Meta(min_length=min_length, max_length=max_length,
                extra_json_schema={"description": f"at most {max_length} entries", "extra": counts})


#: a return period (a string starting with its year): from ten years before the command to a year after
PERIOD_YEARS = {"period_years": (10, 1)}
PERIOD_TEXT = {"description": "a period from ten years before the command is sent to a year after"}


class Command(Struct, tag_field="type", forbid_unknown_fields=True, kw_only=True):
    """Base of every command. `reason` is recorded in the events' metadata."""

    reason: Annotated[str, Meta(max_length=5_000)] | None = None


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


# --------------------------------------------------------------------- bounds msgspec cannot say


def check_bounds(command: Command, now: datetime) -> None:
    """Refuse a command with a duplicate in a set, a date outside the century, or outside its window of `now`,
    or text holding a NUL character."""
    problems = [*_problems(_type_of(type(command)), command, "", now), *_nul_characters(msgspec.to_builtins(command), "")]
    if problems:
        first = problems[0]
        raise ValidationFailed(first["message"], code=first["rule"], fields=problems)


@cache
def _type_of(cls: type) -> Any:
    return mi.type_info(cls)


def _problems(t: Any, value: Any, path: str, now: datetime) -> Iterator[dict[str, str]]:
    if value is None:
        return
    if isinstance(value, (date, datetime)):
        day = value.date() if isinstance(value, datetime) else value
        if not EARLIEST <= day <= LATEST:
            yield _problem(path, "date_out_of_range", f"{path} must be from {EARLIEST} to {LATEST}, not {value.isoformat()}.")
            return
    if isinstance(t, mi.Metadata):
        yield from _declared(t.extra or {}, value, path, now)
        t = t.type
    if isinstance(t, mi.UnionType):
        t = next((arm for arm in t.types if _fits(arm, value)), None)
    if isinstance(t, mi.Metadata):
        yield from _declared(t.extra or {}, value, path, now)
        t = t.type
    if isinstance(t, mi.StructType) and isinstance(value, Struct):
        for f in t.fields:
            yield from _problems(f.type, getattr(value, f.name, None), f"{path}.{f.name}" if path else f.name, now)
    elif isinstance(t, (mi.ListType, mi.VarTupleType)) and isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from _problems(t.item_type, item, f"{path}[{i}]", now)
    elif isinstance(t, mi.DictType) and isinstance(value, dict):
        for key, item in value.items():
            yield from _problems(t.value_type, item, f"{path}.{key}", now)


def _fits(arm: Any, value: Any) -> bool:
    inner = arm.type if isinstance(arm, mi.Metadata) else arm
    kinds = {mi.ListType: list, mi.DictType: dict, mi.StrType: str, mi.DateType: date, mi.DateTimeType: datetime,
             mi.IntType: int, mi.NoneType: type(None)}
    if isinstance(inner, mi.StructType):
        return isinstance(value, inner.cls)
    kind = kinds.get(type(inner))
    return kind is not None and isinstance(value, kind)


def _declared(extra: dict[str, Any], value: Any, path: str, now: datetime) -> Iterator[dict[str, str]]:
    if extra.get("unique") and isinstance(value, (list, tuple)):
        seen: set[Any] = set()
        twice = [v for v in value if v in seen or seen.add(v)]  # type: ignore[func-returns-value]
        if twice:
            yield _problem(path, "duplicate", f"{path} lists {twice[0]!r} more than once.")
    if (key := extra.get("unique_by")) and isinstance(value, (list, tuple)):
        counted = Counter(getattr(v, key, None) for v in value)
        twice = sorted((i for i, n in counted.items() if n > 1), key=str)
        if twice:
            yield _problem(path, "duplicate", f"{path}: more than one item has {key} {twice[0]!r}.")
    if (window := extra.get("window")) and isinstance(value, (date, datetime)):
        before, after = window
        moment = value if isinstance(value, datetime) else None
        day = moment.astimezone(timezone.utc).date() if moment is not None else value
        today = now.astimezone(timezone.utc).date()
        if before is not None and day < today - timedelta(days=before):
            yield _problem(path, "date_too_early", f"{path} {value.isoformat()} is more than {before} days before today ({today}).")
        if after is not None and day > today + timedelta(days=after):
            yield _problem(path, "date_too_late", f"{path} {value.isoformat()} is more than {after} days after today ({today}).")
    if (years := extra.get("period_years")) and isinstance(value, str) and value[:4].isdigit():
        before, after = years
        year, this_year = int(value[:4]), now.astimezone(timezone.utc).year
        if not this_year - before <= year <= this_year + after:
            yield _problem(path, "period_out_of_range",
                           f"{path} {value} is not within {before} years before and {after} after this year ({this_year}).")


def _nul_characters(value: Any, path: str) -> Iterator[dict[str, str]]:
    # Over the command as plain data: a document carried whole (`Any` to the types) is walked too.
    if isinstance(value, str):
        if "\x00" in value:
            yield _problem(path, "nul_character", f"{path} holds a NUL character (U+0000), which no text may.")
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else str(key)
            if "\x00" in key:
                yield _problem(inner, "nul_character", f"{path or 'the command'} has a key holding a NUL character (U+0000).")
            yield from _nul_characters(item, inner)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _nul_characters(item, f"{path}[{i}]")


def _problem(path: str, rule: str, message: str) -> dict[str, str]:
    return {"field": path, "rule": rule, "message": message}
