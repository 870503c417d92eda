"""Review 17: adversarial probes of the records kept between commands (`domain.kept_aggregates`)
and the sealed snapshots (`audit.snapshots`), each answer compared with a ledger using neither
(both stores)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from api.bootstrap import ledger_at
from api.cqc_import import import_records
from api.processes import followers as process_followers
from api.scenario import apply_lines
from benchmarks.aggregates import SYNC, at, care_home_record, home_manager
from domain.application import Ledger
from domain.kernel import data_subjects
from domain.kernel.metadata import Actor
from domain.providers import commands as pc
from domain.providers.location import Location
from domain.providers.views import location_state
from tests.integration.store_access import raw_connection, schema_of
from tests.integration.test_snapshots import sealed

HOME = "1-555000017"
FIRST = date(2024, 1, 1)
ADMIN = Actor(id="dpo", org="CSU", role="admin")
SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def report(ledger: Ledger, day: date, beds: int, *, when=None):
    command = pc.ReportVacancies(location=HOME, date=day, nursing=beds % 5, residential=beds % 3)
    return ledger.handle(command, home_manager(), at=when or at(day) + timedelta(hours=1))


def build(ledger: Ledger, days: int) -> None:
    outcome = import_records(ledger, [care_home_record(HOME)], SYNC, at(FIRST) - timedelta(days=1))
    assert outcome[0].outcome == "recorded", outcome
    added = pc.AddLocationContact(location=HOME, contact="c-17", role="manager", name="Grace Adeyemi", email="grace@example.org")
    assert ledger.handle(added, ADMIN, at=at(FIRST)).ok
    for n in range(days):
        result = report(ledger, FIRST + timedelta(days=n), n)
        assert result.ok, result.error


def home(ledger: Ledger, as_of=None) -> dict:
    return location_state(ledger.aggregate(Location, HOME, as_of=as_of))


def snapshot_table(database_url: str) -> str:
    return "record_snapshots" if database_url.startswith("sqlite") else f'"{schema_of(database_url)}"."record_snapshots"'


# --------------------------------------------------------------------------- finding 1


def test_a_forged_older_snapshot_row_cannot_cut_short_a_read_as_of_a_time(database_url, tmp_path):
    """`nearest(at=...)` checks the seal of the snapshot it restores, but takes the bound of the
    events it then reads (`next_version`) from ANY row of the table, sealed or not. Moving the
    older snapshot's `modified_at` into the future (one column, no key needed) made a read as of
    any time after the newer snapshot stop at that snapshot: every event after it was lost."""
    ledger = sealed(ledger_at(database_url), tmp_path / "keys")
    plain = ledger_at(database_url)
    try:
        build(ledger, 250)
        assert ledger.snapshots_sealed.count() == 5  # versions 50, 100, ..., 250
        with raw_connection(database_url) as conn:
            changed = conn.execute(
                f"UPDATE {snapshot_table(database_url)} SET modified_at = modified_at + 100000000000000 WHERE version = 100"
            ).rowcount
        assert changed == 1
        fresh = sealed(ledger_at(database_url), tmp_path / "keys")
        try:
            moment = at(FIRST + timedelta(days=240))
            assert home(fresh, moment) == home(plain, moment)
            # an invented row (a version, a time, no seal) cuts nothing short either
            with raw_connection(database_url) as conn:
                conn.execute(
                    f"INSERT INTO {snapshot_table(database_url)} (originator_id, version, modified_at, topic, shape, state, seal) "
                    f"SELECT originator_id, 201, modified_at + 100000000000000, topic, shape, state, seal "
                    f"FROM {snapshot_table(database_url)} WHERE version = 200"
                )
            assert home(fresh, moment) == home(plain, moment)
            assert home(fresh) == home(plain)
        finally:
            fresh.close()
    finally:
        ledger.close()
        plain.close()


# --------------------------------------------------------------------------- finding 2


@pytest.mark.parametrize("added_again", [False, True], ids=["erased", "erased-then-new-data-elsewhere"])
@pytest.mark.parametrize("keeping", [False, True], ids=["plain", "keeping"])
def test_an_erasure_while_a_command_runs_is_not_undone_by_the_snapshot_it_takes(database_url, tmp_path, keeping, added_again):
    """A command loads the home (its contact's name decrypted), another process erases the
    contact, the command stores its report, which crosses a snapshot interval: the snapshot is
    encoded from the state in memory, and the transcoder, finding the subject's key gone, made a
    NEW key and stored the name under it. Every later read from that snapshot showed the erased
    name again."""
    ledger = sealed(ledger_at(database_url), tmp_path / "keys")
    if keeping:
        ledger.keep_aggregates(100)
    other = ledger_at(database_url)
    try:
        build(ledger, 47)  # versions 1..49: the next report is version 50, a snapshot
        assert ledger.snapshots_sealed.count() == 0
        original = Location.report_vacancies

        def erased_meanwhile(self, **kwargs):
            if not getattr(erased_meanwhile, "done", False):
                erased_meanwhile.done = True
                assert other.handle(data_subjects.ErasePersonalData(subject="c-17", reason="DPO-2026-417"), ADMIN).ok
                if added_again:
                    # new data of the same subject on another home: a new key for c-17
                    assert import_records(other, [care_home_record("1-555000018")], SYNC, at(FIRST))[0].outcome == "recorded"
                    again = pc.AddLocationContact(location="1-555000018", contact="c-17", role="manager", name="G. A.")
                    assert other.handle(again, ADMIN, at=at(FIRST)).ok
                    # and this command reads something else from the store (as a handler may): the
                    # read forgets the keys held (an erasure was counted), the old one with them
                    ledger.aggregate(Location, "1-555000018")
            return original(self, **kwargs)

        Location.report_vacancies = erased_meanwhile
        try:
            assert report(ledger, FIRST + timedelta(days=47), 3).ok
        finally:
            Location.report_vacancies = original
        plain = ledger_at(database_url)
        fresh = sealed(ledger_at(database_url), tmp_path / "keys")
        try:
            assert home(plain)["contacts"]["c-17"]["name"] == "[erased]"
            assert home(fresh)["contacts"]["c-17"]["name"] == "[erased]"
            assert home(fresh)["contacts"]["c-17"]["email"] == "[erased]"
            with raw_connection(database_url) as conn:
                keys = conn.execute(
                    "SELECT count(*) FROM " + ("personal_data_keys" if database_url.startswith("sqlite")
                                               else f'"{schema_of(database_url)}"."personal_data_keys"')
                    + " WHERE subject = 'c-17'"
                ).fetchone()[0]
            assert keys == (1 if added_again else 0)  # no key made again for an erased subject by the snapshot
        finally:
            plain.close()
            fresh.close()
    finally:
        ledger.close()
        other.close()


# --------------------------------------------------------------------------- probes


def _state(aggregate) -> dict:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


def assert_kept_as_replayed(keeping: Ledger, database_url: str) -> None:
    """Every record left on `keeping`'s shelf is, attribute for attribute, what a replay gives."""
    shelf = dict(keeping.repository.kept._shelf)
    assert shelf
    fresh = ledger_at(database_url)
    try:
        for record_id, (_, record) in shelf.items():
            assert _state(record) == _state(fresh.repository.get(record_id)), type(record).__name__
    finally:
        fresh.close()


@pytest.mark.parametrize("scenario", ["london-aqp-care-homes-2026.jsonl", "nhse-call-off.jsonl", "novation-after-sale.jsonl",
                                      "nottingham-escalation.jsonl", "monthly-returns.jsonl", "april-price-variation.jsonl"])
def test_every_kept_record_after_a_scenario_is_the_record_its_events_give(database_url, scenario):
    """Each scenario's answers on a keeping ledger with the process followers attached (their
    nested commands run inside a command's lending) are those of a plain ledger, and every record
    left on the shelf is, attribute for attribute, what a replay of its events gives."""
    lines = (SCENARIOS / scenario).read_text().splitlines()
    keeping = ledger_at(database_url)
    keeping.keep_aggregates(1000)
    keeping.after_save.extend(process_followers(keeping))
    try:
        outcomes = [(o.line, o.met, o.result.ok, o.result.error and o.result.error.code) for o in apply_lines(keeping, lines)]
        assert all(met for _, met, _, _ in outcomes), [o for o in outcomes if not o[1]]
        assert_kept_as_replayed(keeping, database_url)
    finally:
        keeping.close()


def test_a_home_on_a_keeping_sealed_ledger_answers_as_a_plain_one_through_a_long_mixed_history(database_url, tmp_path):
    """Reports (late, repeated, corrected), contacts added, changed, removed and erased, CQC syncs
    that change beds, name and manager, suspensions: every answer, the home now, as of many times
    and as kept are those of a plain ledger on a store of its own given the same commands."""
    import random

    from tests.integration.machinery import fresh_url

    with fresh_url(database_url) as other_url:
        mine = sealed(ledger_at(database_url), tmp_path / "keys")
        mine.keep_aggregates(100)
        plain = ledger_at(other_url)
        try:
            rng = random.Random(1717)
            record = care_home_record(HOME)
            when = at(FIRST) - timedelta(days=1)
            moments, answers = [], []
            contacts: set[str] = set()
            for step in range(260):
                when += timedelta(hours=rng.choice((1, 5, 11, 23)))
                roll = rng.random()
                if step == 0 or roll < 0.06:
                    record = {**record, "numberOfBeds": rng.randrange(20, 80), "name": f"Home {rng.randrange(5)}"}
                    command, actor = pc.ImportCqcLocation(record=record), SYNC
                elif roll < 0.14:
                    contact = f"c-{rng.randrange(4)}"
                    kind = pc.ChangeLocationContact if contact in contacts and rng.random() < 0.7 else pc.AddLocationContact
                    command = kind(location=HOME, contact=contact, role="deputy", name=f"Person {rng.randrange(9)}", email="p@example.org")
                    actor = ADMIN
                elif roll < 0.17 and contacts:
                    command, actor = pc.RemoveLocationContact(location=HOME, contact=rng.choice(sorted(contacts))), ADMIN
                elif roll < 0.20:
                    command = data_subjects.ErasePersonalData(subject=f"c-{rng.randrange(4)}", reason="DPO-17")
                    actor = ADMIN
                elif roll < 0.24:
                    today = when.date()
                    command = rng.choice((
                        pc.SuspendPlacements(location=HOME, from_date=today + timedelta(days=rng.randrange(0, 3)), reason="staffing"),
                        pc.LiftSuspension(location=HOME, reason="staffed"),
                    ))
                    actor = home_manager()
                else:
                    day = when.date() - timedelta(days=rng.randrange(0, 12))
                    beds = dict(nursing=rng.randrange(0, 3), residential=rng.randrange(0, 2))
                    if rng.random() < 0.3:
                        command = pc.CorrectVacancies(location=HOME, date=day, reason="miscounted", **beds)
                    else:
                        command = pc.ReportVacancies(location=HOME, date=day, **beds)
                    actor = home_manager()
                got = []
                for ledger in (mine, plain):
                    result = ledger.handle(command, actor, at=when)
                    got.append((result.ok, result.error and result.error.code, result.value,
                                [(e.type, e.version) for e in result.events]))
                assert got[0] == got[1], (step, command)
                if got[0][0] and isinstance(command, pc.AddLocationContact):
                    contacts.add(command.contact)
                if got[0][0] and isinstance(command, pc.RemoveLocationContact):
                    contacts.discard(command.contact)
                moments.append(when)
                answers.append(got[0])
            assert mine.snapshots_sealed.count() >= 3
            assert home(mine) == home(plain)
            for moment in rng.sample(moments, 40) + [m + timedelta(minutes=30) for m in rng.sample(moments, 10)]:
                assert home(mine, moment) == home(plain, moment), moment
            with mine.repository.kept.lending():
                assert location_state(mine.repository.get(Location.id_for(HOME))) == home(plain)
        finally:
            mine.close()
            plain.close()


# --------------------------------------------------------------------------- finding 3


def test_a_home_that_held_an_erased_subjects_data_is_still_snapshotted(database_url, tmp_path):
    """A home whose record holds erased personal data (a contact, a registered manager erased
    and not yet replaced) could never be snapshotted again: encoding the erased value raised
    ("cannot be stored again"), logged at every interval, and every read replayed from the last
    snapshot before the erasure, a replay that grows for ever."""
    ledger = sealed(ledger_at(database_url), tmp_path / "keys")
    plain = ledger_at(database_url)
    try:
        build(ledger, 10)
        assert ledger.handle(data_subjects.ErasePersonalData(subject="c-17", reason="DPO-2026-517"), ADMIN).ok
        for n in range(10, 150):
            assert report(ledger, FIRST + timedelta(days=n), n).ok
        assert ledger.snapshots_sealed.count() == 3  # versions 50, 100, 150
        fresh = sealed(ledger_at(database_url), tmp_path / "keys")
        try:
            restored, _ = fresh.snapshots_sealed.nearest(Location.id_for(HOME))
            assert restored.version == 150
            assert home(fresh) == home(plain)
            assert home(fresh)["contacts"]["c-17"]["name"] == "[erased]"
            moment = at(FIRST + timedelta(days=120))
            assert home(fresh, moment) == home(plain, moment)
        finally:
            fresh.close()
    finally:
        ledger.close()
        plain.close()


def test_a_home_reported_just_after_london_midnight_forgets_the_same_days_kept_snapshotted_and_replayed(database_url, tmp_path):
    """The day a home forgets is reckoned from each report's time in its own zone: a report at
    00:30 in London (23:30 UTC the day before) must leave the same days whether the record is the
    one kept in memory, one restored from a snapshot, or a replay of its events."""
    from zoneinfo import ZoneInfo

    from domain.providers.location import KEPT_DAYS

    london = ZoneInfo("Europe/London")
    ledger = sealed(ledger_at(database_url), tmp_path / "keys")
    ledger.keep_aggregates(10)
    plain = ledger_at(database_url)
    try:
        outcome = import_records(ledger, [care_home_record(HOME)], SYNC, at(FIRST) - timedelta(days=1))
        assert outcome[0].outcome == "recorded"
        for n in range(KEPT_DAYS + 30):
            day = FIRST + timedelta(days=n)
            when = datetime_in(london, day + timedelta(days=1), 0, 30)
            result = report(ledger, day, n, when=when)
            assert result.ok, (n, result.error)
        with ledger.repository.kept.lending():
            kept = ledger.repository.get(Location.id_for(HOME))
        replayed = plain.repository.get(Location.id_for(HOME))
        assert list(kept.vacancies) == list(replayed.vacancies)
        assert _state(kept) == _state(replayed)
        assert home(ledger) == home(plain)
        for n in (KEPT_DAYS + 1, KEPT_DAYS + 10, KEPT_DAYS + 29):
            moment = datetime_in(london, FIRST + timedelta(days=n + 1), 0, 31)
            assert home(ledger, moment) == home(plain, moment)
    finally:
        ledger.close()
        plain.close()


def datetime_in(zone, day: date, hour: int, minute: int):
    from datetime import datetime

    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)


