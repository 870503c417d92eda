"""The live read models, run together: their status, catching up, rebuilding, and a hook.

- `status(ledger)`: each one's position, the ledger's last notification id, and the lag.
- `catch_up_all(ledger)`: bring every read model up to date in one pass over the log (a page
  per transaction per read model).
- `rebuild(ledger, names, progress=...)`: rebuild from zero. The read models are built in
  memory (beside an in-memory SQLite scratch store, which takes the rows only if there are
  too many to hold) in one pass over the log while the live tables keep serving reads; when
  complete, the live tables are replaced by the fresh rows and the positions recorded in
  ONE transaction on the live store (see `_swap`), so a reader sees either the old read
  models or the new ones, never half of one. Events stored during the build are picked up
  by the next catch-up, from the recorded positions.
- `ProjectionFollower`: an after-save hook that catches every read model up after each
  command, so a running ledger keeps them current (the bootstrap attaches it unless
  `AQP_PROJECTIONS_FOLLOW` is no).
- `follow_forever(ledger, stop)`: keep every read model current until `stop` is set, for a
  process of its own (`aqp projections run --follow`) or a thread beside the HTTP server.
  It catches up, then waits for new events: on PostgreSQL it LISTENs on the channel the
  library's recorder NOTIFYs in every insert transaction (delivered at commit), with the
  poll interval as a timeout, so a missed notification only delays; SQLite cannot notify
  another process, so there it polls the log every `poll_interval` seconds. Told to stop,
  it finishes the page it is writing and returns; nothing is left half-applied, because
  every page is one transaction with its position (a SIGKILL loses at most that page's
  work, which the next run redoes from the recorded position).
- `wait_for(ledger, name, position, timeout)`: read-your-writes. A command's result says
  the notification id of its last event (`CommandResult.position`); a read that must see
  that command waits until the read model's position has reached it, or gets
  `ReadModelBehind` after `timeout` seconds.
"""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from eventsourcing.postgres import PostgresDatastore
from psycopg.sql import SQL, Identifier

from audit.store import Sql, SqlStore
from projections import follow
from projections.catalogue import READ_MODELS, read_model
from projections.read_model import TableReadModel
from projections.tables import HISTORY_COLUMNS, Table
from projections.views import HISTORY_SINCE

log = structlog.get_logger("aqp.projections")

__all__ = [
    "READ_MODELS",
    "ProjectionFollower",
    "ReadModelBehind",
    "Status",
    "catch_up_all",
    "fill_table",
    "follow_forever",
    "rebuild",
    "status",
    "wait_for",
]


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
        # Nothing else reads or writes the scratch views, so they are built in memory; their
        # tables only take the rows if they grow past what memory should hold.
        scratch = [model(follow.scratch_view_in(datastore, model, secondary_indexes=False)) for model in chosen]
        for projection in scratch:
            projection.view.build_in_memory()
        with _fewer_collections():
            follow.catch_up_many(ledger, scratch, page_size=page_size, progress=progress)
        positions = {p.name: p.view.max_tracking_id(ledger.name) or 0 for p in scratch}
        _swap(ledger, scratch, positions)
    if progress is not None:
        progress(total, total)
    return positions


@contextmanager
def _fewer_collections(every: int = 50_000) -> Iterator[None]:
    """Run the cyclic garbage collector's young generation every `every` allocations, not 700.

    A rebuild allocates rows by the hundred thousand and keeps most of them until the swap,
    so the collector's default pace spends its time scanning rows that are all still live
    (about an eighth of the handlers' time). Reference counting frees everything else as
    usual; the old pace comes back afterwards.
    """
    held = gc.get_threshold()
    gc.set_threshold(every, *held[1:])
    try:
        yield
    finally:
        gc.set_threshold(*held)


#: the suffix of a table being filled on PostgreSQL before it replaces the live one
_REBUILT = "__rebuilt"


