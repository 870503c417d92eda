"""Signing in to the pages: one-time sign-in links, and the sessions they start.

A person signs in with a link that `aqp sign-in` issues (and `make run` prints) for the same
principal as an API token: a user, an organisation, one role (`api.tokens.check_principal`).
The link carries `secrets.token_urlsafe(32)`, stored only as its SHA-256; it works once, and
only until it expires (`AQP_WEB_SIGN_IN_MINUTES`, 15 by default): a link forwarded, logged by
a mail gateway or found later in a browser's history signs nobody in.

Opening the link shows a page with one button; only pressing it (a POST) uses the link, so a
mail client or a link scanner that fetches it does not spend it. Using it starts a session:
another 256-bit secret, sent to the browser as an HttpOnly, SameSite=Lax cookie (Secure over
https), stored only as its SHA-256, with an absolute expiry (`AQP_WEB_SESSION_HOURS`, 8) and
an end when the person signs out. Each session has its own CSRF token, which every form
carries and every POST must send back (`api.web.auth`).

Both tables live in the ledger's own database (either store), beside `api_tokens`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from api.tokens import Principal, check_principal
from audit.store import SqlStore

LINKS = "web_sign_in_links"
SESSIONS = "web_sessions"


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignInLink:
    """A link just issued: its secret (shown once), who it signs in, until when."""

    secret: str
    link_id: str
    principal: Principal
    expires_at: datetime

    def path(self) -> str:
        return f"/app/sign-in/{self.secret}"


@dataclass(frozen=True)
class Session:
    """A signed-in person: who they act as, the form token their POSTs carry, until when."""

    session_id: str
    principal: Principal
    csrf_token: str
    expires_at: datetime

    def csrf_matches(self, sent: str | None) -> bool:
        return bool(sent) and hmac.compare_digest(self.csrf_token.encode(), str(sent).encode())


@dataclass(frozen=True)
class Started:
    """A session just started: its cookie value (the secret) and the session."""

    secret: str
    session: Session


class SignIns:
    """The sign-in links and sessions of one ledger."""

    def __init__(self, ledger: Any, *, link_minutes: int = 15, session_hours: int = 8, create_tables: bool = True) -> None:
        self.store = SqlStore(ledger)
        self.links = self.store.table(LINKS)
        self.sessions = self.store.table(SESSIONS)
        self.link_lifetime = timedelta(minutes=link_minutes)
        self.session_lifetime = timedelta(hours=session_hours)
        if create_tables:
            self.store.create_table_once(
                LINKS,
                "link_sha256 TEXT PRIMARY KEY, link_id TEXT NOT NULL UNIQUE, user_id TEXT NOT NULL, org TEXT NOT NULL, "
                "role TEXT NOT NULL, issued_at TEXT NOT NULL, expires_at TEXT NOT NULL, used_at TEXT",
            )
            self.store.create_table_once(
                SESSIONS,
                "session_sha256 TEXT PRIMARY KEY, session_id TEXT NOT NULL UNIQUE, link_id TEXT NOT NULL, "
                "user_id TEXT NOT NULL, org TEXT NOT NULL, role TEXT NOT NULL, csrf_token TEXT NOT NULL, "
                "started_at TEXT NOT NULL, expires_at TEXT NOT NULL, ended_at TEXT",
            )

    def issue(self, *, user: str, org: str, role: str, now: datetime | None = None) -> SignInLink:
        """A one-time link for the principal (`TokenError` for a name or role that is not valid)."""
        check_principal(user, org, role)
        moment = now or datetime.now(timezone.utc)
        secret, link_id = secrets.token_urlsafe(32), "sil_" + secrets.token_hex(6)
        expires = moment + self.link_lifetime
        with self.store.transaction(commit=True) as sql:
            sql.execute(
                f"INSERT INTO {self.links} (link_sha256, link_id, user_id, org, role, issued_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (fingerprint(secret), link_id, user, org, role, _stamp(moment), _stamp(expires)),
            )
        return SignInLink(secret, link_id, Principal(user=user, org=org, role=role, token_id=link_id), expires)

    def waiting(self, secret: str, now: datetime | None = None) -> Principal | None:
        """Who an unused, unexpired link would sign in (it is not used by asking)."""
        row = self._link(secret)
        if row is None or row["used_at"] is not None or row["expires_at"] <= _stamp(now or _now()):
            return None
        return Principal(user=row["user_id"], org=row["org"], role=row["role"], token_id=row["link_id"])

    def use(self, secret: str, now: datetime | None = None) -> Started | None:
        """Spend the link and start a session; None when it is unknown, used or expired.

        The link is spent by one conditional UPDATE, so of two presses at once only one starts a session.
        """
        moment = now or _now()
        digest = fingerprint(secret)
        started_secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        session_id = "ses_" + secrets.token_hex(6)
        expires = moment + self.session_lifetime
        with self.store.transaction(commit=True) as sql:
            spent = sql.changed(
                f"UPDATE {self.links} SET used_at = ? WHERE link_sha256 = ? AND used_at IS NULL AND expires_at > ?",
                (_stamp(moment), digest, _stamp(moment)),
            )
            if spent != 1:
                return None
            row = sql.query(f"SELECT link_id, user_id, org, role FROM {self.links} WHERE link_sha256 = ?", (digest,))[0]
            sql.execute(
                f"INSERT INTO {self.sessions} (session_sha256, session_id, link_id, user_id, org, role, csrf_token, "
                "started_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (fingerprint(started_secret), session_id, row["link_id"], row["user_id"], row["org"], row["role"], csrf,
                 _stamp(moment), _stamp(expires)),
            )
        principal = Principal(user=row["user_id"], org=row["org"], role=row["role"], token_id=session_id)
        return Started(started_secret, Session(session_id, principal, csrf, expires))

    def session(self, secret: str, now: datetime | None = None) -> Session | None:
        """The live session a cookie names; None when unknown, ended or expired."""
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(
                f"SELECT session_id, user_id, org, role, csrf_token, expires_at, ended_at FROM {self.sessions} "
                "WHERE session_sha256 = ?",
                (fingerprint(secret),),
            )
        if not rows:
            return None
        row = rows[0]
        if row["ended_at"] is not None or row["expires_at"] <= _stamp(now or _now()):
            return None
        principal = Principal(user=row["user_id"], org=row["org"], role=row["role"], token_id=row["session_id"])
        return Session(row["session_id"], principal, row["csrf_token"], datetime.fromisoformat(row["expires_at"]))

    def end(self, session_id: str, now: datetime | None = None) -> None:
        """Sign out: the session's cookie no longer works, from this moment."""
        with self.store.transaction(commit=True) as sql:
            sql.execute(
                f"UPDATE {self.sessions} SET ended_at = ? WHERE session_id = ? AND ended_at IS NULL",
                (_stamp(now or _now()), session_id),
            )

    def _link(self, secret: str) -> Any | None:
        with self.store.transaction(commit=False) as sql:
            rows = sql.query(
                f"SELECT link_id, user_id, org, role, expires_at, used_at FROM {self.links} WHERE link_sha256 = ?",
                (fingerprint(secret),),
            )
        return rows[0] if rows else None


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _stamp(moment: datetime) -> str:
    """A time as fixed-width UTC text, so that comparing the text compares the times."""
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")
