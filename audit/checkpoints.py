"""Signed checkpoints: the log's size and root, signed, kept in an append-only table.

A checkpoint is a C2SP tlog-checkpoint note (origin, tree size, root hash) signed with the
ledger's key. Third parties keep copies (`aqp audit checkpoints --export DIR`), so once one
is out, history up to its size can no longer be rewritten unnoticed. Before signing, the
ledger proves the new tree extends the last signed one: it never signs two inconsistent
checkpoints. Keys live in files (a `KeyRing`: a directory, by default var/keys, set by
`AQP_KEY_DIR`): the private key with mode 0600 (or a file of its own, `AQP_SIGNING_KEY_FILE`),
and every verifier key ever used, one per line, so checkpoints signed before a rotation still
verify. The ring also knows the log's name (`AQP_LOG_ORIGIN`), which every checkpoint states.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from audit.immutability import sql_text
from audit.log import AuditLog
from audit.origin import DEFAULT_ORIGIN
from audit.signing import NoteSigner, checkpoint_text, load_signer, save_signer, sign_note, Ed25519NoteSigner
from audit.verifier.note import VerifierKey, parse_verifier_key



class InconsistentLog(Exception):
    """The log no longer extends the last signed checkpoint: signing now would fork history."""


# ------------------------------------------------------------------------- keys


@dataclass(frozen=True)
class KeyRing:
    directory: Path
    #: the private key's file, if not signing.key in `directory`
    signing_key: Path | None = None
    #: the log's name, stated in every checkpoint signed with these keys (and a new key's default name)
    origin: str = DEFAULT_ORIGIN

    @property
    def signing_key_file(self) -> Path:
        return self.signing_key or self.directory / "signing.key"

    @property
    def verifier_keys_file(self) -> Path:
        return self.directory / "verifier-keys.txt"

    def init(self, name: str) -> NoteSigner:
        """Create the signing key (refusing to replace one) and publish its verifier key."""
        signer = Ed25519NoteSigner.generate(name)
        save_signer(signer, self.signing_key_file)
        self._publish(signer)
        return signer

    def rotate(self, name: str) -> NoteSigner:
        """A new signing key; the old private key is retired, its verifier key kept."""
        current = self.signing_key_file
        if current.exists():
            old = load_signer(current)
            current.rename(current.with_name(f"retired-{old.key_id.hex()}.key"))
        return self.init(name)

    def signer(self) -> NoteSigner:
        path = self.signing_key_file
        if not path.exists():
            raise FileNotFoundError(f"no signing key at {path}: run `aqp keys init`")
        return load_signer(path)

    def verifier_keys(self) -> list[VerifierKey]:
        path = self.verifier_keys_file
        if not path.exists():
            return []
        return [parse_verifier_key(line) for line in path.read_text().splitlines() if line.strip()]

    def _publish(self, signer: NoteSigner) -> None:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        known = {str(k) for k in self.verifier_keys()}
        if signer.verifier_key() not in known:
            with self.verifier_keys_file.open("a", encoding="utf-8") as file:
                file.write(signer.verifier_key() + "\n")


# ------------------------------------------------------------------ checkpoints


@dataclass(frozen=True)
class StoredCheckpoint:
    seq: int
    tree_size: int
    root_hash: bytes
    note: str
    key_id: str
    created_at: str


class Checkpoints:
    def __init__(self, log: AuditLog, *, create_tables: bool = True) -> None:
        self.log = log
        self.store = log.store
        self.table = self.store.table("audit_checkpoints")
        if create_tables:
            self.create_table()

    def create_table(self) -> None:
        # Only when new: re-creating dropped triggers here would hide tampering from `verify`.
        if self.store.table_exists("audit_checkpoints"):
            return
        with self.store.transaction(commit=True) as sql:
            sql.execute(
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                "seq BIGINT PRIMARY KEY, tree_size BIGINT NOT NULL, "
                f"root_hash {self.store.blob} NOT NULL, note TEXT NOT NULL, "
                "key_id TEXT NOT NULL, created_at TEXT NOT NULL)"
            )
            for statement in self._append_only_statements():
                sql.execute(statement)

    def _append_only_statements(self) -> list[str]:
        if self.store.sqlite:
            return [
                sql_text(name).format(table="audit_checkpoints")
                for name in ("sqlite_refuse_update", "sqlite_refuse_delete")
            ]
        schema, table = f'"{self.store.datastore.schema}"', '"audit_checkpoints"'
        return [
            sql_text(name).format(schema=schema, table=table)
            for name in ("postgres_refuse_change_function", "postgres_refuse_change", "postgres_refuse_truncate")
        ]

    def all(self) -> list[StoredCheckpoint]:
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(
                f"SELECT seq, tree_size, root_hash, note, key_id, created_at FROM {self.table} ORDER BY seq"
            )
        return [_row(r) for r in rows]

    def latest(self) -> StoredCheckpoint | None:
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(
                f"SELECT seq, tree_size, root_hash, note, key_id, created_at FROM {self.table} ORDER BY seq DESC LIMIT 1"
            )
        return _row(rows[0]) if rows else None

    def covering(self, leaf_index: int, signer: NoteSigner | None, *, origin: str = DEFAULT_ORIGIN) -> StoredCheckpoint | None:
        """The latest checkpoint if it covers the leaf at `leaf_index`; else one signed now with
        `signer`; None when none covers it and there is no key to sign with (the caller says why)."""
        latest = self.latest()
        if latest is not None and latest.tree_size > leaf_index:
            return latest
        return self.write(signer, origin=origin) if signer is not None else None

    def count(self) -> int:
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(f"SELECT COUNT(*) AS n FROM {self.table}")
        return int(rows[0]["n"])

    def recent(self, limit: int) -> list[StoredCheckpoint]:
        """The latest `limit` checkpoints, newest first (a page shows these, not all of them)."""
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(
                f"SELECT seq, tree_size, root_hash, note, key_id, created_at FROM {self.table} ORDER BY seq DESC LIMIT ?", (limit,)
            )
        return [_row(r) for r in rows]

    def write(self, signer: NoteSigner, *, origin: str = DEFAULT_ORIGIN, now: datetime | None = None) -> StoredCheckpoint:
        """Sign the log as it stands (after catching up), as the log named `origin`; returns the latest checkpoint."""
        self.log.catch_up()
        size = self.log.size()
        latest = self.latest()
        if latest is not None:
            if size == latest.tree_size:
                return latest
            if size < latest.tree_size or self.log.root(latest.tree_size) != latest.root_hash:
                raise InconsistentLog(
                    f"the audit log (size {size}) does not extend checkpoint {latest.seq} "
                    f"(size {latest.tree_size}); refusing to sign. Run `aqp audit verify`."
                )
        if size == 0:
            raise InconsistentLog("the ledger is empty: there is nothing to sign yet")
        root = self.log.root(size)
        note = sign_note(checkpoint_text(origin, size, root), [signer])
        created = (now or datetime.now(timezone.utc)).isoformat()
        checkpoint = StoredCheckpoint(
            seq=(latest.seq + 1) if latest else 1,
            tree_size=size,
            root_hash=root,
            note=note,
            key_id=signer.key_id.hex(),
            created_at=created,
        )
        with self.store.transaction(commit=True) as sql:
            sql.execute(
                f"INSERT INTO {self.table} (seq, tree_size, root_hash, note, key_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                (checkpoint.seq, size, root, note, checkpoint.key_id, created),
            )
        return checkpoint

    def export(self, directory: Path) -> list[Path]:
        """Each checkpoint as a file for witnesses: checkpoint-<seq>.txt."""
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for cp in self.all():
            path = directory / f"checkpoint-{cp.seq:06d}.txt"
            path.write_text(cp.note, encoding="utf-8")
            written.append(path)
        return written


def checkpoint_due(
    latest: StoredCheckpoint | None, size: int, *, every_events: int, every_seconds: float, now: datetime
) -> bool:
    """Whether the running ledger should sign again: N events or T seconds since the last."""
    if size == 0 or (latest is not None and size == latest.tree_size):
        return False
    if latest is None or size - latest.tree_size >= every_events:
        return True
    return (now - datetime.fromisoformat(latest.created_at)).total_seconds() >= every_seconds


def _row(row: Any) -> StoredCheckpoint:
    return StoredCheckpoint(
        seq=int(row["seq"]),
        tree_size=int(row["tree_size"]),
        root_hash=bytes(row["root_hash"]),
        note=row["note"],
        key_id=row["key_id"],
        created_at=row["created_at"],
    )
