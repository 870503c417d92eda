"""The monitoring read models' rules (compliance, quality, exceptions, rag), in memory: events made
by the domain's own aggregates, folded by `Replayed` (no store, no clock)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone
from typing import Any

import pytest

from domain.contracts.contract import Contract
from domain.contracts.framework import Framework
from domain.providers.cqc import parse_location
from domain.kernel.metadata import Actor
from domain.providers.location import Location
from domain.monitoring.quality_visits import (
    NOTTINGHAM,
    QualityVisit,
    parse_visit_framework,
    shipped_visit_framework,
)
from domain.monitoring.returns import Return, ReturnTemplate
from domain.monitoring.periods import due_on, period_bounds
from domain.monitoring.templates import parse_template, shipped_template, template_sha256
from projections.compliance import CHESHIRE_EAST, KPI_MEASURES, LONDON, ReturnCompliance, current_run, kpi_rows
from projections.exceptions import RULES, SHARP_FALL, SHARP_RISE, ExceptionReports, Rule
from projections.monitoring import add_months, financial_year, period_of
from projections.quality import QualityDashboards, rate
from projections.rag import RagTables, table_row
from projections.read_model import Replayed
from tests.unit.story import as_

UTC = timezone.utc
TEMPLATE = "london-aqp-care-home-monthly"
ASTER, BIRCH = "1-3000000001", "1-3000000002"
SYSTEM = Actor(id="cqc", org="CSU", role="system")
MANAGER = Actor(id="km", org="ICB-NCL", role="contract_manager")
OFFICER = Actor(id="qmo", org="NCC", role="contract_manager")
DEFINITION = parse_template(shipped_template(TEMPLATE))
VALUES = {
    "residents": 50, "admissions_status": "open",
    "pressure_ulcers_total": 0, "pu_grade3_acquired": 0, "pu_grade3_on_admission": 0, "pu_grade4_acquired": 0,
    "pu_grade4_on_admission": 0, "pu_ungradable_acquired": 0, "pu_ungradable_on_admission": 0,
    "outbreaks_total": 0, "outbreaks_mrsa": 0, "outbreaks_c_difficile": 0, "outbreaks_norovirus": 0,
    "outbreaks_respiratory": 0, "outbreaks_other": 0, "residents_infected": 0, "serious_incidents_cqc": 0,
    "falls": 10, "residents_who_fell": 5, "hospital_admissions": 2, "ambulance_callouts": 3, "complaints_received": 1,
    "complaints_upheld": 0, "compliments": 2, "safeguarding_alerts": 0, "staff_total": 60, "nurses": 10, "care_staff": 40,
    "other_staff": 10, "agency_hours_percent": 5.0, "starters": 1, "leavers": 1, "vacancies": 2, "turnover_percent": 18.0,
    "registered_manager_in_post": True,
}
ANSWERS = {"q_end_of_life": "Reviewed with families.", "q_hospital_avoidance": "Weekly GP rounds."}


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def events(*aggregates: Any) -> list[Any]:
    found = []
    for aggregate in aggregates:
        found += aggregate.collect_events()
    return found


def location(reference: str, beds: int, icb: str = "NHS North Central London Integrated Care Board", manager: str = "Ada Lovelace") -> Location:
    record = {
        "locationId": reference, "providerId": "1-5000000001", "name": f"Home {reference}", "registrationStatus": "Registered",
        "numberOfBeds": beds, "onspdIcbName": icb, "localAuthority": "Camden",
        "regulatedActivities": [{"name": "Nursing care", "contacts": [
            {"personGivenName": manager.split()[0], "personFamilyName": manager.split()[1], "personRoles": ["Registered Manager"]},
        ]}],
    }
    with as_(SYSTEM, at(date(2026, 3, 1))):
        return Location.import_cqc(parse_location(record))


def template() -> ReturnTemplate:
    with as_(MANAGER, at(date(2026, 3, 1))):
        return ReturnTemplate.publish_first(copy.deepcopy(DEFINITION))


def framework_contract(
    *homes: str, removed: dict[str, date] | None = None, monitoring: dict[str, list[str]] | None = None
) -> tuple[Framework, Contract]:
    with as_(MANAGER, at(date(2026, 3, 2))):
        f = Framework.establish(
            reference="AQP-NH", title="London AQP nursing homes", kind="care_homes", lots=[{"id": "NCL", "name": "NCL"}],
            commissioners=[{"org": "ICB-NCL", "kind": "icb", "directorates": ["Camden"]}], starts_on=date(2026, 4, 1),
            ends_on=date(2030, 3, 31), max_extension_months=0, max_extension_value_percent=None, regime="pcr2015",
            ladder="nottingham", monitoring={"returns": [TEMPLATE], "kpis": [LONDON]} if monitoring is None else monitoring,
        )
        k = Contract.award(
            reference="AQP-NH/NCL/aster", framework=f, competition="AQP-2026", lot="NCL", provider="1-5000000001",
            value=1_000_000, starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31),
        )
        for home in homes:
            k.add_home(location=home, effective_from=date(2026, 4, 1))
    for home, day in (removed or {}).items():
        with as_(MANAGER, at(day)):
            k.remove_home(location=home, effective_from=day, reason="Sold.")
    return f, k


def submitted(home: str, period: str, day: date, **values: Any) -> Return:
    with as_(Actor(id="p", org=home, role="provider"), at(day)):
        return Return.submit_new(
            location=home, definition=DEFINITION, sha256=template_sha256(DEFINITION), period=period,
            values={**VALUES, **values}, comments={}, answers=ANSWERS if period.endswith(("-06", "-12")) else {}, now=at(day),
        )


def missed(home: str, period: str, day: date) -> Return:
    with as_(SYSTEM, at(day)):
        return Return.missed(location=home, definition=DEFINITION, sha256=template_sha256(DEFINITION), period=period, now=at(day))


def rows(model: Any, table: str, evs: list[Any]) -> dict[str, dict[str, Any]]:
    return tables(model, evs)[table]


def tables(model: Any, evs: list[Any]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every table of the read model after the events, by table and key."""
    replayed = Replayed(model).feed(evs)
    return {name: {key: dict(row) for key, row in stored.items()} for name, stored in replayed.page.store.items()}


