"""Crypto-shredding: one AES-GCM key per data subject, in a table that can be deleted from.

The event tables are append-only and hashed into the Merkle log, so personal data in them
is only ever ciphertext under its subject's key. `erase(subject)` deletes the key; the
ciphertext stays, every leaf and checkpoint still verifies, and the value decodes as
"[erased]". The bootstrap gives a ledger its `SubjectKeys` (`api/bootstrap.py`).

Keys are kept in memory once read (a competition's view decodes dozens of names), so an
erasure made by another process must reach this one's memory: `erase` deletes the key and
appends a row to `personal_data_erasures` in one transaction, and before every read of
stored events (`refresh`, called by the recorder) a process that holds keys counts those
rows, one small query, and forgets every key it holds when the count has moved. The count
only grows and its row commits with the deletion, so a read that sees the same count as
when a key was fetched cannot be missing an erasure made since; a key fetched while the
count moved is not kept.
"""

from __future__ import annotations

import base64
import contextvars
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import cached_property
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import IntegrityError, Transcoding

from audit.store import SqlStore
from domain.kernel.personal import PersonalData


class SubjectKeys:
    """The per-subject keys, created on first use, in the ledger's database.

    Made while the ledger is being built, before its store exists: the tables are looked for
    (and created if need be) when a key is first asked for.
    """

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self._cache: dict[str, bytes] = {}
        #: the erasures counted when the keys in `_cache` could last be trusted (None: never counted)
        self._erasures_seen: int | None = None
        # The HTTP API's worker threads share one ledger, so the cache and its count move together.
        self._lock = threading.Lock()

    def transcoding(self) -> PersonalDataAsCiphertext:
        return PersonalDataAsCiphertext(self)

    @cached_property
    def store(self) -> SqlStore:
        store = SqlStore(self.ledger)
        store.create_table_once("personal_data_keys", f"subject TEXT PRIMARY KEY, key {store.blob} NOT NULL, created_at TEXT NOT NULL")
        # Appended to, never changed: only its row count is read (see the module docstring).
        store.create_table_once("personal_data_erasures", "subject TEXT NOT NULL, erased_at TEXT NOT NULL")
        return store

    @property
    def table(self) -> str:
        return self.store.table("personal_data_keys")

    def refresh(self) -> None:
        """Forget the keys held here if any subject has been erased since they were read, by any process.

        Called before every read of stored events. A process holding no key asks nothing.
        """
        if not self._cache:
            return
        erasures = self._erasures()
        with self._lock:
            if erasures != self._erasures_seen:
                self._cache.clear()
                self._erasures_seen = erasures

    def erasures(self) -> int:
        """How many subjects have been erased, by any process: what a kept answer holding people's
        data must be keyed on, since an erasure changes what it shows but no aggregate's version."""
        return self._erasures()

    def _erasures(self) -> int:
        rows = self.store.query_now(f"SELECT count(*) AS n FROM {self.store.table('personal_data_erasures')}")
        return int(rows[0]["n"])

    def key_for(self, subject: str, *, create: bool) -> bytes | None:
        key = self._cache.get(subject)
        if key is not None:
            if not create:
                return key
            # About to write under it: an erasure elsewhere since this process read the key
            # would leave the new ciphertext under a key no one holds any more.
            self.refresh()
            key = self._cache.get(subject)
            if key is not None:
                return key
        seen = self._erasures_seen
        if seen is None:
            seen = self._erasures_seen = self._erasures()  # counted before the key is read
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(f"SELECT key FROM {self.table} WHERE subject = ?", (subject,))
        if rows:
            key = bytes(rows[0]["key"])
        elif create:
            key = AESGCM.generate_key(bit_length=256)
            try:
                with self.store.transaction(commit=True) as sql:
                    sql.execute(
                        f"INSERT INTO {self.table} (subject, key, created_at) VALUES (?, ?, ?)",
                        (subject, key, datetime.now(timezone.utc).isoformat()),
                    )
            except IntegrityError:  # another process created it first: use theirs
                return self.key_for(subject, create=False)
        else:
            return None
        with self._lock:
            if self._erasures_seen == seen:  # else an erasure was counted meanwhile: read it again next time
                self._cache[subject] = key
        return key

    def erase(self, subject: str) -> bool:
        """Destroy the subject's key, and say so to every process; True if there was one."""
        with self._lock:
            self._cache.pop(subject, None)
        with self.store.transaction(commit=True) as sql:
            existed = bool(sql.query(f"SELECT 1 AS x FROM {self.table} WHERE subject = ?", (subject,)))
            sql.execute(f"DELETE FROM {self.table} WHERE subject = ?", (subject,))
            sql.execute(
                f"INSERT INTO {self.store.table('personal_data_erasures')} (subject, erased_at) VALUES (?, ?)",
                (subject, datetime.now(timezone.utc).isoformat()),
            )
        return existed


_existing_keys_only: contextvars.ContextVar[bool] = contextvars.ContextVar("aqp_existing_keys_only", default=False)


@contextmanager
def existing_keys_only() -> Iterator[None]:
    """Encode personal data only under keys that exist: what re-stores data already read (a
    snapshot of a record's state) must fail rather than make a new key for a subject erased
    since the data was decrypted, which would bring the erased data back."""
    token = _existing_keys_only.set(True)
    try:
        yield
    finally:
        _existing_keys_only.reset(token)


class PersonalDataAsCiphertext(Transcoding):
    """Stores `PersonalData` as {subject, nonce, ciphertext}; the subject is the AAD."""

    type = PersonalData
    name = "personal_data_v1"

    def __init__(self, keys: SubjectKeys) -> None:
        self.keys = keys

    def encode(self, obj: PersonalData) -> dict[str, Any]:
        if obj.value is None:
            if _existing_keys_only.get():
                # A snapshot of a record holding data erased since: said to be erased, nothing more
                # (else no record that ever held an erased subject's data could be snapshotted again).
                return {"subject": obj.subject, "erased": True}
            raise ValueError(f"erased personal data of {obj.subject} cannot be stored again")
        key = self.keys.key_for(obj.subject, create=not _existing_keys_only.get())
        if key is None:
            raise ValueError(f"no key for {obj.subject} (erased since it was read): not stored again")
        nonce = os.urandom(12)
        ciphertext = AESGCM(key).encrypt(nonce, obj.value.encode("utf-8"), obj.subject.encode("utf-8"))
        return {
            "subject": obj.subject,
            "nonce": base64.b64encode(nonce).decode("ascii"),
            "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        }

    def decode(self, data: dict[str, str]) -> PersonalData:
        subject = data["subject"]
        if data.get("erased") is True:
            return PersonalData(subject, None)
        key = self.keys.key_for(subject, create=False)
        if key is None:
            return PersonalData(subject, None)
        try:
            plain = AESGCM(key).decrypt(
                base64.b64decode(data["nonce"]), base64.b64decode(data["ciphertext"]), subject.encode("utf-8")
            )
        except InvalidTag:
            # Not this subject's data under this key: treat as unreadable, never guess.
            return PersonalData(subject, None)
        return PersonalData(subject, plain.decode("utf-8"))
