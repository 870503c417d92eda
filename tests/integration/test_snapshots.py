"""Sealed snapshots (`audit.snapshots`): a long home read from a snapshot is the home its events
give, now and as of any time; a forged, moved or foreign snapshot is never used; personal data in
a snapshot is erased with its subject; a home keeps only the days a command can name (both stores)."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

import pytest

from api.bootstrap import ledger_at
from api.cqc_import import import_records
from audit.snapshots import SealedSnapshots, seal_key
from benchmarks.aggregates import SYNC, at, care_home_record, home_manager
from domain.application import Ledger
from domain.kernel import data_subjects
from domain.kernel.metadata import Actor
from domain.providers import commands as pc
from domain.providers.location import KEPT_DAYS, Location
from domain.providers.views import location_state
from tests.integration.store_access import raw_connection, schema_of

HOME = "1-555000002"
FIRST = date(2024, 1, 1)
ADMIN = Actor(id="dpo", org="CSU", role="admin")


def sealed(ledger: Ledger, key_dir) -> Ledger:
    ledger.use_snapshots(SealedSnapshots(ledger, seal_key(key_dir)))
    return ledger


def report(ledger: Ledger, day: date, beds: int, *, when: datetime | None = None):
    command = pc.ReportVacancies(location=HOME, date=day, nursing=beds % 5, residential=beds % 3)
    return ledger.handle(command, home_manager(), at=when or at(day) + timedelta(hours=1))


def build(ledger: Ledger, days: int) -> None:
    outcome = import_records(ledger, [care_home_record(HOME)], SYNC, at(FIRST) - timedelta(days=1))
    assert outcome[0].outcome == "recorded", outcome
    added = pc.AddLocationContact(location=HOME, contact="c-5", role="manager", name="Grace Adeyemi", email="grace@example.org")
    assert ledger.handle(added, ADMIN, at=at(FIRST)).ok
    for n in range(days):
        day = FIRST + timedelta(days=n)
        result = report(ledger, day, n)
        assert result.ok, result.error


def home(ledger: Ledger, as_of: datetime | None = None) -> dict:
    return location_state(ledger.aggregate(Location, HOME, as_of=as_of))


@pytest.fixture
def long_home(database_url, tmp_path):
    ledger = sealed(ledger_at(database_url), tmp_path / "keys")
    build(ledger, 250)
    plain = ledger_at(database_url)  # no snapshots: every event replayed
    try:
        yield ledger, plain
    finally:
        ledger.close()
        plain.close()


def test_a_home_read_from_its_snapshots_is_the_home_its_events_give(long_home):
    ledger, plain = long_home
    assert ledger.snapshots_sealed.count() == 5  # at versions 50, 100, 150, 200 and 250 (every 50 events)
    assert home(ledger) == home(plain)
    rng = random.Random(5)
    moments = [at(FIRST) - timedelta(days=2), at(FIRST + timedelta(days=249)) + timedelta(days=30)]
    moments += [at(FIRST) + timedelta(minutes=rng.randrange(0, 250 * 24 * 60)) for _ in range(25)]
    for moment in moments:
        if moment < at(FIRST) - timedelta(days=1):
            with pytest.raises(Exception, match="as of"):
                ledger.aggregate(Location, HOME, as_of=moment)
            continue
        assert home(ledger, moment) == home(plain, moment), moment
    # A command on the home loaded from a snapshot records the next version.
    done = report(ledger, FIRST + timedelta(days=250), 1)
    assert done.ok and done.events[0].version == 253
    assert home(ledger) == home(plain)


def snapshot_table(database_url: str) -> str:
    return "record_snapshots" if database_url.startswith("sqlite") else f'"{schema_of(database_url)}"."record_snapshots"'


def forge(database_url: str, statement: str) -> None:
    with raw_connection(database_url) as conn:
        changed = conn.execute(statement.format(table=snapshot_table(database_url))).rowcount
    assert changed == 1, statement


@pytest.mark.parametrize(
    "forgery",
    [
        # the state changed (a day's vacancies), the seal left alone
        "UPDATE {table} SET state = {changed} WHERE version = 200",
        # the newer snapshot replaced by the older one's row
        "DELETE FROM {table} WHERE version = 200; UPDATE {table} SET version = 200 WHERE version = 100",
        # a seal that is not ours
        "UPDATE {table} SET seal = state WHERE version = 200",
    ],
    ids=["state changed", "older snapshot moved up", "seal replaced"],
)
def test_a_forged_snapshot_is_never_used(long_home, database_url, forgery, tmp_path):
    ledger, plain = long_home
    # One reported_at moved a year back: a byte of the state, nothing else.
    changed = (
        "CAST(replace(CAST(state AS TEXT), '2024-0', '2023-0') AS BLOB)" if database_url.startswith("sqlite")
        else "convert_to(replace(convert_from(state, 'UTF8'), '2024-0', '2023-0'), 'UTF8')"
    )
    for statement in forgery.split("; "):
        forge(database_url, statement.replace("{changed}", changed))
    fresh = sealed(ledger_at(database_url), tmp_path / "keys")
    try:
        assert home(fresh) == home(plain)
        moment = at(FIRST + timedelta(days=230))
        assert home(fresh, moment) == home(plain, moment)
    finally:
        fresh.close()


def test_snapshots_sealed_with_another_key_are_never_used(long_home, database_url, tmp_path):
    ledger, plain = long_home
    other = sealed(ledger_at(database_url), tmp_path / "another-key")
    try:
        assert other.snapshots_sealed.nearest(Location.id_for(HOME)) is None
        assert home(other) == home(plain)
    finally:
        other.close()


def test_personal_data_in_a_snapshot_is_ciphertext_and_erased_with_its_subject(long_home, database_url, tmp_path):
    ledger, plain = long_home
    with raw_connection(database_url) as conn:
        stored = b"".join(bytes(row[0]) for row in conn.execute(f"SELECT state FROM {snapshot_table(database_url)}").fetchall())
    assert stored and b"Grace" not in stored and b"grace@example" not in stored
    assert home(ledger)["contacts"]["c-5"]["name"] == "Grace Adeyemi"
    assert plain.handle(data_subjects.ErasePersonalData(subject="c-5", reason="DPO-2026-301"), ADMIN).ok
    fresh = sealed(ledger_at(database_url), tmp_path / "keys")
    try:
        assert fresh.snapshots_sealed.nearest(Location.id_for(HOME)) is not None
        assert home(fresh)["contacts"]["c-5"]["name"] == "[erased]"
        assert home(fresh, at(FIRST + timedelta(days=220)))["contacts"]["c-5"]["email"] == "[erased]"
    finally:
        fresh.close()


def test_a_home_keeps_the_days_a_command_can_name_and_a_read_as_of_then_shows_the_rest(database_url, tmp_path):
    ledger = sealed(ledger_at(database_url), tmp_path / "keys")
    try:
        build(ledger, KEPT_DAYS + 60)
        last = FIRST + timedelta(days=KEPT_DAYS + 59)
        kept = sorted(home(ledger)["vacancies"])
        assert kept[0] == (last - timedelta(days=KEPT_DAYS)).isoformat() and kept[-1] == last.isoformat()
        # Every day a command may name is still there: a year back, a repeat is refused as one.
        year_back = last - timedelta(days=365)
        refused = report(ledger, year_back, 9, when=at(last) + timedelta(hours=2))
        assert not refused.ok and refused.error.code == "vacancies_already_reported"
        # The first days are read as they stood.
        early = home(ledger, at(FIRST + timedelta(days=10)) + timedelta(hours=2))
        assert sorted(early["vacancies"])[0] == FIRST.isoformat() and len(early["vacancies"]) == 11
    finally:
        ledger.close()


def test_the_auditors_check_finds_a_snapshot_forged_with_the_key(long_home, database_url, tmp_path):
    """The seal stops anyone without the key; `aqp audit snapshots` replays each record and finds a
    snapshot sealed by someone holding it that says what the events do not."""
    ledger, plain = long_home
    snapshots = ledger.snapshots_sealed
    assert snapshots.check(ledger.events) == (5, [])
    forged = snapshots.nearest(Location.id_for(HOME), version=200)[0]
    forged.vacancies[(FIRST + timedelta(days=150)).isoformat()]["counts"]["nursing"] = 4
    forged.beds = 99
    snapshots.take(forged)  # sealed with the key, as an operator could
    checked, problems = snapshots.check(ledger.events)
    assert checked == 5 and problems == [
        f"the snapshot of record {Location.id_for(HOME)} at version 200 differs from its events in: beds, vacancies"
    ]
