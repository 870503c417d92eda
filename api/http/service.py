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
