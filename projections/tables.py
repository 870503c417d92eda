"""Read models as tables of rows keyed by text, written a page at a time, on either store.

A `TableReadModel` declares its `tables` and one method, `apply(event, page)`, that reads and
writes rows through a `Page`. The page is a unit of work over ONE transaction of the view:

1. it records the tracking position first (if another process has already gone past it,
   the library raises IntegrityError and nothing of the page is written);
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
dicts, for tests of the rules without a database.

Every table has a text primary key column `key` (the read model composes it, e.g.
"1-101|2026-04") and typed columns. Columns marked `hidden` are kept for the read model's
own use (a contract's escalation ladder) and are not shown by `rows()`. Text ordering is
byte order on both stores (`COLLATE "C"` on PostgreSQL), so the same rows list the same.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from eventsourcing.utils import get_topic
from psycopg.sql import SQL

from projections.follow import ReadModel, ReadModelView, SQLiteTrackingTable

TEXT, INTEGER, REAL = "text", "integer", "real"
_SQL_TYPES = {TEXT: "TEXT", INTEGER: "BIGINT", REAL: "DOUBLE PRECISION"}


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
            if column.type not in _SQL_TYPES:
                raise ValueError(f"{self.name}.{column.name}: type must be one of {sorted(_SQL_TYPES)}")

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
        columns = ", ".join(f"{c.name} {_SQL_TYPES[c.type]}" for c in self.columns)
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


class TableView(ReadModelView):
    """A table read model's storage on one store; subclasses are made per read model."""

    tables: ClassVar[tuple[Table, ...]]
    postgres: ClassVar[bool]

    def qualified(self, table: str) -> str:
        if self.postgres:
            return f'"{self.datastore.schema}"."{table}"'
        return table

    def _sql(self, statement: str) -> str:
        return statement.replace("?", "%s") if self.postgres else statement

    def _text_order(self, column: str, table: Table, direction: str = "") -> str:
        types = {c.name: c.type for c in table.columns}
        text = column == "key" or types.get(column) == TEXT
        collate = ' COLLATE "C"' if (self.postgres and text) else ""
        # NULLS FIRST follows the direction (PostgreSQL's syntax): nulls before the values either way, as SQLite orders them
        # ascending; descending, SQLite puts them last, and so does PostgreSQL told NULLS LAST.
        nulls = (" NULLS LAST" if direction else " NULLS FIRST") if self.postgres else ""
        return f"{column}{collate}{direction}{nulls}"

    #: whether the tables get their secondary indexes (`Table.indexes`); the key is always indexed
    secondary_indexes: bool = True

    def _table_statements(self) -> list[str]:
        return [
            s
            for t in self.tables
            for s in t.create_statements(self.qualified(t.name), postgres=self.postgres, indexes=self.secondary_indexes)
        ]

    #: at most this many rows are held by a build in memory (see `build_in_memory`); beyond,
    #: they go to the view's tables and the build goes on there
    IN_MEMORY_AT_MOST = 1_000_000
    _memory: InMemory | None = None

    def build_in_memory(self) -> None:
        """From now on, pages change rows held in memory, not the tables: a rebuild's build.

        For a view nobody else reads or writes, whose tables are empty now (a rebuild's scratch
        view). A page then reads rows from memory and writes nothing to the database: no
        transaction, no statements, no commit per page, which were most of a rebuild's cost
        beside the handlers themselves. Its position moves in memory with the rows, under the
        same compare-and-set as in a table, and a page that fails changes nothing. The rows
        go to the live tables at once when the rebuild swaps them in (`final_rows`). Past
        `IN_MEMORY_AT_MOST` rows they are written to the view's own tables (one transaction,
        with the position) and the build carries on there, so a huge rebuild costs time, not
        memory.
        """
        with self.datastore.transaction(commit=False) as cursor:
            for table in self.tables:
                cursor.execute(f"SELECT 1 FROM {self.qualified(table.name)} LIMIT 1")
                if cursor.fetchone() is not None:
                    raise ValueError(f"{table.name} is not empty: only a view of empty tables can be built in memory")
        self._memory = InMemory(self.tables)

    @property
    def in_memory(self) -> bool:
        return self._memory is not None

    def final_rows(self, table: Table) -> Iterator[tuple[Any, ...]]:
        """Every row of `table` as (key, *columns) tuples in key order: what a swap copies out."""
        memory = self._memory
        if memory is not None:
            # Keys are unique, so the tuples sort by their keys alone (in code point order,
            # which is byte order in UTF-8, as the tables order text).
            yield from sorted([*map(table.values, memory.rows[table.name].values()), *memory.inserted[table.name]])
            return
        with self.datastore.transaction(commit=False) as cursor:
            columns = ", ".join(("key", *table.names))
            # The library's SQLite cursor does not fetch in batches; the one it wraps does.
            rows = getattr(cursor, "sqlite_cursor", cursor)
            rows.execute(f"SELECT {columns} FROM {self.qualified(table.name)} ORDER BY {self._text_order('key', table)}")
            while batch := rows.fetchmany(5000):
                for row in batch:
                    yield tuple(row.values()) if isinstance(row, dict) else tuple(row)  # PostgreSQL's rows are dicts

    @contextmanager
    def page(self, tracking: Tracking, cursor: Any = None, *, start: int | None = None) -> Iterator[Page]:
        """A page in a transaction of its own, or, given `cursor`, inside the caller's (which
        commits it: several read models writing one page together).

        With `start` (the position the page's events follow), the position moves only if it
        still stands at `start`: a compare-and-set, so two followers racing over overlapping
        pages cannot both apply the events between (without it, a page reaching further than
        another process's would still be accepted, and apply the overlap twice)."""
        memory = self._memory
        if memory is not None:
            if cursor is not None:
                raise ValueError("a view built in memory writes nothing in another's transaction")
            if start is not None and start != memory.position:
                raise IntegrityError(f"{self.tracking_table_name}: the position is {memory.position}, not {start}")
            rows = memory.rows
            page = Page({t.name: t for t in self.tables}, lambda table, key: rows[table.name].get(key))
            yield page
            memory.keep(page.written(), tracking.notification_id)
            if memory.count > self.IN_MEMORY_AT_MOST:
                self._spill(tracking)
            return
        if cursor is not None:
            with self._page_on(cursor, tracking, start) as page:
                yield page
            return
        with self.datastore.transaction(commit=True) as own:
            with self._page_on(own, tracking, start) as page:
                yield page

    def _spill(self, tracking: Tracking) -> None:
        """Write the rows held in memory to the tables, with the position, and build there from now on."""
        memory = self._memory
        assert memory is not None
        with self.datastore.transaction(commit=True) as cursor:
            self._insert_tracking(cursor, tracking)
            for table in self.tables:
                rows = list(self.final_rows(table))
                if rows:
                    cursor.executemany(self._statements[table.name][2], rows)
        self._memory = None

    @contextmanager
    def _page_on(self, cursor: Any, tracking: Tracking, start: int | None) -> Iterator[Page]:
        # The position first: if another process got there before us, nothing is written.
        if start is None:
            self._insert_tracking(cursor, tracking)
        else:
            self._advance(cursor, tracking, start)

        def fetch(table: Table, key: str) -> dict[str, Any] | None:
            cursor.execute(self._selects[table.name], (key,))
            found = cursor.fetchone()
            return None if found is None else {n: found[n] for n in ("key", *table.names)}

        page = Page({t.name: t for t in self.tables}, fetch)
        yield page
        for table, upserts, deletes, inserts in page.written():
            self._write(cursor, table, upserts, deletes)
            if inserts:
                cursor.executemany(self._statements[table.name][2], inserts)

    def _advance(self, cursor: Any, tracking: Tracking, start: int) -> None:
        """Move the position from `start` to the page's end, or refuse (IntegrityError) if it has moved."""
        table = self.qualified(self.tracking_table_name)
        cursor.execute(
            self._sql(
                f"INSERT INTO {table} (application_name, notification_id) VALUES (?, ?) "
                "ON CONFLICT (application_name) DO UPDATE SET notification_id = excluded.notification_id "
                f"WHERE {table}.notification_id = ? RETURNING notification_id"
            ),
            (tracking.application_name, tracking.notification_id, start),
        )
        if cursor.fetchone() is None:
            raise IntegrityError(
                f"{self.tracking_table_name}: the position is no longer {start} (another process moved it); "
                f"page to {tracking.notification_id} refused"
            )

    @cached_property
    def _selects(self) -> dict[str, str]:
        return {t.name: self._sql(f"SELECT * FROM {self.qualified(t.name)} WHERE key = ?") for t in self.tables}

    @cached_property
    def _statements(self) -> dict[str, tuple[str, str, str]]:
        """Per table: (delete, upsert, insert) statements, made once rather than per page."""
        made = {}
        for table in self.tables:
            name = self.qualified(table.name)
            insert = table.insert_statement(name)
            assignments = ", ".join(f"{c} = excluded.{c}" for c in table.names)
            made[table.name] = (
                self._sql(f"DELETE FROM {name} WHERE key = ?"),
                self._sql(f"{insert} ON CONFLICT (key) DO UPDATE SET {assignments}"),
                self._sql(insert),
            )
        return made

    def _write(self, cursor: Any, table: Table, upserts: list[dict[str, Any]], deletes: list[str]) -> None:
        delete, upsert, _insert = self._statements[table.name]
        if deletes:
            cursor.executemany(delete, [(k,) for k in deletes])
        if upserts:
            cursor.executemany(upsert, list(map(table.values, upserts)))

    def apply(self, changes: Sequence[Any], tracking: Tracking) -> None:  # pragma: no cover - pages instead
        raise NotImplementedError("table read models write through page()")

    def select(
        self,
        table: str | None = None,
        *,
        where: dict[str, Any] | None = None,
        order_by: Sequence[str] | None = None,
        descending: bool = False,
        limit: int | None = None,
        offset: int = 0,
        columns: Sequence[str] | None = None,
        any_of: Sequence[Sequence[dict[str, Any]]] = (),
        sort: str | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of `table` (default: the first) meeting `where` and `any_of`, in order; shown columns by default.

        `where` maps columns to conditions, all of which must hold: a value (equal to it), None
        (IS NULL), or an `(op, value)` tuple (`CONDITIONS`). `any_of` is a list of groups; each
        group is a list of such dicts, at least one of which must hold (e.g. a provider's rows:
        `[[{"provider": org}, {"location": org}]]`).

        `sort` ("col" or "-col") orders by that column first as the HTTP API's tables do (values
        ascending then nulls; descending: nulls, then values descending), ties in the natural
        order; `order_by`/`descending` replace the natural order instead.
        """
        spec = self._table(table)
        names = tuple(columns or spec.shown)
        if not names:
            # A lookup kept for the read model's own use (every column hidden) has nothing to show.
            raise KeyError(f"{spec.name} is a lookup of hidden columns kept for the read model's own use; name the columns to read")
        self._known(spec, names)
        clauses, params = self._where(spec, where, any_of)
        order = tuple(order_by or spec.order_by)
        self._known(spec, order)
        direction = " DESC" if descending else ""
        ordering = ", ".join(self._text_order(c, spec, direction) for c in (*order, "key"))
        if sort:
            column = sort.lstrip("-")
            self._known(spec, (column,))
            down = " DESC" if sort.startswith("-") else ""
            ordering = f"({column} IS NULL){down}, {self._text_order(column, spec, down)}, {ordering}"
        statement = f"SELECT {', '.join(names)} FROM {self.qualified(spec.name)}{clauses} ORDER BY {ordering}"
        if limit is not None:
            statement += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._sql(statement), params)
            return [{n: r[n] for n in names} for r in cursor.fetchall()]

    def count(
        self, table: str | None = None, *, where: dict[str, Any] | None = None, any_of: Sequence[Sequence[dict[str, Any]]] = ()
    ) -> int:
        spec = self._table(table)
        clauses, params = self._where(spec, where, any_of)
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._sql(f"SELECT COUNT(*) AS n FROM {self.qualified(spec.name)}{clauses}"), params)
            return int(cursor.fetchone()["n"])

    def rows(self, table: str | None = None) -> list[dict[str, Any]]:
        return self.select(table)

    def _table(self, table: str | None) -> Table:
        if table is None:
            return self.tables[0]
        for spec in self.tables:
            if spec.name == table:
                return spec
        raise KeyError(f"there is no table {table}; the tables are {', '.join(t.name for t in self.tables)}")

    @staticmethod
    def _known(spec: Table, names: Iterable[str]) -> None:
        unknown = set(names) - {"key", *spec.names}
        if unknown:
            raise KeyError(f"{spec.name} has no column {', '.join(sorted(unknown))}")

    def _where(
        self, spec: Table, where: dict[str, Any] | None, any_of: Sequence[Sequence[dict[str, Any]]] = ()
    ) -> tuple[str, list[Any]]:
        parts, params = self._conditions(spec, where or {})
        for group in any_of:
            alternatives = []
            for option in group:
                clauses, values = self._conditions(spec, option)
                alternatives.append("(" + (" AND ".join(clauses) or "1 = 1") + ")")
                params += values
            # An empty group can never hold: nothing matches.
            parts.append("(" + " OR ".join(alternatives) + ")" if alternatives else "1 = 0")
        return (" WHERE " + " AND ".join(parts), params) if parts else ("", [])

    def _conditions(self, spec: Table, where: dict[str, Any]) -> tuple[list[str], list[Any]]:
        self._known(spec, where)
        types = {c.name: c.type for c in spec.columns}
        parts: list[str] = []
        params: list[Any] = []
        for column, value in where.items():
            op, operand = value if isinstance(value, tuple) else ("=", value)
            if op not in CONDITIONS:
                raise ValueError(f"{op!r} is not a condition; the conditions are {', '.join(CONDITIONS)}")
            if op == "=" and operand is None or op == "is null":
                parts.append(f"{column} IS NULL")
            elif op == "not null":
                parts.append(f"{column} IS NOT NULL")
            elif op in ("in", "not in"):
                listed = list(operand)
                if not listed:
                    # IN () is not SQL: nothing is in an empty list, everything (not null) is outside it.
                    parts.append("1 = 0" if op == "in" else f"{column} IS NOT NULL")
                    continue
                parts.append(f"{column} {op.upper()} ({', '.join('?' for _ in listed)})")
                params += listed
            elif op == "contains":
                if types.get(column, TEXT) != TEXT:
                    raise ValueError(f"{spec.name}.{column} is not text; `contains` searches text")
                # Case-insensitive substring (ASCII case on SQLite; LIKE's wildcards in the text are literal).
                escaped = str(operand).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                parts.append(f"LOWER({column}) LIKE ? ESCAPE '\\'")
                params.append(f"%{escaped.lower()}%")
            else:
                parts.append(f"{column} {op} ?")
                params.append(operand)
        return parts, params


#: the conditions `TableView.select` takes as `(op, value)`: comparisons (a null never
#: matches one), "is null" and "not null" (value ignored), "in"/"not in" a list, and
#: "contains" (case-insensitive substring of a text column)
CONDITIONS = ("=", "!=", "<", "<=", ">", ">=", "is null", "not null", "in", "not in", "contains")


class _PositionInMemory:
    """A view built in memory has its position there (before the library's tracking table in the MRO)."""

    _memory: InMemory | None

    def max_tracking_id(self, application_name: str) -> int | None:
        if self._memory is not None:
            return self._memory.position or None
        return super().max_tracking_id(application_name)  # type: ignore[misc]


class SQLiteTableView(_PositionInMemory, SQLiteTrackingTable, TableView):
    postgres = False

    def __init__(self, datastore: Any, *, secondary_indexes: bool = True, **kwargs: Any) -> None:
        # A rebuild's scratch tables are only written, read by key and copied out whole, so
        # they go without the indexes the live tables keep for serving (`runner.rebuild`).
        self.secondary_indexes = secondary_indexes
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self._table_statements()]


