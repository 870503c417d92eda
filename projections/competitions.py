"""The competition list: one row per competition, for people scanning what is going on.

    reference, title, authority, procedure, standstill_regime, status, lots, tender_deadline,
    tenders, awarded_lots, awarded_bidders, last_event_at, version

`tenders` is the number of live tenders once they are opened and null before: tenders are
sealed, and this list never even learns how many arrived (it follows `TendersOpened`, not
the submissions). `awarded_lots`/`awarded_bidders` are null until the award. Times are ISO
8601 text in UTC, so rows read the same from both stores and export to JSON/CSV as they are.

Two parts: `changes(event)` is pure (one handler per event type the list follows, each
returning the row's new values); the views write those values and the tracking position in
one transaction, one view class per store. `catch_up(ledger)` brings the list in the
ledger's own database up to date; `competition_list(ledger)` reads it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import singledispatch
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier, Placeholder

from domain.metadata import LedgerAggregate
from domain.procurement import (
    AWARDED,
    CANCELLED,
    EVALUATION,
    OPEN,
    OUTCOME_DECIDED,
    STANDSTILL,
    Competition,
)
from projections import follow
from projections.follow import ReadModel, ReadModelView, SQLiteTrackingTable

TABLE = "competitions"
#: the columns a row shows, in order (the table also keys rows by the competition's id)
COLUMNS = (
    "reference",
    "title",
    "authority",
    "procedure",
    "standstill_regime",
    "status",
    "lots",
    "tender_deadline",
    "tenders",
    "awarded_lots",
    "awarded_bidders",
    "last_event_at",
    "version",
)
_INTEGER = {"lots", "tenders", "awarded_lots", "awarded_bidders", "version"}
CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, "
    + ", ".join(f"{c} {'INTEGER' if c in _INTEGER else 'TEXT'}" for c in COLUMNS)
    + ", UNIQUE (reference))"
)


# ------------------------------------------------------------ the pure part


@dataclass(frozen=True)
class RowChange:
    """What one event does to the list: a new row, or new values for an existing one."""

    competition_id: str
    values: dict[str, Any] = field(default_factory=dict)
    new: bool = False


def _utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def _touch(event: Any, **values: Any) -> RowChange:
    """Every event moves the row's version and time; some change more."""
    values.update(version=event.originator_version, last_event_at=_utc(event.timestamp))
    return RowChange(str(event.originator_id), values)


@singledispatch
def changes(event: Any) -> RowChange:
    raise TypeError(f"the competition list does not follow {type(event).__qualname__}")


@changes.register
def _opened(event: Competition.Opened) -> RowChange:
    row = _touch(
        event,
        reference=event.reference,
        title=event.title,
        authority=event.authority,
        procedure=event.procedure,
        standstill_regime=event.standstill_regime,
        status=OPEN,
        lots=len(event.lots),
        tender_deadline=_utc(event.tender_deadline),
        tenders=None,
        awarded_lots=None,
        awarded_bidders=None,
    )
    return RowChange(row.competition_id, row.values, new=True)


@changes.register
def _tenders_opened(event: Competition.TendersOpened) -> RowChange:
    return _touch(event, status=EVALUATION, tenders=len(event.bidders))


@changes.register
def _outcome_decided(event: Competition.OutcomeDecided) -> RowChange:
    return _touch(event, status=OUTCOME_DECIDED)


@changes.register
def _letters_issued(event: Competition.OutcomeLettersIssued) -> RowChange:
    return _touch(event, status=STANDSTILL)


@changes.register
def _challenge_resolved(event: Competition.ChallengeResolved) -> RowChange:
    # An upheld challenge sets the decision aside: evaluation reopens.
    return _touch(event, status=EVALUATION) if event.outcome == "upheld" else _touch(event)


@changes.register
def _award_concluded(event: Competition.AwardConcluded) -> RowChange:
    awarded = {lot: bidders for lot, bidders in event.awards.items() if bidders}
    bidders = {b for lot_bidders in awarded.values() for b in lot_bidders}
    return _touch(event, status=AWARDED, awarded_lots=len(awarded), awarded_bidders=len(bidders))


@changes.register
def _cancelled(event: Competition.Cancelled) -> RowChange:
    return _touch(event, status=CANCELLED)


