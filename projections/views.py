"""A table read model's storage on one store: its pages' transactions, its rows read back.

`TableView` is a view (`projections/follow.py`'s `ReadModelView`) of a read model's tables
(`projections/tables.py`), one subclass per store and read model (`TableReadModel` makes
them): it creates the tables, runs each `Page` in one transaction with the tracking
position (see `page`), can hold a rebuild's rows in memory (`build_in_memory`), and reads
rows back with SQL conditions and an order (`select`, `count`), the same on both stores.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar

from eventsourcing.persistence import IntegrityError, Tracking
from eventsourcing.postgres import PostgresDatastore, PostgresTrackingRecorder
from psycopg.sql import SQL

from projections.follow import ReadModelView, SQLiteTrackingTable
from projections.tables import HISTORY_COLUMNS, SQL_TYPES, TEXT, InMemory, Page, Table, micros

#: per store and read model, what says whether its history tables answer "as at" exactly:
#: `since`, the position from which they hold every version (0: since the log began; later
#: on a store whose tables were filled before history was kept), `latest_at`, the latest
#: time of the events it has applied, and `back_from`, the position of the first event it
#: applied whose time is earlier than one before it (a back-dated record: then "every event
#: recorded at or before T" is no longer a stretch of the log, and only a replay answers it)
HISTORY_SINCE = "read_model_history"


@dataclass(frozen=True)
class Mask:
    """Columns a reader may not see on some rows: on the rows matching any of `rows` (each a
    dict of column -> value or tuple of values, all of which hold), `columns` read as null. They
    are selected, filtered and sorted as null there, so neither a filter nor the order of the
    answer gives the hidden values away (e.g. who did an event whose content is withheld)."""

    columns: frozenset[str]
    rows: tuple[dict[str, Any], ...]

    def when(self) -> str:
        """The SQL condition on the masked rows, its values written in (they are the read models' own names)."""
        options = []
        for option in self.rows:
            parts = []
            for column, value in option.items():
                if isinstance(value, tuple):
                    parts.append(f"{column} IN ({', '.join(map(_literal, value))})" if value else "1 = 0")
                else:
                    parts.append(f"{column} = {_literal(value)}")
            options.append("(" + (" AND ".join(parts) or "1 = 1") + ")")
        return " OR ".join(options) or "1 = 0"


def _literal(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"a mask compares with text or integers, not {value!r}")
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


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

    def _text_order(self, column: str, table: Table, direction: str = "", mask: Mask | None = None) -> str:
        types = {c.name: c.type for c in table.columns}
        text = column == "key" or types.get(column) == TEXT
        collate = ' COLLATE "C"' if (self.postgres and text) else ""
        # NULLS FIRST follows the direction (PostgreSQL's syntax): nulls before the values either way, as SQLite orders them
        # ascending; descending, SQLite puts them last, and so does PostgreSQL told NULLS LAST.
        nulls = (" NULLS LAST" if direction else " NULLS FIRST") if self.postgres else ""
        return f"{_read(column, mask)}{collate}{direction}{nulls}"

    #: whether the tables get their secondary indexes (`Table.indexes`); the key is always indexed
    secondary_indexes: bool = True
    #: whether every version of every row is kept (`projections/tables.py`, "History"): the
    #: read model's choice, which a scratch replay turns off
    keeps_history: bool = False

    def _table_statements(self) -> list[str]:
        made = [
            s
            for t in self.tables
            for s in t.create_statements(self.qualified(t.name), postgres=self.postgres, indexes=self.secondary_indexes)
        ]
        if self.keeps_history:
            made += [s for t in self.tables for s in t.history_create_statements(self.qualified(t.history_name))]
            made.append(
                f"CREATE TABLE IF NOT EXISTS {self.qualified(HISTORY_SINCE)} "
                "(read_model TEXT PRIMARY KEY, since BIGINT NOT NULL, latest_at BIGINT NOT NULL, back_from BIGINT)"
            )
        return made

    def _mark_history_start(self, cursor: Any) -> None:
        """Note, once, from which position this store's history tables hold: 0 on a new store; on
        one whose tables were filled before history was kept, the position they had reached."""
        # (The library keeps a row of its own in the tracking table, its schema migration's.)
        cursor.execute(f"SELECT MAX(notification_id) AS n FROM {self.qualified(self.tracking_table_name)} WHERE application_name <> '__migration__'")
        reached = cursor.fetchone()["n"] or 0
        cursor.execute(
            self._sql(
                f"INSERT INTO {self.qualified(HISTORY_SINCE)} (read_model, since, latest_at) VALUES (?, ?, 0) "
                "ON CONFLICT (read_model) DO NOTHING"
            ),
            (self.tracking_table_name, reached),
        )

    def history_exact(self) -> bool:
        """Whether the history tables answer "as at" any time exactly: they hold every version since
        the log began and no event they followed was back-dated (see `HISTORY_SINCE`)."""
        if not self.keeps_history:
            return False
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._sql(f"SELECT since, back_from FROM {self.qualified(HISTORY_SINCE)} WHERE read_model = ?"), (self.tracking_table_name,))
            found = cursor.fetchone()
        return found is not None and found["since"] == 0 and found["back_from"] is None

    #: (position, latest_at, back_from) as this view last wrote them: good for a page that starts there
    _clock: tuple[int, int, int | None] | None = None

    def history_clock(self) -> tuple[int, int | None]:
        """(latest_at, back_from) of the events applied so far (`HISTORY_SINCE`)."""
        if self._memory is not None:
            return self._memory.latest_at, self._memory.back_from
        with self.datastore.transaction(commit=False) as cursor:
            return self._read_clock(cursor)

    def _read_clock(self, cursor: Any) -> tuple[int, int | None]:
        cursor.execute(self._sql(f"SELECT latest_at, back_from FROM {self.qualified(HISTORY_SINCE)} WHERE read_model = ?"), (self.tracking_table_name,))
        found = cursor.fetchone()
        return (0, None) if found is None else (found["latest_at"], found["back_from"])

    def as_at(self, moment: datetime) -> AsAt:
        """The tables as they stood at `moment`, read from the history tables (exact where `history_exact`)."""
        if not self.keeps_history:
            raise ValueError(f"{type(self).__name__} keeps no history")
        return AsAt(self, micros(moment))

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
            page = Page({t.name: t for t in self.tables}, lambda table, key: rows[table.name].get(key), history=self.keeps_history)
            page.latest_at, page.back_from = memory.latest_at, memory.back_from
            yield page
            memory.keep(page.written(), tracking.notification_id)
            memory.latest_at, memory.back_from = page.latest_at, page.back_from
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
                versions = list(self.final_versions(table))
                if versions:
                    cursor.executemany(self._history_statements[table.name][1], versions)
            if self.keeps_history:
                cursor.execute(
                    self._sql(f"UPDATE {self.qualified(HISTORY_SINCE)} SET latest_at = ?, back_from = ? WHERE read_model = ?"),
                    (memory.latest_at, memory.back_from, self.tracking_table_name),
                )
        self._memory = None

    def final_versions(self, table: Table) -> Iterator[tuple[Any, ...]]:
        """Every version in `table`'s history, by key then time: what a swap copies out (nothing without history)."""
        if not self.keeps_history:
            return
        memory = self._memory
        if memory is not None:
            yield from memory.versions(table)
            return
        with self.datastore.transaction(commit=False) as cursor:
            columns = ", ".join(("key", *table.names, *HISTORY_COLUMNS))
            rows = getattr(cursor, "sqlite_cursor", cursor)
            rows.execute(f"SELECT {columns} FROM {self.qualified(table.history_name)} ORDER BY {self._text_order('key', table)}, held_from")
            while batch := rows.fetchmany(5000):
                for row in batch:
                    yield tuple(row.values()) if isinstance(row, dict) else tuple(row)

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

        page = Page({t.name: t for t in self.tables}, fetch, history=self.keeps_history)
        if self.keeps_history:
            clock = self._clock
            if clock is not None and start is not None and clock[0] == start:
                clock_before = clock[1:]
            else:
                clock_before = self._read_clock(cursor)
            page.latest_at, page.back_from = clock_before
        yield page
        for table, upserts, deletes, inserts, closes, versions in page.written():
            self._write(cursor, table, upserts, deletes)
            if inserts:
                cursor.executemany(self._statements[table.name][2], inserts)
            if closes or versions:
                # The stored open versions end first: the partial index allows one open version a key.
                end, add = self._history_statements[table.name]
                if closes:
                    cursor.executemany(end, [(until, until_at, key) for key, until, until_at in closes])
                if versions:
                    cursor.executemany(add, versions)
        if self.keeps_history:
            clock_after = (page.latest_at, page.back_from)
            if clock_after != clock_before:
                cursor.execute(
                    self._sql(f"UPDATE {self.qualified(HISTORY_SINCE)} SET latest_at = ?, back_from = ? WHERE read_model = ?"),
                    (*clock_after, self.tracking_table_name),
                )
            # Good for the next page only if it starts here: one that does not (this transaction
            # rolled back, or another process wrote meanwhile) reads the row again.
            self._clock = (tracking.notification_id, *clock_after)

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

    @cached_property
    def _history_statements(self) -> dict[str, tuple[str, str]]:
        """Per table: (end a key's open version, add a version) on its history table."""
        made = {}
        for table in self.tables:
            name = self.qualified(table.history_name)
            made[table.name] = (
                self._sql(f"UPDATE {name} SET held_until = ?, held_until_at = ? WHERE key = ? AND held_until IS NULL"),
                self._sql(table.history_insert_statement(name)),
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
        mask: Mask | None = None,
        at: int | None = None,
    ) -> list[dict[str, Any]]:
        """Rows of `table` (default: the first) meeting `where` and `any_of`, in order; shown columns by default.

        `where` maps columns to conditions, all of which must hold: a value (equal to it), None
        (IS NULL), or an `(op, value)` tuple (`CONDITIONS`). `any_of` is a list of groups; each
        group is a list of such dicts, at least one of which must hold (e.g. a provider's rows:
        `[[{"provider": org}, {"location": org}]]`).

        `sort` ("col" or "-col") orders by that column first as the HTTP API's tables do (values
        ascending then nulls; descending: nulls, then values descending), ties in the natural
        order; `order_by`/`descending` replace the natural order instead. `mask` hides some
        columns on some rows (`Mask`) everywhere: in what is read, the conditions and the sort.
        """
        spec = self._table(table)
        names = tuple(columns or spec.shown)
        if not names:
            # A lookup kept for the read model's own use (every column hidden) has nothing to show.
            raise KeyError(f"{spec.name} is a lookup of hidden columns kept for the read model's own use; name the columns to read")
        self._known(spec, names)
        source, params = self._source(spec, at)
        clauses, conditions = self._where(spec, where, any_of, mask)
        params += conditions
        order = tuple(order_by or spec.order_by)
        self._known(spec, order)
        direction = " DESC" if descending else ""
        ordering = ", ".join(self._text_order(c, spec, direction, mask) for c in (*order, "key"))
        if sort:
            column = sort.lstrip("-")
            self._known(spec, (column,))
            down = " DESC" if sort.startswith("-") else ""
            ordering = f"({_read(column, mask)} IS NULL){down}, {self._text_order(column, spec, down, mask)}, {ordering}"
        read = ", ".join(n if mask is None or n not in mask.columns else f"{_read(n, mask)} AS {n}" for n in names)
        statement = f"SELECT {read} FROM {source}{clauses} ORDER BY {ordering}"
        if limit is not None:
            statement += " LIMIT ? OFFSET ?"
            params += [limit, offset]
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._sql(statement), params)
            return [{n: r[n] for n in names} for r in cursor.fetchall()]

    def count(
        self,
        table: str | None = None,
        *,
        where: dict[str, Any] | None = None,
        any_of: Sequence[Sequence[dict[str, Any]]] = (),
        mask: Mask | None = None,
        at: int | None = None,
    ) -> int:
        spec = self._table(table)
        source, params = self._source(spec, at)
        clauses, conditions = self._where(spec, where, any_of, mask)
        with self.datastore.transaction(commit=False) as cursor:
            cursor.execute(self._sql(f"SELECT COUNT(*) AS n FROM {source}{clauses}"), params + conditions)
            return int(cursor.fetchone()["n"])

    def rows(self, table: str | None = None) -> list[dict[str, Any]]:
        return self.select(table)

    def _source(self, spec: Table, at: int | None) -> tuple[str, list[Any]]:
        """What a read selects from: the table, or at a time its history's versions holding then."""
        if at is None:
            return self.qualified(spec.name), []
        if not self.keeps_history:
            raise ValueError(f"{spec.name} keeps no history to read as at a time")
        columns = ", ".join(("key", *spec.names))
        held = f"SELECT {columns} FROM {self.qualified(spec.history_name)} WHERE held_until_at > ? AND held_from_at <= ?"
        return f"({held}) AS as_at", [at, at]

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
        self, spec: Table, where: dict[str, Any] | None, any_of: Sequence[Sequence[dict[str, Any]]] = (), mask: Mask | None = None
    ) -> tuple[str, list[Any]]:
        parts, params = self._conditions(spec, where or {}, mask)
        for group in any_of:
            alternatives = []
            for option in group:
                clauses, values = self._conditions(spec, option, mask)
                alternatives.append("(" + (" AND ".join(clauses) or "1 = 1") + ")")
                params += values
            # An empty group can never hold: nothing matches.
            parts.append("(" + " OR ".join(alternatives) + ")" if alternatives else "1 = 0")
        return (" WHERE " + " AND ".join(parts), params) if parts else ("", [])

    def _conditions(self, spec: Table, where: dict[str, Any], mask: Mask | None = None) -> tuple[list[str], list[Any]]:
        self._known(spec, where)
        types = {c.name: c.type for c in spec.columns}
        parts: list[str] = []
        params: list[Any] = []
        for name, value in where.items():
            column = _read(name, mask)
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
                if types.get(name, TEXT) != TEXT:
                    raise ValueError(f"{spec.name}.{name} is not text; `contains` searches text")
                # Case-insensitive substring (ASCII case on SQLite; LIKE's wildcards in the text are literal).
                escaped = str(operand).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
                parts.append(f"LOWER({column}) LIKE ? ESCAPE '\\'")
                params.append(f"%{escaped.lower()}%")
            else:
                parts.append(f"{column} {op} ?")
                params.append(operand)
        return parts, params


