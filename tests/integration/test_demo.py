"""The demo ledger on each store: built through the users' commands, refused nothing,
the same history for the same seed, and the patterns it claims (lateness, Nottingham's homes)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest

from api.bootstrap import open_ledger
from api.settings import Settings
from audit.verify import verify
from domain.contracts import commands as k
from domain.kernel.metadata import Actor
from scenarios.demo import DemoRefused, LedgerNotEmpty, build, fingerprint
from scenarios.demo.builder import Sender, at

SMALL = {"scale": "london", "years": 1, "homes": 20}


def for_the_demo(url: str):
    """The ledger as `aqp demo` opens it (the bootstrap's demo role)."""
    return open_ledger(Settings(database_url=url), "demo")


@pytest.fixture
def demo_ledger(database_url):
    ledger = for_the_demo(database_url)
    try:
        yield ledger
    finally:
        ledger.close()


def categories(ledger) -> Counter[str]:
    found: Counter[str] = Counter()
    for n in ledger.recorder.select_notifications(start=0, limit=10_000, topics=["domain.providers:Location.CategorySet"]):
        found[ledger.mapper.to_domain_event(n).category] += 1
    return found


def test_a_small_london_build_is_refused_nothing_and_verifies(demo_ledger):
    figures = build(demo_ledger, seed=3, **SMALL)
    assert figures["refused"] == 0
    assert figures["commands"] > 2000 and figures["events"] >= figures["commands"]
    assert figures["homes"] == 20
    assert figures["competitions"] == figures["awards"] == 1
    assert figures["contracts"] >= 1 and figures["contract_homes"] >= 10
    assert figures["vacancy_reports"] > 1000
    assert figures["returns_submitted"] > 50 and figures["placement_returns"] > 50
    assert figures["commands_per_second"] > 0
    report = verify(demo_ledger, [])
    assert report.ok, report.problems[:3]
    assert report.events == figures["events"]


def test_the_same_seed_builds_the_same_history_on_any_store_and_another_seed_does_not(demo_ledger, tmp_path):
    build(demo_ledger, seed=5, **SMALL)
    again = for_the_demo(f"sqlite:///{tmp_path}/again.db")
    other = for_the_demo(f"sqlite:///{tmp_path}/other.db")
    try:
        build(again, seed=5, **SMALL)
        build(other, seed=6, **SMALL)
        assert fingerprint(demo_ledger) == fingerprint(again)
        assert fingerprint(other) != fingerprint(again)
    finally:
        again.close()
        other.close()


def test_the_demo_builds_only_into_an_empty_ledger(demo_ledger):
    build(demo_ledger, scale="nottingham", years=1, homes=8, seed=1)
    with pytest.raises(LedgerNotEmpty, match="already holds"):
        build(demo_ledger, scale="nottingham", years=1, homes=8, seed=1)


def test_a_refused_command_stops_the_build_and_names_the_command(demo_ledger):
    sender = Sender(demo_ledger, correlation="test")
    manager = Actor(id="u-cm", org="ICB-NCL", role="contract_manager")
    try:
        with pytest.raises(DemoRefused, match=r"contract\.sign by contract_manager u-cm of ICB-NCL .*contract_not_found"):
            sender.send(k.SignContract(contract="NO-SUCH-CONTRACT", signed_on=date(2025, 5, 1)), manager, at(date(2025, 5, 1)))
    finally:
        sender.close()
    assert sender.refused == 1


def test_nottingham_has_83_homes_in_the_four_categories_with_annual_quality_visits(demo_ledger):
    figures = build(demo_ledger, scale="nottingham", years=1, seed=2)
    assert figures["refused"] == 0
    assert figures["homes"] == 83
    assert categories(demo_ledger) == {
        "older_people": 41, "mental_health": 13, "physical_disability_sensory_impairment": 3, "learning_disability": 26,
    }
    # One visit a year per home, from April: most of the homes by December.
    assert 50 <= figures["quality_visits"] <= 83
    assert set(figures["quality_visit_rag"]) <= {"red", "amber", "green"} and figures["quality_visit_rag"].get("amber")


def test_the_national_scale_imports_its_locations_through_the_cqc_importer(demo_ledger):
    figures = build(demo_ledger, scale="national", years=1, homes=300, seed=4)
    assert figures["refused"] == 0
    assert figures["homes"] == 300
    assert figures["commands_by_type"]["location.import_cqc"] > 300  # the initial sync, then the daily changes
    # About a third of homes re-inspected in a year, some managers changed (the daily sync).
    assert figures["manager_changes"] > 0 and 50 <= figures["ratings"] <= 200


def test_a_moderately_sized_london_build_shows_the_kpi_lateness_pattern(sqlite_url):
    """Seed 000 s.7: about 75-80% of returns by the deadline, 95% within three months."""
    ledger = for_the_demo(sqlite_url)
    try:
        figures = build(ledger, scale="london", years=2, homes=70, seed=11)
    finally:
        ledger.close()
    returns = figures["quality_returns"]
    assert returns["due"] > 600
    assert 70 <= returns["on_time_percent"] <= 84, returns
    assert 92 <= returns["within_3_months_percent"] <= 99.5, returns
    assert returns["never_received"] > 0  # a few chronic late reporters never send some
    assert figures["service_failures"] > 0  # three missed periods running (seed 003 s.3.6)
