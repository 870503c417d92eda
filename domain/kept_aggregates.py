"""Aggregates kept between commands in a long-running process, each lent to one command at a time.

A command loads the records it names; replaying a record's whole history costs in proportion
to its length (a London home reports its vacancies ~300 times a year, a competition has
hundreds of events a round). So a process keeps the records its commands loaded lately, as
they stood after the command, and the next command on one of them reads only the events
stored since (by any process: "fast-forwarded") instead of the whole history.

Why not the library's aggregate cache: with fast-forward it either deep-copies the cached
record for every command (a cost in proportion to the record's state, which for a home is
its whole vacancy history) or hands the same object to every caller, so a command refused
after it had applied an event, or a save that failed, would leave the cache holding changes
that were never stored, and two threads could change one object at once.

The rules that keep this exact:
- A kept record is *lent*: taken out of the shelf by the command that loads it, so no other
  command or thread can see or change it meanwhile (another command on the same record
  replays it from the store, as without the shelf, and the store's version check decides
  between them as it always does).
- It goes back only if it holds nothing unstored: the command ended without an exception
  and the record has no pending events (it was saved, or never changed). A refused command
  returns what it did not touch and drops what it did; an exception (a failed save, a
  conflict, a crash) drops everything it borrowed.
- A record holds its people's data as read, and an erasure changes that without a new
  event, so each record is kept under the count of erasures when it was borrowed and is
  dropped when the count has moved.
- Only current records are kept: a read of a record at a version (or as of a time) never
  touches the shelf.
"""

from __future__ import annotations

import contextvars
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Borrowing:
    """What one command has borrowed: the records it loaded, under the erasure count it began with."""

    erasures: int
    records: list[Any] = field(default_factory=list)
    #: set when the command's save failed after its events were collected: nothing goes back
    spoiled: bool = False


_borrowing: contextvars.ContextVar[Borrowing | None] = contextvars.ContextVar("aqp_borrowing", default=None)


class KeptAggregates:
    """The shelf: at most `size` current records, least recently returned dropped first."""

    def __init__(self, size: int, erasures: Callable[[], int]) -> None:
        self.size = size
        self._erasures = erasures
        self._shelf: OrderedDict[Any, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._shelf)

    @staticmethod
    def borrowing() -> Borrowing | None:
        """The current command's borrowing, if a command is running in this context."""
        return _borrowing.get()

    @contextmanager
    def lending(self) -> Iterator[Borrowing]:
        """Lend records to the command run inside; return what it leaves unchanged or stored."""
        borrowing = Borrowing(erasures=self._erasures())
        token = _borrowing.set(borrowing)
        try:
            yield borrowing
        except BaseException:
            borrowing.spoiled = True
            raise
        finally:
            _borrowing.reset(token)
            if not borrowing.spoiled:
                for record in borrowing.records:
                    if not record.pending_events:
                        self._give_back(record, borrowing.erasures)

    def take(self, aggregate_id: Any, borrowing: Borrowing) -> Any | None:
        """The kept record, taken off the shelf, or None (not kept, or kept before an erasure)."""
        with self._lock:
            kept = self._shelf.pop(aggregate_id, None)
        if kept is None or kept[0] != borrowing.erasures:
            return None
        return kept[1]

    def _give_back(self, record: Any, erasures: int) -> None:
        with self._lock:
            already = self._shelf.get(record.id)
            # Two commands in two threads may have loaded the same record (one from the shelf,
            # one from the store): keep the later of the two.
            if already is not None and (already[0], already[1].version) > (erasures, record.version):
                return
            self._shelf[record.id] = (erasures, record)
            self._shelf.move_to_end(record.id)
            while len(self._shelf) > self.size:
                self._shelf.popitem(last=False)