# ------------------------------------------------------------------ shared helpers


@pytest.mark.parametrize(
    "frequency, period",
    [("monthly", "2026-02"), ("quarterly", "2026-Q4"), ("quarterly", "2026-Q1"), ("annual", "2026-27"), ("4-weekly", "2026-05-04")],
)
def test_the_period_containing_a_day_is_the_period_whose_bounds_hold_it(frequency, period):
    definition = {"frequency": frequency, "anchor": "2026-04-06" if frequency == "4-weekly" else None}
    start, end = period_bounds(definition, period)
    assert period_of(definition, start) == period == period_of(definition, end)


def test_three_months_after_a_deadline_keeps_the_day_or_takes_the_months_last():
    assert add_months(date(2026, 5, 15), 3) == date(2026, 8, 15)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    assert (financial_year(date(2026, 3, 31)), financial_year(date(2026, 4, 1))) == ("2025-26", "2026-27")


# ------------------------------------------------------------------ compliance


def test_kpis_meet_or_breach_exactly_at_their_targets():
    def evaluated(kpi_set: str, expected: int, on_time: int, within: int) -> dict[str, str]:
        summary = {"scope": "all", "scope_id": "all", "template": TEMPLATE, "span": "period", "period": "2026-04", "year": "2026-27",
                   "expected": expected, "on_time": on_time, "within_three_months": within}
        return {k: r["outcome"] for k, r in kpi_rows(summary, kpi_set).items()}

    # 75% by the deadline is met ("at least"); 95% within three months is not ("over 95%", seed 000 s.7).
    assert evaluated(LONDON, 20, 15, 19) == {"returns_by_deadline": "met", "returns_within_three_months": "breached"}
    assert evaluated(LONDON, 20, 14, 20) == {"returns_by_deadline": "breached", "returns_within_three_months": "met"}
    # Cheshire East's timeliness is at least 95% (seed 003 s.3.6 a), a set of its own.
    assert evaluated(CHESHIRE_EAST, 20, 19, 0) == {"timeliness_of_submissions": "met"}
    assert evaluated(CHESHIRE_EAST, 20, 18, 20) == {"timeliness_of_submissions": "breached"}
    assert kpi_rows({"expected": 0}, LONDON) == {}
    assert kpi_rows({"expected": 4, "on_time": 4}, "a-set-measuring-nothing-from-counts") == {}
    assert {kpi for _, kpi, _ in KPI_MEASURES} == {"returns_by_deadline", "returns_within_three_months", "timeliness_of_submissions"}


