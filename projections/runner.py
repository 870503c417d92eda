"""The live read models, run together: their status, catching up, rebuilding, and a hook.

- `READ_MODELS`: every read model kept in the ledger's own database, by name.
- `status(ledger)`: each one's position, the ledger's last notification id, and the lag.
- `catch_up_all(ledger)`: bring every read model up to date (a page per transaction).
- `rebuild(ledger, name, progress=...)`: rebuild from zero. The read model is built into a
  fresh scratch database (in-memory SQLite, `follow.scratch_view`) while the live table keeps
  serving reads; when complete, the live rows and tracking position are replaced by the
  fresh ones in ONE transaction on the live store (delete, copy, record the position), so a
  reader sees either the old read model or the new one, never half of one. Events stored
  during the build are picked up by the next catch-up, from the recorded position.
- `ProjectionFollower`: an after-save hook that catches every read model up after each
  command, so a running ledger keeps them current (`attach_from_env`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from audit.log import SqlStore
from projections import competitions, follow
from projections.competitions import CompetitionList
from projections.contract_register import ContractRegister
from projections.follow import ReadModel

log = logging.getLogger(__name__)

#: name -> (read model, its table in the ledger's database)
READ_MODELS: dict[str, tuple[type[ReadModel[Any]], str]] = {
    CompetitionList.name: (CompetitionList, competitions.TABLE),
    ContractRegister.name: (ContractRegister, ContractRegister.table),
}


@dataclass(frozen=True)
class Status:
    name: str
    position: int
    last_notification_id: int
    lag: int


def _read_model(name: str) -> tuple[type[ReadModel[Any]], str]:
    if name not in READ_MODELS:
        raise KeyError(f"There is no read model called {name}; the read models are {', '.join(sorted(READ_MODELS))}.")
    return READ_MODELS[name]


def status(ledger: Any) -> list[Status]:
    last = ledger.recorder.max_notification_id() or 0
    found = []
    for name, (read_model, _table) in READ_MODELS.items():
        position = follow.live_view(ledger, read_model).max_tracking_id(ledger.name) or 0
        found.append(Status(name, position, last, max(last - position, 0)))
    return found


def catch_up_all(ledger: Any, *, page_size: int | None = None) -> dict[str, int]:
    """Catch every read model up; returns the events each applied."""
    return {
        name: follow.catch_up(ledger, read_model(follow.live_view(ledger, read_model)), page_size=page_size)
        for name, (read_model, _table) in READ_MODELS.items()
    }


def rebuild(ledger: Any, name: str, *, progress: Callable[[int, int], None] | None = None, page_size: int | None = None) -> int:
    """Rebuild `name` from zero and swap it in; returns its new position.

    `progress(done, total)` is called after each page with the notification ids covered.
    """
    read_model, table = _read_model(name)
    live = follow.live_view(ledger, read_model)  # the live tables exist before the swap
    total = ledger.recorder.max_notification_id() or 0
    with follow.scratch_view(read_model) as scratch:
        projection = read_model(scratch)
        if progress is not None:
            process_page = projection.process_page

            def process_page_with_progress(events: Any, tracking: Any) -> None:
                process_page(events, tracking)
                progress(tracking.notification_id, total)

            projection.process_page = process_page_with_progress  # type: ignore[method-assign]
        follow.catch_up(ledger, projection, page_size=page_size)
        position = scratch.max_tracking_id(ledger.name) or 0
        with scratch.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT * FROM {table}")
            records = cursor.fetchall()
            names = list(records[0].keys()) if records else []
            rows = [tuple(r[n] for n in names) for r in records]
    _swap(ledger, live, table, follow.tracking_table(read_model), names, rows, position)
    if progress is not None:
        progress(position, total)
    return position


def _swap(ledger: Any, live: Any, table: str, tracking: str, names: list[str], rows: list[tuple], position: int) -> None:
    store = SqlStore(ledger)
    with store.transaction(commit=True) as sql:
        sql.execute(f"DELETE FROM {store.table(table)}")
        if rows:
            statement = f"INSERT INTO {store.table(table)} ({', '.join(names)}) VALUES ({', '.join('?' for _ in names)})"
            if store.sqlite:
                sql.cursor.executemany(statement, rows)
            else:
                sql.cursor.executemany(statement.replace("?", "%s"), rows)
        sql.execute(f"DELETE FROM {store.table(tracking)} WHERE application_name = ?", (ledger.name,))
        sql.execute(f"INSERT INTO {store.table(tracking)} (application_name, notification_id) VALUES (?, ?)", (ledger.name, position))


class ProjectionFollower:
    """After each committed command, catch every read model up (in the same process)."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.projections = [read_model(follow.live_view(ledger, read_model)) for read_model, _table in READ_MODELS.values()]

    @classmethod
    def attach_from_env(cls, ledger: Any) -> ProjectionFollower | None:
        if os.environ.get("AQP_PROJECTIONS_FOLLOW", "yes").lower() in ("no", "false", "0"):
            return None
        follower = cls(ledger)
        ledger.after_save.append(follower)
        return follower

    def __call__(self, _recordings: Any = None) -> None:
        for projection in self.projections:
            follow.catch_up(self.ledger, projection)
