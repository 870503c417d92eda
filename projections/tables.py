"""A read model's tables of rows keyed by text, and the page that changes them.

A `Table` declares a read model's table: its typed columns, natural order and indexes. A
`Page` is a unit of work over ONE transaction of the view (`projections/views.py`):

1. the view records the tracking position first (if another process has already gone past
   it, the library raises IntegrityError and nothing of the page is written);
2. `page.get(table, key)` reads a row through the page's cache (a miss reads the database
   inside that same transaction), `page.put`/`page.update`/`page.delete` change the cache;
3. on leaving, every changed row is written in bulk (one upsert statement per table,
   executed for many rows) and the transaction commits.

A row that is new and never changes afterwards (the event index's row for one event) can be
given with `page.insert` instead: it goes straight to a plain INSERT, without the page's
cache, the read that `put` implies, or the upsert's conflict check, which is most of the cost
of a read model writing several such rows per event. (A second insert of the same key, in
this page or a later one, is refused by the primary key, so a mistake shows.)

So handlers are plain functions of (event, current rows), every page is all-or-nothing, a
crash loses nothing (the position moves with the rows), and catching up writes each row
once per page however many events touched it. `MemoryPage` runs the same handlers over
dicts, for tests of the rules without a database; `InMemory` holds a rebuild's rows.

**History.** A view that keeps history (`TableView.keeps_history`) also writes, for each
table, every version each row has had into its history table (`Table.history_name`): the
row's columns with the position and the time from which it held (`held_from`,
`held_from_at`) and until which (`held_until`, `held_until_at`; an open version, the row as
it stands, has no `held_until` and `OPEN` as its time). A page records a version per event
that changed the row, not per page, so "the table as at T" is a query over the history
table, not a replay of the log, whatever the page sizes were. Times are microseconds since
1970 in UTC (`micros`), integers, so both stores compare them alike.

Every table has a text primary key column `key` (the read model composes it, e.g.
"1-101|2026-04") and typed columns. Columns marked `hidden` are kept for the read model's
own use (a contract's escalation ladder) and are not shown by `rows()`. Text ordering is
byte order on both stores (`COLLATE "C"` on PostgreSQL), so the same rows list the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import cached_property
from operator import itemgetter
from typing import Any, NamedTuple

TEXT, INTEGER, REAL = "text", "integer", "real"
SQL_TYPES = {TEXT: "TEXT", INTEGER: "BIGINT", REAL: "DOUBLE PRECISION"}

#: the columns a history table adds to its table's (see "History" above)
HISTORY_COLUMNS = ("held_from", "held_until", "held_from_at", "held_until_at")
#: `held_until_at` of a version that still holds: later than any time a datetime can give
OPEN = 2**62
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def micros(moment: datetime) -> int:
    """A time as the history tables hold it: microseconds since 1970 in UTC (a naive time is UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass(frozen=True)
class Column:
    name: str
    type: str = TEXT
    hidden: bool = False


@dataclass(frozen=True)
class Table:
    """A read model's table: its columns (besides `key`), natural order and indexes."""

    name: str
    columns: tuple[Column, ...]
    order_by: tuple[str, ...] = ("key",)
    indexes: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        names = [c.name for c in self.columns]
        if "key" in names or len(set(names)) != len(names):
            raise ValueError(f"{self.name}: column names must be unique and not 'key'")
        for column in self.columns:
            if column.type not in SQL_TYPES:
                raise ValueError(f"{self.name}.{column.name}: type must be one of {sorted(SQL_TYPES)}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def shown(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if not c.hidden)

    @cached_property
    def _empty(self) -> dict[str, None]:
        # Pages make a row per event: copying this is cheaper than building it each time.
        return dict.fromkeys(("key", *self.names))

    @cached_property
    def values(self) -> Any:
        """row dict (every column and `key`) -> its values in column order, as a tuple (in C, not a loop)."""
        return itemgetter("key", *self.names)

    @cached_property
    def column_values(self) -> Any:
        """row dict (every column, `key` or not) -> the columns' values in order, as a tuple."""
        return itemgetter(*self.names) if len(self.names) > 1 else lambda row: (row[self.names[0]],)

    def blank(self, key: str) -> dict[str, Any]:
        row = self._empty.copy()
        row["key"] = key
        return row

    def check(self, row: dict[str, Any]) -> None:
        """Refuse columns the table does not have."""
        if not self._empty.keys() >= row.keys():
            unknown = set(row) - set(self._empty)
            raise KeyError(f"{self.name} has no column {', '.join(sorted(unknown))}")

    def create_statements(self, qualified: str, *, postgres: bool, indexes: bool = True) -> list[str]:
        columns = ", ".join(f"{c.name} {SQL_TYPES[c.type]}" for c in self.columns)
        statements = [f"CREATE TABLE IF NOT EXISTS {qualified} (key TEXT PRIMARY KEY, {columns})"]
        return statements + (self.index_statements(qualified) if indexes else [])

    def insert_statement(self, qualified: str) -> str:
        """INSERT of a whole row, (key, *columns), with `?` placeholders."""
        columns = ("key", *self.names)
        return f"INSERT INTO {qualified} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"

    @property
    def history_name(self) -> str:
        return f"{self.name}__history"

    def history_create_statements(self, qualified: str, *, indexes: bool = True) -> list[str]:
        """The history table (see "History" above), and its indexes (`history_index_statements`)."""
        columns = ", ".join(f"{c.name} {SQL_TYPES[c.type]}" for c in self.columns)
        create = (
            f"CREATE TABLE IF NOT EXISTS {qualified} (key TEXT NOT NULL, {columns}, held_from BIGINT NOT NULL, "
            "held_until BIGINT, held_from_at BIGINT NOT NULL, held_until_at BIGINT NOT NULL, PRIMARY KEY (key, held_from))"
        )
        return [create, *(self.history_index_statements(qualified) if indexes else [])]

    def history_index_statements(self, qualified: str) -> list[str]:
        """A key's open version by a partial index (ending it costs the same however long the key's
        history), and versions by when they ended (a past time's rows are those ending after it)."""
        name = self.history_name
        return [
            f"CREATE UNIQUE INDEX IF NOT EXISTS {name}_open_idx ON {qualified} (key) WHERE held_until IS NULL",
            f"CREATE INDEX IF NOT EXISTS {name}_until_idx ON {qualified} (held_until_at)",
        ]

    def history_insert_statement(self, qualified: str) -> str:
        """INSERT of a version: (key, *columns, held_from, held_until, held_from_at, held_until_at)."""
        columns = ("key", *self.names, *HISTORY_COLUMNS)
        return f"INSERT INTO {qualified} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"

    def index_statements(self, qualified: str) -> list[str]:
        """The secondary indexes (named after the table; PostgreSQL index names live in the
        table's schema, so they are not qualified)."""
        return [
            f"CREATE INDEX IF NOT EXISTS {self.name}_{'_'.join(index)}_idx ON {qualified} ({', '.join(index)})"
            for index in self.indexes
        ]


_DELETED = object()


class Changes(NamedTuple):
    """A table's rows written by a page: upserted (dicts), deleted (keys), inserted (value tuples);
    with history, the stored open versions it ends ((key, held_until, held_until_at)) and the
    versions it adds ((key, *columns, held_from, held_until, held_from_at, held_until_at))."""

    table: Table
    upserts: list[dict[str, Any]]
    deletes: list[str]
    inserts: list[tuple[Any, ...]]
    closes: list[tuple[str, int, int]] = []
    versions: list[tuple[Any, ...]] = []


class Page:
    """Row reads and writes for one page of events, applied in one transaction (see module doc)."""

    def __init__(self, tables: dict[str, Table], fetch: Any, *, history: bool = False) -> None:
        self.tables = tables
        self._fetch = fetch  # (table, key) -> row dict | None, read inside the page's transaction
        self._rows: dict[str, dict[str, Any]] = {name: {} for name in tables}
        self._dirty: dict[str, set[str]] = {name: set() for name in tables}
        self._inserted: dict[str, list[tuple[Any, ...]]] = {name: [] for name in tables}
        #: the notification id of the event being applied (None where the caller has none to give,
        #: e.g. unit tests feeding events straight from aggregates)
        self.position: int | None = None
        #: the time of the event being applied (`micros`), for the history's versions
        self.moment: int | None = None
        #: whether the page records each row's versions (see "History" in the module doc)
        self.history = history
        #: with history: the latest time of the events applied so far, and the position of the
        #: first whose time was earlier than one before it (`projections.views.HISTORY_SINCE`)
        self.latest_at = 0
        self.back_from: int | None = None
        # With history: per table, key -> (position, moment) the row's version in this page began
        # at; the same for the first change in this page (where the stored open version ends);
        # and the versions this page both began and ended.
        self._since: dict[str, dict[str, tuple[int, int]]] = {name: {} for name in tables}
        self._first: dict[str, dict[str, tuple[int, int]]] = {name: {} for name in tables}
        self._closed: dict[str, list[tuple[Any, ...]]] = {name: [] for name in tables}
        #: a read model's own notes for this page, e.g. rows to finish once its events are applied
        #: (`TableReadModel.finish`); gone with the page
        self.notes: dict[str, Any] = {}

    def get(self, table: str, key: str) -> dict[str, Any] | None:
        """The row as it stands (with this page's changes so far), or None. Don't mutate it: `put` it."""
        cached = self._rows[table]
        if key not in cached:
            cached[key] = self._fetch(self.tables[table], key) or _DELETED
        row = cached[key]
        return None if row is _DELETED else dict(row)

    def put(self, table: str, key: str, row: dict[str, Any]) -> None:
        """Replace the row (columns not given are null)."""
        spec = self.tables[table]
        # One merge over the blank row fills the columns not given and, by its length, tells
        # whether any given was not a column (cheaper than comparing key sets on every put).
        full = {**spec._empty, **row}
        if len(full) != len(spec._empty):
            spec.check(row)
        full["key"] = key
        if self.history:
            if self._unchanged(table, key, full):
                return
            self._versioned(table, key)
        self._rows[table][key] = full
        self._dirty[table].add(key)

    def update(self, table: str, key: str, **values: Any) -> dict[str, Any]:
        """Set some columns, creating the row (others null) if there is none; returns the row."""
        spec = self.tables[table]
        cached = self._rows[table]
        if key not in cached:
            cached[key] = self._fetch(spec, key) or _DELETED
        current = cached[key]
        # A new dict, never the cached one changed in place (what `update` returned before stays as it was).
        row = {**(spec._empty if current is _DELETED else current), **values}
        if len(row) != len(spec._empty):
            spec.check(values)
        row["key"] = key
        if self.history:
            if current == row:
                return row
            self._versioned(table, key)
        cached[key] = row
        self._dirty[table].add(key)
        return row

    def delete(self, table: str, key: str) -> None:
        if self.history:
            if self._unchanged(table, key, _DELETED):
                return
            self._versioned(table, key)
        self._rows[table][key] = _DELETED
        self._dirty[table].add(key)

    def _unchanged(self, table: str, key: str, row: Any) -> bool:
        """Whether the row already stands so (with history, a row put again as it was is no new
        version: a rule re-working a row after every event would otherwise fill the history)."""
        cached = self._rows[table]
        if key not in cached:
            cached[key] = self._fetch(self.tables[table], key) or _DELETED
        return cached[key] == row if row is not _DELETED else cached[key] is _DELETED

    def _when(self) -> tuple[int, int]:
        if self.position is None or self.moment is None:
            raise ValueError("a page that keeps history needs each event's position and time (page.position, page.moment)")
        return self.position, self.moment

    def _versioned(self, table: str, key: str) -> None:
        """Before the row at `key` changes: end the version this page gave it at an earlier event, if any."""
        when = self._when()
        since = self._since[table]
        began = since.get(key)
        if began is None:
            since[key] = self._first[table][key] = when
        elif began[0] != when[0]:
            prior = self._rows[table][key]
            if prior is not _DELETED:
                self._closed[table].append((*self.tables[table].values(prior), began[0], when[0], began[1], when[1]))
            since[key] = when

    def insert(self, table: str, key: str, row: dict[str, Any]) -> None:
        """Add a row that does not exist yet and that no handler reads or changes afterwards.

        Written with a plain INSERT, bypassing the page's cache: `get` does not see it, and
        `put`, `update` or `delete` of the same key in the same page is a mistake. Columns not
        given are null.
        """
        spec = self.tables[table]
        values: tuple[Any, ...] | None = None
        if len(row) == len(spec.columns):
            try:
                # Every column, nothing else (as many keys as columns, and each column found).
                values = (key, *spec.column_values(row))
            except KeyError:
                pass
        if values is None:
            spec.check(row)
            values = (key, *spec.column_values({**spec._empty, **row}))
        self._inserted[table].append(values)
        if self.history:
            position, moment = self._when()
            self._closed[table].append((*values, position, None, moment, OPEN))

    def written(self) -> Iterator[Changes]:
        """Each table's rows to upsert, keys to delete and rows to insert (in key order, then as
        inserted), and with history the versions ended and added."""
        for name, keys in self._dirty.items():
            rows = self._rows[name]
            upserts, deletes = [], []
            for k in sorted(keys):
                row = rows[k]
                if row is _DELETED:
                    deletes.append(k)
                else:
                    upserts.append(row)
            inserts = self._inserted[name]
            if not self.history:
                if upserts or deletes or inserts:
                    yield Changes(self.tables[name], upserts, deletes, inserts)
                continue
            spec, since, first = self.tables[name], self._since[name], self._first[name]
            closes = [(k, *first[k]) for k in sorted(first)]
            versions = self._closed[name] + [(*spec.values(row), *since[row["key"]][:1], None, since[row["key"]][1], OPEN) for row in upserts]
            if upserts or deletes or inserts or closes or versions:
                yield Changes(spec, upserts, deletes, inserts, closes, versions)


class MemoryPage(Page):
    """A page over plain dicts that outlive it: the rules of a read model, without a database."""

    def __init__(self, tables: Iterable[Table]) -> None:
        self.store: dict[str, dict[str, dict[str, Any]]] = {t.name: {} for t in tables}
        super().__init__({t.name: t for t in tables}, lambda table, key: self.store[table.name].get(key))

    def commit(self) -> None:
        for table, upserts, deletes, inserts, *_history in self.written():
            stored = self.store[table.name]
            for key in deletes:
                stored.pop(key, None)
            for row in upserts:
                stored[row["key"]] = dict(row)
            for values in inserts:
                if values[0] in stored:  # as the primary key refuses it in a database
                    raise KeyError(f"{table.name} already has a row {values[0]!r}: insert is for new rows")
                stored[values[0]] = dict(zip(("key", *table.names), values, strict=True))
        self._rows = {name: {} for name in self.tables}
        self._dirty = {name: set() for name in self.tables}
        self._inserted = {name: [] for name in self.tables}
        self._since = {name: {} for name in self.tables}
        self._first = {name: {} for name in self.tables}
        self._closed = {name: [] for name in self.tables}
        self.notes = {}

    def rows(self, table: str) -> list[dict[str, Any]]:
        spec = self.tables[table]
        found = sorted(self.store[table].values(), key=lambda r: tuple(_sortable(r[c]) for c in (*spec.order_by, "key")))
        return [{c: r[c] for c in spec.shown} for r in found]


def _sortable(value: Any) -> tuple[int, Any]:
    # NULLs first, as SQLite orders them (PostgreSQL is told NULLS FIRST).
    return (0, "") if value is None else (1, value)


class InMemory:
    """A build's rows held in memory (`TableView.build_in_memory`): rows by key, rows inserted,
    position, and with history each table's ended versions and open ones (by key)."""

    def __init__(self, tables: Iterable[Table]) -> None:
        names = [t.name for t in tables]
        self.rows: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in names}
        self.inserted: dict[str, list[tuple[Any, ...]]] = {name: [] for name in names}
        self.ended: dict[str, list[tuple[Any, ...]]] = {name: [] for name in names}
        self.open: dict[str, dict[str, tuple[Any, ...]]] = {name: {} for name in names}
        self.position = 0
        self.latest_at = 0
        self.back_from: int | None = None

    def keep(self, written: Iterable[Changes], position: int) -> None:
        """A page's changes, applied once the page's events all have been (a failed page keeps nothing)."""
        for table, upserts, deletes, inserts, closes, versions in written:
            rows = self.rows[table.name]
            for key in deletes:
                rows.pop(key, None)
            for row in upserts:
                rows[row["key"]] = row  # the page's own copy, which nothing changes after the page
            self.inserted[table.name] += inserts
            if closes or versions:
                ended, open_ = self.ended[table.name], self.open[table.name]
                for key, until, until_at in closes:
                    version = open_.pop(key, None)
                    if version is not None:
                        ended.append((*version[:-4], version[-4], until, version[-2], until_at))
                for version in versions:
                    if version[-3] is None:
                        open_[version[0]] = version
                    else:
                        ended.append(version)
        self.position = position

    def versions(self, table: Table) -> list[tuple[Any, ...]]:
        """Every version of `table`'s rows, by key and then from when it held."""
        return sorted([*self.ended[table.name], *self.open[table.name].values()], key=itemgetter(0, -4))

    @property
    def count(self) -> int:
        held = (self.rows, self.inserted, self.ended, self.open)
        return sum(len(rows) for kind in held for rows in kind.values())