def test_the_monitoring_story_on_a_keeping_ledger_with_its_processes_leaves_kept_what_a_replay_gives(database_url):
    """The performance process's nested commands (business_time, their own clock reads of a
    record's last change) run inside the lending of the command they follow."""
    from tests.integration import monitoring_story

    keeping = ledger_at(database_url)
    keeping.keep_aggregates(1000)
    keeping.after_save.extend(process_followers(keeping))
    try:
        monitoring_story.build(keeping)
        assert_kept_as_replayed(keeping, database_url)
    finally:
        keeping.close()


def test_every_day_a_correction_may_name_is_still_in_the_home_after_more_than_kept_days(database_url, tmp_path):
    """At the edge of `RecentDay` (366 days back, reckoned in UTC) and of `KEPT_DAYS` (reckoned
    from the last report's own time), on London times around midnight: a correction of any day
    a command may name finds that day's report; an older one is refused as too early, never as
    unreported."""
    from zoneinfo import ZoneInfo

    from domain.providers.location import KEPT_DAYS

    london = ZoneInfo("Europe/London")
    ledger = sealed(ledger_at(database_url), tmp_path / "keys")
    ledger.keep_aggregates(10)
    try:
        outcome = import_records(ledger, [care_home_record(HOME)], SYNC, at(FIRST) - timedelta(days=1))
        assert outcome[0].outcome == "recorded"
        last = FIRST + timedelta(days=KEPT_DAYS + 20)
        for n in range(KEPT_DAYS + 21):
            day = FIRST + timedelta(days=n)
            assert report(ledger, day, 1, when=datetime_in(london, day, 23, 50)).ok
        when = datetime_in(london, last + timedelta(days=1), 0, 20)  # 23:20 UTC on `last` in summer, 00:20 in winter
        codes = {}
        for back in range(364, 372):
            day = last - timedelta(days=back)
            command = pc.CorrectVacancies(location=HOME, date=day, nursing=2, reason="miscounted")
            result = ledger.handle(command, home_manager(), at=when + timedelta(seconds=back))
            codes[back] = "ok" if result.ok else result.error.code
        assert set(codes.values()) <= {"ok", "date_too_early"}, codes
        assert "ok" in codes.values() and "date_too_early" in codes.values()
    finally:
        ledger.close()