def _swap(ledger: Any, scratch: list[TableReadModel], positions: dict[str, int]) -> None:
    """Replace the live tables with the rebuilt rows and record the positions, in ONE transaction.

    Each table is made afresh and filled in key order without its secondary indexes, which
    are then built once over the whole table: several times faster than keeping them up to
    date row by row, which was most of the swap's cost. A reader sees the old tables until
    the commit, then the new ones.

    SQLite: the live table is dropped and made again within the transaction (a reader in WAL
    mode keeps reading its snapshot meanwhile; writers wait, as for any write). PostgreSQL:
    the rows go into a new table beside the live one first (by COPY, which streams), and
    only then is the live table dropped and the new one renamed into its place, so readers
    wait on the live table's lock only for the renames and the secondary indexes.
    """
    store = SqlStore(ledger)
    with store.transaction(commit=True) as sql:
        if store.sqlite:
            for projection in scratch:
                for table in projection.tables:
                    sql.execute(f"DROP TABLE IF EXISTS {table.name}")
                    fill_table(store, sql, table, table.name, projection.view.final_rows(table))
                    for statement in table.index_statements(table.name):
                        sql.execute(statement)
                    if projection.view.keeps_history:
                        sql.execute(f"DROP TABLE IF EXISTS {table.history_name}")
                        fill_history(store, sql, table, table.history_name, projection.view.final_versions(table))
                        for statement in table.history_index_statements(table.history_name):
                            sql.execute(statement)
                _record_position(ledger, store, sql, projection, positions)
            return
        for projection in scratch:
            for table in projection.tables:
                shadow = store.table(table.name + _REBUILT)
                sql.execute(f"DROP TABLE IF EXISTS {shadow}")
                fill_table(store, sql, table, shadow, projection.view.final_rows(table))
                if projection.view.keeps_history:
                    shadow = store.table(table.history_name + _REBUILT)
                    sql.execute(f"DROP TABLE IF EXISTS {shadow}")
                    fill_history(store, sql, table, shadow, projection.view.final_versions(table))
        schema = store.datastore.schema
        for projection in scratch:
            for table in projection.tables:
                live = store.table(table.name)
                sql.execute(f"DROP TABLE {live}")
                sql.execute(f'ALTER TABLE {store.table(table.name + _REBUILT)} RENAME TO "{table.name}"')
                sql.execute(f'ALTER INDEX "{schema}"."{table.name}{_REBUILT}_pkey" RENAME TO "{table.name}_pkey"')
                for statement in table.index_statements(live):
                    sql.execute(statement)
                if projection.view.keeps_history:
                    history = table.history_name
                    sql.execute(f"DROP TABLE IF EXISTS {store.table(history)}")
                    sql.execute(f'ALTER TABLE {store.table(history + _REBUILT)} RENAME TO "{history}"')
                    sql.execute(f'ALTER INDEX "{schema}"."{history}{_REBUILT}_pkey" RENAME TO "{history}_pkey"')
                    for statement in table.history_index_statements(store.table(history)):
                        sql.execute(statement)
            _record_position(ledger, store, sql, projection, positions)


