"""Every KPI judged, each only under the monitoring regime that includes it (issue 18 item 1):
the compliance read model's `compliance_kpis` rows from events in memory (no store, no clock).

London's framework names London's KPI set and is judged by it alone; a framework naming no
KPI set is judged by none; Cheshire East's homes are judged by Cheshire East's set: outcomes
reviews from the quarterly return, the reported KPIs from the annual return, accuracy from the
Council's spot checks. Each KPI is met exactly on its target (all are "at least") and breached
just below it.
"""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import pytest

from domain.contracts.contract import Contract
from domain.contracts.framework import Framework
from domain.kernel.metadata import Actor
from domain.monitoring.returns import Return
from domain.monitoring.templates import parse_template, shipped_template, template_sha256
from projections.compliance import CHESHIRE_EAST, LONDON, ReturnCompliance
from tests.unit.story import as_
from tests.unit.test_kpis import ANNUAL, ANNUAL_V2, QUARTERLY
from tests.unit.test_monitoring_read_models import (
    ASTER,
    BIRCH,
    TEMPLATE,
    at,
    events,
    framework_contract,
    location,
    missed,
    submitted,
    tables,
)

CEC = Actor(id="u-cec-km", org="CEC", role="contract_manager")
QUARTER = parse_template(shipped_template("cheshire-east-quarterly"))
ANNUAL_V1 = parse_template(shipped_template("cheshire-east-annual", 1))
ANNUAL_2 = parse_template(shipped_template("cheshire-east-annual", 2))
WILLOW = "1-3000000009"


def kpis(folded: dict[str, dict[str, dict[str, Any]]], **where: str) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in folded.get("compliance_kpis", {}).items() if all(r[c] == v for c, v in where.items())}


# ------------------------------------------------------------- London, and no KPI set at all


def london_april(monitoring: dict[str, list[str]] | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    aster, birch = location(ASTER, 60), location(BIRCH, 30)
    f, k = framework_contract(ASTER, BIRCH, monitoring=monitoring)
    # 19 of 20 homes on time would be 95%; here one of two: 50%, far below either council's target.
    april = submitted(ASTER, "2026-04", date(2026, 5, 8))
    may = missed(BIRCH, "2026-04", date(2026, 6, 15))
    return tables(ReturnCompliance, events(aster, birch, f, k, april, may))


def test_london_is_judged_by_londons_kpis_only_never_by_cheshire_easts_timeliness():
    folded = london_april()
    rows = kpis(folded)
    assert rows, "London's framework names London's KPI set: its returns are judged"
    assert {r["kpi_set"] for r in rows.values()} == {LONDON}
    assert {r["kpi"] for r in rows.values()} == {"returns_by_deadline", "returns_within_three_months"}
    # Before issue 18 every scope was also judged against Cheshire East's 95% timeliness: breached.
    assert not [r for r in rows.values() if r["kpi"] == "timeliness_of_submissions"]
    april = rows[f"framework|AQP-NH|{TEMPLATE}|period|2026-04|returns_by_deadline"]
    assert (april["numerator"], april["denominator"], april["target"], april["outcome"]) == (1, 2, 75, "breached")


def test_a_framework_naming_no_kpi_set_is_judged_by_none_and_so_never_breached():
    folded = london_april({"returns": [TEMPLATE]})
    assert folded["compliance_summary"][f"framework|AQP-NH|{TEMPLATE}|period|2026-04"]["expected"] == 2
    assert kpis(folded) == {}


def test_a_framework_naming_cheshire_easts_set_judges_its_london_returns_by_cheshire_easts_timeliness_only():
    folded = london_april({"returns": [TEMPLATE], "kpis": [CHESHIRE_EAST]})
    assert {r["kpi"] for r in kpis(folded).values()} == {"timeliness_of_submissions"}


# ------------------------------------------------------------------------ Cheshire East


def cheshire_east(*homes: str, kpi_sets: tuple[str, ...] = (CHESHIRE_EAST,)) -> list[Any]:
    with as_(CEC, at(date(2026, 3, 2))):
        f = Framework.establish(
            reference="CEC-AWC", title="Cheshire East accommodation with care", kind="care_homes", lots=[{"id": "ALL", "name": "All"}],
            commissioners=[{"org": "CEC", "kind": "council"}], starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31),
            max_extension_months=0, max_extension_value_percent=None, regime="pcr2015", ladder="cheshire_east",
            monitoring={"returns": ["cheshire-east-quarterly", "cheshire-east-annual"], "kpis": list(kpi_sets)},
        )
        k = Contract.award(
            reference="CEC-AWC/ALL/willow", framework=f, competition="CEC-AWC", lot="ALL", provider="1-5000000001",
            value=1_000_000, starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31),
        )
        for home in homes:
            k.add_home(location=home, effective_from=date(2026, 4, 1))
    return events(*(location(h, 90) for h in homes), f, k)


