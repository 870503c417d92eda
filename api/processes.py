"""The processes' log-following: a named position, and the loop that reads the log from it.

A process's decisions are the domain's (`domain/kernel/processes.py`: what an award, an
Inadequate rating or three missed returns lead to); here they are fed. `ProcessFollower`
reads the notification log in pages for the process's topics after its position, hands each
event to the process, and records the position after each one in `process_positions` (one
row per name; the CQC sync keeps its window's end there too). What a process sends is
idempotent, so a crash between the two repeats nothing. Attached to a ledger as an
after-save hook, a follower catches up after every command (see `api/bootstrap.py`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from audit.store import SqlStore
from domain.contracts.award_process import ContractsFromAwards
from domain.kernel.processes import Process
from domain.monitoring.performance_process import PerformanceFailures

#: the ledger's processes, in the order they follow each command
PROCESSES: tuple[type[Process], ...] = (ContractsFromAwards, PerformanceFailures)
PAGE = 500


class ProcessPosition:
    """One named position in `process_positions` (a place in the log, or a sync window's end)."""

    def __init__(self, ledger: Any, name: str) -> None:
        self.name = name
        self.store = SqlStore(ledger)
        self.table = self.store.table("process_positions")
        if not self.store.table_exists("process_positions"):
            with self.store.transaction(commit=True) as sql:
                sql.execute(f"CREATE TABLE IF NOT EXISTS {self.table} (name TEXT PRIMARY KEY, position BIGINT NOT NULL)")

    def get(self) -> int | None:
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(f"SELECT position FROM {self.table} WHERE name = ?", (self.name,))
        return int(rows[0]["position"]) if rows else None

    def set(self, position: int) -> None:
        with self.store.transaction(commit=True) as sql:
            if sql.query(f"SELECT 1 AS x FROM {self.table} WHERE name = ?", (self.name,)):
                sql.execute(f"UPDATE {self.table} SET position = ? WHERE name = ?", (position, self.name))
            else:
                sql.execute(f"INSERT INTO {self.table} (name, position) VALUES (?, ?)", (self.name, position))


class NotificationLog:
    """The ledger's notification log read in pages, decoded: a process's `EventLog`."""

    def __init__(self, ledger: Any, *, page: int = PAGE) -> None:
        self.ledger = ledger
        self.page = page

    def events(self, topics: Sequence[str], *, after: int = 0, stop: int | None = None) -> Iterator[tuple[int, str, Any]]:
        position = after
        while True:
            notifications = self.ledger.recorder.select_notifications(
                start=position, limit=self.page, stop=stop, topics=list(topics), inclusive_of_start=False
            )
            for notification in notifications:
                yield notification.id, notification.topic, self.ledger.mapper.to_domain_event(notification)
                position = notification.id
            if len(notifications) < self.page:
                return


class ProcessFollower:
    """Follows the notification log for one process's topics, from its position in `process_positions`."""

    def __init__(self, ledger: Any, process: type[Process], *, page: int = PAGE) -> None:
        self.ledger = ledger
        self.log = NotificationLog(ledger, page=page)
        self.process = process(ledger, self.log)
        self._position = ProcessPosition(ledger, process.NAME)
        self._running = False
        #: the log's last position this follower knows holds nothing it has not processed
        #: (None until its first catch-up): see `__call__`
        self._seen_to: int | None = None

    def position(self) -> int:
        return self._position.get() or 0

    def _record_position(self, position: int) -> None:
        self._position.set(position)

    def __call__(self, recordings: Any = None) -> int:
        # What it sends is itself saved by commands: don't re-enter from their after-save hooks.
        if self._running:
            return 0
        positions = sorted(r.notification.id for r in recordings or ())
        if positions and self._seen_to is not None and positions == list(range(self._seen_to + 1, positions[-1] + 1)):
            # The command's events come straight after what this follower has seen, so they
            # are all that is new; if none is of its topics there is nothing to read. Without
            # this, every command would read the log from the last event of its topics on
            # (an award, an Inadequate rating): a cost that grows with the log.
            topics = self.process.TOPICS
            if not any(r.notification.topic in topics for r in recordings):
                self._seen_to = positions[-1]
                return 0
        self._running = True
        try:
            made = self.run()
            if positions:
                # Read after the command was stored, so everything up to its events was seen.
                self._seen_to = max(positions[-1], self._seen_to or 0)
            return made
        finally:
            self._running = False

    def run(self) -> int:
        """Hand every event not yet processed to the process; returns how many records it made."""
        made = 0
        for position, topic, event in self.log.events(self.process.TOPICS, after=self.position()):
            made += self.process.process(event, topic, position)
            self._record_position(position)
        return made


def followers(ledger: Any) -> list[ProcessFollower]:
    """A follower for each of the ledger's processes (contracts from awards, performance failures)."""
    return [ProcessFollower(ledger, process) for process in PROCESSES]
