"""The contract register: one row per contract, its current state at a glance.

    reference, framework, lot, provider, status, original_value, current_value,
    cumulative_variation, variations, escalation_stage, referrals_suspended, term_end,
    last_event_at, version

Values are in pence; `cumulative_variation` counts variations only (as `contract_state`'s
`value.cumulative_variation`), while `current_value` also moves with extensions.
`referrals_suspended` is "yes" or "no"; `escalation_stage` is the ladder stage's name, null
when not escalated. Times are ISO 8601 text in UTC, so rows read the same from both stores.

Two parts, as the competition list: `changes(event)` is pure (one handler per Contract event
the register follows); the views write the changes and the tracking position in one
transaction, one view class per store. A change either sets values, or (variations,
extensions, de-escalation) derives them from the row as it stands inside that transaction.
The table also keeps each contract's id and escalation ladder (hidden columns).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from functools import singledispatch
from typing import Any

from eventsourcing.persistence import Tracking
from eventsourcing.postgres import PostgresTrackingRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL, Identifier, Placeholder

from domain.contracts import AWARDED, EXPIRED, MOBILISED, SIGNED, TERMINATED, Contract
from domain.metadata import LedgerAggregate
from projections import follow
from projections.follow import ReadModel, ReadModelView, SQLiteTrackingTable

TABLE = "contract_register"
COLUMNS = (
    "reference",
    "framework",
    "lot",
    "provider",
    "status",
    "original_value",
    "current_value",
    "cumulative_variation",
    "variations",
    "escalation_stage",
    "referrals_suspended",
    "term_end",
    "last_event_at",
    "version",
)
_INTEGER = {"original_value", "current_value", "cumulative_variation", "variations", "version"}
CREATE_TABLE = (
    "CREATE TABLE IF NOT EXISTS {table} (id TEXT PRIMARY KEY, ladder TEXT, "
    + ", ".join(f"{c} {'BIGINT' if c in _INTEGER else 'TEXT'}" for c in COLUMNS)
    + ", UNIQUE (reference))"
)


# ------------------------------------------------------------ the pure part


@dataclass(frozen=True)
class RowChange:
    """What one event does to the register: a new row, new values, or values derived from the row."""

    contract_id: str
    values: dict[str, Any] = field(default_factory=dict)
    new: bool = False
    derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None


def _utc(value: datetime) -> str:
    return value.astimezone(timezone.utc).isoformat()


def _touch(event: Any, derive: Callable[[dict[str, Any]], dict[str, Any]] | None = None, **values: Any) -> RowChange:
    """Every event moves the row's version and time; some change more."""
    values.update(version=event.originator_version, last_event_at=_utc(event.timestamp))
    return RowChange(str(event.originator_id), values, derive=derive)


@singledispatch
def changes(event: Any) -> RowChange:
    raise TypeError(f"the contract register does not follow {type(event).__qualname__}")


@changes.register
def _awarded(event: Contract.Awarded) -> RowChange:
    row = _touch(
        event,
        ladder=json.dumps(list(event.ladder)),
        reference=event.reference,
        framework=event.framework,
        lot=event.lot,
        provider=event.provider,
        status=AWARDED,
        original_value=event.value,
        current_value=event.value,
        cumulative_variation=0,
        variations=0,
        escalation_stage=None,
        referrals_suspended="no",
        term_end=event.ends_on,
    )
    return RowChange(row.contract_id, row.values, new=True)


@changes.register
def _signed(event: Contract.Signed) -> RowChange:
    return _touch(event, status=SIGNED)


@changes.register
def _mobilised(event: Contract.Mobilised) -> RowChange:
    return _touch(event, status=MOBILISED)


@changes.register
def _varied(event: Contract.Varied) -> RowChange:
    delta = event.value_change
    return _touch(
        event,
        derive=lambda row: {
            "current_value": row["current_value"] + delta,
            "cumulative_variation": row["cumulative_variation"] + delta,
            "variations": row["variations"] + 1,
        },
    )


@changes.register
def _novated(event: Contract.Novated) -> RowChange:
    return _touch(event, provider=event.to_provider)


@changes.register
def _extended(event: Contract.Extended) -> RowChange:
    delta = event.value_change
    return _touch(event, term_end=event.new_end, derive=lambda row: {"current_value": row["current_value"] + delta})


@changes.register
def _suspended(event: Contract.ReferralsSuspended) -> RowChange:
    return _touch(event, referrals_suspended="yes")


@changes.register
def _resumed(event: Contract.ReferralsResumed) -> RowChange:
    return _touch(event, referrals_suspended="no")


@changes.register
def _escalated(event: Contract.Escalated) -> RowChange:
    return _touch(event, escalation_stage=event.stage)


def _stage_below(stage: str, ladder: list[str]) -> str | None:
    index = ladder.index(stage) - 1
    return ladder[index] if index >= 0 else None