def competition_events() -> list[type]:
    return [v for v in vars(Competition).values() if isinstance(v, type) and issubclass(v, LedgerAggregate.Event)]


# Every other competition event (documents, scores, ...) moves only the version and time.
for _event_class in competition_events():
    if _event_class not in changes.registry:
        changes.register(_event_class, _touch)

#: the events the list follows: exactly those it has a handler for
FOLLOWED = tuple(cls for cls in changes.registry if cls is not object)


# ------------------------------------------------------------ the storage part


class CompetitionListView(ReadModelView):
    """The list's table and tracking position; `apply` writes both in one transaction.

    The tracking insert refuses a position that is not past the recorded one (the library's
    IntegrityError), so a page is applied at most once even by racing processes.
    """


def _row(record: Any) -> dict[str, Any]:
    return {c: record[c] for c in COLUMNS}


class SQLiteCompetitionListView(SQLiteTrackingTable, CompetitionListView):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), CREATE_TABLE.format(table=TABLE)]

    def apply(self, changes: Sequence[RowChange], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            # The position first: if another process got there before us, nothing is written.
            self._insert_tracking(cursor, tracking)
            for change in changes:
                self._write(cursor, change)

    def _write(self, cursor: Any, change: RowChange) -> None:
        params = {**change.values, "id": change.competition_id}
        if change.new:
            names = ", ".join(params)
            cursor.execute(f"INSERT INTO {TABLE} ({names}) VALUES ({', '.join(':' + n for n in params)})", params)
        else:
            assignments = ", ".join(f"{n} = :{n}" for n in change.values)
            cursor.execute(f"UPDATE {TABLE} SET {assignments} WHERE id = :id", params)

    def rows(self) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} ORDER BY reference")
            return [_row(r) for r in cursor.fetchall()]


class PostgresCompetitionListView(PostgresTrackingRecorder, CompetitionListView):
    def __init__(self, datastore: Any, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.table = SQL("{}.{}").format(Identifier(self.datastore.schema), Identifier(TABLE))
        self.sql_create_statements.append(SQL(CREATE_TABLE).format(table=self.table))

    def apply(self, changes: Sequence[RowChange], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            # The position first: if another process got there before us, nothing is written.
            self._insert_tracking(cursor, tracking)
            for change in changes:
                self._write(cursor, change)

    def _write(self, cursor: Any, change: RowChange) -> None:
        params = {**change.values, "id": change.competition_id}
        if change.new:
            statement = SQL("INSERT INTO {} ({}) VALUES ({})").format(
                self.table,
                SQL(", ").join(map(Identifier, params)),
                SQL(", ").join(map(Placeholder, params)),
            )
        else:
            statement = SQL("UPDATE {} SET {} WHERE id = {}").format(
                self.table,
                SQL(", ").join(SQL("{} = {}").format(Identifier(n), Placeholder(n)) for n in change.values),
                Placeholder("id"),
            )
        cursor.execute(statement, params)

    def rows(self) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                # Byte order, as SQLite sorts: the same list on both stores, whatever the locale.
                SQL('SELECT {} FROM {} ORDER BY reference COLLATE "C"').format(SQL(", ").join(map(Identifier, COLUMNS)), self.table)
            )
            return [_row(r) for r in cursor.fetchall()]


# ------------------------------------------------------------ the projection


class CompetitionList(ReadModel[CompetitionListView]):
    name = "competitions"
    topics = tuple(get_topic(cls) for cls in FOLLOWED)
    columns = COLUMNS
    sqlite_view = SQLiteCompetitionListView
    postgres_view = PostgresCompetitionListView

    def process_page(self, events: Sequence[Any], tracking: Tracking) -> None:
        self.view.apply([changes(e) for e in events], tracking)


def open_view(ledger: Any) -> CompetitionListView:
    """The list in the ledger's own database."""
    return follow.live_view(ledger, CompetitionList)


def catch_up(ledger: Any, view: CompetitionListView | None = None, *, page_size: int | None = None) -> int:
    """Bring the list up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, CompetitionList(view or open_view(ledger)), page_size=page_size)


def competition_list(ledger: Any) -> list[dict[str, Any]]:
    """The rows, sorted by reference, as far as the list has caught up."""
    return open_view(ledger).rows()