def test_the_current_run_counts_back_from_the_latest_period_until_a_return_in_by_its_deadline():
    assert current_run({}, DEFINITION) == (0, None, None)
    assert current_run({"2026-04": 1, "2026-05": 1, "2026-06": 0}, DEFINITION) == (0, None, None)
    assert current_run({"2026-04": 0, "2026-05": 1, "2026-06": 1, "2026-07": 1}, DEFINITION) == (3, "2026-05", "2026-07")
    # A period with neither a record nor an obligation breaks the run.
    assert current_run({"2026-04": 1, "2026-06": 1, "2026-07": 1}, DEFINITION) == (2, "2026-06", "2026-07")


def test_returns_owed_under_the_contract_are_on_time_late_missed_or_overdue_by_the_ledgers_day():
    aster, birch = location(ASTER, 60), location(BIRCH, 30)
    f, k = framework_contract(ASTER, BIRCH, removed={BIRCH: date(2026, 6, 15)})
    april = submitted(ASTER, "2026-04", date(2026, 5, 8))
    may = missed(ASTER, "2026-05", date(2026, 6, 15))
    with as_(Actor(id="p", org=ASTER, role="provider"), at(date(2026, 6, 20))):
        may.submit(definition=DEFINITION, values=VALUES, comments={}, answers={}, now=at(date(2026, 6, 20)))
    # Nothing else happens until the ledger records something on 1 September.
    late_event = submitted(ASTER, "2026-07", date(2026, 9, 1))
    folded = tables(ReturnCompliance, events(aster, birch, template(), f, k, april, may, late_event))
    found = folded["return_compliance"]
    status = {key: (r["status"], r["on_time"], r["within_three_months"]) for key, r in found.items()}
    assert status == {
        f"{ASTER}|{TEMPLATE}|2026-04": ("on_time", "yes", "yes"),
        f"{ASTER}|{TEMPLATE}|2026-05": ("late", "no", "yes"),
        f"{ASTER}|{TEMPLATE}|2026-06": ("overdue", None, None),
        f"{ASTER}|{TEMPLATE}|2026-07": ("late", "no", "yes"),
        # Birch left on 15 June: April to June were owed, July was not; it sent nothing.
        f"{BIRCH}|{TEMPLATE}|2026-04": ("overdue", None, None),
        f"{BIRCH}|{TEMPLATE}|2026-05": ("overdue", None, None),
        f"{BIRCH}|{TEMPLATE}|2026-06": ("overdue", None, None),
    }
    may_row = found[f"{ASTER}|{TEMPLATE}|2026-05"]
    assert (may_row["missed_on"], may_row["submitted_on"], may_row["days_late"]) == ("2026-06-15", "2026-06-20", 8)
    assert may_row["due_on"] == due_on(DEFINITION, "2026-05").isoformat() == "2026-06-12"
    assert all(r["frameworks"] == "AQP-NH" and r["icb"] == "NHS North Central London Integrated Care Board" for r in found.values())
    # Overdue rows say after which event the ledger saw them overdue.
    assert found[f"{ASTER}|{TEMPLATE}|2026-06"]["last_event_at"] == at(date(2026, 9, 1)).isoformat()

    summaries = folded["compliance_summary"]
    april_all = summaries[f"all|all|{TEMPLATE}|period|2026-04"]
    assert (april_all["expected"], april_all["on_time"], april_all["overdue"], april_all["punctuality_percent"]) == (2, 1, 1, 50.0)
    year = summaries["provider|1-5000000001|all|year_to_date|2026-27"]
    assert (year["expected"], year["received"], year["on_time"], year["late"], year["overdue"]) == (7, 3, 1, 2, 4)
    assert year["within_three_months_percent"] == round(100 * 3 / 7, 2)
    kpi = folded["compliance_kpis"][f"framework|AQP-NH|{TEMPLATE}|period|2026-04|returns_by_deadline"]
    assert (kpi["numerator"], kpi["denominator"], kpi["value"], kpi["outcome"], kpi["margin"]) == (1, 2, 50.0, "breached", -25.0)


