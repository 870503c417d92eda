"""What every scenario generator shares: collect lines, then write them as JSON lines.

A line is {"actor", "at", "command", optional "expect": {"error": CODE}, optional "note"}
(api/scenario.py reads them). Generators run as scripts, one per process, so one module-level
list is theirs alone.
"""

from __future__ import annotations

import json
import sys

lines: list[dict] = []


def line(at: str, actor: dict, command: dict, expect: str | None = None, note: str | None = None) -> dict:
    entry: dict = {"actor": actor, "at": at, "command": command}
    if expect:
        entry["expect"] = {"error": expect}
    if note:
        entry["note"] = note
    return entry


def add(at: str, actor: dict, command: dict, expect: str | None = None, note: str | None = None) -> None:
    lines.append(line(at, actor, command, expect, note))


def write(separators: tuple[str, str] = (", ", ": ")) -> None:
    sys.stdout.write("".join(json.dumps(entry, separators=separators) + "\n" for entry in lines))
