"""Every `AQP_*` setting, read from the environment once into one frozen struct.

`Settings.from_env()` reads them (an unset or empty variable takes its default; a value that
cannot mean anything is refused with a sentence naming the variable); the entry points (the
`aqp` command, `aqp serve`, the benchmarks) read them once and hand what each part needs to
it, through the bootstrap (`api/bootstrap.py`). Nothing else reads the environment.
`current()` is the process's settings, for the one value fixed when a module is imported
(the HTTP API documents its stale-report threshold in the OpenAPI document).

The variables, their defaults and meanings are `VARIABLES`, the README's table.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.origin import DEFAULT_ORIGIN

DEFAULT_DATABASE_URL = "sqlite:///var/ledger.db"


class SettingError(ValueError):
    """An `AQP_*` variable holds a value it cannot mean."""


@dataclass(frozen=True)
class Settings:
    #: where the ledger is stored (see `api.bootstrap.store_env` for the forms)
    database_url: str = DEFAULT_DATABASE_URL
    #: create the ledger's tables if absent (no: the owner role created them)
    create_tables: bool = True
    #: structlog's rendering: "json" or "console" (None: console on a terminal, else json)
    log_format: str | None = None
    #: the log level (None: the command's own, else warning)
    log_level: str | None = None
    #: the checkpoint signing key and the published verifier keys
    key_dir: Path = Path("var/keys")
    #: the private signing key (None: signing.key in `key_dir`)
    signing_key_file: Path | None = None
    #: the log's name in every checkpoint, and a new key's name
    log_origin: str = DEFAULT_ORIGIN
    #: keep the Merkle log current after each command
    audit_follow: bool = True
    #: how often the running ledger signs a checkpoint: every N events...
    checkpoint_every_events: int = 1000
    #: ...or every T seconds
    checkpoint_every_seconds: float = 3600.0
    #: keep the read models current after each command, in the process that sent it
    projections_follow: bool = True
    #: how many records a process keeps between commands, so a command reads only what was stored since (`domain.kept_aggregates`); 0 keeps none
    kept_aggregates: int = 2000
    #: read long records from sealed snapshots and take them (`audit.snapshots`; the key is kept in `key_dir`)
    snapshots: bool = True
    #: share one transaction and commit between concurrent requests' commands (`api.http.service`;
    #: None: on PostgreSQL only)
    group_commit: bool | None = False
    #: where `aqp serve` and `aqp run` listen
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    #: the CQC API `aqp cqc sync` reads (None: CQC's public API, `api.cqc_sync.DEFAULT_BASE_URL`)
    cqc_base_url: str | None = None
    #: the CQC API subscription key (None: none is sent)
    cqc_api_key: str | None = None
    #: a vacancy report older than this many days is stale (CMS list, `?stale=`)
    vacancies_stale_after_days: int = 3
    #: the most events the HTTP API replays for one `?as_of=` read of a read model
    api_replay_max_events: int = 20_000
    #: days before a return's deadline the scheduler raises its reminder (`domain.scheduling.rules`)
    scheduler_reminder_days: int = 3
    #: days before a contract's term ends the scheduler raises the decision whether to extend it
    scheduler_extension_decision_days: int = 90
    #: seconds between the scheduler's ticks (`aqp scheduler`, and beside the server in `aqp run`)
    scheduler_interval_seconds: float = 3600.0
    #: how long a sign-in link for the pages works, once (minutes)
    web_sign_in_minutes: int = 15
    #: how long a session on the pages lasts after signing in (hours)
    web_session_hours: int = 8
    #: mark the session cookie Secure even when the request came over http (behind a TLS proxy)
    web_secure_cookies: bool = False
    #: how many megabytes of drawn pages the server keeps to send again (`api.web.kept`; 0: none)
    web_kept_pages_mb: int = 64
    #: the OCDS ocid prefix of every contracting process published (`audit.ocds`): "ocds-" and a
    #: registered 6-character prefix (Find a Tender's is ocds-h6vhtk)
    ocds_prefix: str = "ocds-aqp000"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """The settings in `environ` (default: this process's environment); `SettingError` if one is wrong."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for variable, (field, parse, _default, _meaning) in VARIABLES.items():
            text = environ.get(variable, "").strip()
            if text:
                values[field] = parse(variable, text)
        return cls(**values)

    def replace(self, **changes: Any) -> Settings:
        """These settings with some changed (e.g. a `--database-url` given on the command line)."""
        return dataclasses.replace(self, **changes)


def _text(_variable: str, text: str) -> str:
    return text


def _path(_variable: str, text: str) -> Path:
    return Path(text)


def _level(variable: str, text: str) -> str:
    import logging  # noqa: PLC0415 - only when a level is set: `aqp --help` need not load logging

    if not isinstance(getattr(logging, text.upper(), None), int):
        raise SettingError(f"{variable} must be a log level (debug, info, warning, error, critical), not {text!r}")
    return text


def _format(variable: str, text: str) -> str:
    if text not in ("json", "console"):
        raise SettingError(f"{variable} must be json or console, not {text!r}")
    return text


def _yes_no(variable: str, text: str) -> bool:
    if text.lower() in ("yes", "true", "1"):
        return True
    if text.lower() in ("no", "false", "0"):
        return False
    raise SettingError(f"{variable} must be yes or no, not {text!r}")


def _auto_yes_no(variable: str, text: str) -> bool | None:
    if text.lower() == "auto":
        return None
    try:
        return _yes_no(variable, text)
    except SettingError:
        raise SettingError(f"{variable} must be auto, yes or no, not {text!r}") from None


def _whole(variable: str, text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise SettingError(f"{variable} must be a whole number, not {text!r}") from None
    if value < 0:
        raise SettingError(f"{variable} must not be negative, not {text!r}")
    return value


def _port(variable: str, text: str) -> int:
    value = _whole(variable, text)
    if value > 65535:
        raise SettingError(f"{variable} must be a port number (0-65535), not {text!r}")
    return value


def _seconds(variable: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise SettingError(f"{variable} must be a number of seconds, not {text!r}") from None
    if not value >= 0:  # also refuses nan
        raise SettingError(f"{variable} must be a number of seconds, not {text!r}")
    return value


def _ocid_prefix(variable: str, text: str) -> str:
    if not re.fullmatch(r"ocds-[a-z0-9]{6}", text):
        raise SettingError(f"{variable} must be ocds- and a 6-character registered prefix (e.g. ocds-h6vhtk), not {text!r}")
    return text


Parse = Callable[[str, str], Any]

#: variable -> (field, how its text is read, the default as the README says it, what it means)
VARIABLES: dict[str, tuple[str, Parse, str, str]] = {
    "AQP_DATABASE_URL": (
        "database_url", _text, f"`{DEFAULT_DATABASE_URL}`",
        "`sqlite:///relative.db`, `sqlite:////absolute.db`, or `postgresql://user:password@host:5432/dbname?schema=name`",
    ),
    "AQP_CREATE_TABLES": ("create_tables", _yes_no, "`yes`", "`no` for a PostgreSQL application role that may not create tables"),
    "AQP_LOG_FORMAT": ("log_format", _format, "`console` on a terminal, else `json`", "logs go to stderr"),
    "AQP_LOG_LEVEL": ("log_level", _level, "`warning` (`info` for `serve` and `projections run --follow`)", ""),
    "AQP_KEY_DIR": ("key_dir", _path, "`var/keys`", "the checkpoint signing key and the published verifier keys"),
    "AQP_SIGNING_KEY_FILE": ("signing_key_file", _path, "`$AQP_KEY_DIR/signing.key`", "the private signing key (mode 0600)"),
    "AQP_LOG_ORIGIN": ("log_origin", _text, f"`{DEFAULT_ORIGIN}`", "the log's name in checkpoints and the key's name"),
    "AQP_AUDIT_FOLLOW": ("audit_follow", _yes_no, "`yes`", "keep the Merkle log current after each command"),
    "AQP_CHECKPOINT_EVERY_EVENTS": ("checkpoint_every_events", _whole, "`1000`", "how often the running ledger signs: every N events..."),
    "AQP_CHECKPOINT_EVERY_SECONDS": ("checkpoint_every_seconds", _seconds, "`3600`", "...or every T seconds"),
    "AQP_PROJECTIONS_FOLLOW": (
        "projections_follow", _yes_no, "`yes`",
        "keep the read models current after each command (`no` where `aqp projections run --follow` does it)",
    ),
    "AQP_KEPT_AGGREGATES": (
        "kept_aggregates", _whole, "`2000`",
        "how many records a process keeps between commands, so a command on a long record reads only its new events (`0`: none)",
    ),
    "AQP_SNAPSHOTS": (
        "snapshots", _yes_no, "`yes`",
        "read long records from sealed snapshots, taking one every 50 events (the seal's key is `snapshot-seal.key` in `AQP_KEY_DIR`)",
    ),
    "AQP_GROUP_COMMIT": (
        "group_commit", _auto_yes_no, "`no`",
        "concurrent requests' commands share one transaction and commit, each decided and answered alone (`auto`: on PostgreSQL, not SQLite; off by default until an unexplained 409 under two processes is understood)",
    ),
    "AQP_HTTP_HOST": ("http_host", _text, "`127.0.0.1`", "where `aqp serve` and `aqp run` listen (`--host`)"),
    "AQP_HTTP_PORT": ("http_port", _port, "`8000`", "their port (`--port`)"),
    "AQP_CQC_BASE_URL": ("cqc_base_url", _text, "`https://api.service.cqc.org.uk`", "the CQC API `aqp cqc sync` reads (`--base-url`)"),
    "AQP_CQC_API_KEY": ("cqc_api_key", _text, "none", "the CQC API subscription key (never logged)"),
    "AQP_VACANCIES_STALE_AFTER_DAYS": (
        "vacancies_stale_after_days", _whole, "`3`", "a vacancy report older than this many days is stale (`/locations?stale=`)",
    ),
    "AQP_API_REPLAY_MAX_EVENTS": (
        "api_replay_max_events", _whole, "`20000`", "the most events the HTTP API replays for one `?as_of=` read (`aqp replay` has no limit)",
    ),
    "AQP_SCHEDULER_REMINDER_DAYS": (
        "scheduler_reminder_days", _whole, "`3`",
        "days before a return's deadline the scheduler reminds the home of a return not yet received (never before the period ends)",
    ),
    "AQP_SCHEDULER_EXTENSION_DECISION_DAYS": (
        "scheduler_extension_decision_days", _whole, "`90`",
        "days before a contract's term ends the scheduler raises the decision whether to extend it (where its framework allows one)",
    ),
    "AQP_SCHEDULER_INTERVAL_SECONDS": (
        "scheduler_interval_seconds", _seconds, "`3600`", "how often `aqp scheduler` (and the scheduler `aqp run` starts) ticks (`--interval`)",
    ),
    "AQP_WEB_SIGN_IN_MINUTES": ("web_sign_in_minutes", _whole, "`15`", "how long a sign-in link for the pages works (once)"),
    "AQP_WEB_SESSION_HOURS": ("web_session_hours", _whole, "`8`", "how long a session on the pages lasts after signing in"),
    "AQP_WEB_SECURE_COOKIES": (
        "web_secure_cookies", _yes_no, "`no`", "`yes` marks the session cookie Secure behind a TLS proxy (it always is over https)",
    ),
    "AQP_WEB_KEPT_PAGES_MB": (
        "web_kept_pages_mb", _whole, "`64`",
        "megabytes of drawn pages kept to send again until the ledger changes (`0`: every page drawn afresh)",
    ),
    "AQP_OCDS_PREFIX": (
        "ocds_prefix", _ocid_prefix, "`ocds-aqp000`",
        "the OCDS ocid prefix (`ocds-` and a registered 6-character prefix) of every contracting process published",
    ),
}

_current: Settings | None = None


def load(environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings (from this process's environment by default) and make them the process's."""
    global _current
    _current = Settings.from_env(environ)
    return _current


def current() -> Settings:
    """The process's settings: those an entry point loaded, else read from the environment now, once."""
    return _current if _current is not None else load()
