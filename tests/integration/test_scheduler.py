"""The scheduler on each store: missed returns at their deadlines, reporting links and reminders
before them, the due dates of contracts and competitions, each once; repeated, interrupted
and refused ticks record nothing twice."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time as time_module
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import pytest
from eventsourcing.utils import get_topic

from api.bootstrap import ledger_at
from api.processes import ProcessFollower
from api.scheduler import Scheduler
from domain.access import SCHEDULER
from domain.application import Ledger
from domain.contracts import commands as k
from domain.kernel.metadata import Actor
from domain.monitoring.commands import SubmitReturn
from domain.monitoring.failures import PerformanceRecord
from domain.monitoring.performance_process import PerformanceFailures
from domain.monitoring.returns import Return, return_reference
from domain.monitoring.templates import shipped_template
from domain.procurement.competition import Competition
from domain.providers.location import LONDON, Location
from domain.scheduling.commands import RaiseDueItem
from domain.scheduling.due_item import DueItem
from domain.scheduling.rules import return_dates
from tests.integration.test_competition_list import SCENARIO, apply_example
from tests.integration.test_performance_failures import CONTRACT, MANAGER, TEMPLATE, set_up
from tests.unit.test_cqc_records import CARE_HOME
from tests.unit.test_returns import CHESHIRE

UTC = timezone.utc
ROOT = Path(__file__).resolve().parents[2]
DEFINITION = shipped_template(TEMPLATE)
#: the 4-weekly periods from the anchor (the home is held from 1 April 2026: the first is 9 March's)
PERIODS = ["2026-03-09", "2026-04-06", "2026-05-04", "2026-06-01", "2026-06-29"]
HOME = Actor(id="m", org=CARE_HOME, role="provider")


def dates(period: str):
    return return_dates(DEFINITION, period)


def morning(day: date) -> datetime:
    """07:00 in England on `day`, as UTC."""
    return datetime.combine(day, time(7), tzinfo=LONDON).astimezone(UTC)


def tick(ledger: Ledger, day: date, **options) -> object:
    now = morning(day)
    return Scheduler(ledger, **options).tick(now, at=now)


def missed_periods(ledger: Ledger) -> list[str]:
    found = []
    for period in PERIODS:
        reference = return_reference(CARE_HOME, TEMPLATE, 1, period)
        if ledger.exists(Return, reference) and ledger.aggregate(Return, reference).missed_on:
            found.append(period)
    return found


def raised(ledger: Ledger, kind: str | None = None) -> list[tuple[str, str, str]]:
    topic = get_topic(DueItem.Raised)
    found = []
    for n in ledger.recorder.select_notifications(start=0, limit=100_000, topics=[topic]):
        event = ledger.mapper.to_domain_event(n)
        if kind is None or event.kind == kind:
            found.append((event.kind, event.subject, event.due_on))
    return found


@pytest.fixture
def world(database_url):
    ledger = ledger_at(database_url)
    set_up(ledger)
    try:
        yield ledger
    finally:
        ledger.close()


def test_a_missed_return_is_recorded_the_day_after_its_deadline_and_not_before(world):
    april = dates("2026-04-06")
    tick(world, april.deadline)
    assert missed_periods(world) == ["2026-03-09"]  # March's deadline has passed, April's not yet
    report = tick(world, april.deadline + timedelta(days=1))
    assert missed_periods(world) == ["2026-03-09", "2026-04-06"]
    assert report.recorded["return_missed"] == 1
    ret = world.aggregate(Return, return_reference(CARE_HOME, TEMPLATE, 1, "2026-04-06"))
    assert ret.missed_on == (april.deadline + timedelta(days=1)).isoformat()
    # recorded by the scheduler's own principal
    first = next(iter(world.events.get(ret.id)))
    assert first.meta["actor"] == {"id": SCHEDULER.id, "org": SCHEDULER.org, "role": "system"}


def test_a_submitted_return_is_not_marked_missed(world):
    april = dates("2026-04-06")
    submitted = SubmitReturn(location=CARE_HOME, template=TEMPLATE, period="2026-04-06", values=CHESHIRE)
    assert world.handle(submitted, HOME, at=morning(april.deadline)).ok
    report = tick(world, april.deadline + timedelta(days=5))
    assert missed_periods(world) == ["2026-03-09"]
    assert report.refused == 0
    assert world.aggregate(Return, return_reference(CARE_HOME, TEMPLATE, 1, "2026-04-06")).status == "submitted"


def test_three_consecutive_misses_become_a_service_failure_through_the_performance_process(database_url):
    ledger = ledger_at(database_url)
    try:
        set_up(ledger)
        ledger.after_save.append(ProcessFollower(ledger, PerformanceFailures))
        tick(ledger, dates("2026-04-06").deadline + timedelta(days=1))
        assert not ledger.exists(PerformanceRecord, CONTRACT)
        tick(ledger, dates("2026-05-04").deadline + timedelta(days=1))
        record = ledger.aggregate(PerformanceRecord, CONTRACT)
        assert [f["periods"] for f in record.service_failures.values()] == [["2026-03-09", "2026-04-06", "2026-05-04"]]
    finally:
        ledger.close()


def test_the_reporting_link_and_the_reminder_are_raised_in_their_windows_once(world):
    june = dates("2026-06-01")
    subject = f"return:{CARE_HOME}/{TEMPLATE}/2026-06-01"
    tick(world, june.end)
    assert (("return_open", subject, june.deadline.isoformat())) not in raised(world)
    tick(world, june.opens_on)
    assert ("return_open", subject, june.deadline.isoformat()) in raised(world)
    assert ("return_reminder", subject, june.deadline.isoformat()) not in raised(world)
    assert june.reminder_on == june.deadline - timedelta(days=3) > june.opens_on
    tick(world, june.reminder_on - timedelta(days=1))
    assert ("return_reminder", subject, june.deadline.isoformat()) not in raised(world)
    tick(world, june.reminder_on)
    tick(world, june.deadline)
    reminders = [r for r in raised(world, "return_reminder") if r[1] == subject]
    assert reminders == [("return_reminder", subject, june.deadline.isoformat())]
    item = world.aggregate(DueItem, f"return_reminder|{subject}|{june.deadline.isoformat()}")
    provider = world.aggregate(Location, CARE_HOME).provider
    assert item.concerns == sorted([provider, CARE_HOME]) and item.due_on == june.deadline.isoformat()


def test_a_received_return_gets_no_reminder(world):
    june = dates("2026-06-01")
    submitted = SubmitReturn(location=CARE_HOME, template=TEMPLATE, period="2026-06-01", values=CHESHIRE)
    assert world.handle(submitted, HOME, at=morning(june.opens_on)).ok
    tick(world, june.reminder_on)
    assert not [r for r in raised(world, "return_reminder") if r[1].endswith("/2026-06-01")]


def test_a_repeated_tick_records_nothing_new(world):
    day = dates("2026-06-01").reminder_on
    first = tick(world, day)
    assert sum(first.recorded.values()) > 0
    position = world.max_position()
    again = tick(world, day)
    assert sum(again.recorded.values()) == 0 and again.refused == 0
    # the due items are found held; the missed returns, now recorded, are not even candidates
    assert again.held == first.recorded["return_open"] + first.recorded["return_reminder"] == 2
    assert world.max_position() == position


def test_a_tick_interrupted_half_way_is_finished_by_the_next_and_nothing_is_recorded_twice(world, tmp_path):
    day = dates("2026-06-01").reminder_on
    scheduler = Scheduler(world)
    sent = []

    def crash_after_three(command):
        if len(sent) == 3:
            raise KeyboardInterrupt("killed between two commands")
        sent.append(command)

    scheduler.before_send = crash_after_three
    with pytest.raises(KeyboardInterrupt):
        scheduler.tick(morning(day), at=morning(day))
    assert scheduler.last_tick() is None  # the tick's time is kept only once it is complete
    partial = raised(world)
    report = Scheduler(world).tick(morning(day), at=morning(day))
    assert report.held >= len([s for s in sent if isinstance(s, RaiseDueItem)])
    # the same as one tick uninterrupted on a ledger of its own
    other = ledger_at(f"sqlite:///{tmp_path}/other.db")
    try:
        set_up(other)
        Scheduler(other).tick(morning(day), at=morning(day))
        assert sorted(raised(world)) == sorted(raised(other)) and set(partial) <= set(raised(world))
        assert missed_periods(world) == missed_periods(other)
    finally:
        other.close()
    assert len(raised(world)) == len(set(raised(world)))


def test_a_stop_asked_for_ends_the_tick_between_commands_without_keeping_its_time(world):
    day = dates("2026-06-01").reminder_on
    scheduler = Scheduler(world)
    scheduler.before_send = lambda command: scheduler.stop.set()
    report = scheduler.tick(morning(day), at=morning(day))
    assert report.stopped and sum(report.recorded.values()) == 1 and scheduler.last_tick() is None
    finished = Scheduler(world).tick(morning(day), at=morning(day))
    # the rest: three missed returns and the link and reminder, five in all as one whole tick records
    assert not finished.stopped and sum(finished.recorded.values()) == 4 and finished.refused == 0
    assert Scheduler(world).last_tick() == morning(day)


def test_contract_due_dates_are_each_raised_once_on_their_day(database_url):
    ledger = ledger_at(database_url)
    try:
        set_up(ledger)
        at = datetime(2026, 4, 2, 9, tzinfo=UTC)
        framework = "CEC-EXT-2026"
        short = "CEC-EXT-2026/ALL/1-102642955"
        assert ledger.handle(k.EstablishFramework(
            framework=framework, title="Cheshire East short contracts", kind="care_homes",
            lots=[k.FrameworkLot(id="ALL", name="Cheshire East")], commissioners=[k.Commissioner(org="CEC", kind="council")],
            starts_on=date(2026, 4, 1), ends_on=date(2028, 3, 31), regime="pcr2015", escalation_ladder="cheshire_east",
            max_extension_months=6,
        ), Actor(id="u-cec", org="CEC", role="commissioner"), at=at).ok
        assert ledger.handle(k.AwardContract(
            contract=short, framework=framework, competition=framework, lot="ALL", provider="1-102642955",
            value=0, starts_on=date(2026, 4, 1), ends_on=date(2026, 12, 31),
        ), MANAGER, at=at).ok
        assert ledger.handle(k.EscalateContract(contract=CONTRACT, to_stage="improvement_notice", due=date(2026, 6, 30),
                                                 reason="Rotas below the dependency tool"),
                             MANAGER, at=at).ok, "escalated"
        assert ledger.handle(k.OpenActionPlan(contract=CONTRACT, plan="IAP-1", actions=[
            k.PlannedAction(id="A1", description="Rota cover", owner_role="registered manager", due=date(2026, 5, 15)),
            k.PlannedAction(id="A2", description="Training", owner_role="registered manager", due=date(2026, 7, 15)),
        ]), MANAGER, at=at).ok

        def kinds_on(day: date) -> set[tuple[str, str, str]]:
            tick(ledger, day)
            return {r for r in raised(ledger) if not r[0].startswith("return_")}

        assert kinds_on(date(2026, 5, 14)) == set()
        assert kinds_on(date(2026, 5, 15)) == {("action_due", f"action:{CONTRACT}/IAP-1/A1", "2026-05-15")}
        assert ledger.handle(k.ReviewActionPlan(contract=CONTRACT, plan="IAP-1", completed=["A2"], notes="Done early",
                                                reviewed_on=date(2026, 6, 1)), MANAGER, at=datetime(2026, 6, 1, 9, tzinfo=UTC)).ok
        on_due = kinds_on(date(2026, 6, 30))
        assert ("escalation_due", f"contract:{CONTRACT}/improvement_notice", "2026-06-30") in on_due
        assert not [r for r in on_due if r[1].endswith("/A2")], "a completed action is not due"
        decision = (date(2026, 12, 31) - timedelta(days=90)).isoformat()
        assert not [r for r in kinds_on(date(2026, 10, 1)) if r[0] == "extension_decision"]
        assert ("extension_decision", f"contract:{short}", decision) in kinds_on(date(2026, 10, 2))
        assert ("contract_expiry", f"contract:{short}", "2027-01-01") not in kinds_on(date(2026, 12, 31))
        final = kinds_on(date(2027, 1, 1))
        assert ("contract_expiry", f"contract:{short}", "2027-01-01") in final
        assert len(raised(ledger)) == len(set(raised(ledger)))
        # the long contract (to 2030, on a framework with no extension) has no decision nor expiry yet
        assert not [r for r in final if r[1] == f"contract:{CONTRACT}" and r[0] in ("extension_decision", "contract_expiry")]
        position = ledger.max_position()
        tick(ledger, date(2027, 1, 1))
        assert ledger.max_position() == position
    finally:
        ledger.close()


@pytest.mark.parametrize("role", ["contract_manager", "commissioner", "admin", "provider", "auditor"])
def test_only_the_system_may_raise_a_due_item(world, role):
    position = world.max_position()
    command = RaiseDueItem(kind="return_reminder", subject=f"return:{CARE_HOME}/{TEMPLATE}/2026-06-01", due_on=date(2026, 7, 6),
                           summary="Reminder.", concerns=[CARE_HOME])
    result = world.handle(command, Actor(id="someone", org="CEC", role=role), at=datetime(2026, 7, 1, tzinfo=UTC))
    assert not result.ok and result.error.code == "not_permitted"
    assert world.max_position() == position
    assert world.handle(command, SCHEDULER, at=datetime(2026, 7, 1, tzinfo=UTC)).value["recorded"]
    assert not world.handle(command, SCHEDULER, at=datetime(2026, 7, 1, 1, tzinfo=UTC)).value["recorded"]


def test_a_standstills_end_is_raised_once_when_it_has_passed(database_url):
    ledger = ledger_at(database_url)
    try:
        lines = SCENARIO.read_text().splitlines()
        letters = next(i for i, line in enumerate(lines) if '"outcome_letters.issue"' in line)
        apply_example(ledger, lines[: letters + 1])
        competition = ledger.aggregate(Competition, "AQP-CH-2026")
        assert competition.status == "standstill"
        ends_at = competition.standstill["ends_at"]
        before = ends_at - timedelta(minutes=1)
        Scheduler(ledger).tick(before, at=before)
        assert raised(ledger, "standstill_end") == []
        Scheduler(ledger).tick(ends_at, at=ends_at)
        Scheduler(ledger).tick(ends_at + timedelta(days=1), at=ends_at + timedelta(days=1))
        assert raised(ledger, "standstill_end") == [("standstill_end", "competition:AQP-CH-2026", ends_at.astimezone(LONDON).date().isoformat())]
        item = ledger.aggregate(DueItem, "standstill_end|competition:AQP-CH-2026|" + ends_at.astimezone(LONDON).date().isoformat())
        assert competition.authority in item.concerns and set(competition.acting_for) <= set(item.concerns)
    finally:
        ledger.close()


def _aqp(database_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json"}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)


def test_aqp_scheduler_once_is_a_worker_over_a_real_ledger(database_url):
    ledger = ledger_at(database_url)
    try:
        set_up(ledger)
    finally:
        ledger.close()
    now = morning(dates("2026-06-01").reminder_on).isoformat()
    first = _aqp(database_url, "scheduler", "--once", "--now", now)
    assert first.returncode == 0, first.stderr
    report = json.loads(first.stdout)
    assert report["recorded"] == {"return_missed": 3, "return_open": 1, "return_reminder": 1} and not report["stopped"]
    lines = [json.loads(line) for line in first.stderr.splitlines() if line.startswith("{")]
    assert any(line.get("event") == "scheduler_tick" for line in lines), first.stderr
    again = _aqp(database_url, "scheduler", "--once", "--now", now)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["recorded"] == {}
    ledger = ledger_at(database_url)
    try:
        assert missed_periods(ledger) == ["2026-03-09", "2026-04-06", "2026-05-04"]
        assert len(raised(ledger)) == 2
        assert Scheduler(ledger).last_tick() == datetime.fromisoformat(now)
    finally:
        ledger.close()
    refused = _aqp(database_url, "scheduler", "--once", "--now", "2026-06-01T07:00:00")
    assert refused.returncode == 2 and "time zone" in refused.stderr


def test_aqp_scheduler_stops_cleanly_on_sigterm(database_url):
    ledger = ledger_at(database_url)
    ledger.close()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json"}
    worker = subprocess.Popen([sys.executable, "-m", "api.cli", "scheduler", "--interval", "0.2"], cwd=ROOT, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time_module.monotonic() + 60
        ticked = []
        while time_module.monotonic() < deadline and len(ticked) < 2:
            line = worker.stderr.readline()
            if '"scheduler_tick"' in line:
                ticked.append(line)
        assert len(ticked) == 2, "the worker ticks every interval"
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(timeout=30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()


def test_a_scheduler_over_the_built_demo_records_nothing_the_demo_recorded_and_nothing_twice(database_url):
    from api.bootstrap import open_ledger
    from api.settings import Settings
    from scenarios.demo import build

    demo = open_ledger(Settings(database_url=database_url), "demo")
    try:
        build(demo, seed=3, scale="london", years=1, homes=20)
    finally:
        demo.close()
    ledger = open_ledger(Settings(database_url=database_url), "scheduler")
    try:
        missed_topic = get_topic(Return.Missed)

        def misses() -> list[str]:
            return [str(n.originator_id) for n in ledger.recorder.select_notifications(start=0, limit=1_000_000, topics=[missed_topic])]

        by_demo = misses()
        assert by_demo, "the demo's own scheduler recorded missed returns"
        # the morning after the demo's history ends, then two months on
        for now in (datetime(2026, 1, 1, 7, tzinfo=UTC), datetime(2026, 3, 2, 7, tzinfo=UTC)):
            report = Scheduler(ledger).tick(now, at=now)
            assert report.refused == 0, report
            position = ledger.max_position()
            assert sum(Scheduler(ledger).tick(now, at=now).recorded.values()) == 0
            assert ledger.max_position() == position
        after = misses()
        assert after[: len(by_demo)] == by_demo and len(after) == len(set(after)), "no return missed twice"
        assert len(after) > len(by_demo), "January's and February's deadlines passed with nothing received"
        assert len(raised(ledger)) == len(set(raised(ledger)))
    finally:
        ledger.close()


def test_a_scheduler_killed_mid_tick_leaves_the_ledger_consistent_and_the_next_tick_finishes_it(database_url):
    ledger = ledger_at(database_url)
    try:
        set_up(ledger)
    finally:
        ledger.close()
    now = "2027-09-01T06:00:00+00:00"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json"}
    missed_topic = get_topic(Return.Missed)
    watcher = ledger_at(database_url)
    try:
        worker = subprocess.Popen([sys.executable, "-m", "api.cli", "scheduler", "--once", "--now", now], cwd=ROOT, env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time_module.monotonic() + 120
        while worker.poll() is None and time_module.monotonic() < deadline:
            if watcher.recorder.select_notifications(start=0, limit=1, topics=[missed_topic]):
                worker.send_signal(signal.SIGKILL)  # no clean stop: killed between (or during) two commands
                break
            time_module.sleep(0.005)
        worker.wait(timeout=60)
        # about twenty returns to record: killed after the first, the tick is far from done
        assert worker.returncode == -signal.SIGKILL, "the worker was killed mid-tick"
        assert Scheduler(watcher).last_tick() is None, "a tick killed half way keeps no time"
        finished = _aqp(database_url, "scheduler", "--once", "--now", now)
        assert finished.returncode == 0, finished.stderr
        assert json.loads(finished.stdout)["refused"] == 0
        events = [n.originator_id for n in watcher.recorder.select_notifications(start=0, limit=100_000, topics=[missed_topic])]
        assert len(events) == len(set(events)), "no return recorded missed twice"
        expected = []
        period = PERIODS[0]
        while dates(period).deadline < date(2027, 9, 1):
            expected.append(period)
            period = (date.fromisoformat(period) + timedelta(days=28)).isoformat()
        found = [
            p for p in expected
            if watcher.exists(Return, return_reference(CARE_HOME, TEMPLATE, 1, p))
            and watcher.aggregate(Return, return_reference(CARE_HOME, TEMPLATE, 1, p)).missed_on
        ]
        assert found == expected and len(events) == len(expected)
        assert Scheduler(watcher).last_tick() == datetime.fromisoformat(now)
    finally:
        watcher.close()
