"""The application service: one dispatcher that applies a command to the ledger.

get -> decide -> save: the dispatcher loads the aggregate the command names, opens a command
context (who, when, why: stamped on every event), calls one domain method and saves what it
produced in one atomic write. A refusal (a `DomainError`) saves nothing. The same `handle`
serves scenario files, the CLI and the HTTP API.
"""

from __future__ import annotations


import uuid
from collections.abc import Callable
from functools import cached_property
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlparse

import msgspec
import structlog
from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import IntegrityError

from audit.erasure import PersonalDataAsCiphertext, SubjectKeys
from domain.commands import COMMAND_TYPES
from domain.kernel import command_types as c
from domain.kernel.command_types import error_info
from domain.kernel.dispatch import HANDLERS
from domain.kernel.errors import DomainError, NotFound
from domain.kernel.metadata import Actor, CommandContext, LedgerAggregate, acting
from domain.access import require_role
from domain.procurement.competition import Competition, competition_state, competition_view

log = structlog.get_logger("aqp.ledger")

DEFAULT_DATABASE_URL = "sqlite:///var/ledger.db"
TAggregate = TypeVar("TAggregate", bound=LedgerAggregate)


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


class Ledger(Application):
    """AQP Ledger's event-sourced application."""

    name = "AQPLedger"
    # Projections and the audit log read the notification log in large pages.
    log_section_size = 1000

    def __init__(self, env: Any = None) -> None:
        super().__init__(env)
        #: called with the recordings after each committed command (e.g. the audit log follower)
        self.after_save: list[Callable[[list[Any]], None]] = []

    def register_transcodings(self, transcoder: Any) -> None:
        super().register_transcodings(transcoder)
        # Personal data is stored only as ciphertext under its subject's key; the key table
        # lives in the same database, which exists once the recorder does (hence lazily).
        transcoder.register(PersonalDataAsCiphertext(lambda: self.subject_keys))

    @cached_property
    def subject_keys(self) -> SubjectKeys:
        return SubjectKeys(self)

    @classmethod
    def from_database_url(cls, database_url: str, *, create_tables: bool = True) -> Ledger:
        return cls(env=store_env(database_url, create_tables=create_tables))

    # ------------------------------------------------------------------ commands

    def handle(
        self,
        command: c.Command,
        actor: Actor,
        *,
        at: datetime | None = None,
        correlation_id: str | None = None,
        causation_id: str | None = None,
        business_time: datetime | None = None,
        record_with_events: Callable[[Any, c.CommandResult], None] | None = None,
    ) -> c.CommandResult:
        """Apply `command` as `actor`; a refusal is a result (`ok=False`), never an exception.

        `record_with_events(sql, result)`, if given, is called inside the transaction that
        stores the command's events, with the result as it will be returned (event positions
        are not known yet): the HTTP API stores an idempotency key's answer this way. It is
        not called when the command is refused, nor when nothing is saved.
        """
        command_type = type(command).__struct_config__.tag
        command_id = str(uuid.uuid4())
        now = at or datetime.now(timezone.utc)
        ctx = CommandContext(
            actor=actor,
            at=now,
            command_id=command_id,
            command_type=str(command_type),
            correlation_id=correlation_id or command_id,
            causation_id=causation_id or command_id,
            reason=command.reason,
            business_time=business_time,
        )
        # Bound for the whole command, so every log line written while it runs carries them.
        tokens = structlog.contextvars.bind_contextvars(
            command_id=command_id,
            correlation_id=ctx.correlation_id,
            command=command_type,
            actor=actor.id,
            org=actor.org,
            role=actor.role,
        )
        try:
            result = self._decide_and_save(command, actor, ctx, record_with_events)
            if at is None and result.error is not None and result.error.code == "time_before_last_change":
                # On the ledger's own clock this is a race, not a mistake: another process
                # recorded a change to the same record after this command took the time but
                # before it loaded the record. Taken again, the time is past that change.
                log.info("command_clock_retaken")
                ctx = msgspec.structs.replace(ctx, at=max(datetime.now(timezone.utc), ctx.at))
                result = self._decide_and_save(command, actor, ctx, record_with_events)
            return result
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

    def _decide_and_save(
        self,
        command: c.Command,
        actor: Actor,
        ctx: CommandContext,
        record_with_events: Callable[[Any, c.CommandResult], None] | None = None,
    ) -> c.CommandResult:
        now = ctx.at
        roles, action, handler = HANDLERS[type(command)]
        try:
            require_role(actor, roles, action)
            with acting(ctx):
                decision = handler(self, command, actor, now)
            save_options: dict[str, Any] = {}
            if record_with_events is not None:
                pending = [e for a in decision.aggregates for e in a.pending_events]
                expected = c.CommandResult(
                    ok=True,
                    events=[
                        c.RecordedEvent(type=type(e).__qualname__, aggregate_id=str(e.originator_id), version=e.originator_version)
                        for e in pending
                    ],
                    value=decision.value,
                )
                save_options["in_same_transaction"] = lambda sql: record_with_events(sql, expected)
            recordings = self.save(*decision.aggregates, **save_options) if decision.aggregates else []
            if decision.after is not None:
                decision.after()
        except DomainError as err:
            log.info("command_refused", code=err.code, reason=err.message)
            return c.CommandResult(ok=False, error=error_info(err))
        except IntegrityError:
            log.warning("command_conflicted")
            return c.CommandResult(
                ok=False,
                error=c.ErrorInfo(
                    code="concurrent_modification",
                    message="Someone else changed this record at the same moment; read it again and retry.",
                    kind="conflict",
                ),
            )
        events = [
            c.RecordedEvent(
                type=type(r.domain_event).__qualname__,
                aggregate_id=str(r.domain_event.originator_id),
                version=r.domain_event.originator_version,
                position=r.notification.id,
            )
            for r in recordings
        ]
        log.info("command_applied", events=len(events))
        for hook in self.after_save:
            try:
                hook(recordings)
            except Exception:  # noqa: BLE001 - the command is committed; a follower catches up later
                log.exception("after_save_failed", hook=type(hook).__name__)
        position = max((e.position for e in events if e.position is not None), default=None)
        return c.CommandResult(ok=True, events=events, value=decision.value, position=position)

    # -------------------------------------------------------------------- reads

    def aggregate(self, cls: type[TAggregate], reference: str, *, as_of: datetime | None = None) -> TAggregate:
        """The aggregate now, or as it stood at `as_of` (replayed from its events)."""
        aggregate_id = cls.id_for(reference)
        try:
            if as_of is None:
                return self.repository.get(aggregate_id)
            version = None
            for event in self.events.get(aggregate_id):
                if event.timestamp > as_of:
                    break
                version = event.originator_version
            if version is None:
                raise AggregateNotFoundError(aggregate_id)
            return self.repository.get(aggregate_id, version=version)
        except AggregateNotFoundError:
            when = f" as of {as_of.isoformat()}" if as_of else ""
            raise NotFound(f"There is no {cls.KIND.replace('_', ' ')} {reference}{when}.", code=f"{cls.KIND}_not_found") from None

    def exists(self, cls: type[LedgerAggregate], reference: str) -> bool:
        try:
            self.repository.get(cls.id_for(reference))
        except AggregateNotFoundError:
            return False
        return True

    def competition(self, reference: str, *, as_of: datetime | None = None) -> Competition:
        return self.aggregate(Competition, reference, as_of=as_of)

    def show_competition(
        self, reference: str, *, as_of: datetime | None = None, viewer: Actor | None = None
    ) -> dict[str, Any]:
        competition = self.competition(reference, as_of=as_of)
        if viewer is None:
            return competition_state(competition)
        return competition_view(competition, viewer)

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0


import domain.procurement.handlers  # noqa: E402, F401 - registers the competition handlers
import domain.contracts.handlers  # noqa: E402, F401 - registers the framework and contract handlers
import domain.providers.handlers  # noqa: E402, F401 - registers the provider and location handlers
import domain.monitoring.handlers  # noqa: E402, F401 - registers the return template, return and placement return handlers
import domain.monitoring.visit_handlers  # noqa: E402, F401 - registers the quality visit handlers
import domain.monitoring.kpi_handlers  # noqa: E402, F401 - registers the KPI set and performance failure handlers

_missing = set(COMMAND_TYPES.values()) - set(HANDLERS)
assert not _missing, f"commands without a handler: {_missing}"