def test_reads_in_threads_while_commands_run_answer_as_a_plain_ledger(database_url, tmp_path):
    """The HTTP API's reads run in threads beside the command thread: reads now and as of a time
    on a keeping, sealed ledger, made while its commands run, are those a plain ledger gives."""
    import random
    import threading

    ledger = sealed(ledger_at(database_url), tmp_path / "keys")
    ledger.keep_aggregates(10)
    plain = ledger_at(database_url)
    try:
        build(ledger, 60)
        seen: list[tuple] = []
        problems: list[BaseException] = []
        stop = threading.Event()

        def reader(seed: int) -> None:
            rng = random.Random(seed)
            try:
                while not stop.is_set():
                    moment = at(FIRST) + timedelta(hours=rng.randrange(0, 24 * 140))
                    seen.append((moment, home(ledger, moment)))
                    now = ledger.aggregate(Location, HOME)
                    state = location_state(now)
                    assert now.version == 2 + len(state["vacancies"]), (now.version, len(state["vacancies"]))
            except BaseException as err:  # noqa: BLE001
                problems.append(err)

        threads = [threading.Thread(target=reader, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        try:
            for n in range(60, 130):
                assert report(ledger, FIRST + timedelta(days=n), n).ok
        finally:
            stop.set()
            for thread in threads:
                thread.join()
        assert not problems, problems[0]
        assert len(seen) > 20
        for moment, state in seen[:: max(1, len(seen) // 60)]:
            expected_now = home(plain, moment)
            # a moment after the last event stored when it was read may since have gained events
            if state["version"] == expected_now["version"]:
                assert state == expected_now, moment
        assert home(ledger) == home(plain)
    finally:
        ledger.close()
        plain.close()