def fill_table(store: SqlStore, sql: Sql, table: Table, qualified: str, rows: Iterable[tuple[Any, ...]]) -> None:
    """Create `table` as `qualified`, without its secondary indexes, and write `rows` ((key, *columns)
    tuples) into it: by `executemany` on SQLite, by COPY (which streams) on PostgreSQL."""
    for statement in table.create_statements(qualified, postgres=not store.sqlite, indexes=False):
        sql.execute(statement)
    if store.sqlite:
        sql.cursor.executemany(table.insert_statement(qualified), rows)
        return
    with sql.cursor.copy(f"COPY {qualified} ({', '.join(('key', *table.names))}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def fill_history(store: SqlStore, sql: Sql, table: Table, qualified: str, versions: Iterable[tuple[Any, ...]]) -> None:
    """Create `table`'s history table as `qualified`, without its indexes, and write `versions` into it."""
    for statement in table.history_create_statements(qualified, indexes=False):
        sql.execute(statement)
    if store.sqlite:
        sql.cursor.executemany(table.history_insert_statement(qualified), versions)
        return
    with sql.cursor.copy(f"COPY {qualified} ({', '.join(('key', *table.names, *HISTORY_COLUMNS))}) FROM STDIN") as copy:
        for version in versions:
            copy.write_row(version)


def _record_position(ledger: Any, store: SqlStore, sql: Sql, model: TableReadModel, positions: dict[str, int]) -> None:
    name = follow.tracking_table(type(model))
    tracking = store.table(name)
    sql.execute(f"DELETE FROM {tracking} WHERE application_name = ?", (ledger.name,))
    sql.execute(f"INSERT INTO {tracking} (application_name, notification_id) VALUES (?, ?)", (ledger.name, positions[model.name]))
    if model.view.keeps_history:
        # Rebuilt from the first event: the history is whole now, whenever it began before.
        since = store.table(HISTORY_SINCE)
        latest_at, back_from = model.view.history_clock()
        sql.execute(f"DELETE FROM {since} WHERE read_model = ?", (name,))
        sql.execute(f"INSERT INTO {since} (read_model, since, latest_at, back_from) VALUES (?, 0, ?, ?)", (name, latest_at, back_from))


class ProjectionFollower:
    """After each committed command, catch every read model up (in the same process)."""

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self.projections = live_projections(ledger)

    def __call__(self, _recordings: Any = None) -> None:
        # One transaction a page for all of them: after a command, the commits are the cost.
        follow.catch_up_many(self.ledger, self.projections, together=True)


# ------------------------------------------------------------------ running continuously

#: seconds between looks at the log when nothing wakes the follower (SQLite), or between
#: safety catch-ups while listening (PostgreSQL)
DEFAULT_POLL_INTERVAL = 0.5


def follow_forever(
    ledger: Any,
    stop: threading.Event,
    *,
    poll_interval: float = DEFAULT_POLL_INTERVAL,
    page_size: int | None = None,
) -> dict[str, int]:
    """Keep every read model current until `stop` is set; the events each applied meanwhile.

    A catch-up runs at once, then after every wake-up (see the module doc for what wakes it).
    `stop` is looked at after every page and while waiting, so a stop takes effect within a
    page or `poll_interval` seconds.
    """
    projections = live_projections(ledger)
    applied = {p.name: 0 for p in projections}
    with _waiter(ledger, poll_interval) as (wait, how):
        log.info("projections_following", read_models=list(applied), wake=how, poll_interval=poll_interval, page_size=page_size)
        failures = 0
        while not stop.is_set():
            started = time.perf_counter()
            try:
                done = follow.catch_up_many(ledger, projections, page_size=page_size, should_stop=stop.is_set)
            except Exception:  # noqa: BLE001 - e.g. the database went away; the positions are safe, retry
                failures += 1
                log.exception("projections_catch_up_failed", failures=failures)
                stop.wait(min(poll_interval * 2**failures, 30.0))
                continue
            failures = 0
            for name, n in done.items():
                applied[name] += n
            if any(done.values()):
                log.info(
                    "projections_caught_up",
                    applied=done,
                    last_notification_id=ledger.recorder.max_notification_id() or 0,
                    seconds=round(time.perf_counter() - started, 3),
                )
            if not stop.is_set():
                wait(stop)
    log.info("projections_stopped", applied=applied)
    return applied


Wait = Callable[[threading.Event], None]


@contextmanager
def _waiter(ledger: Any, poll_interval: float) -> Iterator[tuple[Wait, str]]:
    """How the follower waits for new events on this store: (wait(stop), "notify" | "poll")."""
    datastore = ledger.recorder.datastore
    channel = getattr(ledger.recorder, "channel_name", None)
    if not isinstance(datastore, PostgresDatastore) or channel is None:

        def poll(stop: threading.Event) -> None:
            stop.wait(poll_interval)

        yield poll, "poll"
        return
    with datastore.get_connection() as conn:
        # LISTEN before the first catch-up: a commit between that catch-up and the first
        # wait is then queued on this connection and wakes the wait at once.
        conn.execute(SQL("LISTEN {0}").format(Identifier(channel)))

        def listen(stop: threading.Event) -> None:
            # Short slices, so a stop set by another thread (or a signal handler) is seen soon.
            deadline = time.monotonic() + poll_interval
            while not stop.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                for _ in conn.notifies(timeout=min(left, 0.1), stop_after=1):
                    return

        try:
            yield listen, "notify"
        finally:
            # The connection goes back to the library's pool: it must not keep listening.
            conn.execute(SQL("UNLISTEN {0}").format(Identifier(channel)))


# ------------------------------------------------------------------ read-your-writes


class ReadModelBehind(TimeoutError):
    """A read model did not reach a position in time (the reader should retry or say so)."""

    def __init__(self, name: str, wanted: int, reached: int, timeout: float) -> None:
        self.name, self.wanted, self.reached, self.timeout = name, wanted, reached, timeout
        super().__init__(
            f"The read model {name} has reached position {reached}, not {wanted}, after {timeout:g} s; "
            "the command is stored and will show once the read model catches up."
        )


def wait_for(ledger: Any, name: str, position: int | None, timeout: float = 5.0) -> int:
    """Return once the read model `name` has applied everything up to `position`; its position.

    `position` is a `CommandResult.position` (None: the command stored nothing, so there is
    nothing to wait for). Raises `ReadModelBehind` if it is still behind after `timeout`
    seconds. It only reads: something else (the follower) moves the read model.
    """
    view = follow.live_view(ledger, read_model(name))
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        reached = view.max_tracking_id(ledger.name) or 0
        if position is None or reached >= position:
            return reached
        left = deadline - time.monotonic()
        if left <= 0:
            raise ReadModelBehind(name, position, reached, timeout)
        # Most waits are a page or two: look again soon, then less often.
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.1)