def _read(column: str, mask: Mask | None) -> str:
    """A column as the reader may see it: null on the rows `mask` hides it on."""
    if mask is None or column not in mask.columns:
        return column
    return f"(CASE WHEN {mask.when()} THEN NULL ELSE {column} END)"


#: the conditions `TableView.select` takes as `(op, value)`: comparisons (a null never
#: matches one), "is null" and "not null" (value ignored), "in"/"not in" a list, and
#: "contains" (case-insensitive substring of a text column)
CONDITIONS = ("=", "!=", "<", "<=", ">", ">=", "is null", "not null", "in", "not in", "contains")


class AsAt:
    """A view's tables as they stood at a time (`TableView.as_at`): `select`, `count` and `rows` as the view's."""

    def __init__(self, view: TableView, at: int) -> None:
        self.view, self.at = view, at
        self.tables = view.tables

    def select(self, table: str | None = None, **options: Any) -> list[dict[str, Any]]:
        return self.view.select(table, at=self.at, **options)

    def count(self, table: str | None = None, **options: Any) -> int:
        return self.view.count(table, at=self.at, **options)

    def rows(self, table: str | None = None) -> list[dict[str, Any]]:
        return self.select(table)


class _PositionInMemory:
    """A view built in memory has its position there (before the library's tracking table in the MRO)."""

    _memory: InMemory | None

    def max_tracking_id(self, application_name: str) -> int | None:
        if self._memory is not None:
            return self._memory.position or None
        return super().max_tracking_id(application_name)  # type: ignore[misc]