def test_a_return_recorded_missed_counts_in_the_run_and_three_make_a_service_failure():
    evs = events(location(ASTER, 60), template())
    for period, day in (("2026-04", date(2026, 5, 18)), ("2026-05", date(2026, 6, 15)), ("2026-06", date(2026, 7, 15))):
        evs += events(missed(ASTER, period, day))
    runs = rows(ReturnCompliance, "missed_runs", evs)
    run = runs[f"{ASTER}|{TEMPLATE}"]
    assert (run["current_run"], run["run_from"], run["run_to"], run["service_failure"]) == (3, "2026-04", "2026-06", "yes")
    runs = rows(ReturnCompliance, "missed_runs", evs + events(submitted(ASTER, "2026-07", date(2026, 8, 3))))
    assert (runs[f"{ASTER}|{TEMPLATE}"]["current_run"], runs[f"{ASTER}|{TEMPLATE}"]["service_failure"]) == (0, "no")


# ------------------------------------------------------------------ quality


def test_rates_are_per_1000_registered_bed_days_and_an_amendment_moves_the_sums_once():
    aster, birch = location(ASTER, 60), location(BIRCH, 30)
    a, b = submitted(ASTER, "2026-04", date(2026, 5, 8), falls=14), submitted(BIRCH, "2026-04", date(2026, 5, 8), falls=6)
    evs = events(aster, birch, template(), a, b)
    series = rows(QualityDashboards, "quality_series", evs)
    falls = series[f"{ASTER}|{TEMPLATE}|falls|2026-04"]
    assert (falls["value"], falls["bed_days"], falls["rate_per_1000_bed_days"]) == (14, 1800, 7.78)
    residents = series[f"{ASTER}|{TEMPLATE}|residents|2026-04"]
    assert (residents["value"], residents["rate_per_1000_bed_days"]) == (50, None)  # a stock, not a rate
    assert f"{ASTER}|{TEMPLATE}|admissions_status|2026-04" not in series  # a choice, not a series
    areas = rows(QualityDashboards, "quality_areas", evs)
    ncl = areas[f"icb|NHS North Central London Integrated Care Board|{TEMPLATE}|falls|2026-04"]
    assert (ncl["homes"], ncl["total"], ncl["mean"], ncl["bed_days"], ncl["rate_per_1000_bed_days"]) == (2, 20, 10.0, 2700, 7.41)

    with as_(Actor(id="p", org=ASTER, role="provider"), at(date(2026, 5, 20))):
        a.amend(definition=DEFINITION, values={**VALUES, "falls": 16}, comments={}, answers={}, reason="Recount.", now=at(date(2026, 5, 20)))
    areas = rows(QualityDashboards, "quality_areas", evs + a.collect_events())
    all_falls = areas[f"all|all|{TEMPLATE}|falls|2026-04"]
    assert (all_falls["homes"], all_falls["total"], all_falls["rate_per_1000_bed_days"]) == (2, 22, rate(22, 2700))
    agency = areas[f"all|all|{TEMPLATE}|agency_hours_percent|2026-04"]
    assert (agency["mean"], agency["bed_days"]) == (5.0, None)


