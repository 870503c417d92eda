"""The Merkle log: an RFC 9162 tree over every stored event, in notification order.

Leaf i is the i-th stored event (leaf index is not notification id: PostgreSQL leaves gaps
after failed saves). Its bytes are a canonical encoding of the record exactly as persisted
(`audit/verifier/leaf.py` documents it), so one changed byte anywhere changes the leaf.

The log follows the notification log like a projection. Its position is its own content: the last leaf's notification id is written in the same
transaction as the leaves, so a crash can neither skip nor repeat an event. Every complete
aligned subtree hash is kept (`audit_nodes`), so a proof needs O(log n) lookups.

In a running ledger the leaves go further: they are written in the transaction that stores the
events (`append_within`, called by the recorders of `audit/immutability.py` once the events have
their notification ids), so a command costs one transaction and its events are never stored
without their leaves. Every writer of leaves holds the events' append lock while it does
(PostgreSQL: the table lock the library takes to keep ids in commit order, which `catch_up`
takes too; SQLite: the database's one writer), so the tip read inside the transaction is the
tip the leaves extend. Where the log is behind the events (a ledger that ran without it, or
written by an older version), the transaction leaves them to `catch_up`, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from eventsourcing.persistence import IntegrityError

from audit.merkle import completed_nodes, consistency_proof, inclusion_proof, tree_root
from audit.store import Sql, SqlStore
from audit.verifier.leaf import leaf_bytes
from audit.verifier.merkle import leaf_hash


class Appended:
    """Leaves written inside a transaction not yet committed: what the log learns once it is."""

    def __init__(self, log: AuditLog, tip: tuple[int, int], nodes: dict[tuple[int, int], bytes]) -> None:
        self.log, self.tip, self.nodes = log, tip, nodes

    def settle(self) -> None:
        self.log._node_cache.update(self.nodes)
        self.log._tip = self.tip


def _chunks(rows: list[tuple], size: int) -> Iterator[list[tuple]]:
    # Few statements per transaction, within SQLite's limit on bound parameters.
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


class AuditLog:
    """The Merkle log of one ledger: follow the events, answer roots and proofs."""

    def __init__(self, ledger: Any, *, create_tables: bool = True) -> None:
        self.store = SqlStore(ledger)
        self.leaves = self.store.table("audit_leaves")
        self.nodes = self.store.table("audit_nodes")
        self._node_cache: dict[tuple[int, int], bytes] = {}
        self._tip: tuple[int, int] | None = None
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

    def tip(self) -> tuple[int, int]:
        """(size, notification id of the last leaf) read from the store: O(log n) via the key."""
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(f"SELECT leaf_index, notification_id FROM {self.leaves} ORDER BY leaf_index DESC LIMIT 1")
        self._tip = (int(rows[0]["leaf_index"]) + 1, int(rows[0]["notification_id"])) if rows else (0, 0)
        return self._tip

    def size(self) -> int:
        return self.tip()[0]

    def size_known(self) -> int:
        """The size as this process last saw it (no read), for hot paths."""
        return (self._tip or self.tip())[0]

    def holds(self, position: int) -> bool:
        """Whether the log, as this process last saw it (no read), already has the event at `position`."""
        return self._tip is not None and self._tip[1] >= position

    def position(self) -> int:
        """The notification id of the last event in the log (0 for none)."""
        return self.tip()[1]

    # ----------------------------------------------------------------- following

    def catch_up(self, *, batch: int = 2000, progress: Callable[[int], None] | None = None) -> int:
        """Append every stored event not yet in the log; returns how many were added.

        The tip is remembered between calls, so a follower costs one read when nothing is
        new; if another process appended meanwhile, the insert conflicts, nothing of this
        batch is kept, and the tip is read again.
        """
        added = 0
        size, position = self._tip if self._tip is not None else self.tip()
        while True:
            records = list(self.store.stored_events(after=position, batch=batch, limit=batch))
            if not records:
                return added
            try:
                self._append(size, records)
            except IntegrityError:
                self._node_cache.clear()
                size, position = self.tip()
                continue
            size, position = size + len(records), records[-1][0]
            self._tip = (size, position)
            added += len(records)
            if progress:
                progress(added)
            if len(records) < batch:
                return added

    def _planned(
        self, size: int, records: list[tuple[int, Any, int, str, bytes]], node: Callable[[int, int], bytes]
    ) -> tuple[list[tuple[int, int]], dict[tuple[int, int], bytes]]:
        """The leaf rows and the new complete subtree hashes that appending `records` at `size` makes."""
        new_nodes: dict[tuple[int, int], bytes] = {}

        def lookup(level: int, index: int) -> bytes:
            return new_nodes.get((level, index)) or node(level, index)

        leaf_rows = []
        for offset, (nid, oid, version, topic, state) in enumerate(records):
            index = size + offset
            for level, idx, digest in completed_nodes(lookup, index, leaf_hash(leaf_bytes(nid, oid, version, topic, state))):
                new_nodes[(level, idx)] = digest
            leaf_rows.append((index, nid))
        return leaf_rows, new_nodes

    def _insert(self, sql: Sql, leaf_rows: list[tuple[int, int]], new_nodes: dict[tuple[int, int], bytes]) -> None:
        # The first insert conflicts if another writer appended these leaves first.
        for chunk in _chunks(leaf_rows, 400):
            sql.execute(
                f"INSERT INTO {self.leaves} (leaf_index, notification_id) VALUES {', '.join(['(?, ?)'] * len(chunk))}",
                [value for row in chunk for value in row],
            )
        node_rows = [(level, idx, digest) for (level, idx), digest in new_nodes.items()]
        for chunk in _chunks(node_rows, 300):
            sql.execute(
                f"INSERT INTO {self.nodes} (level, idx, hash) VALUES {', '.join(['(?, ?, ?)'] * len(chunk))}",
                [value for row in chunk for value in row],
            )

    def _append(self, size: int, records: list[tuple[int, Any, int, str, bytes]]) -> None:
        leaf_rows, new_nodes = self._planned(size, records, self.node)
        with self.store.transaction(commit=True) as sql:
            # Under the events' append lock, as every writer of leaves is (see the module docstring).
            self.store.lock_appends(sql)
            self._insert(sql, leaf_rows, new_nodes)
        self._node_cache.update(new_nodes)

    def append_within(self, sql: Sql, records: list[tuple[int, Any, int, str, bytes]]) -> Appended | None:
        """Append the leaves of `records` (just stored, in notification order) in the transaction
        that stored them, if the log had every earlier event; None otherwise (`catch_up` will).

        Reads only inside `sql` (the cache holds committed nodes alone, which never change);
        what it learns is this process's once the transaction commits (`Appended.settle`)."""
        if not records:
            return None
        events, column = self.store.table(self.store.events_table), self.store.id_column
        # One round trip: the log's last leaf, and the event stored just before these.
        (row,) = sql.query(
            f"SELECT (SELECT leaf_index FROM {self.leaves} ORDER BY leaf_index DESC LIMIT 1) AS leaf_index, "
            f"(SELECT notification_id FROM {self.leaves} ORDER BY leaf_index DESC LIMIT 1) AS notification_id, "
            f"(SELECT MAX({column}) FROM {events} WHERE {column} < ?) AS before",
            (records[0][0],),
        )
        size = 0 if row["leaf_index"] is None else int(row["leaf_index"]) + 1
        position = int(row["notification_id"] or 0)
        if int(row["before"] or 0) != position:
            return None  # the log is behind the events: catch_up appends in order

        def node(level: int, index: int) -> bytes:
            cached = self._node_cache.get((level, index))
            if cached is not None:
                return cached
            found = sql.query(f"SELECT hash FROM {self.nodes} WHERE level = ? AND idx = ?", (level, index))
            if not found:
                raise LookupError(f"the audit log has no node at level {level}, index {index}")
            return bytes(found[0]["hash"])

        leaf_rows, new_nodes = self._planned(size, records, node)
        self._insert(sql, leaf_rows, new_nodes)
        return Appended(self, (size + len(records), records[-1][0]), new_nodes)

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

    def recorded_leaf_pages(self, after: int = -1, page: int = 20000) -> Iterator[list[tuple[int, int, Any]]]:
        """(leaf index, notification id, recorded leaf hash or None) after leaf `after`, in pages of plain tuples.

        Two range reads per page, each on its table's key, rather than a join: after a bulk
        load PostgreSQL's stale statistics plan the join as a sort of every leaf hash, per page.
        """
        for leaves in self.store.pages(
            f"SELECT leaf_index, notification_id FROM {self.leaves} WHERE leaf_index > ? ORDER BY leaf_index LIMIT ?", after, page
        ):
            first, last = leaves[0][0], leaves[-1][0]
            hashes = self.store.tuples(
                f"SELECT idx, hash FROM {self.nodes} WHERE level = 0 AND idx >= ? AND idx <= ? ORDER BY idx", (first, last)
            )
            if len(hashes) == len(leaves) == last - first + 1:
                # Both runs are whole (no index missing from either): they pair off in order.
                yield [(index, nid, digest) for (index, nid), (_, digest) in zip(leaves, hashes, strict=True)]
            else:
                found = dict(hashes)
                yield [(index, nid, found.get(index)) for index, nid in leaves]

    def notification_id_at(self, leaf_index: int) -> int | None:
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(f"SELECT notification_id FROM {self.leaves} WHERE leaf_index = ?", (leaf_index,))
        return int(rows[0]["notification_id"]) if rows else None

    def preload_roots(self, sizes: list[int], chunk: int = 300) -> None:
        """Read the nodes the roots of these tree sizes are made of, a few queries in all
        (verification checks a root per checkpoint: one query per node would dominate it)."""
        wanted: set[tuple[int, int]] = set()

        def note(level: int, index: int) -> bytes:
            wanted.add((level, index))
            return bytes(32)  # which nodes a root needs does not depend on their hashes

        for size in sizes:
            tree_root(note, size)
        missing = sorted(key for key in wanted if key not in self._node_cache)
        for start in range(0, len(missing), chunk):
            part = missing[start : start + chunk]
            with self.store.transaction(commit=False) as sql:
                rows = sql.query(
                    f"SELECT level, idx, hash FROM {self.nodes} WHERE "
                    + " OR ".join(["(level = ? AND idx = ?)"] * len(part)),
                    [value for key in part for value in key],
                )
            for row in rows:
                self._node_cache[(int(row["level"]), int(row["idx"]))] = bytes(row["hash"])

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