def returned(home: str, definition: dict[str, Any], period: str, values: dict[str, Any], day: date) -> Return:
    with as_(Actor(id="p", org=home, role="provider"), at(day)):
        return Return.submit_new(
            location=home, definition=definition, sha256=template_sha256(definition), period=period,
            values=values, comments={}, answers={}, now=at(day),
        )


def quarterly(residents: int, achieved: int) -> dict[str, Any]:
    return {
        **QUARTERLY, "residents": 90, "cec_funded_residents": residents, "outcome_reviews_required": 0,
        "outcome_reviews_completed": achieved, "outcome_reviews_with_outcome_achieved": achieved,
    }


def judged(home_events: list[Any], kpi: str) -> dict[str, Any]:
    (row,) = kpis(tables(ReturnCompliance, home_events), kpi=kpi).values()
    return row


@pytest.mark.parametrize(
    "residents, achieved, figures, outcome",
    [
        (80, 19, (19, 20, 95.0), "met"),  # 25% of 80 is 20 reviews: 19 is exactly 95%
        (80, 18, (18, 20, 90.0), "breached"),
        (29, 8, (8, 8, 100.0), "met"),  # 25% of 29 rounded up is 8
        (29, 7, (7, 8, 87.5), "breached"),
        (40, 15, (10, 10, 100.0), "met"),  # more than required counts as the number required
    ],
)
def test_outcomes_reviews_are_judged_each_quarter_against_25_percent_of_the_cec_funded_residents(residents, achieved, figures, outcome):
    row = judged([*cheshire_east(WILLOW), *events(returned(WILLOW, QUARTER, "2026-Q1", quarterly(residents, achieved), date(2026, 7, 10)))], "outcome_reviews")
    assert (row["scope"], row["scope_id"], row["template"], row["period"], row["kpi_set"]) == ("home", WILLOW, "cheshire-east-quarterly", "2026-Q1", CHESHIRE_EAST)
    assert (row["numerator"], row["denominator"], row["value"], row["target"], row["outcome"]) == (*figures, 95, outcome)


def test_an_amended_quarterly_return_is_judged_again():
    ret = returned(WILLOW, QUARTER, "2026-Q1", quarterly(80, 18), date(2026, 7, 10))
    before = judged([*cheshire_east(WILLOW), *copy.deepcopy(ret).collect_events()], "outcome_reviews")
    with as_(Actor(id="p", org=WILLOW, role="provider"), at(date(2026, 7, 20))):
        ret.amend(definition=QUARTER, values=quarterly(80, 20), comments={}, answers={}, reason="Two reviews were missed off.", now=at(date(2026, 7, 20)))
    after = judged([*cheshire_east(WILLOW), *ret.collect_events()], "outcome_reviews")
    assert (before["outcome"], after["outcome"], after["value"]) == ("breached", "met", 100.0)


ANNUAL_KPIS = [
    ("continuity_of_care_workers", "kpi_continuity_of_care_percent", 85),
    ("rostering", "kpi_rostering_percent", 90),
    ("safe", "kpi_safe_percent", 95),
    ("caring", "kpi_caring_percent", 95),
    ("well_led", "kpi_well_led_percent", 95),
]


@pytest.mark.parametrize("kpi, metric, target", ANNUAL_KPIS)
@pytest.mark.parametrize("below, outcome", [(0, "met"), (0.1, "breached")])
def test_each_kpi_the_annual_return_reports_is_met_on_its_target_and_breached_below_it(kpi, metric, target, below, outcome):
    values = {**ANNUAL_V2, metric: target - below}
    row = judged([*cheshire_east(WILLOW), *events(returned(WILLOW, ANNUAL_2, "2026-27", values, date(2027, 4, 10)))], kpi)
    assert (row["template"], row["period"], row["value"], row["target"], row["comparison"], row["outcome"]) == (
        "cheshire-east-annual", "2026-27", target - below, target, "at_least", outcome,
    )


