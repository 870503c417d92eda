"""Scenario files: JSON lines of commands with the outcome each must have.

    {"actor": {"id": "...", "org": "...", "role": "..."}, "at": "2026-01-05T09:00:00Z",
     "command": {"type": "competition.open", ...}, "expect": "ok" | {"error": "<code>"}}

The clock is taken from `at`, so a scenario replays identically on any store. A line that
cannot be read (malformed JSON, unknown command type, a missing or wrongly typed field) is
reported with its line number and field and records nothing. A scenario "passes" only if
every line met its expectation, so scenario files are executable tests of the rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Annotated, Any

import msgspec
from msgspec import Meta, Struct

from domain.application import Ledger
from domain.commands import AnyCommand
from domain.kernel.command_types import CommandResult, ErrorInfo, FieldError
from domain.kernel.metadata import Actor

INVALID_LINE = "invalid_line"


class ExpectError(Struct, forbid_unknown_fields=True):
    error: str


class ScenarioLine(Struct, forbid_unknown_fields=True):
    actor: Actor
    at: Annotated[datetime, Meta(tz=True)]
    command: AnyCommand
    expect: str | ExpectError = "ok"
    #: free text for the reader of the scenario
    note: str | None = None


class LineOutcome(Struct, omit_defaults=True):
    line: int
    met: bool
    expected: str
    command: str | None = None
    result: CommandResult | None = None


_PATH = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def _field_error(message: str) -> ErrorInfo:
    match = _PATH.search(message)
    field = match.group("path") if match else ""
    text = message[: match.start()] if match else message
    return ErrorInfo(
        code=INVALID_LINE,
        message=f"{text} (field: {field})" if field else text,
        kind="validation",
        fields=[FieldError(field=field or "(line)", rule="type", message=text)],
    )


def _expected(raw: Any) -> str:
    if isinstance(raw, dict) and isinstance(raw.get("error"), str):
        return raw["error"]
    return "ok"


def apply_lines(ledger: Ledger, lines: Iterable[str]) -> Iterator[LineOutcome]:
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            raw = msgspec.json.decode(text)
        except msgspec.DecodeError as err:
            info = ErrorInfo(code=INVALID_LINE, message=f"malformed JSON: {err}", kind="validation")
            yield LineOutcome(line=number, met=False, expected="ok", result=CommandResult(ok=False, error=info))
            continue
        expected = _expected(raw.get("expect") if isinstance(raw, dict) else None)
        try:
            parsed = msgspec.convert(raw, ScenarioLine)
        except msgspec.ValidationError as err:
            info = _field_error(str(err))
            command = raw.get("command", {}).get("type") if isinstance(raw, dict) and isinstance(raw.get("command"), dict) else None
            yield LineOutcome(
                line=number,
                met=expected == INVALID_LINE,
                expected=expected,
                command=command if isinstance(command, str) else None,
                result=CommandResult(ok=False, error=info),
            )
            continue
        result = ledger.handle(parsed.command, parsed.actor, at=parsed.at)
        got = "ok" if result.ok else result.error.code  # type: ignore[union-attr]
        yield LineOutcome(
            line=number,
            met=got == expected,
            expected=expected,
            command=type(parsed.command).__struct_config__.tag,
            result=result,
        )


def describe(outcome: LineOutcome) -> str:
    """One sentence for a person about a line that did not meet its expectation."""
    result = outcome.result
    got = "ok" if result is None or result.ok else f"{result.error.code}: {result.error.message}"  # type: ignore[union-attr]
    what = f" ({outcome.command})" if outcome.command else ""
    return f"line {outcome.line}{what}: expected {outcome.expected}, got {got}"