class _AddedColumns:
    """A column added to a read model's table after a store made the table is added to it there,
    null in the rows already written (`aqp projections rebuild NAME` fills it), so a ledger keeps
    following and serving across the change rather than failing on its next page."""

    tables: ClassVar[tuple[Table, ...]]
    datastore: Any

    def create_table(self) -> None:
        super().create_table()  # type: ignore[misc]
        view: Any = self
        with self.datastore.transaction(commit=True) as cursor:
            for table in self.tables:
                names = [table.name, table.history_name] if view.keeps_history else [table.name]
                for qualified in map(view.qualified, names):
                    cursor.execute(f"SELECT * FROM {qualified} LIMIT 0")
                    described = getattr(cursor, "sqlite_cursor", cursor).description or ()
                    present = {d[0] for d in described}
                    for column in table.columns:
                        if column.name not in present:
                            cursor.execute(f"ALTER TABLE {qualified} ADD COLUMN {column.name} {SQL_TYPES[column.type]}")
            if view.keeps_history:
                view._mark_history_start(cursor)


class SQLiteTableView(_AddedColumns, _PositionInMemory, SQLiteTrackingTable, TableView):
    postgres = False

    def __init__(self, datastore: Any, *, secondary_indexes: bool = True, history: bool | None = None, **kwargs: Any) -> None:
        # A rebuild's scratch tables are only written, read by key and copied out whole, so
        # they go without the indexes the live tables keep for serving (`runner.rebuild`).
        self.secondary_indexes = secondary_indexes
        if history is not None:
            self.keeps_history = history and type(self).keeps_history
        super().__init__(datastore, **kwargs)

    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), *self._table_statements()]


class PostgresTableView(_AddedColumns, _PositionInMemory, PostgresTrackingRecorder, TableView):
    postgres = True

    def __init__(self, datastore: PostgresDatastore, *, history: bool | None = None, **kwargs: Any) -> None:
        if history is not None:
            self.keeps_history = history and type(self).keeps_history
        super().__init__(datastore, **kwargs)
        self.sql_create_statements.extend(SQL(s) for s in self._table_statements())  # type: ignore[arg-type]
