"""The scheduler: at each tick, what the clock makes due is recorded (`aqp scheduler`, and `aqp run`).

Each tick, for the time `now` (the clock, or `--now`):

1. the read models it reads are brought up to date with the log (return compliance, the
   contract register, the competition list: several followers never apply an event twice);
2. **returns**: every return a home owes under a framework contract (compliance's
   obligations: `compliance_obligations`, each contract|home|template with the next period
   not yet overdue, and `return_compliance`, which holds every return the ledger has a record
   of and those it already found overdue) is looked at from the first period not yet behind
   it. One with no record whose deadline has passed is recorded missed
   (`return.record_missed`), which the performance process follows to the service failure of
   three consecutive periods; one still open raises its reporting link and, near the
   deadline, its reminder (`domain.scheduling.rules`);
3. **contracts and competitions**: each running contract of the register (escalation, action
   plans, extension decision, expiry) and each competition in standstill, read as records;
4. the tick's time is kept in `process_positions` (name `scheduler`, microseconds since 1970),
   and the read models are caught up with what the tick recorded.

Everything it sends is idempotent, so it needs no memory of its own to be safe: a return
already recorded missed records nothing, a submitted one is not a candidate, and a due
item's id is its key (kind, subject, due day: `domain.scheduling.due_item`), so a repeated
tick, a retried one, or one that crashed half way records nothing twice; the kept tick is
for operators (`last_tick`) and for a clock gone backwards (logged). What it records is
events, not rows beside its position, because what was raised may have to be shown later
(see `domain/scheduling/due_item.py`). It sends as `domain.access.SCHEDULER`, a system
principal. A tick stops between commands when asked (SIGTERM/SIGINT), leaving its time
unkept, so the next does the rest. Log lines are JSON (structlog) and name records by their
references only (homes, contracts, competitions: no person).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any

import structlog

from api.processes import ProcessPosition
from domain.access import SCHEDULER
from domain.contracts.contract import EXPIRED, TERMINATED, Contract
from domain.contracts.framework import Framework
from domain.kernel.errors import NotFound
from domain.kernel.metadata import Actor
from domain.monitoring.commands import RecordReturnMissed
from domain.procurement.competition import Competition
from domain.providers.location import london_day
from domain.scheduling.due_item import DueItem
from domain.scheduling.rules import (
    EXTENSION_DECISION_DAYS,
    MISSED,
    REMIND_DAYS,
    Due,
    contract_items,
    owed_periods,
    return_steps,
    standstill_items,
)
from projections import competitions, compliance, contract_register
from projections import runner as projection_runner
from projections.monitoring import NEVER, loads, period_of
from projections.tables import micros

NAME = "scheduler"
#: a progress line every so many commands sent in one tick
PROGRESS_EVERY = 200
log = structlog.get_logger("aqp.scheduler")


@dataclass
class Tick:
    """What one tick did."""

    now: datetime
    #: records made, by what: missed returns and due items by kind
    recorded: Counter[str] = field(default_factory=Counter)
    #: what it found already recorded (a repeated tick finds everything so)
    held: int = 0
    refused: int = 0
    #: stopped before the end (asked to stop): its time is not kept
    stopped: bool = False

    def as_log(self) -> dict[str, Any]:
        return {"now": self.now.isoformat(), "recorded": dict(sorted(self.recorded.items())), "held": self.held,
                "refused": self.refused, "stopped": self.stopped}


@dataclass(frozen=True)
class _Owed:
    location: str
    template: str
    first: str
    until: date
    definition: dict[str, Any]


class Scheduler:
    """Ticks over a ledger: finds what is due at a time, and records it as `SCHEDULER`."""

    def __init__(
        self,
        ledger: Any,
        *,
        remind_days: int = REMIND_DAYS,
        extension_decision_days: int = EXTENSION_DECISION_DAYS,
        actor: Actor = SCHEDULER,
        stop: threading.Event | None = None,
        catch_up_read_models: bool = True,
    ) -> None:
        self.ledger = ledger
        self.remind_days = remind_days
        self.extension_decision_days = extension_decision_days
        self.actor = actor
        self.stop = stop or threading.Event()
        self.catch_up_read_models = catch_up_read_models
        self._position = ProcessPosition(ledger, NAME)
        self._views = {m: m.open_view(ledger) for m in (compliance, contract_register, competitions)}
        #: called before each command is sent (tests interrupt a tick here)
        self.before_send: Callable[[Any], None] | None = None

    # ------------------------------------------------------------------ the tick

    def last_tick(self) -> datetime | None:
        kept = self._position.get()
        return None if kept is None else datetime.fromtimestamp(kept / 1_000_000, tz=timezone.utc)

    def tick(self, now: datetime, *, at: datetime | None = None) -> Tick:
        """Record what is due at `now`; `at` is the recording time (None: the ledger's clock)."""
        report = Tick(now=now)
        last = self.last_tick()
        if last is not None and now < last:
            log.warning("scheduler_clock_behind_last_tick", now=now.isoformat(), last_tick=last.isoformat())
        self._catch_up()
        today = london_day(now)
        work = [*self._returns(today), *self._contracts(today), *self._competitions(now)]
        if len(work) > PROGRESS_EVERY:
            log.info("scheduler_catching_up", now=now.isoformat(), candidates=len(work))
        for done, item in enumerate(work, 1):
            if self.stop.is_set():
                report.stopped = True
                break
            self._send(item, report, now=now, at=at)
            if done % PROGRESS_EVERY == 0:
                log.info("scheduler_progress", done=done, of=len(work), recorded=sum(report.recorded.values()))
        if not report.stopped:
            self._position.set(max(micros(now), micros(last) if last else 0))
        if report.recorded and self.catch_up_read_models and not report.stopped:
            # (stopped: the next tick, or whoever reads next, catches them up)
            projection_runner.catch_up_all(self.ledger)
        log.info("scheduler_tick", **report.as_log())
        return report

    def _catch_up(self) -> None:
        for module, view in self._views.items():
            module.catch_up(self.ledger, view)

    def _send(self, item: Any, report: Tick, *, now: datetime, at: datetime | None) -> None:
        if isinstance(item, Due):
            if self.ledger.exists(DueItem, item.key):
                report.held += 1
                return
            command: Any = item.command()
            what = item.kind
        else:
            command, what = item, "return_missed"
        if self.before_send is not None:
            self.before_send(command)
        result = self.ledger.handle(command, self.actor, at=at, business_time=now, causation_id=f"scheduler:{now.isoformat()}")
        if not result.ok:
            report.refused += 1
            # e.g. a return submitted between the read and the command: nothing to record
            log.warning("scheduler_command_refused", command=what, code=result.error.code, message=result.error.message)
        elif result.value and result.value.get("recorded"):
            report.recorded[what] += 1
        else:
            report.held += 1

    # ------------------------------------------------------------------ returns

    def _owed(self) -> Iterator[_Owed]:
        """Each obligation (contract|home|template) with the first period not yet behind compliance."""
        view = self._views[compliance]
        templates = {r["key"]: loads(r["definition"], None) for r in view.select("compliance_templates", columns=["key", "definition"])}
        contracts = {r["key"]: r for r in view.select("compliance_contracts", columns=["key", "ends_on", "ended_on"])}
        homes = {r["key"]: loads(r["contracts"], {}) for r in view.select("compliance_homes", columns=["key", "contracts"])}
        for row in view.select("compliance_obligations", columns=["key", "next_period"]):
            contract_id, location, template = row["key"].split("|")
            definition = templates.get(template)
            held = homes.get(location, {}).get(contract_id)
            if definition is None or held is None:
                continue
            contract = contracts.get(contract_id) or {}
            until = min((d for d in (held.get("removed"), contract.get("ended_on"), contract.get("ends_on")) if d), default=NEVER)
            first = row["next_period"] or period_of(definition, date.fromisoformat(held["from"]))
            yield _Owed(location, template, first, date.fromisoformat(until), definition)

    def _returns(self, today: date) -> list[Any]:
        view = self._views[compliance]
        providers = {r["key"]: r["provider"] for r in view.select("compliance_homes", columns=["key", "provider"])}
        owed_now = list(self._owed())
        # What the ledger holds of the returns looked at: those compliance found overdue, and per
        # template those from the earliest period still ahead of an obligation (a period's name
        # sorts as its time within a frequency), not every return ever received.
        recorded = {r["key"]: r["status"] for r in view.select("return_compliance", where={"status": compliance.OVERDUE}, columns=["key", "status"])}
        earliest: dict[str, str] = {}
        for owed in owed_now:
            earliest[owed.template] = min(earliest.get(owed.template, owed.first), owed.first)
        for template, first in sorted(earliest.items()):
            where = {"template": template, "period": (">=", first)}
            recorded.update({r["key"]: r["status"] for r in view.select("return_compliance", where=where, columns=["key", "status"])})
        work: list[Any] = []
        seen: set[str] = set()

        def missed(location: str, template: str, period: str) -> None:
            key = f"{location}|{template}|{period}"
            if key not in seen:
                seen.add(key)
                work.append(RecordReturnMissed(location=location, template=template, period=period))

        # returns compliance already found overdue: owed, deadline passed, no record
        for key, status in sorted(recorded.items()):
            if status == compliance.OVERDUE:
                location, template, period = key.split("|")
                missed(location, template, period)
        for owed in owed_now:
            concerns = [c for c in (providers.get(owed.location), owed.location) if c]
            for dates in owed_periods(owed.definition, first=owed.first, held_until=owed.until, today=today, remind_days=self.remind_days):
                key = f"{owed.location}|{owed.template}|{dates.period}"
                if recorded.get(key, compliance.OVERDUE) != compliance.OVERDUE:
                    continue  # received, or recorded missed
                for step in return_steps(dates, location=owed.location, template=owed.template, today=today, concerns=concerns):
                    if step == MISSED:
                        missed(owed.location, owed.template, dates.period)
                    elif isinstance(step, Due) and step.key not in seen:
                        seen.add(step.key)
                        work.append(step)
        return work

    # ------------------------------------------------------------------ contracts and competitions

    def _contracts(self, today: date) -> list[Due]:
        view = self._views[contract_register]
        found: list[Due] = []
        for row in view.select(columns=["reference", "status"]):
            if row["status"] in (TERMINATED, EXPIRED):
                continue
            try:
                contract = self.ledger.aggregate(Contract, row["reference"])
                framework = self.ledger.aggregate(Framework, contract.framework)
            except NotFound:
                continue
            concerns = [*self.ledger.commissioners_of_contract(contract), contract.provider]
            found += contract_items(
                contract, today=today, concerns=concerns, extension_room=_extension_room(contract, framework),
                extension_decision_days=self.extension_decision_days,
            )
        return found

    def _competitions(self, now: datetime) -> list[Due]:
        view = self._views[competitions]
        found: list[Due] = []
        for row in view.select(where={"status": "standstill"}, columns=["reference"]):
            try:
                found += standstill_items(self.ledger.aggregate(Competition, row["reference"]), now=now)
            except NotFound:
                continue
        return found

    # ------------------------------------------------------------------ the worker

    def run_forever(self, *, interval: float, clock: Callable[[], datetime] | None = None) -> int:
        """Tick every `interval` seconds until `stop` is set; returns the number of ticks."""
        clock = clock or (lambda: datetime.now(timezone.utc))
        ticks = 0
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                self.tick(clock())
            except Exception as err:  # noqa: BLE001 - a worker logs a failed tick and tries again at the next
                log.exception("scheduler_tick_failed", error=type(err).__name__)
            ticks += 1
            self.stop.wait(max(0.0, interval - (time.monotonic() - started)))
        return ticks


def _extension_room(contract: Contract, framework: Framework) -> bool:
    """Whether the framework still allows the contract a month's extension."""
    if not framework.max_extension_months or contract.original_ends_on is None or contract.ends_on is None:
        return False
    used = (contract.ends_on.year - contract.original_ends_on.year) * 12 + contract.ends_on.month - contract.original_ends_on.month
    return used < framework.max_extension_months


class SchedulerThread:
    """The scheduler ticking in a thread of another process (`aqp run` beside its server), on its own ledger."""

    def __init__(self, ledger: Any, *, interval: float, remind_days: int = REMIND_DAYS,
                 extension_decision_days: int = EXTENSION_DECISION_DAYS) -> None:
        self.ledger = ledger
        self.interval = interval
        self.stop = threading.Event()
        self.scheduler = Scheduler(ledger, remind_days=remind_days, extension_decision_days=extension_decision_days, stop=self.stop)
        # A daemon: a tick stuck on the store never keeps the process from exiting.
        self.thread = threading.Thread(target=self._run, name="aqp-scheduler", daemon=True)

    def _run(self) -> None:
        try:
            self.scheduler.run_forever(interval=self.interval)
        finally:
            self.ledger.close()

    def start(self) -> SchedulerThread:
        self.thread.start()
        return self

    def close(self, timeout: float = 30.0) -> None:
        """Stop after the command being sent (the tick's time is then not kept), and wait for it."""
        self.stop.set()
        self.thread.join(timeout)
