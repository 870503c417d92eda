"""The live read models, run together: their status, catching up, rebuilding, and a hook.

- `status(ledger)`: each one's position, the ledger's last notification id, and the lag.
- `catch_up_all(ledger)`: bring every read model up to date in one pass over the log (a page
  per transaction per read model).
- `rebuild(ledger, names, progress=...)`: rebuild from zero. The read models are built into a
  fresh scratch database (in-memory SQLite) in one pass over the log while the live tables
  keep serving reads; when complete, the live rows and tracking positions are replaced by
  the fresh ones in ONE transaction on the live store (delete, copy, record the positions),
  so a reader sees either the old read models or the new ones, never half of one. Events
  stored during the build are picked up by the next catch-up, from the recorded positions.
- `ProjectionFollower`: an after-save hook that catches every read model up after each
  command, so a running ledger keeps them current (`attach_from_env`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from audit.log import SqlStore
from projections import follow
from projections.catalogue import READ_MODELS, read_model
from projections.tables import TableReadModel

log = logging.getLogger(__name__)

__all__ = ["READ_MODELS", "ProjectionFollower", "Status", "catch_up_all", "rebuild", "status"]


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    last_notification_id: int
    lag: int


def status(ledger: Any) -> list[Status]:
    last = ledger.recorder.max_notification_id() or 0
    found = []
    for name, model in READ_MODELS.items():
        position = follow.live_view(ledger, model).max_tracking_id(ledger.name) or 0
        found.append(Status(name, position, last, max(last - position, 0)))
    return found


def live_projections(ledger: Any) -> list[TableReadModel]:
    return [model(follow.live_view(ledger, model)) for model in READ_MODELS.values()]


def catch_up_all(ledger: Any, *, page_size: int | None = None) -> dict[str, int]:
    """Catch every read model up; returns the events each applied."""
    return follow.catch_up_many(ledger, live_projections(ledger), page_size=page_size)


def rebuild(
    ledger: Any,
    names: str | Sequence[str] | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
    page_size: int | None = None,
) -> dict[str, int]:
    """Rebuild the named read models (default: all) from zero and swap them in; their new positions.

    `progress(done, total)` is called after each page with the notification ids covered.
    """
    chosen = [read_model(n) for n in ([names] if isinstance(names, str) else (names or list(READ_MODELS)))]
    for model in chosen:
        follow.live_view(ledger, model)  # the live tables exist before the swap
    total = ledger.recorder.max_notification_id() or 0
    with follow.scratch_store() as datastore:
        scratch = [model(follow.scratch_view_in(datastore, model)) for model in chosen]
        follow.catch_up_many(ledger, scratch, page_size=page_size, progress=progress)
        positions = {p.name: p.view.max_tracking_id(ledger.name) or 0 for p in scratch}
        _swap(ledger, datastore, chosen, positions)
    if progress is not None:
        progress(total, total)
    return positions


def _swap(ledger: Any, scratch: Any, models: list[type[TableReadModel]], positions: dict[str, int]) -> None:
    store = SqlStore(ledger)
    with store.transaction(commit=True) as sql, scratch.transaction(commit=False) as source:
        for model in models:
            for table in model.tables:
                columns = ("key", *table.names)
                target = store.table(table.name)
                sql.execute(f"DELETE FROM {target}")
                rows = source.sqlite_cursor  # the scratch store is SQLite; read it a batch at a time
                rows.execute(f"SELECT {', '.join(columns)} FROM {table.name}")
                if store.sqlite:
                    statement = f"INSERT INTO {target} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
                    while batch := rows.fetchmany(5000):
                        sql.cursor.executemany(statement, [tuple(r) for r in batch])
                else:
                    # COPY streams the rows: far faster than row-by-row inserts on PostgreSQL.
                    with sql.cursor.copy(f"COPY {target} ({', '.join(columns)}) FROM STDIN") as copy:
                        while batch := rows.fetchmany(5000):
                            for row in batch:
                                copy.write_row(tuple(row))
            tracking = store.table(follow.tracking_table(model))
            sql.execute(f"DELETE FROM {tracking} WHERE application_name = ?", (ledger.name,))
            sql.execute(
                f"INSERT INTO {tracking} (application_name, notification_id) VALUES (?, ?)", (ledger.name, positions[model.name])
            )


class ProjectionFollower:
    """After each committed command, catch every read model up (in the same process)."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.projections = live_projections(ledger)

    @classmethod
    def attach_from_env(cls, ledger: Any) -> ProjectionFollower | None:
        if os.environ.get("AQP_PROJECTIONS_FOLLOW", "yes").lower() in ("no", "false", "0"):
            return None
        follower = cls(ledger)
        ledger.after_save.append(follower)
        return follower

    def __call__(self, _recordings: Any = None) -> None:
        follow.catch_up_many(self.ledger, self.projections)
