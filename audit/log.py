"""The Merkle log: an RFC 9162 tree over every stored event, in notification order.

Leaf i is the i-th stored event (leaf index is not notification id: PostgreSQL leaves gaps
after failed saves). Its bytes are a canonical encoding of the record exactly as persisted
(`audit/verifier/leaf.py` documents it), so one changed byte anywhere changes the leaf.

The log follows the notification log like a projection. Its position is its own content: the last leaf's notification id is written in the same
transaction as the leaves, so a crash can neither skip nor repeat an event. Every complete
aligned subtree hash is kept (`audit_nodes`), so a proof needs O(log n) lookups.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from eventsourcing.sqlite import SQLiteApplicationRecorder

from audit.merkle import completed_nodes, consistency_proof, inclusion_proof, tree_root
from audit.verifier.leaf import leaf_bytes
from audit.verifier.merkle import leaf_hash


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


class SqlStore:
    """The ledger's own database, for the audit tables, on either store."""

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

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[Sql]:
        with self.datastore.transaction(commit=commit) as cursor:
            yield Sql(cursor, qmark=self.sqlite)

    def table_exists(self, name: str) -> bool:
        with self.transaction(commit=False) as sql:
            if self.sqlite:
                return bool(sql.query("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))
            row = sql.query("SELECT to_regclass(?) AS t", (f'"{self.datastore.schema}"."{name}"',))[0]
            return row["t"] is not None

    def stored_events(self, after: int = 0, batch: int = 5000) -> Iterator[tuple[int, Any, int, str, bytes]]:
        """Every stored record after notification id `after`, as persisted, in notification order."""
        events = self.table(self.events_table)
        while True:
            with self.transaction(commit=False) as sql:
                rows = sql.query(
                    f"SELECT {self.id_column} AS nid, originator_id, originator_version, topic, state "
                    f"FROM {events} WHERE {self.id_column} > ? ORDER BY {self.id_column} LIMIT ?",
                    (after, batch),
                )
            for row in rows:
                yield int(row["nid"]), row["originator_id"], int(row["originator_version"]), row["topic"], bytes(row["state"])
            if len(rows) < batch:
                return
            after = int(rows[-1]["nid"])


class AuditLog:
    """The Merkle log of one ledger: follow the events, answer roots and proofs."""

    def __init__(self, ledger: Any, *, create_tables: bool = True) -> None:
        self.store = SqlStore(ledger)
        self.leaves = self.store.table("audit_leaves")
        self.nodes = self.store.table("audit_nodes")
        self._node_cache: dict[tuple[int, int], bytes] = {}
        if create_tables:
            self.create_tables()

    def create_tables(self) -> None:
        blob = self.store.blob
        with self.store.transaction(commit=True) as sql:
            sql.execute(
                f"CREATE TABLE IF NOT EXISTS {self.leaves} ("
                "leaf_index BIGINT PRIMARY KEY, notification_id BIGINT NOT NULL UNIQUE)"
            )
            sql.execute(
                f"CREATE TABLE IF NOT EXISTS {self.nodes} ("
                f"level INTEGER NOT NULL, idx BIGINT NOT NULL, hash {blob} NOT NULL, PRIMARY KEY (level, idx))"
            )

    # ------------------------------------------------------------------ position

    def size(self) -> int:
        with self.store.transaction(commit=False) as sql:
            row = sql.query(f"SELECT COUNT(*) AS n FROM {self.leaves}")[0]
        return int(row["n"])

    def position(self) -> int:
        """The notification id of the last event in the log (0 for none)."""
        with self.store.transaction(commit=False) as sql:
            row = sql.query(f"SELECT MAX(notification_id) AS nid FROM {self.leaves}")[0]
        return int(row["nid"] or 0)

    # ----------------------------------------------------------------- following

    def catch_up(self, *, batch: int = 2000, progress: Callable[[int], None] | None = None) -> int:
        """Append every stored event not yet in the log; returns how many were added."""
        added = 0
        while True:
            size, position = self.size(), self.position()
            records = []
            for record in self.store.stored_events(after=position, batch=batch):
                records.append(record)
                if len(records) >= batch:
                    break
            if not records:
                return added
            self._append(size, records)
            added += len(records)
            if progress:
                progress(added)

    def _append(self, size: int, records: list[tuple[int, Any, int, str, bytes]]) -> None:
        new_nodes: dict[tuple[int, int], bytes] = {}

        def lookup(level: int, index: int) -> bytes:
            return new_nodes.get((level, index)) or self.node(level, index)

        leaf_rows = []
        for offset, (nid, oid, version, topic, state) in enumerate(records):
            index = size + offset
            for level, idx, digest in completed_nodes(lookup, index, leaf_hash(leaf_bytes(nid, oid, version, topic, state))):
                new_nodes[(level, idx)] = digest
            leaf_rows.append((index, nid))
        with self.store.transaction(commit=True) as sql:
            # The first insert conflicts if another follower appended these leaves first.
            for row in leaf_rows:
                sql.execute(f"INSERT INTO {self.leaves} (leaf_index, notification_id) VALUES (?, ?)", row)
            for (level, idx), digest in new_nodes.items():
                sql.execute(f"INSERT INTO {self.nodes} (level, idx, hash) VALUES (?, ?, ?)", (level, idx, digest))
        self._node_cache.update(new_nodes)

    # ------------------------------------------------------------ tree and proofs

    def node(self, level: int, index: int) -> bytes:
        key = (level, index)
        cached = self._node_cache.get(key)
        if cached is not None:
            return cached
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(f"SELECT hash FROM {self.nodes} WHERE level = ? AND idx = ?", (level, index))
        if not rows:
            raise LookupError(f"the audit log has no node at level {level}, index {index}")
        digest = bytes(rows[0]["hash"])
        self._node_cache[key] = digest
        return digest

    def root(self, size: int | None = None) -> bytes:
        return tree_root(self.node, self.size() if size is None else size)

    def inclusion_proof(self, leaf_index: int, size: int) -> list[bytes]:
        return inclusion_proof(self.node, leaf_index, size)

    def consistency_proof(self, size1: int, size2: int) -> list[bytes]:
        return consistency_proof(self.node, size1, size2)

    def leaf_index_of(self, notification_id: int) -> int | None:
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(f"SELECT leaf_index FROM {self.leaves} WHERE notification_id = ?", (notification_id,))
        return int(rows[0]["leaf_index"]) if rows else None

    def recorded_leaves(self, batch: int = 10000) -> Iterator[tuple[int, int, bytes]]:
        """(leaf index, notification id, recorded leaf hash) in leaf order."""
        after = -1
        while True:
            with self.store.transaction(commit=False) as sql:
                rows = sql.query(
                    f"SELECT l.leaf_index AS i, l.notification_id AS nid, n.hash AS hash FROM {self.leaves} l "
                    f"LEFT JOIN {self.nodes} n ON n.level = 0 AND n.idx = l.leaf_index "
                    "WHERE l.leaf_index > ? ORDER BY l.leaf_index LIMIT ?",
                    (after, batch),
                )
            for row in rows:
                yield int(row["i"]), int(row["nid"]), bytes(row["hash"] or b"")
            if len(rows) < batch:
                return
            after = int(rows[-1]["i"])
