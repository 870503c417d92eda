"""The composition root: settings become a ledger, with the followers right for the process.

- `store_env(url)`: a database URL as the eventsourcing library's settings (the SQLite
  file's directory is made if need be); `redact_url(url)` for messages.
- `ledger_at(url)`: a ledger on that store standing on what the domain leaves outside it:
  the system clock (`utc_now`) and the data subjects' keys (`audit.erasure.SubjectKeys`),
  with no followers.
- `open_ledger(settings, role)`: the ledger a process of that role works with, its tables
  created if need be (safe when several processes start together on a fresh store), its
  followers attached (`FOLLOWERS`):
    - "api" (`aqp serve`) and "cli" (the `aqp` verbs): after each command the Merkle log
      catches up and signs a checkpoint when due (unless `AQP_AUDIT_FOLLOW` is no), the
      processes follow (contracts from awards, performance failures), and the read models
      catch up (unless `AQP_PROJECTIONS_FOLLOW` is no: a projection worker does it);
    - "worker" (`aqp projections run`): none, it sends no commands;
    - "scheduler" (`aqp scheduler`, and the scheduler `aqp run` starts beside the server): the
      Merkle log and the processes (three missed returns become a service failure at once);
      the read models it catches up itself, once per tick, not after each command;
    - "benchmark": the processes only, as awards lead to contracts in production; the read
      models and the Merkle log are measured on their own;
    - "demo" (`aqp demo`, `aqp run`): none, and an aggregate cache (the demo feeds the
      processes itself and catches everything up at the end).
- `key_ring(settings)`: the checkpoint signing keys and the log's name.

The entry points (`api/cli/`, `api/serve.py`, the benchmarks) call these; nothing below them
reads settings or opens stores of its own accord.
"""

from __future__ import annotations

import sqlite3
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs, unquote, urlparse

import psycopg
import structlog

from api.processes import followers as process_followers
from api.settings import Settings
from audit.checkpoints import KeyRing
from audit.erasure import SubjectKeys
from audit.follower import AuditFollower
from audit.snapshots import SealedSnapshots, seal_key
from audit.ocds_validation import problems
from domain.application import Ledger
from projections.runner import ProjectionFollower

log = structlog.get_logger("aqp.bootstrap")

Role = Literal["api", "cli", "worker", "scheduler", "benchmark", "demo"]
Follower = Literal["audit", "processes", "read_models"]

#: what follows each command, by the role of the process (in the order they run)
FOLLOWERS: dict[Role, tuple[Follower, ...]] = {
    "api": ("audit", "processes", "read_models"),
    "cli": ("audit", "processes", "read_models"),
    "worker": (),
    "scheduler": ("audit", "processes"),
    "benchmark": ("processes",),
    "demo": (),
}

#: A care home's daily vacancy reports make its Location a long history; without a cache
#: each report would replay it (slower and slower as the history grows). The cache hands out
#: the cached aggregate itself rather than a copy: safe for the demo because its build stops
#: at the first refusal, the only time a command could leave an unsaved change on a cached
#: aggregate.
DEMO_CACHE = {"AGGREGATE_CACHE_MAXSIZE": "20000", "DEEPCOPY_FROM_AGGREGATE_CACHE": "n"}


class CannotOpenLedger(Exception):
    """The ledger cannot be opened; the message is a sentence for people (no password in it)."""


def utc_now() -> datetime:
    """The ledger's clock: now, in UTC."""
    return datetime.now(timezone.utc)


# ------------------------------------------------------------------------------ the store


def store_env(database_url: str, *, create_tables: bool = True) -> dict[str, str]:
    """The eventsourcing library's settings for an `AQP_DATABASE_URL`.

    `sqlite:///var/ledger.db` (relative), `sqlite:////abs/path.db`, `sqlite:///:memory:`,
    or `postgresql://user:password@host:port/dbname?schema=name`. With `create_tables`
    false the ledger expects the owner role to have created its tables (production's
    application role may not create anything).
    """
    env = _store_env(database_url)
    env["CREATE_TABLE"] = "yes" if create_tables else "no"
    return env


def _store_env(database_url: str) -> dict[str, str]:
    parsed = urlparse(database_url)
    if parsed.scheme == "sqlite":
        path = unquote(parsed.path[1:] if parsed.path.startswith("/") else parsed.path)
        if not path:
            raise ValueError("AQP_DATABASE_URL: a sqlite URL needs a file path, e.g. sqlite:///var/ledger.db")
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": "eventsourcing.sqlite",
            "SQLITE_DBNAME": path,
            "APPLICATION_RECORDER_TOPIC": "audit.immutability:ImmutableSQLiteApplicationRecorder",
        }
    if parsed.scheme in ("postgresql", "postgres"):
        env = {
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": unquote(parsed.path.lstrip("/")) or "postgres",
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": unquote(parsed.username or "postgres"),
            "POSTGRES_PASSWORD": unquote(parsed.password or ""),
            "POSTGRES_CONNECT_TIMEOUT": "5",
            "APPLICATION_RECORDER_TOPIC": "audit.immutability:ImmutablePostgresApplicationRecorder",
        }
        schema = parse_qs(parsed.query).get("schema")
        if schema:
            env["POSTGRES_SCHEMA"] = schema[0]
        return env
    raise ValueError(
        f"AQP_DATABASE_URL must start with sqlite:/// or postgresql://, not {parsed.scheme or '(no scheme)'}://"
    )