@changes.register
def _de_escalated(event: Contract.DeEscalated) -> RowChange:
    stage = event.from_stage
    return _touch(event, derive=lambda row: {"escalation_stage": _stage_below(stage, json.loads(row["ladder"]))})


@changes.register
def _terminated(event: Contract.Terminated) -> RowChange:
    return _touch(event, status=TERMINATED)


@changes.register
def _expired(event: Contract.Expired) -> RowChange:
    return _touch(event, status=EXPIRED)


def contract_events() -> list[type]:
    return [v for v in vars(Contract).values() if isinstance(v, type) and issubclass(v, LedgerAggregate.Event)]


# Every other contract event (homes, plans, milestones, risks, ...) moves only the version and time.
for _event_class in contract_events():
    if _event_class not in changes.registry:
        changes.register(_event_class, lambda event: _touch(event))

#: the events the register follows: exactly those it has a handler for
FOLLOWED = tuple(cls for cls in changes.registry if cls is not object)


# ------------------------------------------------------------ the storage part


class ContractRegisterView(ReadModelView):
    """The register's table and tracking position; `apply` writes both in one transaction."""


def _row(record: Any) -> dict[str, Any]:
    return {c: record[c] for c in COLUMNS}


class SQLiteContractRegisterView(SQLiteTrackingTable, ContractRegisterView):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), CREATE_TABLE.format(table=TABLE)]

    def apply(self, changes: Sequence[RowChange], tracking: Tracking) -> None:
        with self.datastore.transaction(commit=True) as cursor:
            # The position first: if another process got there before us, nothing is written.
            self._insert_tracking(cursor, tracking)
            for change in changes:
                self._write(cursor, change)

    def _write(self, cursor: Any, change: RowChange) -> None:
        values = dict(change.values)
        if change.derive is not None:
            cursor.execute(f"SELECT * FROM {TABLE} WHERE id = ?", (change.contract_id,))
            values.update(change.derive(dict(cursor.fetchone())))
        params = {**values, "id": change.contract_id}
        if change.new:
            names = ", ".join(params)
            cursor.execute(f"INSERT INTO {TABLE} ({names}) VALUES ({', '.join(':' + n for n in params)})", params)
        else:
            assignments = ", ".join(f"{n} = :{n}" for n in values)
            cursor.execute(f"UPDATE {TABLE} SET {assignments} WHERE id = :id", params)

    def rows(self) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(f"SELECT {', '.join(COLUMNS)} FROM {TABLE} ORDER BY reference")
            return [_row(r) for r in cursor.fetchall()]


class PostgresContractRegisterView(PostgresTrackingRecorder, ContractRegisterView):
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
        values = dict(change.values)
        if change.derive is not None:
            cursor.execute(SQL("SELECT * FROM {} WHERE id = %s").format(self.table), (change.contract_id,))
            values.update(change.derive(dict(cursor.fetchone())))
        params = {**values, "id": change.contract_id}
        if change.new:
            statement = SQL("INSERT INTO {} ({}) VALUES ({})").format(
                self.table,
                SQL(", ").join(map(Identifier, params)),
                SQL(", ").join(map(Placeholder, params)),
            )
        else:
            statement = SQL("UPDATE {} SET {} WHERE id = {}").format(
                self.table,
                SQL(", ").join(SQL("{} = {}").format(Identifier(n), Placeholder(n)) for n in values),
                Placeholder("id"),
            )
        cursor.execute(statement, params)

    def rows(self) -> list[dict[str, Any]]:
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(
                # Byte order, as SQLite sorts: the same register on both stores, whatever the locale.
                SQL('SELECT {} FROM {} ORDER BY reference COLLATE "C"').format(SQL(", ").join(map(Identifier, COLUMNS)), self.table)
            )
            return [_row(r) for r in cursor.fetchall()]


# ------------------------------------------------------------ the projection


class ContractRegister(ReadModel[ContractRegisterView]):
    name = "contracts"
    table = TABLE
    topics = tuple(get_topic(cls) for cls in FOLLOWED)
    columns = COLUMNS
    sqlite_view = SQLiteContractRegisterView
    postgres_view = PostgresContractRegisterView

    def process_page(self, events: Sequence[Any], tracking: Tracking) -> None:
        self.view.apply([changes(e) for e in events], tracking)


def open_view(ledger: Any) -> ContractRegisterView:
    """The register in the ledger's own database."""
    return follow.live_view(ledger, ContractRegister)


def catch_up(ledger: Any, view: ContractRegisterView | None = None, *, page_size: int | None = None) -> int:
    """Bring the register up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, ContractRegister(view or open_view(ledger)), page_size=page_size)


def contract_register(ledger: Any) -> list[dict[str, Any]]:
    """The rows, sorted by reference, as far as the register has caught up."""
    return open_view(ledger).rows()