class PostgresTableView(_PositionInMemory, PostgresTrackingRecorder, TableView):
    postgres = True

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(SQL(s) for s in self._table_statements())  # type: ignore[arg-type]


class TableReadModel(ReadModel[TableView]):
    """A read model kept as tables: declare `name`, `tables`, `followed` and `apply`."""

    tables: ClassVar[tuple[Table, ...]]
    #: the event classes it follows (their topics select what it reads from the log)
    followed: ClassVar[tuple[type, ...]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "tables" in vars(cls):
            attrs = {"tables": cls.tables}
            cls.sqlite_view = type(f"SQLite{cls.__name__}View", (SQLiteTableView,), attrs)
            cls.postgres_view = type(f"Postgres{cls.__name__}View", (PostgresTableView,), attrs)
            cls.columns = cls.tables[0].shown
        # A read model that declares `topics = ()` itself reads every stored event whatever its class.
        if "followed" in vars(cls) and "topics" not in vars(cls):
            cls.topics = tuple(get_topic(e) for e in cls.followed)

    @classmethod
    def table_names(cls) -> tuple[str, ...]:
        return tuple(t.name for t in cls.tables)

    def process_page(
        self,
        events: Sequence[Any],
        tracking: Tracking,
        positions: Sequence[int] | None = None,
        *,
        cursor: Any = None,
        start: int | None = None,
    ) -> None:
        with self.view.page(tracking, cursor, start=start) as page:
            for event, position in zip(events, positions or [None] * len(events), strict=True):
                page.position = position
                self.apply(event, page)
            self.finish(page)

    def finish(self, page: Page) -> None:
        """Called once a page's events are applied, before it is written (by default nothing).

        For rows that follow from others by a rule (a percentage from counts): a read model may
        note in `page.notes` which need it and work them out here, once per page, rather than
        after every event that moves them. Only for rules whose result depends on nothing but
        the rows as they end the page, so how the events fall into pages changes nothing.
        """

    @abstractmethod
    def apply(self, event: Any, page: Page) -> None:
        """Change rows for one event (only events of `followed` arrive)."""


@dataclass
class Replayed:
    """A read model's tables filled in memory from events (tests of the rules)."""

    read_model: type[TableReadModel]
    page: MemoryPage = field(init=False)

    def __post_init__(self) -> None:
        self.page = MemoryPage(self.read_model.tables)

    def feed(self, events: Iterable[Any], *, first_position: int | None = None) -> Replayed:
        """Apply `events`; with `first_position`, they are numbered from it as if they were stored."""
        model = self.read_model.__new__(self.read_model)  # the rules need no view
        followed = tuple(self.read_model.followed)
        for i, event in enumerate(events):
            if isinstance(event, followed):
                self.page.position = None if first_position is None else first_position + i
                model.apply(event, self.page)
        model.finish(self.page)
        self.page.commit()
        return self

    def rows(self, table: str | None = None) -> list[dict[str, Any]]:
        return self.page.rows(table or self.read_model.tables[0].name)
