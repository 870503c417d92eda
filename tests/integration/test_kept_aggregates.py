"""Records kept between commands (`domain.kept_aggregates`): exact with several processes writing,
after refusals, failed saves and erasures (both stores)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest
from eventsourcing.persistence import IntegrityError

from api.bootstrap import ledger_at
from api.cqc_import import import_records
from benchmarks.aggregates import SYNC, at, care_home_record, home_manager
from domain.application import Ledger
from domain.kernel import data_subjects
from domain.kernel.errors import RuleBroken
from domain.kernel.metadata import Actor, CommandContext, acting
from domain.providers import commands as pc
from domain.providers.location import Location
from domain.providers.views import location_state

HOME = "1-555000001"
FIRST = date(2026, 3, 2)
ADMIN = Actor(id="dpo", org="CSU", role="admin")


def keeping(url: str) -> Ledger:
    ledger = ledger_at(url)
    ledger.keep_aggregates(100)
    return ledger


def with_a_home(ledger: Ledger) -> None:
    outcome = import_records(ledger, [care_home_record(HOME)], SYNC, at(FIRST) - timedelta(days=1))
    assert outcome[0].outcome == "recorded", outcome


def report(ledger: Ledger, day: date, beds: int, *, correct: bool = False, when: datetime | None = None):
    kind = pc.CorrectVacancies if correct else pc.ReportVacancies
    extra = {"reason": "miscounted"} if correct else {}
    when = when or at(day) + timedelta(hours=1)
    return ledger.handle(kind(location=HOME, date=day, nursing=beds, **extra), home_manager(), at=when)


def state(ledger: Ledger) -> dict:
    return location_state(ledger.aggregate(Location, HOME))


@pytest.fixture
def two(database_url):
    """Two processes on one store, each keeping records: as two API servers are."""
    first, second = keeping(database_url), keeping(database_url)
    try:
        yield first, second
    finally:
        first.close()
        second.close()


def test_a_kept_home_takes_in_what_another_process_stored_since(two, database_url):
    first, second = two
    with_a_home(first)
    assert report(first, FIRST, 1).ok
    assert len(first.repository.kept) == 1  # kept after its command
    assert report(second, FIRST + timedelta(days=1), 2).ok
    # The kept home has not seen the second day; its next command must.
    refused = report(first, FIRST + timedelta(days=1), 3)
    assert not refused.ok and refused.error.code == "vacancies_already_reported"
    done = report(first, FIRST + timedelta(days=2), 4)
    assert done.ok and done.events[0].version == 4  # imported, then three days
    fresh = ledger_at(database_url)
    try:
        assert state(fresh) == state(first) == state(second)
    finally:
        fresh.close()


def test_a_command_refused_after_it_applied_an_event_leaves_nothing_unstored_kept(ledger, database_url):
    ledger.keep_aggregates(100)
    with_a_home(ledger)
    assert report(ledger, FIRST, 1).ok
    day = FIRST + timedelta(days=1)
    original = Location.report_vacancies

    def refusing_late(self, **kwargs):
        # A rule checked after the event was applied to the record, as a longer command's may be.
        original(self, **kwargs)
        raise RuleBroken("refused after the event was applied", code="test_refusal")

    Location.report_vacancies = refusing_late
    try:
        refused = report(ledger, day, 5)
    finally:
        Location.report_vacancies = original
    assert not refused.ok and refused.error.code == "test_refusal"
    assert len(ledger.repository.kept) == 0
    # Had the unstored report stayed kept, this would be "already reported".
    assert report(ledger, day, 2).ok
    assert state(ledger)["vacancies"][day.isoformat()]["counts"]["nursing"] == 2


def test_an_exception_inside_a_lending_returns_nothing(ledger, database_url):
    ledger.keep_aggregates(100)
    with_a_home(ledger)
    assert report(ledger, FIRST, 1).ok
    with pytest.raises(ZeroDivisionError):
        with ledger.repository.kept.lending():
            ledger.repository.get(Location.id_for(HOME))
            1 / 0
    assert len(ledger.repository.kept) == 0


def test_a_save_that_conflicts_drops_what_it_borrowed(two, database_url):
    first, second = two
    with_a_home(first)
    assert report(first, FIRST, 1).ok
    day = FIRST + timedelta(days=1)
    ctx = CommandContext(actor=home_manager(), at=at(day), command_id="c", command_type="location.report_vacancies",
                         correlation_id="c", causation_id="c")
    with pytest.raises(IntegrityError):
        with first.repository.kept.lending():
            home = first.repository.get(Location.id_for(HOME))
            assert report(second, FIRST + timedelta(days=2), 7).ok  # stored between the load and the save
            with acting(ctx):
                home.report_vacancies(day=day, counts={"nursing": 5}, now=at(day))
            first.save(home)
    assert len(first.repository.kept) == 0
    assert report(first, day, 2, when=at(FIRST + timedelta(days=3))).ok
    assert sorted(state(first)["vacancies"]) == [FIRST.isoformat(), day.isoformat(), (FIRST + timedelta(days=2)).isoformat()]


def test_a_conflict_met_by_a_command_is_answered_and_nothing_stays_kept(ledger, database_url):
    """The dispatcher's own conflict path (`concurrent_modification`): its borrowing is spoiled."""
    ledger.keep_aggregates(100)
    with_a_home(ledger)
    other = ledger_at(database_url)
    try:
        day = FIRST + timedelta(days=1)
        original = Location.report_vacancies

        def racing(self, **kwargs):
            # Another process stores a report on the same home between this command's load and save.
            if not getattr(racing, "done", False):
                racing.done = True
                assert report(other, FIRST, 7, when=at(day)).ok
            return original(self, **kwargs)

        Location.report_vacancies = racing
        try:
            answered = report(ledger, day, 5)
        finally:
            Location.report_vacancies = original
        assert not answered.ok and answered.error.code == "concurrent_modification"
        assert len(ledger.repository.kept) == 0
        retried = report(ledger, day, 5, when=at(FIRST + timedelta(days=4)))
        assert retried.ok and len(retried.events) == 1  # recorded now, not taken as a repeat of what was never stored
        assert state(ledger) == state(other)
    finally:
        other.close()


