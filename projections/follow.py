"""How a read model follows the ledger: in pages, on either store, without threads.

A read model is an `eventsourcing.projection.Projection` whose view is a `TrackingRecorder`
(one class per store). The view writes a page's row changes and the page's last notification
id in ONE transaction, so a crash can neither lose nor double-apply an event, and catching
up resumes from the view's own tracking position. The library's `ProjectionRunner` needs a
subscription, which its SQLite recorder does not offer, so `catch_up` reads the notification
log in pages instead; a PostgreSQL runner can still drive the same projection class event by
event (`process_event`).

Each read model keeps its position in a tracking table of its own, `<name>_tracking`, on
both stores (the library's PostgreSQL factory names it so; its SQLite recorder would put
every read model in one `tracking` table keyed only by the upstream application's name).
"""

from __future__ import annotations

import threading
from abc import abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar, TypeVar
from uuid import uuid4
from weakref import WeakKeyDictionary

from eventsourcing.persistence import IntegrityError, OperationalError, ProgrammingError, Tracking, TrackingRecorder
from eventsourcing.postgres import PostgresDatastore
from eventsourcing.projection import Projection
from eventsourcing.sqlite import SQLiteDatastore, SQLiteRecorder, SQLiteTrackingRecorder


class ReadModelView(TrackingRecorder):
    """A read model's storage: row changes and tracking position, written together."""

    @abstractmethod
    def apply(self, changes: Sequence[Any], tracking: Tracking) -> None:
        """Write `changes` and record `tracking`, in one transaction."""

    @abstractmethod
    def rows(self) -> list[dict[str, Any]]:
        """Every row, in the read model's natural order."""


TView = TypeVar("TView", bound=ReadModelView)


class ReadModel(Projection[TView]):
    """A projection that can also take a page of events at once (one transaction per page)."""

    #: the columns of a row, in order (for CSV headers)
    columns: ClassVar[tuple[str, ...]]
    #: the view class for each store (the same table shapes, the same rows)
    sqlite_view: ClassVar[type[Any]]
    postgres_view: ClassVar[type[Any]]

    def process_event(self, domain_event: Any, tracking: Tracking) -> None:  # type: ignore[override]
        self.process_page([domain_event], tracking, [tracking.notification_id])

    @abstractmethod
    def process_page(self, events: Sequence[Any], tracking: Tracking, positions: Sequence[int] | None = None) -> None:
        """Apply `events` (in notification order) and record `tracking`, atomically.

        `positions`, when given, are the events' notification ids (one each, in the same order).
        """


class SQLiteTrackingTable(SQLiteTrackingRecorder):
    """The library's SQLite tracking recorder, with the position in a table of its own."""

    def __init__(self, datastore: SQLiteDatastore, *, tracking_table_name: str = "tracking", **kwargs: Any) -> None:
        if not datastore.single_row_tracking:
            raise ValueError("read models need single-row tracking (SINGLE_ROW_TRACKING=yes, the default)")
        self.tracking_table_name = tracking_table_name
        super().__init__(datastore, **kwargs)
        t = tracking_table_name
        # As the library's statements, on this table: the position only ever moves forward.
        self.insert_tracking_statement = (
            f"INSERT INTO {t} VALUES (:application_name, :notification_id) "
            "ON CONFLICT (application_name) DO UPDATE SET notification_id = :notification_id "
            f"WHERE {t}.notification_id < :notification_id RETURNING notification_id"
        )
        self.select_max_tracking_id_statement = f"SELECT MAX(notification_id) FROM {t} WHERE application_name=?"

    def construct_create_table_statements(self) -> list[str]:
        return [
            *SQLiteRecorder.construct_create_table_statements(self),
            (
                f"CREATE TABLE IF NOT EXISTS {self.tracking_table_name} ("
                "application_name TEXT, notification_id INTEGER, PRIMARY KEY (application_name)) WITHOUT ROWID"
            ),
        ]


def tracking_table(read_model: type[ReadModel[Any]]) -> str:
    return f"{read_model.name}_tracking"


_views: WeakKeyDictionary[Any, dict[str, Any]] = WeakKeyDictionary()
_views_lock = threading.Lock()


def live_view(ledger: Any, read_model: type[ReadModel[TView]]) -> TView:
    """The read model's view in the ledger's own database (tables created if the ledger may).

    One view per ledger and read model, made once: the HTTP server, the follower thread and
    `wait_for` all ask for views, and making one runs DDL (and, on SQLite, the library's
    tracking-table migration, which two threads running at once would trip over).
    """
    with _views_lock:
        views = _views.setdefault(ledger, {})
        view = views.get(read_model.name)
        if view is None:
            view = views[read_model.name] = _open_view(ledger, read_model)
    return view  # type: ignore[no-any-return]


def _open_view(ledger: Any, read_model: type[ReadModel[TView]]) -> TView:
    datastore = ledger.recorder.datastore
    if isinstance(datastore, SQLiteDatastore):
        view_class = read_model.sqlite_view
    elif isinstance(datastore, PostgresDatastore):
        view_class = read_model.postgres_view
    else:  # pragma: no cover - the ledger runs only on these two stores
        raise TypeError(f"no {read_model.name} view for {type(datastore).__name__}")
    view = view_class(datastore, tracking_table_name=tracking_table(read_model))
    if ledger.factory.env_create_table():
        try:
            view.create_table()
        except (IntegrityError, OperationalError, ProgrammingError):
            # Another process created the tables at the same moment (the library then finds its
            # tracking migration already recorded): they exist now, so a second pass is a no-op.
            view = view_class(datastore, tracking_table_name=tracking_table(read_model))
            view.create_table()
    return view


