"""The demo's machinery: send commands as the users would, keep time, show progress, add up.

- `Sender` puts every command through `Ledger.handle` (the dispatcher the CLI, scenario
  files and the API use) with the simulated business time as `at`, counts them by type and
  stops the build at the first refusal: a correct demo is refused nothing, so a refusal is
  a bug in the demo or in the domain, and hiding it would hide the bug. Commands the
  ledger's own processes send (contracts following awards, performance failures) are
  counted and checked the same way.
- `Timeline` runs scheduled actions in business-time order, so every aggregate's history
  reads forwards in time.
- `Progress` is one line per phase on stderr.
- `figures(ledger)` reads the headline figures back from the stored events, so what the
  demo reports is what the ledger holds, not what the demo meant to do.
- `fingerprint(ledger)` is a digest of every stored event's content (topic, aggregate,
  version, time, data and metadata), for checking that a seed gives the same history.
"""

from __future__ import annotations

import hashlib
import heapq
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta, timezone
from typing import Any, TextIO

from scenarios.demo.world import People
from uuid import UUID

import msgspec
from eventsourcing.utils import get_topic

from api.cqc_import import import_records
from api.processes import ProcessFollower
from domain.application import Ledger
from domain.contracts.award_process import ContractsFromAwards
from domain.kernel.command_types import Command, CommandResult
from domain.contracts.contract import Contract
from domain.monitoring.failures import PerformanceRecord
from domain.procurement.competition import Competition
from domain.providers.location import Location
from domain.providers.provider import Provider
from domain.monitoring.quality_visits import QualityVisit
from domain.monitoring.placement_returns import PlacementReturn
from domain.monitoring.returns import Return
from domain.kernel.metadata import Actor
from domain.monitoring.performance_process import PerformanceFailures
from domain.kernel.personal import PersonalData

# ---------------------------------------------------------------------------- refusals


class DemoRefused(Exception):
    """A command the ledger refused during the build: the demo (or the domain) has a bug."""

    def __init__(self, command: Command, actor: Actor, at: datetime | None, result: CommandResult, sent: int) -> None:
        self.command = command
        self.actor = actor
        self.at = at
        self.result = result
        assert result.error is not None
        tag = type(command).__struct_config__.tag
        fields = "; ".join(f"{f.field}: {f.message}" for f in result.error.fields[:5])
        when = at.isoformat() if at else "now"
        super().__init__(
            f"the ledger refused command {sent} ({tag} by {actor.role} {actor.id} of {actor.org} at {when}): "
            f"{result.error.code}: {result.error.message}{f' [{fields}]' if fields else ''}"
        )


# ------------------------------------------------------------------------------ sending


class Sender:
    """Sends commands through the ledger's dispatcher, counting them and stopping at a refusal."""

    def __init__(self, ledger: Ledger, *, correlation: str) -> None:
        self.ledger = ledger
        self.correlation = correlation
        self.by_type: Counter[str] = Counter()
        self.sent = 0
        self.refused = 0
        self._handle = ledger.handle
        # The ledger's processes call `ledger.handle` themselves; route them through the
        # counter too, so a command they send that is refused stops the build like any other.
        ledger.handle = self._counted  # type: ignore[method-assign]
        self.contracts_from_awards = ProcessFollower(ledger, ContractsFromAwards)
        self.performance_failures = ProcessFollower(ledger, PerformanceFailures)

    def close(self) -> None:
        self.ledger.handle = self._handle  # type: ignore[method-assign]

    #: the latest business time a command was sent at (`_counted`)
    _latest: datetime | None = None

    def _counted(self, command: Command, actor: Actor, **kwargs: Any) -> CommandResult:
        when = kwargs.get("at")
        if when is not None:
            # Never earlier than the command before, as a ledger on its own clock records them:
            # an action's commands reach minutes past the next action's time (a home's area set
            # at 10:01, the next home's category at 10:00), and a back-dated record would leave
            # "every event recorded by T" no stretch of the log, for the history tables to answer.
            if self._latest is not None and when < self._latest:
                kwargs["at"] = when = self._latest
            self._latest = when
        result = self._handle(command, actor, **kwargs)
        self.sent += 1
        self.by_type[str(type(command).__struct_config__.tag)] += 1
        if not result.ok:
            self.refused += 1
            raise DemoRefused(command, actor, kwargs.get("at"), result, self.sent)
        return result

    def send(self, command: Command, actor: Actor, at: datetime, *, correlation: str | None = None) -> CommandResult:
        """One command as `actor` at business time `at`; a refusal raises `DemoRefused`."""
        return self.ledger.handle(command, actor, at=at, correlation_id=correlation or f"{self.correlation}:{self.sent + 1}")

    def import_cqc(self, records: list[dict[str, Any]], actor: Actor, at: datetime, *, batch: str) -> None:
        """CQC location records through the importer (one `location.import_cqc` per record)."""
        import_records(self.ledger, records, actor, at, correlation_id=f"{self.correlation}:cqc:{batch}")

    def follow_processes(self) -> None:
        """Let the ledger's processes catch up with the log (contracts from awards, failures)."""
        self.contracts_from_awards()
        self.performance_failures()