def redact_url(database_url: str) -> str:
    """The URL without its password, for logs and messages."""
    parsed = urlparse(database_url)
    if parsed.password:
        netloc = parsed.netloc.replace(f":{parsed.password}@", ":***@")
        return parsed._replace(netloc=netloc).geturl()
    return database_url


# ----------------------------------------------------------------------------- the ledger


def release_problems(release: dict[str, Any]) -> list[dict[str, str]]:
    """A past notice's release against the official OCDS 1.1.5 release schema, as the ledger refuses it."""
    return [{"field": f"release/{p.path}" if p.path else "release", "rule": p.rule, "message": p.message} for p in problems(release)]


def ledger_at(database_url: str, *, create_tables: bool = True, aggregate_cache: bool = False) -> Ledger:
    """The ledger on the store at `database_url`, on the system clock, with no followers."""
    env = store_env(database_url, create_tables=create_tables)
    if aggregate_cache:
        env.update(DEMO_CACHE)
    ledger = Ledger(env=env, clock=utc_now, subject_keys=SubjectKeys)
    ledger.release_problems = release_problems
    # An erasure made by another process reaches this one's key cache before its next read.
    ledger.recorder.before_read.append(ledger.subject_keys.refresh)
    return ledger


def key_ring(settings: Settings) -> KeyRing:
    return KeyRing(settings.key_dir, signing_key=settings.signing_key_file, origin=settings.log_origin)


def attach_followers(ledger: Ledger, settings: Settings, role: Role) -> Ledger:
    """Attach what follows each command in a process of `role` (see the module docstring)."""
    wanted = FOLLOWERS[role]
    if "audit" in wanted and settings.audit_follow:
        follower = AuditFollower(
            ledger,
            key_ring(settings),
            every_events=settings.checkpoint_every_events,
            every_seconds=settings.checkpoint_every_seconds,
        )
        # Each command's leaves go in the transaction that stores its events; the follower
        # catches up whatever came before and signs the checkpoints.
        ledger.recorder.merkle = follower.log
        ledger.after_save.append(follower)
    if "processes" in wanted:
        ledger.after_save.extend(process_followers(ledger))  # contracts follow as soon as an award is stored
    if "read_models" in wanted and settings.projections_follow:
        ledger.after_save.append(ProjectionFollower(ledger))  # read models follow each command in-process
    return ledger


#: what PostgreSQL raises when two processes create the same tables, triggers or grants at once
_CREATION_RACES = (
    psycopg.errors.UniqueViolation,  # a catalogue row (e.g. the table's type) the other created first
    psycopg.errors.DuplicateTable,
    psycopg.errors.DuplicateObject,
    psycopg.errors.InternalError_,  # "tuple concurrently updated" (CREATE OR REPLACE FUNCTION, GRANT)
    psycopg.errors.DeadlockDetected,  # two CREATE OR REPLACE FUNCTIONs locking in opposite orders
)


def _is_creation_race(err: BaseException) -> bool:
    # The library wraps the drivers' errors; the cause says which. SQLite answers a second
    # writer creating tables at the same moment with "database is locked".
    cause = err.__cause__ or err
    return isinstance(cause, _CREATION_RACES) or (isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause))


def _open_with_followers(settings: Settings, role: Role) -> Ledger:
    ledger = ledger_at(settings.database_url, create_tables=settings.create_tables, aggregate_cache=role == "demo")
    if role != "demo":  # the demo's single writer keeps every record in the library's cache
        ledger.keep_aggregates(settings.kept_aggregates)
    if settings.snapshots:
        try:
            ledger.use_snapshots(SealedSnapshots(ledger, seal_key(settings.key_dir)))
        except (OSError, ValueError) as err:  # no key to be had: every read replays, as before
            log.warning("snapshots_off", reason=str(err))
    try:
        return attach_followers(ledger, settings, role)
    except BaseException:
        ledger.close()
        raise


def open_ledger(settings: Settings, role: Role) -> Ledger:
    """The ledger of `settings` with the followers of `role`, its tables (events, audit, read models) created if need be.

    PostgreSQL's CREATE ... IF NOT EXISTS and CREATE OR REPLACE FUNCTION are not safe against
    another process creating the same object at the same moment (one of the two fails), so
    when processes start together on a fresh schema a loser tries again (a few times, as a
    third may collide again) and finds everything there. Any other failure is
    `CannotOpenLedger`, said as a sentence.
    """
    for attempt in range(5):
        try:
            return _open_with_followers(settings, role)
        except ValueError as err:
            raise CannotOpenLedger(str(err)) from None
        except Exception as err:  # noqa: BLE001 - a connection failure is reported as a sentence
            if settings.create_tables and attempt < 4 and _is_creation_race(err):
                time.sleep(0.1 * (attempt + 1))
                continue
            raise CannotOpenLedger(f"cannot open the ledger at {redact_url(settings.database_url)}: {err}") from None
    raise AssertionError("unreachable")
