"""Processes: what an event in the log leads to, decided by the domain.

A process (contracts following awards, performance failures following ratings and missed
returns) names the events it reacts to (`TOPICS`) and, given one of them, sends the commands
it leads to through the dispatcher. Following the log (reading it in pages from a kept
position, recording the position after each event) is not the domain's: `api/processes.py`
does it and hands each event to `process`, and answers a process's questions about the log
(`EventLog`). What a process sends is idempotent, so an event handed to it twice (a crash
between sending and recording the position) records nothing twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, ClassVar, Protocol


class EventLog(Protocol):
    """The stored events, in log order, as a process may read them."""

    def events(self, topics: Sequence[str], *, after: int = 0, stop: int | None = None) -> Iterable[tuple[int, str, Any]]:
        """(position, topic, event) of each stored event of `topics` after `after` (up to `stop`, inclusive)."""
        ...


class Process:
    """What the events of `TOPICS` lead to; subclasses decide in `process`."""

    NAME: ClassVar[str]
    TOPICS: ClassVar[tuple[str, ...]]

    def __init__(self, ledger: Any, log: EventLog) -> None:
        self.ledger = ledger
        self.log = log

    def process(self, event: Any, topic: str, position: int) -> int:
        """Send what `event` (at `position` in the log) leads to; returns how many records it made."""
        raise NotImplementedError