# ----------------------------------------------------------------------------- the clock


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """A business time on `day` (UTC; the domain works out London's day from it)."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.utc)


def days(start: date, end: date) -> Iterator[date]:
    """Every day from `start` up to, not including, `end`."""
    day = start
    while day < end:
        yield day
        day += timedelta(days=1)


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


class Clocks:
    """Each record's own clock: two actions on one record at the same minute are a second apart.

    Actions of different stories (a home's visit, its provider's other home's escalation) can
    fall on the same record at the same scheduled minute; the ledger rightly refuses a change
    recorded before the record's last one, so the later action takes the next second.
    """

    def __init__(self) -> None:
        self._last: dict[str, datetime] = {}

    def time_for(self, command: Command, when: datetime) -> datetime:
        key = next((f"{name}:{getattr(command, name)}" for name in ("contract", "competition", "location") if hasattr(command, name)), None)
        if key is None:
            return when
        last = self._last.get(key)
        if last is not None and when <= last:
            when = last + timedelta(seconds=1)
        self._last[key] = when
        return when


class Timeline:
    """Actions scheduled at business times, run in order (ties in the order they were scheduled)."""

    def __init__(self) -> None:
        self._queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self._seq = 0
        #: the business time of the action running now
        self.now: datetime | None = None

    def schedule(self, when: datetime, action: Callable[[], None]) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (when, self._seq, action))

    def run_until(self, end: datetime, on_step: Callable[[datetime], None] | None = None) -> None:
        while self._queue and self._queue[0][0] < end:
            when, _, action = heapq.heappop(self._queue)
            self.now = when
            action()
            if on_step is not None:
                on_step(when)

    def __len__(self) -> int:
        return len(self._queue)


# ------------------------------------------------------------------------------ progress


class Progress:
    """One progress line per phase on stderr: a bar on a terminal, a line every 10% otherwise."""

    def __init__(self, stream: TextIO | None = None, *, enabled: bool = True) -> None:
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = self.stream.isatty()
        self.phase = ""
        self._last_print = 0.0
        self._last_tenth = -1
        self._started = time.monotonic()

    def start(self, phase: str) -> None:
        self.finish()
        self.phase = phase
        self._last_tenth = -1
        self._started = time.monotonic()
        self._open = True

    def update(self, done: float, total: float, detail: str = "") -> None:
        if not self.enabled or not self.phase:
            return
        share = min(max(done / total if total else 1.0, 0.0), 1.0)
        if self.tty:
            now = time.monotonic()
            if now - self._last_print < 0.2 and share < 1.0:
                return
            self._last_print = now
            width = 30
            filled = int(width * share)
            print(f"\r\033[K{self.phase:<22} [{'#' * filled}{'.' * (width - filled)}] {share:4.0%} {detail}", end="", file=self.stream, flush=True)
        else:
            tenth = int(share * 10)
            if tenth > self._last_tenth:
                self._last_tenth = tenth
                print(f"{self.phase}: {share:.0%} {detail}", file=self.stream, flush=True)

    def finish(self, detail: str = "") -> None:
        if not self.enabled or not self.phase:
            return
        elapsed = time.monotonic() - self._started
        if self.tty:
            print(f"\r\033[K{self.phase:<22} done in {elapsed:.1f}s {detail}", file=self.stream, flush=True)
        else:
            print(f"{self.phase}: done in {elapsed:.1f}s {detail}", file=self.stream, flush=True)
        self.phase = ""


# ------------------------------------------------------------------------------- figures

_TOPICS = {
    "homes": get_topic(Location.Imported),
    "providers": get_topic(Provider.Imported),
    "vacancy_reports": get_topic(Location.VacanciesReported),
    "manager_changes": get_topic(Location.RegisteredManagerChanged),
    "ratings": get_topic(Location.RatingRecorded),
    "rated_inadequate": get_topic(Location.RatedInadequate),
    "suspensions": get_topic(Location.PlacementsSuspended),
    "competitions": get_topic(Competition.Opened),
    "tenders": get_topic(Competition.TenderSubmitted),
    "scores": get_topic(Competition.ScoreRecorded),
    "moderations": get_topic(Competition.ScoreModerated),
    "clarifications": get_topic(Competition.ClarificationAsked),
    "awards": get_topic(Competition.AwardConcluded),
    "contracts": get_topic(Contract.Awarded),
    "contract_homes": get_topic(Contract.HomeAdded),
    "price_variations": get_topic(Contract.Varied),
    "escalations": get_topic(Contract.Escalated),
    "terminations": get_topic(Contract.Terminated),
    "returns_submitted": get_topic(Return.Submitted),
    "returns_missed": get_topic(Return.Missed),
    "returns_amended": get_topic(Return.Amended),
    "returns_reviewed": get_topic(Return.Reviewed),
    "placement_returns": get_topic(PlacementReturn.Submitted),
    "quality_visits": get_topic(QualityVisit.Concluded),
    "critical_failures": get_topic(PerformanceRecord.CriticalFailureRecorded),
    "service_failures": get_topic(PerformanceRecord.ServiceFailureRecorded),
}
#: "within three months" of the deadline (seed 000 s.7), in days
THREE_MONTHS = 92


def _events(ledger: Ledger, topics: list[str]) -> Iterator[tuple[str, Any]]:
    position = 0
    while True:
        page = ledger.recorder.select_notifications(start=position, limit=2000, topics=topics, inclusive_of_start=False)
        for n in page:
            yield n.topic, n
            position = n.id
        if len(page) < 2000:
            return


def figures(ledger: Ledger, *, ends: date) -> dict[str, Any]:
    """Headline figures read back from the stored events.

    Returns: a return is due when it was submitted or recorded missed; on time means
    submitted by its deadline; "within three months" counts returns due at least three
    months before the demo's end (`ends`), so a return still inside its window is not
    counted as failing it.
    """
    counts: Counter[str] = Counter()
    by_topic = {topic: name for name, topic in _TOPICS.items()}
    quality: dict[str, dict[str, Any]] = {}
    placements = {"received": 0, "on_time": 0}
    rag: Counter[str] = Counter()
    detailed = {_TOPICS["returns_submitted"], _TOPICS["returns_missed"], _TOPICS["placement_returns"], _TOPICS["quality_visits"]}
    for topic, notification in _events(ledger, list(by_topic)):
        counts[by_topic[topic]] += 1
        if topic not in detailed:
            continue
        event = ledger.mapper.to_domain_event(notification)
        if topic == _TOPICS["placement_returns"]:
            placements["received"] += 1
            placements["on_time"] += bool(event.lateness["on_time"])
        elif topic == _TOPICS["quality_visits"]:
            rag[event.outcome["rag"]] += 1
        else:
            record = quality.setdefault(str(event.originator_id), {})
            if topic == _TOPICS["returns_missed"]:
                record["missed"] = True
                record["due_on"] = (date.fromisoformat(event.missed_on) - timedelta(days=event.days_overdue)).isoformat()
            else:
                record["lateness"] = event.lateness
                record["due_on"] = event.lateness["due_on"]
    counts["rated_inadequate"] += 0
    counts["ratings"] += counts["rated_inadequate"]  # Inadequate ratings have an event class of their own
    due = len(quality)
    submitted = [r["lateness"] for r in quality.values() if "lateness" in r]
    on_time = sum(1 for lateness in submitted if lateness["on_time"])
    window_closed = [r for r in quality.values() if date.fromisoformat(r["due_on"]) + timedelta(days=THREE_MONTHS) <= ends]
    within = sum(1 for r in window_closed if "lateness" in r and r["lateness"]["days_late"] <= THREE_MONTHS)
    return {
        "events": ledger.max_position(),
        **{name: counts[name] for name in _TOPICS},
        "quality_returns": {
            "due": due,
            "received": len(submitted),
            "on_time": on_time,
            "on_time_percent": round(100 * on_time / due, 1) if due else None,
            "due_3_months_before_end": len(window_closed),
            "within_3_months": within,
            "within_3_months_percent": round(100 * within / len(window_closed), 1) if window_closed else None,
            "never_received": due - len(submitted),
        },
        "placement_returns_on_time_percent": round(100 * placements["on_time"] / placements["received"], 1) if placements["received"] else None,
        "quality_visit_rag": dict(sorted(rag.items())),
    }


# --------------------------------------------------------------------------- fingerprint


def _plain(value: Any) -> Any:
    if isinstance(value, PersonalData):
        return {"subject": value.subject, "value": value.value}
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, msgspec.Struct):
        return _plain(msgspec.to_builtins(value))
    return value


def event_content(ledger: Ledger, notification: Any) -> dict[str, Any]:
    """A stored event as plain data, without what is random by design.

    Each command gets a random id (its own correlation and cause unless told otherwise), and
    personal data is stored as ciphertext under a random key and nonce: those differ between
    two builds of the same seed, everything else must not.
    """
    event = ledger.mapper.to_domain_event(notification)
    state = {k: _plain(v) for k, v in sorted(vars(event).items())}
    meta = dict(state.get("meta") or {})
    command_id = meta.pop("command_id", None)
    for key in ("correlation_id", "causation_id"):
        if meta.get(key) == command_id:
            meta[key] = "(the command itself)"  # what the ledger's own processes send
    state["meta"] = meta
    return {"topic": notification.topic, "id": str(notification.originator_id), "version": notification.originator_version, "state": state}


def fingerprint(ledger: Ledger) -> str:
    """SHA-256 over every stored event's content in notification order (see `event_content`)."""
    digest = hashlib.sha256()
    position = 0
    while True:
        page = ledger.recorder.select_notifications(start=position, limit=2000, inclusive_of_start=False)
        for n in page:
            digest.update(json.dumps(event_content(ledger, n), sort_keys=True, separators=(",", ":")).encode())
            position = n.id
        if len(page) < 2000:
            return digest.hexdigest()



#: every demo's history ends here (the bank-holiday calendar runs 2018 to 2026)
LAST_DAY = date(2025, 12, 31)


class DemoScale:
    """What every scale of demo starts from: its years, clock bounds, random source and people."""

    name = "demo"

    def __init__(self, sender: Sender, *, seed: int, years: int, progress: Progress) -> None:
        if not 1 <= years <= 8:
            raise ValueError(f"the {self.name} demo covers 1 to 8 years (the bank holiday calendar starts in 2018)")
        self.sender = sender
        self.progress = progress
        self.years = years
        self.first = LAST_DAY.year - years + 1
        self.start = date(self.first, 1, 1)
        self.end = date(LAST_DAY.year + 1, 1, 1)
        self.rng = random.Random(seed)
        self.people = People(self.rng)