def test_a_home_without_known_beds_has_counts_but_no_rate():
    record = {"locationId": ASTER, "providerId": "1-5", "name": "Aster", "registrationStatus": "Registered"}
    with as_(SYSTEM, at(date(2026, 3, 1))):
        home = Location.import_cqc(parse_location(record))
    series = rows(QualityDashboards, "quality_series", events(home, template(), submitted(ASTER, "2026-04", date(2026, 5, 8))))
    falls = series[f"{ASTER}|{TEMPLATE}|falls|2026-04"]
    assert (falls["value"], falls["bed_days"], falls["rate_per_1000_bed_days"], falls["icb"]) == (10, None, None, None)


def test_a_return_made_against_an_earlier_template_version_is_read_with_that_versions_metrics():
    tmpl = template()
    second = copy.deepcopy(DEFINITION)
    second["version"] = 2
    second["metrics"] = [
        {**m, "label": "Falls, witnessed or not"} if m["id"] == "falls" else m for m in second["metrics"] if m["id"] != "compliments"
    ]
    with as_(MANAGER, at(date(2026, 4, 1))):
        tmpl.publish(parse_template(second))
    # Submitted after version 2 was published, April's return was still made against version 1.
    series = rows(QualityDashboards, "quality_series", events(location(ASTER, 60), tmpl, submitted(ASTER, "2026-04", date(2026, 5, 8))))
    assert series[f"{ASTER}|{TEMPLATE}|falls|2026-04"]["label"] == next(m["label"] for m in DEFINITION["metrics"] if m["id"] == "falls")
    assert series[f"{ASTER}|{TEMPLATE}|compliments|2026-04"]["value"] == 2


# ------------------------------------------------------------------ exceptions


@pytest.mark.parametrize(
    "previous, value, verdict",
    [
        ([10, 12, 14], 18, SHARP_RISE),  # +50% and +6: on the boundary
        ([10, 12, 14], 17, None),  # +42%
        ([10, 12, 14], 6, SHARP_FALL),  # -50% and -6
        ([10, 12, 14], 7, None),  # -42%
        ([1, 2, 3], 4, None),  # +100% but only +2
        ([1, 2, 3], 5, SHARP_RISE),  # +150% and +3
        ([0, 0, 0], 3, SHARP_RISE),
        ([0, 0, 0], 2, None),
        ([4, 4, 4], 1, SHARP_FALL),  # -75% and -3
        ([3, 3, 3], 1, None),  # -67% but only -2
    ],
)
def test_the_default_rule_at_its_boundaries(previous, value, verdict):
    assert Rule().judge(value, previous) == verdict


def test_serious_incidents_need_only_two_more_than_usual():
    assert RULES["serious_incidents_cqc"].judge(2, [0, 0, 0]) == SHARP_RISE
    assert RULES["serious_incidents_cqc"].judge(1, [0, 0, 0]) is None
    assert RULES["falls"].judge(2, [0, 0, 0]) is None


def falls_returns(*falls: int) -> list[Return]:
    months = ["2026-04", "2026-05", "2026-06", "2026-07", "2026-08"]
    return [submitted(ASTER, m, date(2026, int(m[5:]) + 1, 5), falls=n) for m, n in zip(months, falls)]


