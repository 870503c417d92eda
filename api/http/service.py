"""The ledger as the HTTP API uses it: one per process, shared by the worker threads.

Thread safety (checked, and why there is one lock):
- reads are safe concurrently: the eventsourcing library's SQLite and PostgreSQL datastores
  hand each thread its own pooled connection (SQLite in WAL mode: readers never block the
  writer), the repository keeps no cache by default, and the personal-data key cache is a
  dict whose races only ever re-read the same key;
- commands are NOT safe to interleave in one process: after each save the ledger runs its
  after-save hooks (the Merkle log follower, whose in-memory tip and node cache are not
  guarded; the read-model follower; the processes that award contracts and record
  performance failures), and two commands loading the same aggregate would race for its
  next version. So commands take `write_lock`: one at a time per process. With group commit
  (`AQP_GROUP_COMMIT`, on by default on PostgreSQL) the holder of the lock takes every command
  queued by concurrent requests and the ledger decides them in turn and stores them in one
  transaction (`Ledger.handle_together`, `domain/grouped.py`); still one group at a time. Reads never do,
  proof bundles included (proven against the latest signed checkpoint, they write nothing).
  Across processes the database decides: the second writer of an aggregate version gets an IntegrityError, which the dispatcher turns
  into a `concurrent_modification` refusal (409), never a 500.
- worker threads are capped below the connection pool (`THREADS`, pool 5 + overflow 10), so
  a burst of requests queues for a thread rather than timing out waiting for a connection.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import structlog
from eventsourcing.postgres import PostgresApplicationRecorder

from api.http.idempotency import IdempotencyStore, check_key, fingerprint, scope_of
from api.http.problems import FieldProblem, ProblemError, from_error_info
from api.settings import Settings
from api.tokens import Principal, TokenStore
from audit.checkpoints import Checkpoints, KeyRing
from audit.log import AuditLog
from domain.kernel import command_types as c
from domain.application import Ledger
from domain.grouped import Queued
from projections import follow

THREADS = 12

log = structlog.get_logger("aqp.api")


def on_postgres(ledger: Ledger) -> bool:
    return isinstance(ledger.recorder, PostgresApplicationRecorder)


@dataclass
class Answer:
    """What a command request answers: a status and a body (a result, or a problem)."""

    status: int
    body: Any
    replayed: bool = False
    headers: dict[str, str] = field(default_factory=dict)


class LedgerService:
    def __init__(
        self,
        ledger: Ledger,
        *,
        owns_ledger: bool = False,
        keys: KeyRing | None = None,
        replay_max_events: int = Settings.api_replay_max_events,
        group_commit: bool | None = Settings.group_commit,
    ) -> None:
        self.ledger = ledger
        self.owns_ledger = owns_ledger
        #: the checkpoint signing keys
        self.keys = keys or KeyRing(Settings.key_dir)
        #: the most events replayed for one `?as_of=` read of a read model (`AQP_API_REPLAY_MAX_EVENTS`)
        self.replay_max_events = replay_max_events
        self.tokens = TokenStore(ledger)
        self.idempotency = IdempotencyStore(ledger)
        self.write_lock = threading.Lock()
        #: share one transaction between concurrent requests' commands (`AQP_GROUP_COMMIT`; None: on PostgreSQL)
        self.group_commit = on_postgres(ledger) if group_commit is None else group_commit
        self._queue: list[_Waiting] = []
        self._queue_lock = threading.Lock()
        #: a request is leading (taking groups to the ledger); the others wait to be answered
        self._leading = False
        self._views: dict[Any, Any] = {}
        self._views_lock = threading.Lock()
        #: read answers already worked out (`answer`), keyed by everything that decides them
        self._answers: OrderedDict[Hashable, Any] = OrderedDict()
        self._answers_lock = threading.Lock()
        #: the current aggregates read lately, by (class, reference): (version, aggregate), read-only
        self._aggregates: OrderedDict[tuple[Any, str], tuple[int, Any]] = OrderedDict()

    #: how many answers and aggregates are kept (least recently used go first)
    ANSWERS = 256
    AGGREGATES = 16

    def checkpoints(self) -> Checkpoints:
        """The signed checkpoints, for reading (made once)."""
        with self._views_lock:
            if "checkpoints" not in self._views:
                self._views["checkpoints"] = Checkpoints(AuditLog(self.ledger))
            return self._views["checkpoints"]  # type: ignore[no-any-return]

    def view(self, read_model: Any) -> Any:
        """A read model's live view, made once (its tables are created once, not on every read)."""
        with self._views_lock:
            if read_model not in self._views:
                self._views[read_model] = follow.live_view(self.ledger, read_model)
            return self._views[read_model]

    # ------------------------------------------------------------------ read caches
    #
    # A read of one competition replays its ~1,800 events and narrows them for the viewer; its
    # evaluation trail reads nine tables. Both are the same for the same viewer until something
    # is recorded, so they are kept, keyed by what decides them: the aggregate's version (or the
    # read models' positions) AND the viewer (role, organisation, user). A key is read before the
    # answer is worked out, so an entry is never older than its key: after an event on that
    # competition the version (position) is new and the entry is never found again.

    def erasures(self) -> int:
        """How many data subjects have been erased (by any process): part of every kept answer's key,
        because an erasure changes what a record shows (names become "[erased]") but no version."""
        erasures = getattr(self.ledger.subject_keys, "erasures", None)
        return erasures() if erasures is not None else 0

    def answer(self, key: Hashable, make: Callable[[], Any], *, erasures: int | None = None) -> Any:
        """The answer kept for `key` (and the erasures so far), or `make()` (kept for next time).
        Never mutate what it returns. `erasures`: the count read before the caller read what
        `make` uses (an aggregate), so that an erasure in between is never kept under a newer count."""
        key = (key, self.erasures() if erasures is None else erasures)
        with self._answers_lock:
            if key in self._answers:
                self._answers.move_to_end(key)
                return self._answers[key]
        made = make()  # outside the lock: two threads may both make it, the same answer
        with self._answers_lock:
            self._answers[key] = made
            self._answers.move_to_end(key)
            while len(self._answers) > self.ANSWERS:
                self._answers.popitem(last=False)
        return made

    def version_of(self, cls: Any, reference: str) -> int | None:
        """The aggregate's current version (one indexed read of its last event), None if it has none."""
        last = self.ledger.recorder.select_events(cls.id_for(reference), desc=True, limit=1)
        return last[0].originator_version if last else None

    def aggregate(self, cls: Any, reference: str, version: int | None = None, *, erasures: int | None = None) -> Any:
        """The aggregate as it stands (`Ledger.aggregate`), shared: callers only read it.

        Kept while `version` (read by the caller with `version_of`) is still its version.
        """
        key = (cls, reference)
        # An aggregate holds its people's data as read: an erasure since makes it stale.
        erasures = self.erasures() if erasures is None else erasures
        with self._answers_lock:
            kept = self._aggregates.get(key)
            if kept is not None and version is not None and kept[0] == (version, erasures):
                self._aggregates.move_to_end(key)
                return kept[1]
        aggregate = self.ledger.aggregate(cls, reference)
        with self._answers_lock:
            self._aggregates[key] = ((aggregate.version, erasures), aggregate)
            self._aggregates.move_to_end(key)
            while len(self._aggregates) > self.AGGREGATES:
                self._aggregates.popitem(last=False)
        return aggregate

    def position_of(self, read_model: Any) -> int:
        """How far a read model has followed the ledger (its tracking position)."""
        return self.view(read_model).max_tracking_id(self.ledger.name) or 0

    def close(self) -> None:
        if self.owns_ledger:
            self.ledger.close()

    def run(
        self,
        principal: Principal,
        command: c.Command,
        *,
        method: str,
        path: str,
        request_id: str,
        idempotency_key: str | None,
    ) -> Answer:
        """Apply a command as the principal; with a key, at most once per (principal, key).

        With group commit on (`group_commit`), concurrent requests' commands share a transaction
        (`_run_grouped`); otherwise, and for the commands the ledger never groups, one at a time."""
        key = check_key(idempotency_key)
        scope = scope_of(principal)
        print_ = fingerprint(method, path, command)
        if self.group_commit:
            return self._run_grouped(_Waiting(principal, command, path, request_id, key, scope, print_))
        with self.write_lock:
            return self._run_alone(principal, command, path=path, request_id=request_id, key=key, scope=scope, print_=print_)

    def _run_alone(
        self, principal: Principal, command: c.Command, *, path: str, request_id: str, key: str | None, scope: str, print_: str
    ) -> Answer:
        """One command in its own transaction (the caller holds `write_lock`)."""
        if key is not None:
            earlier = self._earlier(scope, key, print_)
            if earlier is not None:
                return earlier
        stored_with_events = False

        def record(sql: Any, expected: c.CommandResult) -> None:
            nonlocal stored_with_events
            self.idempotency.write(sql, scope, key, print_, 200, expected)  # type: ignore[arg-type]
            stored_with_events = True

        result = self.ledger.handle(
            command,
            principal.actor(),
            correlation_id=request_id,
            causation_id=request_id,
            record_with_events=record if key is not None else None,
        )
        answer = _answer(result, path)
        if key is not None and not stored_with_events:
            if result.error is not None and result.error.code == "concurrent_modification":
                # Perhaps our own key, written by a concurrent request in another process.
                earlier = self._earlier(scope, key, print_)
                if earlier is not None:
                    return earlier
            else:
                self.idempotency.keep(scope, key, print_, answer.status, answer.body)
        return answer

    # ------------------------------------------------------------ group commit
    #
    # Each request queues its command. One request at a time leads: it takes `write_lock`, then
    # every command queued by then, and hands them to the ledger as one group
    # (`Ledger.handle_together`): each decided in turn against the group's records, all stored in
    # one transaction, the after-save hooks run once. It then wakes each request of the group to
    # answer, and hands the lead to the first request queued meanwhile (if any), which takes the
    # next group. The others wait on their own event, not on the lock: a request answered by a
    # group never has to take the lock to learn it. No timer: a group is whatever queued while
    # the previous one was being stored.

    def _run_grouped(self, waiting: _Waiting) -> Answer:
        with self._queue_lock:
            self._queue.append(waiting)
            leading = not self._leading
            self._leading = True
        if not leading:
            waiting.wake.wait()  # answered, or handed the lead
        if not waiting.done:
            try:
                with self.write_lock:
                    if len(self._queue) < 2:
                        # Let the requests just answered (runnable, waiting for the GIL) queue their
                        # next commands first: no wait, one yield of the interpreter.
                        time.sleep(0)
                    with self._queue_lock:
                        taken, self._queue = self._queue, []
                    try:
                        self._run_group(taken)
                    except BaseException as err:  # noqa: BLE001 - told to every request not answered yet
                        for w in taken:
                            if w.answer is None and w.error is None:
                                w.error = err
                    finally:
                        for w in taken:
                            w.done = True
                            w.wake.set()
            finally:
                with self._queue_lock:
                    if self._queue:
                        self._queue[0].wake.set()  # the lead passes to the first request queued meanwhile
                    else:
                        self._leading = False
        if waiting.error is not None:
            raise waiting.error
        assert waiting.answer is not None
        return waiting.answer

    def _alone(self, w: _Waiting) -> None:
        tokens = structlog.contextvars.bind_contextvars(request_id=w.request_id)  # its own, not the leading request's
        try:
            w.answer = self._run_alone(w.principal, w.command, path=w.path, request_id=w.request_id, key=w.key, scope=w.scope, print_=w.print_)
        except BaseException as err:  # noqa: BLE001 - answered to its own request, raised in its thread
            w.error = err
        finally:
            structlog.contextvars.reset_contextvars(**tokens)

    def _run_group(self, taken: list[_Waiting]) -> None:
        """The commands taken, in the order they queued: in groups, each command the ledger never
        groups (`Ledger.groups`) alone, after the group before it is stored."""
        segment: list[_Waiting] = []
        for w in taken:
            if self.ledger.groups(w.command):
                segment.append(w)
            else:
                self._run_segment(segment)
                segment = []
                self._alone(w)
        self._run_segment(segment)

    def _run_segment(self, taken: list[_Waiting]) -> None:
        if not taken:
            return
        grouped: list[_Waiting] = []
        after: list[_Waiting] = []  # a second request with a key already in the group: once the first is stored
        keys: set[tuple[str, str]] = set()
        # One read for the group's keys; a key found is looked at alone (its answer, or a 422).
        used = self.idempotency.used(list({(w.scope, w.key) for w in taken if w.key is not None}))
        for w in taken:
            if w.key is None:
                grouped.append(w)
            elif (w.scope, w.key) in keys:
                after.append(w)
            elif (w.scope, w.key) not in used:
                keys.add((w.scope, w.key))
                grouped.append(w)
            else:
                try:
                    w.answer = self._earlier(w.scope, w.key, w.print_)
                except BaseException as err:  # noqa: BLE001 - a key reused for another request: its 422
                    w.error = err
                    continue
                if w.answer is None:
                    keys.add((w.scope, w.key))
                    grouped.append(w)
        try:
            outcomes = self.ledger.handle_together([self._queued(w) for w in grouped]) if len(grouped) > 1 else None
        except Exception as err:  # noqa: BLE001 - whether the group was stored is not known: each is told, none is retried
            log.exception("group_failed", commands=len(grouped))
            for w in grouped:
                w.error = err
            grouped, outcomes = [], []
        if outcomes is None:
            # One command, or the group's transaction failed: each alone, as without group commit.
            for w in grouped:
                self._alone(w)
        else:
            for w, outcome in zip(grouped, outcomes, strict=True):
                if isinstance(outcome, BaseException):
                    w.error = outcome
                    continue
                try:
                    answer = _answer(outcome, w.path)
                    if w.key is not None and not w.stored_with_events:
                        # Refused, or nothing to store: the answer is kept as `_run_alone` keeps it.
                        self.idempotency.keep(w.scope, w.key, w.print_, answer.status, answer.body)
                    w.answer = answer
                except BaseException as err:  # noqa: BLE001
                    w.error = err
        for w in after:
            self._alone(w)

    def _queued(self, w: _Waiting) -> Queued:
        record = None
        if w.key is not None:
            key = w.key

            def record(sql: Any, expected: c.CommandResult) -> None:
                self.idempotency.write(sql, w.scope, key, w.print_, 200, expected)
                w.stored_with_events = True

        return Queued(
            w.command, w.principal.actor(), correlation_id=w.request_id, causation_id=w.request_id, record_with_events=record,
            request_id=w.request_id,
        )

    def _earlier(self, scope: str, key: str, print_: str) -> Answer | None:
        stored = self.idempotency.find(scope, key)
        if stored is None:
            return None
        if stored.fingerprint != print_:
            raise ProblemError(
                422,
                "idempotency_key_reused",
                "This Idempotency-Key was already used for a different request; use a new key for a new request.",
                [FieldProblem(field="header:Idempotency-Key", rule="unique_per_request", message="already used for another request")],
            )
        return Answer(stored.status, stored.body, replayed=True, headers={"Idempotent-Replayed": "true"})


@dataclass
class _Waiting:
    """A request's command waiting for its group, and then its answer (or the exception to raise)."""

    principal: Principal
    command: c.Command
    path: str
    request_id: str
    key: str | None
    scope: str
    print_: str
    answer: Answer | None = None
    error: BaseException | None = None
    done: bool = False
    #: its idempotency key was written in the group's transaction
    stored_with_events: bool = False
    #: set when it is answered, or handed the lead
    wake: threading.Event = field(default_factory=threading.Event)


def _answer(result: c.CommandResult, path: str) -> Answer:
    if result.ok:
        return Answer(200, msgspec.to_builtins(result))
    assert result.error is not None
    problem = from_error_info(result.error, instance=path)
    return Answer(problem.status, msgspec.to_builtins(problem))