@contextmanager
def scratch_store() -> Iterator[SQLiteDatastore]:
    """A fresh in-memory SQLite database, gone on exit (read models rebuilt or replayed in it)."""
    datastore = SQLiteDatastore(f"file:aqp-scratch-{uuid4().hex}?mode=memory&cache=shared")
    try:
        yield datastore
    finally:
        datastore.close()


def scratch_view_in(
    datastore: SQLiteDatastore, read_model: type[ReadModel[TView]], *, secondary_indexes: bool = True, history: bool | None = None
) -> TView:
    """The read model's view in `datastore` (without `secondary_indexes`: tables only written and read by key;
    `history` False: no history tables, as for a replay read once and thrown away)."""
    view = read_model.sqlite_view(
        datastore, tracking_table_name=tracking_table(read_model), secondary_indexes=secondary_indexes, history=history
    )
    view.create_table()
    return view


@contextmanager
def scratch_view(read_model: type[ReadModel[TView]]) -> Iterator[TView]:
    """The read model's view in a fresh in-memory SQLite database, gone on exit (keeping no history)."""
    with scratch_store() as datastore:
        yield scratch_view_in(datastore, read_model, history=False)


def catch_up(
    ledger: Any, projection: ReadModel[Any], *, as_of: datetime | None = None, page_size: int | None = None
) -> int:
    """Apply every event the view has not seen yet, a page per transaction; returns how many."""
    return catch_up_many(ledger, [projection], as_of=as_of, page_size=page_size)[projection.name]


def catch_up_many(
    ledger: Any,
    projections: Sequence[ReadModel[Any]],
    *,
    as_of: datetime | None = None,
    page_size: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    together: bool = False,
) -> dict[str, int]:
    """Bring several read models up to date in one pass over the log; the events each applied.

    With `together`, the read models (which must share the ledger's database) write each page
    in ONE transaction between them, rather than one each: what the follower after every
    command wants, where a page is a command's few events and the commits are the cost. If any
    of them finds its position moved by another process, that transaction is rolled back and
    the page is written a read model at a time as below.

    Each notification is read and decoded once, then given to every read model that follows
    its topic and has not seen it. Each read model writes a page per transaction with its
    position. With `as_of`, only events whose timestamp is at or before it are applied (a
    replay into a scratch view). The end is fixed when the call starts, so a busy ledger
    cannot keep it running. If another process moved a read model's position meanwhile, its
    page is dropped whole (the tracking insert refuses to go backwards) and that read model
    resumes from the new position. A page with nothing for a read model is not written,
    except the last, which records that it has seen up to the end all the same, so "has the
    view seen notification N?" has an answer. `should_stop()` is asked after each page: a
    follower told to stop finishes the page it is writing and returns (every position stays
    where its last committed page put it).
    """
    stop = ledger.recorder.max_notification_id() or 0
    positions = {p.name: p.view.max_tracking_id(ledger.name) or 0 for p in projections}
    applied = {p.name: 0 for p in projections}
    wanted = {p.name: frozenset(p.topics) for p in projections}
    every_topic = any(not topics for topics in wanted.values())
    union = () if every_topic else tuple(sorted(set().union(*wanted.values())))
    position = min(positions.values(), default=stop)
    while position < stop:
        notifications = ledger.notification_log.select(
            start=position,
            limit=page_size or ledger.log_section_size,
            stop=stop,
            topics=union,
            inclusive_of_start=False,
        )
        end = notifications[-1].id if notifications else stop
        if end < stop and len(notifications) < (page_size or ledger.log_section_size):
            end = stop  # a short page means nothing more up to `stop` for these topics
        decoded = [(n.id, n.topic, ledger.mapper.to_domain_event(n)) for n in notifications]
        if as_of is not None:
            decoded = [d for d in decoded if d[2].timestamp <= as_of]
        work = []
        for projection in projections:
            seen = positions[projection.name]
            if seen >= end:
                continue
            topics = wanted[projection.name]
            chosen = [(nid, e) for nid, topic, e in decoded if nid > seen and (not topics or topic in topics)]
            if not chosen and end < stop:
                continue
            work.append((projection, seen, [e for _, e in chosen], [nid for nid, _ in chosen]))
        tracking = Tracking(ledger.name, end)
        if together and len(work) > 1 and _written_together(ledger, work, tracking):
            for projection, _seen, events, _nids in work:
                positions[projection.name] = end
                applied[projection.name] += len(events)
            work = []
        for projection, seen, events, nids in work:
            try:
                projection.process_page(events, tracking, nids, start=seen)
            except IntegrityError:
                moved = projection.view.max_tracking_id(ledger.name) or 0
                if moved <= seen:
                    raise
                positions[projection.name] = moved
                continue
            positions[projection.name] = end
            applied[projection.name] += len(events)
        if progress is not None:
            progress(end, stop)
        # Read models another process moved ahead are skipped above until the pass catches up.
        position = end
        if should_stop is not None and should_stop():
            break
    return applied


def _written_together(ledger: Any, work: list[tuple[Any, int, list[Any], list[int]]], tracking: Tracking) -> bool:
    """Write every read model's page in one transaction; False (nothing written) if one was refused."""
    datastore = ledger.recorder.datastore
    try:
        with datastore.transaction(commit=True) as cursor:
            for projection, seen, events, nids in work:
                projection.process_page(events, tracking, nids, cursor=cursor, start=seen)
    except IntegrityError:
        return False  # another process moved a position: each read model finds out on its own
    return True

