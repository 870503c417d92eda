"""Idempotency keys: a retried request returns the first answer and records nothing new.

A client sends `Idempotency-Key: <1-200 visible characters>` with a command. The key is
scoped to the principal (organisation, user, role), so two clients can never collide. The
first answer is kept with a fingerprint of the request (method, path and the decoded
command, so whitespace does not matter); the same key with a different request is refused
(422 `idempotency_key_reused`), never silently answered with another request's result.

The crash window: when a command records events, its key and answer are written by
`Ledger.handle(record_with_events=...)` INSIDE the transaction that stores the events
(`audit.immutability`). So "events stored" and "key used" are one fact: if the process dies
after the commit and before the client hears back, the retry finds the key and answers from
it; if it dies before the commit, nothing was recorded and the retry runs the command.
The answer is stored before the events' positions in the notification log are known, so a
replay looks them up by (aggregate id, version), the events table's primary key.

Refusals and commands that record nothing are kept after the fact (nothing was recorded, so
there is no window to close). A refusal for a concurrent change is NOT kept: the client is
told to retry, and its retry with the same key must really run.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from uuid import UUID

import msgspec

from api.http.problems import FieldProblem, ProblemError
from api.tokens import Principal
from audit.store import Sql, SqlStore

TABLE = "api_idempotency"
HEADER = "Idempotency-Key"
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


def check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not _KEY.match(key):
        raise ProblemError(
            422,
            "invalid_idempotency_key",
            f"{HEADER} must be 1-200 visible ASCII characters (no spaces), e.g. a UUID.",
            [FieldProblem(field=f"header:{HEADER}", rule="pattern", message="1-200 visible ASCII characters")],
        )
    return key


def scope_of(principal: Principal) -> str:
    return f"{principal.org}\x1f{principal.user}\x1f{principal.role}"


def fingerprint(method: str, path: str, command: Any) -> str:
    body = msgspec.json.encode(command)
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


@dataclass(frozen=True)
class StoredAnswer:
    fingerprint: str
    status: int
    body: dict[str, Any]


class IdempotencyStore:
    def __init__(self, ledger: Any, *, create_table: bool = True) -> None:
        self.store = SqlStore(ledger)
        self.table = self.store.table(TABLE)
        if create_table:
            self.store.create_table_once(
                TABLE,
                "scope TEXT NOT NULL, idempotency_key TEXT NOT NULL, fingerprint TEXT NOT NULL, "
                "status INTEGER NOT NULL, body TEXT NOT NULL, created_at TEXT NOT NULL, "
                "PRIMARY KEY (scope, idempotency_key)",
            )

    def write(self, sql: Sql, scope: str, key: str, fingerprint: str, status: int, body: Any) -> None:
        """Record the answer in the caller's transaction (the one storing the events)."""
        sql.execute(
            f"INSERT INTO {self.table} (scope, idempotency_key, fingerprint, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (scope, key, fingerprint, status, msgspec.json.encode(body).decode(), datetime.now(timezone.utc).isoformat()),
        )

    def keep(self, scope: str, key: str, fingerprint: str, status: int, body: Any) -> None:
        """Record an answer that recorded no events; a concurrent first writer wins."""
        with self.store.transaction(commit=True) as sql:
            sql.execute(
                f"INSERT INTO {self.table} (scope, idempotency_key, fingerprint, status, body, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, idempotency_key) DO NOTHING",
                (scope, key, fingerprint, status, msgspec.json.encode(body).decode(), datetime.now(timezone.utc).isoformat()),
            )

    def used(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (scope, key) pairs already have an answer recorded: one read for many."""
        found: set[tuple[str, str]] = set()
        for start in range(0, len(keys), 200):  # within SQLite's limit on bound parameters
            chunk = keys[start : start + 200]
            with self.store.transaction(commit=False) as sql:
                rows = sql.query(
                    f"SELECT scope, idempotency_key FROM {self.table} WHERE (scope, idempotency_key) IN "
                    f"({', '.join(['(?, ?)'] * len(chunk))})",
                    [value for pair in chunk for value in pair],
                )
            found.update((row["scope"], row["idempotency_key"]) for row in rows)
        return found

    def find(self, scope: str, key: str) -> StoredAnswer | None:
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(
                f"SELECT fingerprint, status, body FROM {self.table} WHERE scope = ? AND idempotency_key = ?", (scope, key)
            )
        if not rows:
            return None
        row = rows[0]
        body = msgspec.json.decode(row["body"])
        if isinstance(body, dict) and body.get("events"):
            self._fill_positions(body["events"])
            # The command's own position is its last event's (see CommandResult.position).
            if body.get("position") is None and body["events"][-1].get("position") is not None:
                body["position"] = body["events"][-1]["position"]
        return StoredAnswer(fingerprint=row["fingerprint"], status=int(row["status"]), body=body)

    def _fill_positions(self, events: list[dict[str, Any]]) -> None:
        events_table = self.store.table(self.store.events_table)
        with self.store.transaction(commit=False) as sql:
            for event in events:
                if event.get("position") is not None:
                    continue
                originator = UUID(event["aggregate_id"])
                rows = sql.query(
                    f"SELECT {self.store.id_column} AS nid FROM {events_table} WHERE originator_id = ? AND originator_version = ?",
                    (originator.hex if self.store.sqlite else originator, event["version"]),
                )
                event["position"] = int(rows[0]["nid"]) if rows else None
