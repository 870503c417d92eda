"""The monitoring read models (compliance, quality, exceptions, rag) on each store, from real commands
(tests/integration/monitoring_story.py): rows checked against what the domain says, incremental
catch-up equal to a rebuild from zero, and a replay as of a past time showing the past."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from audit.replay import replay_projection, rows_as_csv
from domain.application import Ledger
from domain.monitoring.quality_visits import QualityVisit
from domain.monitoring.returns import Return
from domain.monitoring.views import quality_visit_state, return_state
from projections import follow, runner
from projections.catalogue import READ_MODELS
from projections.monitoring import financial_year
from tests.integration import monitoring_story as story
from tests.integration.machinery import live_contents

UTC = timezone.utc
MONITORING = ("compliance", "quality", "exceptions", "rag")


def notifications(ledger: Ledger, topic: str) -> list[Any]:
    found: list[Any] = []
    while True:
        page = ledger.notification_log.select(start=found[-1].id if found else 0, limit=500, topics=[topic], inclusive_of_start=False)
        if not page:
            return [ledger.mapper.to_domain_event(n) for n in found]
        found += page


def returns(ledger: Ledger) -> list[dict[str, Any]]:
    return [return_state(ledger.aggregate(Return, e.reference)) for e in notifications(ledger, get_topic(Return.Opened))]


def view(ledger: Ledger, name: str) -> Any:
    return follow.live_view(ledger, READ_MODELS[name])


@pytest.fixture
def story_ledger(ledger: Ledger) -> Ledger:
    story.build(ledger)
    return ledger


def test_compliance_rows_are_what_the_returns_and_the_contracts_say(story_ledger):
    ledger = story_ledger
    follow.catch_up(ledger, READ_MODELS["compliance"](view(ledger, "compliance")), page_size=9)
    v = view(ledger, "compliance")
    rows = {(r["location"], r["period"]): r for r in v.select("return_compliance")}
    held = returns(ledger)
    assert len(held) == 11
    for state in held:
        row = rows[(state["location"], state["period"]["name"])]
        assert row["due_on"] == state["due_on"]
        lateness = state["lateness"]
        if lateness is None:
            assert (row["status"], row["missed_on"]) == ("missed", state["missed_on"])
        else:
            assert row["status"] == ("on_time" if lateness["on_time"] else "late")
            assert (row["submitted_on"], row["days_late"]) == (lateness["submitted_on"], lateness["days_late"])
    # Owed under the contract, deadline passed, no record at all: Birch's July and August, Cedar's June (it left on 15 June).
    overdue = {(r["location"], r["period"]) for r in rows.values() if r["status"] == "overdue"}
    assert overdue == {(story.BIRCH, "2026-07"), (story.BIRCH, "2026-08"), (story.CEDAR, "2026-06")}
    assert {p: rows[(story.ASTER, p)]["due_on"] for p in story.DUE} == story.DUE

    (birch,) = v.select("missed_runs", where={"location": story.BIRCH})
    assert (birch["current_run"], birch["run_from"], birch["run_to"], birch["service_failure"]) == (5, "2026-04", "2026-08", "yes")
    april = v.select("compliance_summary", where={"scope": "framework", "scope_id": story.FRAMEWORK, "span": "period", "period": "2026-04"})
    assert [(r["expected"], r["on_time"], r["late"], r["punctuality_percent"]) for r in april] == [(3, 2, 1, 66.67)]
    kpis = {r["kpi"]: (r["value"], r["outcome"]) for r in v.select(
        "compliance_kpis", where={"scope": "icb", "scope_id": story.NCL, "template": "all", "span": "year_to_date"})}
    assert kpis == {
        "returns_by_deadline": (54.55, "breached"),  # 6 of Aster's and Birch's 11 on time
        "returns_within_three_months": (63.64, "breached"),
        # London's framework is judged by London's KPIs only, never by Cheshire East's timeliness
    }
    assert v.count("compliance_summary", where={"scope": "directorate", "scope_id": "Camden", "span": "period"}) == 6


def test_quality_series_are_the_returns_values_and_areas_add_them_up(story_ledger):
    ledger = story_ledger
    follow.catch_up(ledger, READ_MODELS["quality"](view(ledger, "quality")), page_size=13)
    v = view(ledger, "quality")
    series = {(r["location"], r["metric"], r["period"]): r for r in v.select("quality_series")}
    received = [s for s in returns(ledger) if s["lateness"] is not None]
    for state in received:
        for metric, value in state["values"].items():
            key = (state["location"], metric, state["period"]["name"])
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert series[key]["value"] == value
            else:
                assert key not in series
    assert len(series) == sum(1 for s in received for x in s["values"].values() if isinstance(x, (int, float)) and not isinstance(x, bool))
    july = series[(story.ASTER, "falls", "2026-07")]
    assert (july["value"], july["amended"], july["bed_days"], july["rate_per_1000_bed_days"]) == (17, "yes", 60 * 31, 9.14)
    (april,) = v.select("quality_areas", where={"level": "all", "metric": "falls", "period": "2026-04"})
    assert (april["homes"], april["total"], april["bed_days"]) == (3, 10 + 4 + 20, (60 + 30 + 90) * 30)
    assert april["rate_per_1000_bed_days"] == round(1000 * 34 / 5400, 2)
    directorates = {r["area"] for r in v.select("quality_areas", where={"level": "directorate", "metric": "falls", "period": "2026-04"})}
    assert directorates == {"Camden", "Barnet", "Hackney"}


def test_exceptions_and_rag_tables_from_the_story(story_ledger):
    ledger = story_ledger
    runner.catch_up_all(ledger, page_size=17)
    found = {(r["location"], r["kind"], r["period"]): r for r in view(ledger, "exceptions").rows()}
    assert {k: r["status"] for k, r in found.items()} == {
        (story.ASTER, "sharp_rise", "2026-07"): "cleared",
        (story.ASTER, "sharp_fall", "2026-09"): "open",
        (story.ASTER, "manager_changed", "2026-10"): "open",
        (story.BIRCH, "not_reporting", "2026-05"): "open",
        (story.BIRCH, "not_reporting", "2026-06"): "open",
        (story.BIRCH, "not_reporting", "2026-07"): "open",
        (story.BIRCH, "not_reporting", "2026-08"): "open",
        (story.CEDAR, "not_reporting", "2026-06"): "open",
    }
    text = str(view(ledger, "exceptions").rows())
    assert "Okafor" not in text and "Lovelace" not in text

    visits = [quality_visit_state(ledger.aggregate(QualityVisit, e.reference)) for e in notifications(ledger, get_topic(QualityVisit.Scheduled))]
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for state in sorted(visits, key=lambda s: s["visit_date"]):
        latest[(state["location"], financial_year(datetime.fromisoformat(state["visit_date"]).date()))] = state
    table = {(r["category"], r["year"]): r for r in view(ledger, "rag").rows()}
    for year in ("2025-26", "2026-27"):
        counted = [s["outcome"]["rag"] for (loc, y), s in latest.items() if y == year]
        total = table[("total", year)]
        assert [total["red"], total["amber"], total["green"]] == [counted.count(r) for r in ("red", "amber", "green")]
    older = table[("older_people", "2026-27")]
    assert (older["green"], older["homes_both_years"], older["red_change"], older["amber_change"], older["green_change"]) == (2, 2, -1, -1, 2)


def test_catching_up_between_commands_in_small_pages_equals_a_rebuild_from_zero(ledger):
    moments = sorted(set(story.MOMENTS))
    cuts = [moments[len(moments) * i // 5] for i in range(1, 5)]
    since = None
    for cut in [*cuts, None]:
        story.build(ledger, since=since, until=cut)
        runner.catch_up_all(ledger, page_size=7)
        since = cut
    incremental = {name: live_contents(ledger, READ_MODELS[name]) for name in MONITORING}
    assert incremental["compliance"]["return_compliance"] and incremental["rag"]["rag_table"]
    positions = runner.rebuild(ledger, list(MONITORING), page_size=50)
    assert positions == {name: ledger.max_position() for name in MONITORING}
    for name in MONITORING:
        assert live_contents(ledger, READ_MODELS[name]) == incremental[name], name


def test_replaying_as_of_a_past_time_shows_the_past(story_ledger):
    ledger = story_ledger
    before_amendment = datetime(2026, 8, 10, 12, tzinfo=UTC)
    compliance = {(r["location"], r["period"]): r["status"] for r in replay_projection(ledger, "compliance", before_amendment)}
    # On 10 August Birch's July return was not yet due (14 August); June was recorded missed.
    assert (story.BIRCH, "2026-07") not in compliance and compliance[(story.BIRCH, "2026-06")] == "missed"
    assert compliance[(story.ASTER, "2026-07")] == "on_time"
    falls = {r["period"]: r["value"] for r in replay_projection(ledger, "quality", before_amendment) if r["location"] == story.ASTER and r["metric"] == "falls"}
    assert falls == {"2026-04": 10, "2026-05": 12, "2026-06": 14, "2026-07": 18}
    rise = [r for r in replay_projection(ledger, "exceptions", before_amendment) if r["kind"] == "sharp_rise"]
    assert [(r["period"], r["status"], r["cleared_at"]) for r in rise] == [("2026-07", "open", None)]
    years = {r["year"] for r in replay_projection(ledger, "rag", datetime(2026, 1, 1, tzinfo=UTC))}
    assert years == {"2025-26"}
    assert replay_projection(ledger, "compliance", datetime(2000, 1, 1, tzinfo=UTC)) == []
    csv = rows_as_csv(replay_projection(ledger, "rag", datetime(2100, 1, 1, tzinfo=UTC)), READ_MODELS["rag"].columns)
    assert csv.splitlines()[0] == "category,category_code,year,red,amber,green,homes,previous_year,homes_both_years,red_change,amber_change,green_change"
    # The live tables were never touched.
    assert all((view(ledger, name).max_tracking_id(ledger.name) or 0) == 0 for name in MONITORING)