def test_a_sharp_rise_is_raised_against_the_previous_three_months_and_cleared_by_an_amendment():
    returns = falls_returns(10, 12, 14, 18)
    evs = events(location(ASTER, 60), template(), *returns)
    found = rows(ExceptionReports, "exceptions", evs)
    rise = found[f"{ASTER}|sharp_rise|{TEMPLATE}|falls|2026-07"]
    assert (rise["value"], rise["baseline"], rise["status"], rise["cleared_at"]) == (18, 12, "open", None)
    assert rise["raised_at"] == at(date(2026, 8, 5)).isoformat()
    assert not any(r["kind"] == SHARP_RISE and r["period"] != "2026-07" for r in found.values())

    july = returns[-1]
    with as_(Actor(id="p", org=ASTER, role="provider"), at(date(2026, 8, 20))):
        july.amend(definition=DEFINITION, values={**VALUES, "falls": 17}, comments={}, answers={}, reason="Counted twice.", now=at(date(2026, 8, 20)))
    cleared = rows(ExceptionReports, "exceptions", evs + july.collect_events())[f"{ASTER}|sharp_rise|{TEMPLATE}|falls|2026-07"]
    assert (cleared["status"], cleared["cleared_at"]) == ("cleared", at(date(2026, 8, 20)).isoformat())
    assert "no longer holds" in cleared["detail"]


def test_a_late_baseline_is_judged_when_it_arrives():
    april, may, june, july = falls_returns(10, 12, 14, 18)
    # July arrives before June: it cannot be judged yet; June's arrival completes its baseline.
    before = events(location(ASTER, 60), template(), april, may, july)
    assert not any(r["kind"] == SHARP_RISE for r in rows(ExceptionReports, "exceptions", before).values())
    found = rows(ExceptionReports, "exceptions", before + events(june))
    rise = found[f"{ASTER}|sharp_rise|{TEMPLATE}|falls|2026-07"]
    assert (rise["status"], rise["raised_at"]) == ("open", at(date(2026, 7, 5)).isoformat())


def test_a_missed_return_is_a_home_not_reporting_until_it_arrives():
    home, ret = location(ASTER, 60), missed(ASTER, "2026-05", date(2026, 6, 15))
    found = rows(ExceptionReports, "exceptions", events(home, template(), ret))
    row = found[f"{ASTER}|not_reporting|{TEMPLATE}|-|2026-05"]
    assert (row["status"], row["metric"], row["period"]) == ("open", None, "2026-05")
    with as_(Actor(id="p", org=ASTER, role="provider"), at(date(2026, 6, 22))):
        ret.submit(definition=DEFINITION, values=VALUES, comments={}, answers={}, now=at(date(2026, 6, 22)))
    row = rows(ExceptionReports, "exceptions", events(location(ASTER, 60), template(), missed(ASTER, "2026-05", date(2026, 6, 15))) + ret.collect_events())[
        f"{ASTER}|not_reporting|{TEMPLATE}|-|2026-05"
    ]
    assert (row["status"], row["cleared_at"]) == ("cleared", at(date(2026, 6, 22)).isoformat())
    assert "Received on 2026-06-22, 10 days late." in row["detail"]


def test_a_new_registered_manager_is_an_exception_that_names_nobody():
    home = location(ASTER, 60, manager="Ada Lovelace")
    imported = home.collect_events()
    changed = copy.deepcopy(parse_location({
        "locationId": ASTER, "providerId": "1-5000000001", "name": f"Home {ASTER}", "registrationStatus": "Registered",
        "numberOfBeds": 60, "onspdIcbName": "NHS North Central London Integrated Care Board", "localAuthority": "Camden",
        "regulatedActivities": [{"name": "Nursing care", "contacts": [
            {"personGivenName": "Grace", "personFamilyName": "Okafor", "personRoles": ["Registered Manager"]},
        ]}],
    }))
    with as_(SYSTEM, at(date(2026, 7, 3))):
        assert home.sync_cqc(changed) == ["RegisteredManagerChanged"]
    found = rows(ExceptionReports, "exceptions", imported + home.collect_events())
    (row,) = found.values()
    assert (row["kind"], row["period"], row["status"]) == ("manager_changed", "2026-07", "open")
    text = " ".join(str(v) for v in row.values())
    assert "Okafor" not in text and "Lovelace" not in text and "Grace" not in text