def test_an_annual_return_of_the_first_version_is_judged_on_the_kpis_it_reports():
    folded = tables(ReturnCompliance, [*cheshire_east(WILLOW), *events(returned(WILLOW, ANNUAL_V1, "2026-27", ANNUAL, date(2027, 4, 10)))])
    assert {r["kpi"]: r["outcome"] for r in kpis(folded, scope="home").values()} == {
        "continuity_of_care_workers": "met", "rostering": "met", "timeliness_of_submissions": "met",
    }


def spot_check(ret: Return, day: date, checked: list[str], accurate: list[str]) -> list[Any]:
    with as_(CEC, at(day)):
        ret.record_spot_check(
            definition=QUARTER, checked_on=day, fields_checked=checked, fields_accurate=accurate,
            method="Care plans and rotas seen at the home.", checker="CEC", now=at(day),
        )
    return ret.collect_events()


def test_accuracy_is_the_fields_found_accurate_out_of_those_spot_checked_over_the_year():
    ret = returned(WILLOW, QUARTER, "2026-Q1", quarterly(40, 10), date(2026, 7, 10))
    fields = [m["id"] for m in QUARTER["metrics"]][:20]
    history = [*cheshire_east(WILLOW), *ret.collect_events()]
    history += spot_check(ret, date(2026, 8, 3), fields, fields[:19])
    first = judged(history, "accuracy_of_submissions")
    assert (first["scope"], first["template"], first["span"], first["period"]) == ("home", "all", "year_to_date", "2026-27")
    assert (first["numerator"], first["denominator"], first["value"], first["outcome"]) == (19, 20, 95.0, "met")
    history += spot_check(ret, date(2026, 9, 1), fields[:1], [])
    second = judged(history, "accuracy_of_submissions")
    assert (second["numerator"], second["denominator"], second["value"], second["outcome"]) == (19, 21, 90.48, "breached")


def test_no_cheshire_east_kpi_judges_a_home_whose_framework_names_another_set_or_none():
    for kpi_sets in ((LONDON,), ()):
        ret = returned(WILLOW, QUARTER, "2026-Q1", quarterly(40, 1), date(2026, 7, 10))
        history = [*cheshire_east(WILLOW, kpi_sets=kpi_sets), *ret.collect_events(), *spot_check(ret, date(2026, 8, 3), ["residents"], [])]
        assert {r["kpi"] for r in kpis(tables(ReturnCompliance, history)).values()} <= {"returns_by_deadline", "returns_within_three_months"}
        assert not [r for r in kpis(tables(ReturnCompliance, history)).values() if r["kpi_set"] == CHESHIRE_EAST]


# ------------------------------------------------------------------ the page that shows them


def test_the_returns_page_shows_londons_tiles_beside_the_other_kpis_and_says_when_nothing_is_monitored():
    from api.web.returns import not_monitored, other_kpis, tiles_and_charts

    assert not_monitored([], []) is False  # nothing expected yet
    folded = london_april()
    cheshire = tables(ReturnCompliance, [*cheshire_east(WILLOW), *events(returned(WILLOW, QUARTER, "2026-Q1", quarterly(80, 18), date(2026, 7, 10)))])
    rows = [*kpis(folded, scope="all").values(), *kpis(cheshire, scope="home").values()]
    summary = list(folded["compliance_summary"].values())
    template, tiles, _charts = tiles_and_charts(rows, summary, None)
    # Cheshire East's templates sort first; the tiles are still London's, of London's return.
    assert template == TEMPLATE and [t["kpi"] for t in tiles] == ["returns_by_deadline", "returns_within_three_months"]
    others = {(k["kpi"], k["template"], k["span"]): k["outcome"] for k in other_kpis(rows)}
    assert others == {
        ("outcome_reviews", "cheshire-east-quarterly", "period"): "breached",
        ("timeliness_of_submissions", "cheshire-east-quarterly", "period"): "met",
        ("timeliness_of_submissions", "cheshire-east-quarterly", "year_to_date"): "met",
        ("timeliness_of_submissions", "all", "year_to_date"): "met",
    }
    assert not_monitored(rows, summary) is False
    unmonitored = london_april({"returns": [TEMPLATE]})
    assert not_monitored([], list(unmonitored["compliance_summary"].values())) is True
