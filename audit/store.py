"""The ledger's own database, for the tables kept beside its events, on either store.

`SqlStore(ledger)` is the ledger's datastore with what SQLite and PostgreSQL do differently
said once: table names (schema-qualified on PostgreSQL), the binary column type, the
notification id column, a table created once. `Sql` is one transaction's statements, written
with `?` placeholders on both stores. The Merkle log, the subject keys, the processes'
positions, the tokens, idempotency keys and the read models' rebuild all keep their tables
through it; `stored_events` reads the event records exactly as persisted.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.rows import tuple_row


class Sql:
    """One transaction's statements, written with `?` placeholders for both stores."""

    def __init__(self, cursor: Any, *, qmark: bool) -> None:
        self.cursor = cursor
        self.qmark = qmark

    def execute(self, sql: str, params: tuple | list = ()) -> None:
        if self.qmark:
            self.cursor.execute(sql, params)
        else:
            # Without parameters psycopg must not read "%" in DDL as a placeholder.
            self.cursor.execute(sql.replace("?", "%s") if params else sql, params or None)

    def query(self, sql: str, params: tuple | list = ()) -> list[Any]:
        self.execute(sql, params)
        return list(self.cursor.fetchall())

    def changed(self, sql: str, params: tuple | list = ()) -> int:
        """An UPDATE or DELETE, and how many rows it changed (0: its condition held for none)."""
        self.execute(sql, params)
        # The library's SQLite cursor wraps sqlite3's, which alone knows the count.
        return int(getattr(self.cursor, "sqlite_cursor", self.cursor).rowcount)