def test_after_an_erasure_elsewhere_no_kept_record_holds_the_erased_data(ledger, database_url):
    ledger.keep_aggregates(100)
    with_a_home(ledger)
    added = pc.AddLocationContact(location=HOME, contact="c-9", role="deputy manager", name="Grace Adeyemi", email="grace@example.org")
    assert ledger.handle(added, ADMIN, at=at(FIRST)).ok
    assert report(ledger, FIRST, 1).ok
    assert len(ledger.repository.kept) == 1
    other = ledger_at(database_url)
    try:
        assert other.handle(data_subjects.ErasePersonalData(subject="c-9", reason="DPO-2026-201"), ADMIN).ok
    finally:
        other.close()
    with ledger.repository.kept.lending():
        home = ledger.repository.get(Location.id_for(HOME))
        assert location_state(home)["contacts"]["c-9"]["name"] == "[erased]"


def test_commands_from_two_keeping_processes_leave_what_a_replay_gives(two, database_url):
    """Reports, repeats, corrections and refusals from either process at random: each answer and
    the end state are those of a process keeping nothing."""
    first, second = two
    with_a_home(first)
    rng = random.Random(17)
    reported: dict[date, int] = {}
    for n in range(60):
        ledger = rng.choice((first, second))
        day = FIRST + timedelta(days=rng.randrange(0, 20))
        beds = rng.randrange(0, 4)
        correct = day in reported and rng.random() < 0.5
        answer = report(ledger, day, beds, correct=correct, when=at(FIRST + timedelta(days=20)) + timedelta(minutes=n))
        if correct:
            assert answer.ok, answer.error
            reported[day] = beds
        elif day in reported:
            # A repeat of the day's report is taken as no change; a different one is refused.
            assert answer.ok == (reported[day] == beds), answer.error
            assert answer.ok or answer.error.code == "vacancies_already_reported"
        else:
            assert answer.ok, answer.error
            reported[day] = beds
    fresh = ledger_at(database_url)
    try:
        expected = state(fresh)
        assert {d: v["counts"]["nursing"] for d, v in expected["vacancies"].items()} == {d.isoformat(): b for d, b in reported.items()}
        assert state(first) == state(second) == expected
        for ledger in (first, second):
            with ledger.repository.kept.lending():
                assert location_state(ledger.repository.get(Location.id_for(HOME))) == expected
    finally:
        fresh.close()