# ------------------------------------------------------------------ rag


def test_the_year_on_year_change_uses_only_homes_with_an_outcome_in_both_years():
    # Seed 004's older people: 14/16/9 in 2014-15 and 4/22/13 in 2015-16, the same 39 homes.
    before = {f"h{i}": rag for i, rag in enumerate(["red"] * 14 + ["amber"] * 16 + ["green"] * 9)}
    after = {f"h{i}": rag for i, rag in enumerate(["red"] * 4 + ["amber"] * 22 + ["green"] * 13)}
    row = table_row("older_people", "2015-16", {**after, "new-home": "red"}, {**before, "closed-home": "green"})
    assert (row["red"], row["amber"], row["green"], row["homes"], row["homes_both_years"]) == (5, 22, 13, 40, 39)
    assert (row["red_change"], row["amber_change"], row["green_change"]) == (-10, 6, 4)
    assert (row["category_code"], row["previous_year"]) == ("OP", "2014-15")
    assert table_row("older_people", "2015-16", after, {})["red_change"] is None


def visit(home: str, category: str | None, day: date, score: int) -> QualityVisit:
    framework = parse_visit_framework(shipped_visit_framework(NOTTINGHAM))
    indicators = [i["id"] for g in framework["groups"] for i in g["indicators"]]
    with as_(OFFICER, at(day, 8)):
        v = QualityVisit.schedule(location=home, category=category, visit_date=day, visitors=["NCC officer"], framework=framework, contract=None, now=at(day, 8))
    with as_(OFFICER, at(day, 15)):
        v.score(scores=[{"indicator": i, "score": score, "evidence": "Seen."} for i in indicators], now=at(day, 15))
        v.conclude(now=at(day, 15))
    return v


def test_a_home_visited_twice_in_a_year_counts_once_by_its_latest_visit():
    evs = events(
        visit(ASTER, "older_people", date(2025, 6, 1), 2),
        visit(ASTER, "older_people", date(2026, 5, 1), 2),
        visit(ASTER, "older_people", date(2026, 9, 1), 3),
        visit(BIRCH, None, date(2026, 6, 1), 3),
    )
    table = rows(RagTables, "rag_table", evs)
    op = table["older_people|2026-27"]
    assert (op["red"], op["amber"], op["green"], op["homes"]) == (0, 0, 1, 1)
    assert (op["red_change"], op["green_change"], op["homes_both_years"]) == (-1, 1, 1)
    assert table["uncategorised|2026-27"]["green"] == 1
    assert table["total|2026-27"]["homes"] == 2 and table["total|2025-26"]["red"] == 1
    visits = rows(RagTables, "rag_visits", evs)
    assert sorted((v["visit_date"], v["counted"], v["rag"]) for v in visits.values()) == [
        ("2025-06-01", "yes", "red"), ("2026-05-01", "no", "red"), ("2026-06-01", "yes", "green"), ("2026-09-01", "yes", "green"),
    ]


def test_a_manager_change_the_home_reports_in_its_return_is_an_exception_too():
    ret = submitted(ASTER, "2026-05", date(2026, 6, 5), manager_changed_on="2026-05-18")
    found = rows(ExceptionReports, "exceptions", events(location(ASTER, 60), template(), ret))
    row = found[f"{ASTER}|manager_changed|{TEMPLATE}|-|2026-05"]
    assert (row["period"], row["status"], row["cleared_at"]) == ("2026-05", "open", None)
    assert row["detail"] == "The home reported in its 2026-05 return that its manager changed on 2026-05-18."