class SqlStore:
    """The ledger's own database, for the tables beside its events, on either store."""

    def __init__(self, ledger: Any) -> None:
        self.recorder = ledger.recorder
        self.datastore = self.recorder.datastore
        self.sqlite = isinstance(self.recorder, SQLiteApplicationRecorder)
        self.events_table = self.recorder.events_table_name
        self.id_column = "rowid" if self.sqlite else "notification_id"
        self.blob = "BLOB" if self.sqlite else "BYTEA"

    def table(self, name: str) -> str:
        if self.sqlite:
            return name
        return f'"{self.datastore.schema}"."{name}"'

    def lock_appends(self, sql: Sql) -> None:
        """Take the lock that orders appends to the events (PostgreSQL's table lock, the
        library's own statements); SQLite's one writer needs none."""
        if not self.sqlite:
            for statement in self.recorder.lock_table_statements:
                sql.cursor.execute(statement)

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Sql]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield Sql(cursor, qmark=self.sqlite)

    def query_now(self, sql: str, params: tuple | list = ()) -> list[Any]:
        """One read outside any transaction: on PostgreSQL a single round trip (its pooled
        connections autocommit), where `transaction` adds a BEGIN and a ROLLBACK."""
        if self.sqlite:
            with self.transaction(commit=False) as statements:
                return statements.query(sql, params)
        with self.datastore.get_connection() as conn:
            return Sql(conn.cursor(), qmark=False).query(sql, params)

    def create_table_once(self, name: str, columns: str) -> None:
        """CREATE TABLE `name` (`columns`) unless it exists (checked first: a read is cheaper
        than DDL, which on PostgreSQL takes locks)."""
        if not self.table_exists(name):
            with self.transaction(commit=True) as sql:
                sql.execute(f"CREATE TABLE IF NOT EXISTS {self.table(name)} ({columns})")

    def table_exists(self, name: str) -> bool:
        with self.transaction(commit=False) as sql:
            if self.sqlite:
                return bool(sql.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))
            row = sql.query("SELECT to_regclass(?) AS t", (f'"{self.datastore.schema}"."{name}"',))[0]
            return row["t"] is not None

    def stored_originator_id(self, originator_id: UUID) -> Any:
        """The originator id as this store's events table keeps it (SQLite: hex text; PostgreSQL: uuid, or its text)."""
        if self.sqlite:
            return originator_id.hex
        return originator_id if self.datastore.originator_id_type == "uuid" else str(originator_id)

    def position_of(self, originator_id: UUID, version: int) -> tuple[int | None, int]:
        """(notification id of version `version` of `originator_id`, or None; its latest version, 0 for none).

        Both through the table's own key on (originator_id, originator_version): a few index
        pages whatever the log's length, where reading the log for it costs the whole log.
        """
        events = self.table(self.events_table)
        oid = self.stored_originator_id(originator_id)
        rows = self.query_now(
            f"SELECT {self.id_column} AS nid, originator_version AS version FROM {events} "
            "WHERE originator_id = ? AND originator_version = ? "
            f"UNION ALL SELECT NULL, MAX(originator_version) FROM {events} WHERE originator_id = ?",
            (oid, version, oid),
        )
        found = next((row for row in rows if row["nid"] is not None), None)
        latest = max((int(row["version"] or 0) for row in rows), default=0)
        return (int(found["nid"]) if found else None), latest

    def pages(self, select: str, after: int, page: int) -> Iterator[list[tuple]]:
        """Pages of plain tuples, keyset-paginated on their first column: `select` ends
        `WHERE key > ? ORDER BY key LIMIT ?`. Values as the driver gives them, unconverted.

        For reads of the whole log (verification): tuples, not the library's dict rows, and
        a page per query, so the cost is the database's and the driver's, not ours per row.
        """
        while True:
            rows = self.tuples(select, (after, page))
            if rows:
                yield rows
            if len(rows) < page:
                return
            after = rows[-1][0]

    def tuples(self, select: str, params: tuple | list = ()) -> list[tuple]:
        """One query's rows as plain tuples, values as the driver gives them (see `pages`)."""
        with self.datastore.transaction(commit=False) as cursor:
            if self.sqlite:
                raw = cursor.sqlite_cursor
                raw.row_factory = None
                raw.execute(select, params)
            else:
                # Binary results: bytea and integers as they are, not as text to parse (twice as fast).
                raw = cursor.connection.cursor(row_factory=tuple_row, binary=True)
                raw.execute(select.replace("?", "%s"), params)
            return list(raw.fetchall())

    def stored_event_pages(self, after: int = 0, page: int = 20000) -> Iterator[list[tuple[int, Any, int, Any, Any]]]:
        """The stored records after notification id `after`, in pages, as the driver reads them.

        (notification id, originator id, version, topic, state): the originator id as hex
        text on SQLite, as UUID text on PostgreSQL (cast in the query: the same text the
        leaf holds, without building a UUID per row); a tampered SQLite row may hold any
        type in any column, so callers convert as `stored_events` does.
        """
        oid = "originator_id" if self.sqlite or self.datastore.originator_id_type == "text" else "originator_id::text"
        yield from self.pages(
            f"SELECT {self.id_column}, {oid}, originator_version, topic, state FROM {self.table(self.events_table)} "
            f"WHERE {self.id_column} > ? ORDER BY {self.id_column} LIMIT ?",
            after,
            page,
        )

    def stored_events(
        self, after: int = 0, batch: int = 5000, limit: int | None = None
    ) -> Iterator[tuple[int, Any, int, str, bytes]]:
        """Stored records after notification id `after` (all, or `limit`), as persisted, in order."""
        events = self.table(self.events_table)
        remaining = limit
        while True:
            if remaining is not None:
                batch = min(batch, remaining)
            with self.transaction(commit=False) as sql:
                rows = sql.query(
                    f"SELECT {self.id_column} AS nid, originator_id, originator_version, topic, state "
                    f"FROM {events} WHERE {self.id_column} > ? ORDER BY {self.id_column} LIMIT ?",
                    (after, batch),
                )
            for row in rows:
                yield int(row["nid"]), row["originator_id"], int(row["originator_version"]), _text(row["topic"]), _bytes(row["state"])
            if remaining is not None:
                remaining -= len(rows)
                if remaining <= 0:
                    return
            if len(rows) < batch:
                return
            after = int(rows[-1]["nid"])


def stored_bytes(value: Any) -> bytes:
    """A state column's value as bytes, however the driver gave it (see `_bytes`)."""
    return _bytes(value)


def stored_text(value: Any) -> str:
    """A topic column's value as text, however the driver gave it (see `_text`)."""
    return _text(value)


def _bytes(value: Any) -> bytes:
    # A tampered SQLite row can change a column's type (replace() on a BLOB gives TEXT):
    # encode it rather than fail, and the leaf will show the change.
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)


def _text(value: Any) -> str:
    return bytes(value).decode("utf-8", "replace") if isinstance(value, (bytes, memoryview)) else str(value)
