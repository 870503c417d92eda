"""API tokens: bearer tokens mapped to a principal (user, organisation, role).

A token is `secrets.token_urlsafe(32)` (256 random bits), shown once when issued and stored
only as its SHA-256, so a copy of the database gives nobody a usable token. Each token also
has a short public id (`tok_...`) to list and revoke it by without handling the secret.

One token carries one role. A person who acts in two roles (a commissioner who also manages
contracts) holds two tokens: every event then says unambiguously in which role it was done,
which is what an auditor reading the events needs. The principal becomes the domain's
`Actor` for every command the request sends.

The table lives in the ledger's own database (either store). Revocation is immediate: every
request looks its token up (a primary-key read); a revoked token stays in the table, with
when and why, for the audit trail.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import msgspec

from audit.store import SqlStore
from domain.kernel.metadata import ROLES, Actor

TABLE = "api_tokens"


class Principal(msgspec.Struct, frozen=True):
    """Who a request acts for: the token's user, organisation and role."""

    user: str
    org: str
    role: str
    token_id: str

    def actor(self) -> Actor:
        return Actor(id=self.user, org=self.org, role=self.role)  # type: ignore[arg-type]


@dataclass(frozen=True)
class IssuedToken:
    token: str
    principal: Principal


@dataclass(frozen=True)
class TokenRecord:
    token_id: str
    user: str
    org: str
    role: str
    issued_at: str
    revoked_at: str | None
    revoked_reason: str | None


class TokenError(ValueError):
    """A token cannot be issued or revoked as asked (the message says why)."""


def fingerprint(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


_NAME_RULE = "1-80 characters: letters, digits and . _ : / @ -"


def _check_name(what: str, value: str) -> None:
    allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._:/@-")
    if not value or len(value) > 80 or not set(value) <= allowed:
        raise TokenError(f"{what} {value!r} is not valid: {_NAME_RULE}")


def check_principal(user: str, org: str, role: str) -> None:
    """Who a token or a sign-in link may act for: names of the rule below, one of the roles."""
    _check_name("user", user)
    _check_name("organisation", org)
    if role not in ROLES:
        raise TokenError(f"role {role!r} is not one of: {', '.join(ROLES)}")


class TokenStore:
    """The `api_tokens` table of one ledger."""

    def __init__(self, ledger: Any, *, create_table: bool = True) -> None:
        self.store = SqlStore(ledger)
        self.table = self.store.table(TABLE)
        if create_table:
            self.store.create_table_once(
                TABLE,
                "token_sha256 TEXT PRIMARY KEY, token_id TEXT NOT NULL UNIQUE, "
                "user_id TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL, "
                "issued_at TEXT NOT NULL, revoked_at TEXT, revoked_reason TEXT",
            )

    def issue(self, *, user: str, org: str, role: str, now: datetime | None = None) -> IssuedToken:
        check_principal(user, org, role)
        token = secrets.token_urlsafe(32)
        token_id = "tok_" + secrets.token_hex(6)
        issued = (now or datetime.now(timezone.utc)).isoformat()
        with self.store.transaction(commit=True) as sql:
            sql.execute(
                f"INSERT INTO {self.table} (token_sha256, token_id, user_id, org, role, issued_at) VALUES (?, ?, ?, ?, ?, ?)",
                (fingerprint(token), token_id, user, org, role, issued),
            )
        return IssuedToken(token, Principal(user=user, org=org, role=role, token_id=token_id))

    def principal(self, token: str) -> Principal | None:
        """The principal of a live token; None for an unknown or revoked one."""
        record = self._lookup(fingerprint(token))
        if record is None or record.revoked_at is not None:
            return None
        return Principal(user=record.user, org=record.org, role=record.role, token_id=record.token_id)

    def describe(self, token: str) -> TokenRecord | None:
        """The record of a token whether live or revoked (for telling why it failed)."""
        return self._lookup(fingerprint(token))

    def _lookup(self, digest: str) -> TokenRecord | None:
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(
                f"SELECT token_id, user_id, org, role, issued_at, revoked_at, revoked_reason FROM {self.table} WHERE token_sha256 = ?",
                (digest,),
            )
        return _record(rows[0]) if rows else None

    def revoke(self, token_or_id: str, *, reason: str, now: datetime | None = None) -> TokenRecord:
        """Revoke by public id (`tok_...`) or by the token itself; revoking twice keeps the first."""
        if not reason.strip():
            raise TokenError("a revocation needs a reason (e.g. 'left the organisation', 'token exposed')")
        column, value = ("token_id", token_or_id) if token_or_id.startswith("tok_") else ("token_sha256", fingerprint(token_or_id))
        when = (now or datetime.now(timezone.utc)).isoformat()
        with self.store.transaction(commit=True) as sql:
            sql.execute(
                f"UPDATE {self.table} SET revoked_at = ?, revoked_reason = ? WHERE {column} = ? AND revoked_at IS NULL",
                (when, reason, value),
            )
            rows = sql.query(
                f"SELECT token_id, user_id, org, role, issued_at, revoked_at, revoked_reason FROM {self.table} WHERE {column} = ?",
                (value,),
            )
        if not rows:
            raise TokenError(f"no token {token_or_id if column == 'token_id' else '(the one given)'}")
        return _record(rows[0])

    def all(self) -> list[TokenRecord]:
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(
                f"SELECT token_id, user_id, org, role, issued_at, revoked_at, revoked_reason FROM {self.table} ORDER BY issued_at, token_id"
            )
        return [_record(r) for r in rows]


def _record(row: Any) -> TokenRecord:
    return TokenRecord(
        token_id=row["token_id"],
        user=row["user_id"],
        org=row["org"],
        role=row["role"],
        issued_at=row["issued_at"],
        revoked_at=row["revoked_at"],
        revoked_reason=row["revoked_reason"],
    )
