"""Append-only event tables, enforced by the database itself.

The ledger's recorders extend the eventsourcing library's: on SQLite the notification id is
an explicit `INTEGER PRIMARY KEY AUTOINCREMENT` rowid (VACUUM cannot renumber it, no id is
reused); on both stores triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL). In
production PostgreSQL also runs the application under a role without those privileges
(`sql/postgres_application_role.sql`). The DDL lives in `sql/`, one object per file.

Both recorders also take `in_same_transaction=write` when events are saved
(`Ledger.save(..., in_same_transaction=write)`): `write(sql)` runs inside the transaction
that stores the events, with an `audit.store.Sql` that takes `?` placeholders on either store.
The HTTP API records an idempotency key this way, so "the events are stored" and "this key
was used, and this was the answer" can never be true one without the other.

Both write the Merkle log's leaves in the transaction that stores the events, once `merkle` is
set (`AuditLog.append_within`; the bootstrap sets it where the audit log follows the ledger),
and tell the log what it learnt only once that transaction has committed.

Both call `before_read` (a list of callables, empty unless the bootstrap adds to it) before
every read of stored events, an aggregate's or the notification log's: the data subjects'
keys check there for erasures made by other processes (`audit.erasure.SubjectKeys.refresh`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib.resources import files
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder
from eventsourcing.sqlite import SQLiteApplicationRecorder
from psycopg.sql import SQL, Identifier

from audit.store import Sql


def sql_text(name: str) -> str:
    return files("audit").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


class MerkleLeaves:
    """The leaves of the events a transaction stores, written in it (see the module docstring)."""

    #: the Merkle log the leaves go to (None: the events are left to its catch-up)
    merkle: Any = None

    def _leaves_within(self, sql: Sql, stored_events: Any, notification_ids: Any) -> None:
        if self.merkle is None or not stored_events or not notification_ids:
            return
        records = [
            (int(nid), e.originator_id, e.originator_version, e.topic, e.state)
            for nid, e in zip(notification_ids, stored_events, strict=True)
        ]
        self._appending.pending = self.merkle.append_within(sql, records)

    def _insert_with_leaves(self, insert: Callable[[], Any]) -> Any:
        state = self._appending
        state.pending = None
        try:
            ids = insert()
        except BaseException:
            state.pending = None
            raise
        appended, state.pending = state.pending, None
        if appended is not None:
            appended.settle()
        return ids


class ReadHooks:
    """`before_read` runs before each read of stored events (see the module docstring)."""

    before_read: list[Callable[[], None]]

    def _before_read(self) -> None:
        for hook in self.before_read:
            hook()

    def select_events(self, *args: Any, **kwargs: Any) -> Any:
        self._before_read()
        return super().select_events(*args, **kwargs)  # type: ignore[misc]

    def select_notifications(self, *args: Any, **kwargs: Any) -> Any:
        self._before_read()
        return super().select_notifications(*args, **kwargs)  # type: ignore[misc]


class ImmutableSQLiteApplicationRecorder(MerkleLeaves, ReadHooks, SQLiteApplicationRecorder):
    def __init__(self, datastore: Any, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name)
        self.before_read = []
        self._appending = threading.local()  # each thread's leaves written, until its transaction commits
        # Name the columns: the table has a fifth, the rowid, filled by SQLite.
        self.insert_events_statement = (
            f"INSERT INTO {self.events_table_name} (originator_id, originator_version, topic, state) VALUES (?,?,?,?)"
        )

    def construct_create_table_statements(self) -> list[str]:
        return [
            sql_text(name).format(table=self.events_table_name)
            for name in ("sqlite_events_table", "sqlite_refuse_update", "sqlite_refuse_delete")
        ]

    def insert_events(self, stored_events: Any, **kwargs: Any) -> Any:
        return self._insert_with_leaves(lambda: super(ImmutableSQLiteApplicationRecorder, self).insert_events(stored_events, **kwargs))

    def _insert_events(self, c: Any, stored_events: Any, **kwargs: Any) -> Any:
        notification_ids = super()._insert_events(c, stored_events, **kwargs)
        # The insert took the database's write lock: the log's tip read now is the one to extend.
        self._leaves_within(Sql(c, qmark=True), stored_events, notification_ids)
        write = kwargs.get("in_same_transaction")
        if write is not None:
            write(Sql(c, qmark=True))
        return notification_ids


class ImmutablePostgresApplicationRecorder(MerkleLeaves, ReadHooks, PostgresApplicationRecorder):
    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.before_read = []
        self._appending = threading.local()  # each thread's leaves written, until its transaction commits
        names = {"schema": Identifier(self.datastore.schema), "table": Identifier(self.events_table_name)}
        for name in (
            "postgres_refuse_change_function",
            "postgres_refuse_change",
            "postgres_refuse_truncate",
            "postgres_lock_events_function",
        ):
            self.sql_create_statements.append(SQL(sql_text(name)).format(**names))  # type: ignore[arg-type]
        # Take the append lock through the SECURITY DEFINER function (see the role set-up).
        self.lock_table_statements = [
            self.lock_table_statements[0],
            SQL("SELECT {schema}.aqp_lock_events()").format(schema=names["schema"]),
        ]

    def insert_events(self, stored_events: Any, **kwargs: Any) -> Any:
        return self._insert_with_leaves(lambda: super(ImmutablePostgresApplicationRecorder, self).insert_events(stored_events, **kwargs))

    def _fetch_ids_after_insert_events(self, curs: Any, stored_events: Any, **kwargs: Any) -> Any:
        # Inside the transaction, under the append lock the library took before the insert.
        notification_ids = super()._fetch_ids_after_insert_events(curs, stored_events, **kwargs)
        self._leaves_within(Sql(curs, qmark=False), stored_events, notification_ids)
        return notification_ids

    def _insert_events(self, curs: Any, stored_events: Any, **kwargs: Any) -> None:
        # The library calls this first, inside the transaction (and pipeline) that then
        # inserts the events: a failing write here (e.g. a key already used) stores nothing.
        super()._insert_events(curs, stored_events, **kwargs)
        write = kwargs.get("in_same_transaction")
        if write is not None:
            write(Sql(curs, qmark=False))


def application_role_sql(schema: str, table: str, role: str) -> list[Any]:
    """The statements that set up `role` as the application role (run as the owner)."""
    names = {"schema": Identifier(schema), "table": Identifier(table), "role": Identifier(role)}
    return [
        SQL(statement.strip()).format(**names)  # type: ignore[arg-type]
        for statement in _statements(sql_text("postgres_application_role"))
    ]


def _statements(text: str) -> list[str]:
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return [s for s in "\n".join(lines).split(";") if s.strip()]
