"""The application service: one dispatcher that applies a command to the ledger.

get -> decide -> save: the dispatcher loads the aggregate the command names, opens a command
context (who, when, why: stamped on every event), calls one domain method and saves what it
produced in one atomic write. A refusal (a `DomainError`) saves nothing. The same `handle`
serves scenario files, the CLI and the HTTP API.

What the ledger stands on is given to it by the bootstrap (`api/bootstrap.py`): the store
(the library's settings, `env`), the clock that says when a command without a time happens,
and the keys that keep personal data as ciphertext (`SubjectKeys`, in `audit/erasure.py`).
"""

from __future__ import annotations


import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol, TypeVar

import msgspec
import structlog
from eventsourcing.application import AggregateNotFoundError, Application, Repository
from eventsourcing.persistence import IntegrityError, Transcoding

from domain.commands import COMMAND_TYPES
from domain.commissioning import Commissioning
from domain.kernel import command_types as c
from domain.kernel.command_types import check_bounds, error_info
from domain.kernel.dispatch import HANDLERS
from domain.kernel.errors import DomainError, no_such
from domain.kernel.metadata import Actor, CommandContext, LedgerAggregate, acting
from domain.grouped import Conflict, Group, Queued
from domain.kept_aggregates import Borrowing, KeptAggregates
from domain.access import require_role
from domain.procurement.competition import Competition
from domain.providers.location import Location
from domain.procurement.views import competition_state, seen_by

log = structlog.get_logger("aqp.ledger")

TAggregate = TypeVar("TAggregate", bound=LedgerAggregate)
TRead = TypeVar("TRead")


#: On the ledger's own clock a command refused as earlier than its record's last change has
#: raced, not erred: another process recorded a change to the record after this command took the
#: time but before it loaded the record. Taken again, the time is past that change; under many
#: writers the next change can come between again, so it is taken up to this many times (a clock
#: set back by more than the retakes cover is answered as it is: `time_before_last_change`).
CLOCK_RETAKES = 5


def _raced_the_clock(outcome: Any) -> bool:
    return isinstance(outcome, c.CommandResult) and outcome.error is not None and outcome.error.code == "time_before_last_change"


def _expected(events: list[Any], value: Any) -> c.CommandResult:
    """The answer a command will give once `events` are stored, as far as it is known before (no positions yet)."""
    return c.CommandResult(
        ok=True,
        events=[c.RecordedEvent(type=type(e).__qualname__, aggregate_id=str(e.originator_id), version=e.originator_version) for e in events],
        value=value,
    )


def recorded_events(recordings: Any) -> list[c.RecordedEvent]:
    """What a command's answer says of the events it stored (type, record, version, position)."""
    return [
        c.RecordedEvent(
            type=type(r.domain_event).__qualname__,
            aggregate_id=str(r.domain_event.originator_id),
            version=r.domain_event.originator_version,
            position=r.notification.id,
        )
        for r in recordings
    ]


@dataclass
class _Decided:
    """One command of a group, decided: its events (accepted) or its outcome (refused or failed)."""

    queued: Queued
    ctx: CommandContext
    outcome: c.CommandResult | BaseException | None = None
    events: list[Any] = field(default_factory=list)
    expected: c.CommandResult | None = None
    after: Callable[[], None] | None = None


class SubjectKeys(Protocol):
    """The data subjects' keys: personal data is stored only as ciphertext under its subject's key."""

    def transcoding(self) -> Transcoding:
        """How `PersonalData` is written to and read from the store."""
        ...

    def erase(self, subject: str) -> bool:
        """Destroy the subject's key (their stored personal data reads as erased); True if there was one."""
        ...

    def refresh(self) -> None:
        """Forget what this process holds of subjects erased since, by any process (before a read)."""
        ...


