"""Crypto-shredding: one AES-GCM key per data subject, in a table that can be deleted from.

The event tables are append-only and hashed into the Merkle log, so personal data in them
is only ever ciphertext under its subject's key. `erase(subject)` deletes the key; the
ciphertext stays, every leaf and checkpoint still verifies, and the value decodes as
"[erased]". Keys are cached in memory per process; an erasure made by another process
takes effect here when this process restarts (the server runs erasures itself). The
bootstrap gives a ledger its `SubjectKeys` (`api/bootstrap.py`).
"""

from __future__ import annotations

import base64
import os
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

    Made while the ledger is being built, before its store exists: the table is looked for
    (and created if need be) when a key is first asked for.
    """

    def __init__(self, ledger: Any) -> None:
        self.ledger = ledger
        self._cache: dict[str, bytes] = {}

    def transcoding(self) -> PersonalDataAsCiphertext:
        return PersonalDataAsCiphertext(self)

    @cached_property
    def store(self) -> SqlStore:
        store = SqlStore(self.ledger)
        if not store.table_exists("personal_data_keys"):
            with store.transaction(commit=True) as sql:
                sql.execute(
                    f"CREATE TABLE IF NOT EXISTS {store.table('personal_data_keys')} ("
                    f"subject TEXT PRIMARY KEY, key {store.blob} NOT NULL, created_at TEXT NOT NULL)"
                )
        return store

    @property
    def table(self) -> str:
        return self.store.table("personal_data_keys")

    def key_for(self, subject: str, *, create: bool) -> bytes | None:
        key = self._cache.get(subject)
        if key is not None:
            return key
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
        self._cache[subject] = key
        return key

    def erase(self, subject: str) -> bool:
        """Destroy the subject's key; True if there was one."""
        self._cache.pop(subject, None)
        with self.store.transaction(commit=True) as sql:
            existed = bool(sql.query(f"SELECT 1 AS x FROM {self.table} WHERE subject = ?", (subject,)))
            sql.execute(f"DELETE FROM {self.table} WHERE subject = ?", (subject,))
        return existed


class PersonalDataAsCiphertext(Transcoding):
    """Stores `PersonalData` as {subject, nonce, ciphertext}; the subject is the AAD."""

    type = PersonalData
    name = "personal_data_v1"

    def __init__(self, keys: SubjectKeys) -> None:
        self.keys = keys

    def encode(self, obj: PersonalData) -> dict[str, str]:
        if obj.value is None:
            raise ValueError(f"erased personal data of {obj.subject} cannot be stored again")
        key = self.keys.key_for(obj.subject, create=True)
        assert key is not None
        nonce = os.urandom(12)
        ciphertext = AESGCM(key).encrypt(nonce, obj.value.encode("utf-8"), obj.subject.encode("utf-8"))
        return {
            "subject": obj.subject,
            "nonce": base64.b64encode(nonce).decode("ascii"),
            "ciphertext": base64.b64encode(ciphertext).decode("ascii"),
        }

    def decode(self, data: dict[str, str]) -> PersonalData:
        subject = data["subject"]
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
