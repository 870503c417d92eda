"""Processes that follow the log: a named position, and the loop that reads from it.

A process (contracts following awards, performance failures following ratings and missed
returns) reads the notification log for the topics it reacts to and sends commands through
the dispatcher. Its position is a row in `process_positions`, recorded after each event it
has handled; what it sends is idempotent, so a crash between the two repeats nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from audit.store import SqlStore


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


class LogFollower:
    """Follows the notification log for `TOPICS`; subclasses say what each event leads to."""

    NAME: ClassVar[str]
    TOPICS: ClassVar[tuple[str, ...]]
    PAGE: ClassVar[int] = 500

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self._position = ProcessPosition(ledger, self.NAME)
        self._running = False

    def position(self) -> int:
        return self._position.get() or 0

    def _record_position(self, position: int) -> None:
        self._position.set(position)

    def __call__(self, _recordings: Any = None) -> int:
        # What it sends is itself saved by commands: don't re-enter from their after-save hooks.
        if self._running:
            return 0
        self._running = True
        try:
            return self.run()
        finally:
            self._running = False

    def run(self) -> int:
        """Handle every event not yet processed; returns how many records it made."""
        made = 0
        position = self.position()
        while True:
            notifications = self.ledger.recorder.select_notifications(
                start=position, limit=self.PAGE, topics=list(self.TOPICS), inclusive_of_start=False
            )
            for notification in notifications:
                made += self.process(self.ledger.mapper.to_domain_event(notification), notification.topic, notification.id)
                position = notification.id
                self._record_position(position)
            if len(notifications) < self.PAGE:
                return made

    def process(self, event: Any, topic: str, position: int) -> int:
        raise NotImplementedError
