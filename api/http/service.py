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
  next version. So commands take `write_lock`: one at a time per process. Reads never do,
  proof bundles included (proven against the latest signed checkpoint, they write nothing).
  Across processes the database decides: the second writer of an aggregate version gets an IntegrityError, which the dispatcher turns
  into a `concurrent_modification` refusal (409), never a 500.
- worker threads are capped below the connection pool (`THREADS`, pool 5 + overflow 10), so
  a burst of requests queues for a thread rather than timing out waiting for a connection.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

import msgspec

from api.http.idempotency import IdempotencyStore, check_key, fingerprint, scope_of
from api.http.problems import FieldProblem, ProblemError, from_error_info
from api.settings import Settings
from api.tokens import Principal, TokenStore
from audit.checkpoints import Checkpoints, KeyRing
from audit.log import AuditLog
from domain.kernel import command_types as c
from domain.application import Ledger
from projections import follow

THREADS = 12


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
        """Apply a command as the principal; with a key, at most once per (principal, key)."""
        key = check_key(idempotency_key)
        scope = scope_of(principal)
        print_ = fingerprint(method, path, command)
        with self.write_lock:
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


def _answer(result: c.CommandResult, path: str) -> Answer:
    if result.ok:
        return Answer(200, msgspec.to_builtins(result))
    assert result.error is not None
    problem = from_error_info(result.error, instance=path)
    return Answer(problem.status, msgspec.to_builtins(problem))
