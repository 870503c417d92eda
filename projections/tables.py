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

Every table has a text primary key column `key` (the read model composes it, e.g.
"1-101|2026-04") and typed columns. Columns marked `hidden` are kept for the read model's
own use (a contract's escalation ladder) and are not shown by `rows()`. Text ordering is
byte order on both stores (`COLLATE "C"` on PostgreSQL), so the same rows list the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property
from operator import itemgetter
from typing import Any, NamedTuple

TEXT, INTEGER, REAL = "text", "integer", "real"
SQL_TYPES = {TEXT: "TEXT", INTEGER: "BIGINT", REAL: "DOUBLE PRECISION"}


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

    def index_statements(self, qualified: str) -> list[str]:
        """The secondary indexes (named after the table; PostgreSQL index names live in the
        table's schema, so they are not qualified)."""
        return [
            f"CREATE INDEX IF NOT EXISTS {self.name}_{'_'.join(index)}_idx ON {qualified} ({', '.join(index)})"
            for index in self.indexes
        ]


_DELETED = object()


class Changes(NamedTuple):
    """A table's rows written by a page: upserted (dicts), deleted (keys), inserted (value tuples)."""

    table: Table
    upserts: list[dict[str, Any]]
    deletes: list[str]
    inserts: list[tuple[Any, ...]]


class Page:
    """Row reads and writes for one page of events, applied in one transaction (see module doc)."""

    def __init__(self, tables: dict[str, Table], fetch: Any) -> None:
        self.tables = tables
        self._fetch = fetch  # (table, key) -> row dict | None, read inside the page's transaction
        self._rows: dict[str, dict[str, Any]] = {name: {} for name in tables}
        self._dirty: dict[str, set[str]] = {name: set() for name in tables}
        self._inserted: dict[str, list[tuple[Any, ...]]] = {name: [] for name in tables}
        #: the notification id of the event being applied (None where the caller has none to give,
        #: e.g. unit tests feeding events straight from aggregates)
        self.position: int | None = None
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
        cached[key] = row
        self._dirty[table].add(key)
        return row

    def delete(self, table: str, key: str) -> None:
        self._rows[table][key] = _DELETED
        self._dirty[table].add(key)

    def insert(self, table: str, key: str, row: dict[str, Any]) -> None:
        """Add a row that does not exist yet and that no handler reads or changes afterwards.

        Written with a plain INSERT, bypassing the page's cache: `get` does not see it, and
        `put`, `update` or `delete` of the same key in the same page is a mistake. Columns not
        given are null.
        """
        spec = self.tables[table]
        if len(row) == len(spec.columns):
            try:
                # Every column, nothing else (as many keys as columns, and each column found).
                self._inserted[table].append((key, *spec.column_values(row)))
                return
            except KeyError:
                pass
        spec.check(row)
        self._inserted[table].append((key, *spec.column_values({**spec._empty, **row})))

    def written(self) -> Iterator[Changes]:
        """Each table's rows to upsert, keys to delete and rows to insert (in key order, then as inserted)."""
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
            if upserts or deletes or inserts:
                yield Changes(self.tables[name], upserts, deletes, inserts)


class MemoryPage(Page):
    """A page over plain dicts that outlive it: the rules of a read model, without a database."""

    def __init__(self, tables: Iterable[Table]) -> None:
        self.store: dict[str, dict[str, dict[str, Any]]] = {t.name: {} for t in tables}
        super().__init__({t.name: t for t in tables}, lambda table, key: self.store[table.name].get(key))

    def commit(self) -> None:
        for table, upserts, deletes, inserts in self.written():
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
        self.notes = {}

    def rows(self, table: str) -> list[dict[str, Any]]:
        spec = self.tables[table]
        found = sorted(self.store[table].values(), key=lambda r: tuple(_sortable(r[c]) for c in (*spec.order_by, "key")))
        return [{c: r[c] for c in spec.shown} for r in found]


def _sortable(value: Any) -> tuple[int, Any]:
    # NULLs first, as SQLite orders them (PostgreSQL is told NULLS FIRST).
    return (0, "") if value is None else (1, value)


class InMemory:
    """A build's rows held in memory (`TableView.build_in_memory`): rows by key, rows inserted, position."""

    def __init__(self, tables: Iterable[Table]) -> None:
        names = [t.name for t in tables]
        self.rows: dict[str, dict[str, dict[str, Any]]] = {name: {} for name in names}
        self.inserted: dict[str, list[tuple[Any, ...]]] = {name: [] for name in names}
        self.position = 0

    def keep(self, written: Iterable[Changes], position: int) -> None:
        """A page's changes, applied once the page's events all have been (a failed page keeps nothing)."""
        for table, upserts, deletes, inserts in written:
            rows = self.rows[table.name]
            for key in deletes:
                rows.pop(key, None)
            for row in upserts:
                rows[row["key"]] = row  # the page's own copy, which nothing changes after the page
            self.inserted[table.name] += inserts
        self.position = position

    @property
    def count(self) -> int:
        return sum(map(len, self.rows.values())) + sum(map(len, self.inserted.values()))