def replay(aggregate: Any, events: Any) -> Any:
    """Each event applied in turn: the library's projector less its check of every event against a
    runtime-checkable Protocol (`isinstance(e, CanMutateProtocol)`), which on Python 3.11 costs
    about half of every replay. Every event the ledger decodes is one of its aggregates' events,
    each with `mutate`, so the check says nothing here."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


class Snapshots(Protocol):
    """Sealed snapshots of long records (`audit.snapshots.SealedSnapshots`)."""

    def take(self, aggregate: Any) -> None: ...

    def nearest(self, originator_id: Any, *, version: int | None = None, at: datetime | None = None) -> tuple[Any, int | None] | None: ...


class LedgerRepository(Repository):
    """The library's repository, replaying with `replay` unless told otherwise; inside a command,
    lending the records kept between commands (`domain.kept_aggregates`) if the process keeps any."""

    #: the records kept between commands (set by `Ledger.keep_aggregates`)
    kept: KeptAggregates | None = None
    #: the sealed snapshots (`audit.snapshots`, set by `Ledger.use_snapshots`)
    snapshots_sealed: Snapshots | None = None

    def _reconstruct_aggregate(self, aggregate_id: Any, version: int | None, projector_func: Any) -> Any:
        nearest = self.snapshots_sealed.nearest(aggregate_id, version=version) if self.snapshots_sealed else None
        if nearest is None:
            return super()._reconstruct_aggregate(aggregate_id, version, projector_func)
        restored, _ = nearest
        return projector_func(restored, self.event_store.get(originator_id=aggregate_id, gt=restored.version, lte=version))

    def get(self, aggregate_id: Any, *, version: int | None = None, projector_func: Any = replay, **options: Any) -> Any:
        group = Group.current(self)
        if group is not None and version is None and projector_func is replay and not options:
            # Inside a group of commands (`domain.grouped`): the record as the group's earlier commands left it.
            return group.get(aggregate_id, lambda: self._get(aggregate_id, version=None, projector_func=replay))
        return self._get(aggregate_id, version=version, projector_func=projector_func, **options)

    def _get(self, aggregate_id: Any, *, version: int | None = None, projector_func: Any = replay, **options: Any) -> Any:
        borrowing = KeptAggregates.borrowing() if self.kept is not None else None
        if borrowing is None or version is not None or projector_func is not replay or self.cache is not None:
            return super().get(aggregate_id, version=version, projector_func=projector_func, **options)
        assert self.kept is not None
        record = self.kept.take(aggregate_id, borrowing)
        if record is None:
            record = self._reconstruct_aggregate(aggregate_id, None, replay)
        else:
            # What other processes (or this one, outside the shelf) stored since it was kept.
            record = replay(record, self.event_store.get(originator_id=aggregate_id, gt=record.version))
        borrowing.records.append(record)
        return record


class Ledger(Application):
    """AQP Ledger's event-sourced application."""

    name = "AQPLedger"
    # Projections and the audit log read the notification log in large pages.
    log_section_size = 1000

    def __init__(
        self, env: Any = None, *, clock: Callable[[], datetime], subject_keys: Callable[[Ledger], SubjectKeys]
    ) -> None:
        #: the time of a command sent without one (an aware datetime)
        self.clock = clock
        self._subject_keys = subject_keys
        #: what is wrong with a past notice's release against the official OCDS schema, as problems
        #: ({"field", "rule", "message"}); given by the bootstrap (the schema is audit's), so that a
        #: release sent by any path, not only the importer, is checked in full before it is taken
        self.release_problems: Callable[[dict[str, Any]], list[dict[str, str]]] | None = None
        super().__init__(env)
        #: called with the recordings after each committed command (e.g. the audit log follower)
        self.after_save: list[Callable[[list[Any]], None]] = []
        #: who commissions what, from the frameworks recorded (`domain.commissioning`)
        self.commissioning = Commissioning(self)

    def construct_repository(self) -> LedgerRepository:
        """The library's repository with its settings (cache, fast-forward, copies), replaying with `replay`."""
        made = super().construct_repository()
        return LedgerRepository(
            event_store=made.event_store, snapshot_store=made.snapshot_store,
            cache_maxsize=None if made.cache is None else getattr(made.cache, "maxsize", 0),
            fastforward=made.fastforward, fastforward_skipping=made.fastforward_skipping,
            deepcopy_from_cache=made.deepcopy_from_cache,
        )

    #: the records whose histories grow long, and how often a snapshot of each is taken (in events)
    snapshot_every: ClassVar[dict[type, int]] = {Location: 50}

    def use_snapshots(self, snapshots: Snapshots | None) -> None:
        """Read long records from their sealed snapshots and take new ones (None: replay every event)."""
        self.repository.snapshots_sealed = snapshots

    @property
    def snapshots_sealed(self) -> Snapshots | None:
        """The sealed snapshots, if this process has their key (held by the repository, which reads them)."""
        return self.repository.snapshots_sealed

    def _erasure_count(self) -> int | None:
        erasures = getattr(self.subject_keys, "erasures", None)
        return erasures() if erasures is not None else None

    def _snapshot_long_records(self, saved: list[tuple[Any, int]], erasures_before: int | None) -> None:
        # After the command is stored; a snapshot missed costs only a longer replay.
        crossing = [
            (aggregate, before) for aggregate, before in saved
            if (every := self.snapshot_every.get(type(aggregate))) and aggregate.version // every > before // every
        ]
        if not crossing:
            return
        try:
            erased_meanwhile = erasures_before is not None and self._erasure_count() != erasures_before
        except Exception:  # noqa: BLE001 - the command is stored; the next interval tries again
            log.exception("snapshot_failed", reason="erasures_uncounted")
            return
        if erased_meanwhile:
            # A subject erased since the records were read: their state may hold the erased data in
            # the clear, which a snapshot would store again. The next interval takes one.
            log.info("snapshot_skipped", reason="erasure_meanwhile")
            return
        for aggregate, _ in crossing:
            if not aggregate.pending_events:
                try:
                    self.snapshots_sealed.take(aggregate)  # type: ignore[union-attr]
                except Exception:  # noqa: BLE001 - the command is stored; the next interval tries again
                    log.exception("snapshot_failed", record=str(aggregate.id), version=aggregate.version)

    def keep_aggregates(self, size: int) -> None:
        """Keep up to `size` records between commands (`domain.kept_aggregates`); 0 keeps none."""
        self.repository.kept = KeptAggregates(size, lambda: self._erasure_count() or 0) if size > 0 else None

    def register_transcodings(self, transcoder: Any) -> None:
        super().register_transcodings(transcoder)
        # Called while the library builds the ledger, before its store exists: the keys
        # (kept in the same database) must not be read until first used.
        self.subject_keys = self._subject_keys(self)
        transcoder.register(self.subject_keys.transcoding())

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
        ctx = self._context(command, actor, at=at, correlation_id=correlation_id, causation_id=causation_id, business_time=business_time)
        # Bound for the whole command, so every log line written while it runs carries them.
        tokens = structlog.contextvars.bind_contextvars(
            command_id=ctx.command_id,
            correlation_id=ctx.correlation_id,
            command=ctx.command_type,
            actor=actor.id,
            org=actor.org,
            role=actor.role,
        )
        try:
            result = self._decide_and_save(command, actor, ctx, record_with_events)
            for attempt in range(1, CLOCK_RETAKES + 1):
                if at is not None or not _raced_the_clock(result):
                    break
                log.info("command_clock_retaken", attempt=attempt)
                ctx = msgspec.structs.replace(ctx, at=max(self.clock(), ctx.at))
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
        kept = self.repository.kept
        if kept is None:
            return self._decide_and_save_lent(command, actor, ctx, record_with_events, None)
        with kept.lending() as borrowing:
            return self._decide_and_save_lent(command, actor, ctx, record_with_events, borrowing)

    def _decide_and_save_lent(
        self,
        command: c.Command,
        actor: Actor,
        ctx: CommandContext,
        record_with_events: Callable[[Any, c.CommandResult], None] | None,
        borrowing: Borrowing | None,
    ) -> c.CommandResult:
        now = ctx.at
        roles, action, handler = HANDLERS[type(command)]
        # The erasures counted before the command reads any record: a snapshot is taken only if
        # none was made while it ran (`_snapshot_long_records`).
        erasures_before = None
        if self.snapshots_sealed is not None:
            erasures_before = borrowing.erasures if borrowing is not None else self._erasure_count()
        try:
            require_role(actor, roles, action)
            # Sets without duplicates, dates within the century and about-now dates near `now`:
            # the bounds a decoder cannot check, for commands from every door.
            check_bounds(command, now)
            with acting(ctx):
                decision = handler(self, command, actor, now)
            save_options: dict[str, Any] = {}
            if record_with_events is not None:
                expected = _expected([e for a in decision.aggregates for e in a.pending_events], decision.value)
                save_options["in_same_transaction"] = lambda sql: record_with_events(sql, expected)
            versions_before = [(a, a.version - len(a.pending_events)) for a in decision.aggregates]
            recordings = self.save(*decision.aggregates, **save_options) if decision.aggregates else []
            if self.snapshots_sealed is not None and recordings:
                self._snapshot_long_records(versions_before, erasures_before)
            if decision.after is not None:
                decision.after()
        except DomainError as err:
            log.info("command_refused", code=err.code, reason=err.message)
            return c.CommandResult(ok=False, error=error_info(err))
        except IntegrityError:
            log.warning("command_conflicted")
            if borrowing is not None:
                borrowing.spoiled = True  # its events were collected from the records, then not stored
            return c.CommandResult(
                ok=False,
                error=c.ErrorInfo(
                    code="concurrent_modification",
                    message="Someone else changed this record at the same moment; read it again and retry.",
                    kind="conflict",
                ),
            )
        events = recorded_events(recordings)
        log.info("command_applied", events=len(events))
        for hook in self.after_save:
            try:
                hook(recordings)
            except Exception:  # noqa: BLE001 - the command is committed; a follower catches up later
                log.exception("after_save_failed", hook=type(hook).__name__)
        position = max((e.position for e in events if e.position is not None), default=None)
        return c.CommandResult(ok=True, events=events, value=decision.value, position=position)

    # ------------------------------------------------------------ group commit

    #: the commands never grouped (`domain.grouped`): what they decide reads more than their records
    #: (a framework's commissioners are read from the notification log by the access checks of
    #: every later command; an erasure destroys a key after its event is stored)
    decided_alone: ClassVar[frozenset[str]] = frozenset({"framework.establish", "personal_data.erase"})

    def groups(self, command: c.Command) -> bool:
        """Whether `command` may be decided in a group (`handle_together`)."""
        return self.repository.cache is None and type(command).__struct_config__.tag not in self.decided_alone

    def handle_together(self, queued: list[Queued]) -> list[c.CommandResult | BaseException] | None:
        """Decide each command in turn, as `handle` would, and store every accepted command's events
        (with their Merkle leaves and each command's `record_with_events`) in ONE transaction.

        Returns one outcome per command, in order: its result (a refusal is a result), or the
        exception its handler raised. None when nothing was stored: the transaction failed (e.g.
        another process stored an event of one of the records first) or a record changed under
        the group; the caller then handles each command alone (`handle`), as if never grouped.
        The after-save hooks run once, with every recording of the group.
        """
        kept = self.repository.kept
        try:
            if kept is None:
                return self._handle_group(queued, None)
            with kept.lending() as borrowing:
                return self._handle_group(queued, borrowing)
        except Conflict:
            log.info("group_conflicted", commands=len(queued))
            return None

    def _context(
        self, command: c.Command, actor: Actor, *, at: datetime | None, correlation_id: str | None,
        causation_id: str | None, business_time: datetime | None,
    ) -> CommandContext:
        command_id = str(uuid.uuid4())
        return CommandContext(
            actor=actor,
            at=at or self.clock(),
            command_id=command_id,
            command_type=str(type(command).__struct_config__.tag),
            correlation_id=correlation_id or command_id,
            causation_id=causation_id or command_id,
            reason=command.reason,
            business_time=business_time,
        )

    def _handle_group(self, queued: list[Queued], borrowing: Borrowing | None) -> list[c.CommandResult | BaseException] | None:
        erasures_before = None
        if self.snapshots_sealed is not None:
            erasures_before = borrowing.erasures if borrowing is not None else self._erasure_count()
        group = Group(owner=self.repository)
        with group.deciding():
            decided = [self._decide_in_group(q, group) for q in queued]
        events = [e for d in decided for e in d.events]
        writes = [(d.queued.record_with_events, d.expected) for d in decided if d.events and d.queued.record_with_events is not None]

        def write_all(sql: Any) -> None:
            for write, expected in writes:
                write(sql, expected)  # type: ignore[misc]

        try:
            recordings = self.save(*events, **({"in_same_transaction": write_all} if writes else {})) if events else []
        except IntegrityError:
            # Refused by the store before the commit (another process stored a version or a key
            # first): nothing of the group is stored, so each command is handled alone.
            log.warning("group_commit_failed", commands=len(queued), events=len(events), exc_info=True)
            if borrowing is not None:
                borrowing.spoiled = True  # its records hold events collected, then not stored
            return None
        except BaseException:
            # Anything else (the connection lost, perhaps during the commit) leaves unknown whether
            # the group was stored: handled again, a command without a key could be recorded twice.
            if borrowing is not None:
                borrowing.spoiled = True
            raise
        log.info("group_committed", commands=len(queued), events=len(events))
        outcomes: list[c.CommandResult | BaseException] = []
        start = 0
        for d in decided:
            if d.outcome is not None:
                outcomes.append(d.outcome)
                continue
            mine = recordings[start : start + len(d.events)]
            start += len(d.events)
            recorded = recorded_events(mine)
            if d.after is not None:
                try:
                    d.after()
                except Exception:  # noqa: BLE001 - its events are stored
                    log.exception("after_failed", command_id=d.ctx.command_id)
            position = max((e.position for e in recorded if e.position is not None), default=None)
            outcomes.append(c.CommandResult(ok=True, events=recorded, value=d.expected.value, position=position))
        if self.snapshots_sealed is not None and recordings:
            saved = [
                (group.records[aggregate_id], stored[0].originator_version - 1)
                for aggregate_id, stored in group.events.items()
                if aggregate_id in group.records and group.records[aggregate_id].version == stored[-1].originator_version
            ]
            self._snapshot_long_records(saved, erasures_before)
        if recordings:
            for hook in self.after_save:
                try:
                    hook(recordings)
                except Exception:  # noqa: BLE001 - the commands are committed; a follower catches up later
                    log.exception("after_save_failed", hook=type(hook).__name__)
        return outcomes

    def _decide_in_group(self, queued: Queued, group: Group) -> _Decided:
        ctx = self._context(
            queued.command, queued.actor, at=queued.at, correlation_id=queued.correlation_id,
            causation_id=queued.causation_id, business_time=queued.business_time,
        )
        tokens = structlog.contextvars.bind_contextvars(
            command_id=ctx.command_id, correlation_id=ctx.correlation_id, command=ctx.command_type,
            actor=queued.actor.id, org=queued.actor.org, role=queued.actor.role, grouped=True,
            **({"request_id": queued.request_id} if queued.request_id is not None else {}),
        )
        try:
            decided = self._decide_once(queued, ctx, group)
            for attempt in range(1, CLOCK_RETAKES + 1):  # as `handle` does
                if queued.at is not None or not _raced_the_clock(decided.outcome):
                    break
                log.info("command_clock_retaken", attempt=attempt)
                ctx = msgspec.structs.replace(ctx, at=max(self.clock(), ctx.at))
                decided = self._decide_once(queued, ctx, group)
            return decided
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

    def _decide_once(self, queued: Queued, ctx: CommandContext, group: Group) -> _Decided:
        roles, action, handler = HANDLERS[type(queued.command)]
        group.begin()
        try:
            require_role(queued.actor, roles, action)
            check_bounds(queued.command, ctx.at)
            with acting(ctx):
                decision = handler(self, queued.command, queued.actor, ctx.at)
        except DomainError as err:
            group.refuse()
            log.info("command_refused", code=err.code, reason=err.message)
            return _Decided(queued, ctx, outcome=c.CommandResult(ok=False, error=error_info(err)))
        except Conflict:
            group.refuse()
            raise
        except Exception as err:  # noqa: BLE001 - this command's failure, answered to it alone
            group.refuse()
            return _Decided(queued, ctx, outcome=err)
        events = group.accept(decision.aggregates)
        expected = _expected(events, decision.value)
        log.info("command_decided", events=len(events))
        return _Decided(queued, ctx, events=events, expected=expected, after=decision.after)

    # -------------------------------------------------------------------- reads

    def aggregate(self, cls: type[TAggregate], reference: str, *, as_of: datetime | None = None) -> TAggregate:
        """The aggregate now, or as it stood at `as_of` (replayed from its events)."""
        aggregate_id = cls.id_for(reference)
        try:
            if as_of is None:
                return self.repository.get(aggregate_id)
            # From the latest snapshot taken by `as_of` (if any), replayed as its events are read,
            # each decoded once, up to the last recorded by `as_of`.
            aggregate, after, until = None, None, None
            nearest = self.snapshots_sealed.nearest(aggregate_id, at=as_of) if self.snapshots_sealed else None
            if nearest is not None:
                aggregate, until = nearest
                after = aggregate.version
            stopped = False
            for event in self.events.get(aggregate_id, gt=after, lte=until):
                if event.timestamp > as_of:
                    stopped = True
                    break
                aggregate = event.mutate(aggregate)
            if not stopped and until is not None:
                # `until` is read from another snapshot's row, whose seal is not checked: only a
                # hint. The event after it says whether the read really ends there (one row).
                following = list(self.events.get(aggregate_id, gt=aggregate.version, limit=1))
                if following and following[0].timestamp <= as_of:
                    for event in self.events.get(aggregate_id, gt=aggregate.version):
                        if event.timestamp > as_of:
                            break
                        aggregate = event.mutate(aggregate)
            if aggregate is None:
                raise AggregateNotFoundError(aggregate_id)
            return aggregate
        except AggregateNotFoundError:
            raise no_such(cls.KIND, reference, when=f" as of {as_of.isoformat()}" if as_of else "") from None

    def read_now(self, aggregate_id: Any, read: Callable[[Any], TRead]) -> TRead:
        """`read(record)` on the record as it stands now. In a process keeping records between
        commands the kept one is lent for the read, so `read` must neither keep nor change it."""
        kept = self.repository.kept
        if kept is None or kept.borrowing() is not None:  # keeping none, or inside a command's own lending
            return read(self.repository.get(aggregate_id))
        with kept.lending():
            return read(self.repository.get(aggregate_id))

    def exists(self, cls: type[LedgerAggregate], reference: str) -> bool:
        aggregate_id = cls.id_for(reference)
        group = Group.current(self.repository)
        if group is not None:
            # In a group: made by an earlier command of it, or any event stored (one row read, not a replay).
            return group.has(aggregate_id) or bool(self.recorder.select_events(aggregate_id, limit=1))
        try:
            self.repository.get(aggregate_id)
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
        if as_of is None:
            return seen_by(competition, viewer)
        return seen_by(competition, viewer, now=self.competition(reference), when=f" as of {as_of.isoformat()}")

    def commissioners_of_home(self, location: Any) -> frozenset[str]:
        """The organisations that commission a home (a `Location`): by its local authority and commissioning area."""
        return self.commissioning.of_home(local_authority=location.area.get("local_authority"), commissioning_area=location.commissioning_area)

    def commissioners_of_contract(self, contract: Any) -> frozenset[str]:
        """The organisations that commission a contract: its framework's commissioners of its lot."""
        return self.commissioning.of_contract(framework=contract.framework, lot=contract.lot)

    def max_position(self) -> int:
        return self.recorder.max_notification_id() or 0


import domain.procurement.handlers  # noqa: E402, F401 - registers the competition handlers
import domain.contracts.handlers  # noqa: E402, F401 - registers the framework and contract handlers
import domain.providers.handlers  # noqa: E402, F401 - registers the provider and location handlers
import domain.monitoring.handlers  # noqa: E402, F401 - registers the return, quality visit, KPI and performance failure handlers
import domain.foi.handlers  # noqa: E402, F401 - registers the FOI request handlers
import domain.past_notices.handlers  # noqa: E402, F401 - registers the past notices' handler
import domain.scheduling.handlers  # noqa: E402, F401 - registers the due items' handler

_missing = set(COMMAND_TYPES.values()) - set(HANDLERS)
assert not _missing, f"commands without a handler: {_missing}"
