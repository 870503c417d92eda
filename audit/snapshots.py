"""Sealed snapshots: a long record read from its state at a recent version, not from its first event.

A snapshot is a record's state at one version, taken every so many events (the ledger's
`SNAPSHOT_EVERY`), stored in the table `record_snapshots` beside the events. A read of the
record now, or as it stood at a time, starts from the latest snapshot at or before what is
asked and applies only the events after it, each decoded once.

The events are the ledger; a snapshot is derived from them and could be forged without
touching them, which the Merkle log would not see. So each snapshot is sealed: an HMAC-SHA256,
under a key kept with the checkpoint keys outside the database (`snapshot-seal.key`), over the
record's id, its version, the time of that version and the state's bytes. A snapshot whose
seal does not hold, whose state says another record or version than its row, or whose class
has changed shape since (`SNAPSHOT_SHAPE`), is never used: the read replays the events instead
and the refusal is logged. A process without the key reads and takes no snapshots. Personal
data stays ciphertext in a snapshot, under its subject's key (the ledger's transcoding), so an
erasure reaches snapshots as it reaches events. A snapshot never makes a key (`existing_keys_only`):
data read before its subject was erased is not stored again under a new one, a value already
erased is stored as erased, and no snapshot is taken after a command during which a subject was
erased (`Ledger._snapshot_long_records`).

Snapshots are taken after the command that crosses the interval is stored, in their own
transaction: a crash before leaves none, which costs only a longer replay.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from datetime import datetime, timezone
from pathlib import Path
from typing import Any
from uuid import UUID

import msgspec
import structlog
from eventsourcing.utils import get_topic, resolve_topic

from audit.erasure import existing_keys_only
from audit.store import SqlStore, stored_bytes

log = structlog.get_logger("aqp.snapshots")

KEY_FILE = "snapshot-seal.key"


def seal_key(directory: Path) -> bytes:
    """The sealing key in `directory`, made on first use (32 random bytes, readable by its owner only)."""
    path = directory / KEY_FILE
    if not path.exists():
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it first
        else:
            with os.fdopen(fd, "wb") as file:
                file.write(secrets.token_bytes(32))
    key = path.read_bytes()
    if len(key) != 32:
        raise ValueError(f"{path} is not a snapshot sealing key (32 bytes)")
    return key


def _micros(moment: datetime) -> int:
    delta = moment.astimezone(timezone.utc) - datetime(1970, 1, 1, tzinfo=timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


class SealedSnapshots:
    """The ledger's sealed snapshots (see the module's docstring)."""

    def __init__(self, ledger: Any, key: bytes) -> None:
        self._key = key
        self._transcoder = ledger.mapper.transcoder
        self.store = SqlStore(ledger)
        self.store.create_table_once(
            "record_snapshots",
            f"originator_id TEXT NOT NULL, version BIGINT NOT NULL, modified_at BIGINT NOT NULL, "
            f"topic TEXT NOT NULL, shape INTEGER NOT NULL, state {self.store.blob} NOT NULL, seal {self.store.blob} NOT NULL, "
            "PRIMARY KEY (originator_id, version)",
        )
        self.table = self.store.table("record_snapshots")

    def _seal(self, originator_id: UUID, version: int, modified_at: int, topic: str, shape: int, state: bytes) -> bytes:
        head = f"{originator_id.hex}\n{version}\n{modified_at}\n{topic}\n{shape}\n".encode()
        return hmac.new(self._key, head + state, hashlib.sha256).digest()

    def take(self, aggregate: Any) -> None:
        """Store a snapshot of `aggregate` as it is (it must hold no pending events)."""
        state = {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}
        # Never under a key made now: a subject erased since the state was read stays erased.
        with existing_keys_only():
            encoded = self._transcoder.encode(state)
        topic = get_topic(type(aggregate))
        shape = int(getattr(type(aggregate), "SNAPSHOT_SHAPE", 1))
        modified_at = _micros(aggregate.modified_on)
        seal = self._seal(aggregate.id, aggregate.version, modified_at, topic, shape, encoded)
        with self.store.transaction(commit=True) as sql:
            sql.execute(f"DELETE FROM {self.table} WHERE originator_id = ? AND version = ?", (aggregate.id.hex, aggregate.version))
            sql.execute(
                f"INSERT INTO {self.table} (originator_id, version, modified_at, topic, shape, state, seal) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (aggregate.id.hex, aggregate.version, modified_at, topic, shape, encoded, seal),
            )

    def nearest(self, originator_id: UUID, *, version: int | None = None, at: datetime | None = None) -> tuple[Any, int | None] | None:
        """The record restored from its latest sound snapshot at or before `version` (or the time
        `at`), and the version of the next snapshot after `at` (None: none), below which the
        events up to `at` all lie; None if there is no such snapshot."""
        where, params = "originator_id = ?", [originator_id.hex]
        if version is not None:
            where += " AND version <= ?"
            params.append(version)
        after = "NULL"
        if at is not None:
            where += " AND modified_at <= ?"
            params.append(_micros(at))
            after = f"(SELECT MIN(version) FROM {self.table} WHERE originator_id = ? AND modified_at > ?)"
            params = [originator_id.hex, _micros(at), *params]
        rows = self.store.query_now(
            f"SELECT {after} AS next_version, version, modified_at, topic, shape, state, seal FROM {self.table} "
            f"WHERE {where} ORDER BY version DESC LIMIT 1",
            params,
        )
        if not rows:
            return None
        row = rows[0]
        restored = self._restored(originator_id, row)
        if restored is None:
            return None
        return restored, (int(row["next_version"]) if row["next_version"] is not None else None)

    def _restored(self, originator_id: UUID, row: Any) -> Any | None:
        version, topic, shape = int(row["version"]), row["topic"], int(row["shape"])
        state_bytes = stored_bytes(row["state"])
        expected = self._seal(originator_id, version, int(row["modified_at"]), topic, shape, state_bytes)
        if not hmac.compare_digest(expected, stored_bytes(row["seal"])):
            log.warning("snapshot_refused", reason="seal_broken", record=str(originator_id), version=version)
            return None
        try:
            cls = resolve_topic(topic)
        except Exception:  # noqa: BLE001 - a class renamed since: the events still replay
            log.warning("snapshot_refused", reason="class_gone", record=str(originator_id), version=version)
            return None
        if int(getattr(cls, "SNAPSHOT_SHAPE", 1)) != shape:
            log.info("snapshot_refused", reason="shape_changed", record=str(originator_id), version=version)
            return None
        state = self._decode(state_bytes)
        if state.get("_id") != originator_id or state.get("_version") != version:
            log.warning("snapshot_refused", reason="not_this_record", record=str(originator_id), version=version)
            return None
        aggregate = object.__new__(cls)
        aggregate.__dict__.update(state)
        aggregate.__dict__["_pending_events"] = []
        return aggregate

    def _decode(self, encoded: bytes) -> Any:
        """The transcoder's own decoding, several times faster on a large state: msgspec parses the
        JSON, then only the transcoder's marked objects ({"_type_", "_data_"}) are handed to it."""
        revive = self._transcoder._decode_obj

        def walk(value: Any) -> Any:
            if type(value) is dict:
                for key, item in value.items():
                    if type(item) is dict or type(item) is list:
                        value[key] = walk(item)
                return revive(value) if len(value) == 2 and "_type_" in value else value
            for index, item in enumerate(value):
                if type(item) is dict or type(item) is list:
                    value[index] = walk(item)
            return value

        parsed = msgspec.json.decode(encoded)
        return walk(parsed) if type(parsed) is dict or type(parsed) is list else parsed

    def check(self, events: Any, progress: Any = None) -> tuple[int, list[str]]:
        """Every snapshot against its record replayed from `events` (the ledger's event store) to its
        version: (how many were checked, what does not hold). Each record is replayed once, forwards.
        What an auditor runs (`aqp audit snapshots`): the seal stops anyone without the key, this
        stops anyone with it."""
        rows = self.store.query_now(
            f"SELECT originator_id, version, modified_at, topic, shape, state, seal FROM {self.table} ORDER BY originator_id, version"
        )
        problems: list[str] = []
        replayed: Any = None
        current: str | None = None
        history: Any = iter(())
        for done, row in enumerate(rows, start=1):
            oid = UUID(row["originator_id"])
            version = int(row["version"])
            if row["originator_id"] != current:
                current, replayed, history = row["originator_id"], None, iter(events.get(oid))
            while replayed is None or replayed.version < version:
                event = next(history, None)
                if event is None:
                    break
                replayed = event.mutate(replayed)
            name = f"record {oid} at version {version}"
            restored = self._restored(oid, row)
            if restored is None:
                problems.append(f"the snapshot of {name} is not used: its seal, record, class or shape does not hold")
            elif replayed is None or replayed.version != version:
                problems.append(f"the snapshot of {name} has no such version in the events")
            else:
                differ = sorted(k for k in set(vars(restored)) | set(vars(replayed))
                                if k != "_pending_events" and vars(restored).get(k) != vars(replayed).get(k))
                if differ:
                    problems.append(f"the snapshot of {name} differs from its events in: {', '.join(differ)}")
            if progress is not None:
                progress(done, len(rows))
        return len(rows), problems

    def count(self) -> int:
        return int(self.store.query_now(f"SELECT count(*) AS n FROM {self.table}")[0]["n"])
