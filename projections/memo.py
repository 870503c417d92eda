"""Bounded memos for the read models' handlers: answers to pure questions asked again and again.

A rebuild asks the same few questions tens of thousands of times (a record's id as text, a
hidden JSON column's value, a period's bounds), and the answers depend only on the question.
A memo here is only a cache: the same question gets the same answer, it never grows past its
bound (it is emptied whole and refilled), and an error is raised again each time, never kept.
Each memo is kept because `benchmarks/projections.py` shows it pays.

`utc`, the one way a time becomes the text the rows show, is here for every read model too;
it is not remembered: remembering it (by the datetime, or the last one asked) measured slower.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from datetime import datetime, timezone
from typing import Any, TypeVar
from uuid import UUID

T = TypeVar("T")


def remembered(memo: dict[Any, T], key: Hashable, at_most: int, answer: Callable[..., T], *args: Any) -> T:
    """`memo[key]`, or `answer(*args)` remembered there (the memo emptied first if it holds `at_most`)."""
    found = memo.get(key)
    if found is None:
        if len(memo) >= at_most:
            memo.clear()
        found = memo[key] = answer(*args)
    return found


_ID_TEXTS: dict[int, str] = {}


def id_text(originator_id: UUID) -> str:
    """str(originator_id), by the id's integer: formatting a UUID costs more than a lookup."""
    return remembered(_ID_TEXTS, originator_id.int, 100_000, str, originator_id)


_PARSED: dict[str, Any] = {}


def parsed(text: str) -> Any:
    """A JSON text's value, parsed once per distinct text. Shared by every reader of the same
    text: never change it (copy it first, as a handler writing it back must anyway)."""
    return remembered(_PARSED, text, 20_000, json.loads, text)


def utc(moment: datetime) -> str:
    """The time as ISO 8601 text in UTC."""
    # Already in UTC (as the ledger stamps events), astimezone would give the same datetime back.
    return moment.isoformat() if moment.tzinfo is timezone.utc else moment.astimezone(timezone.utc).isoformat()
