"""KPIs as data, the Cheshire East quarterly and annual returns, and the performance record
(domain only: no store, no clock)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone

import pytest

from domain.kernel.errors import DomainError
from domain.monitoring.kpis import (
    KpiSet,
    evaluate_kpi,
    indicator,
    parse_kpis,
    shipped_kpi_names,
    shipped_kpi_versions,
    shipped_kpis,
)
from domain.monitoring.failures import PerformanceRecord
from domain.monitoring.views import kpi_set_state, performance_record_state, return_state
from domain.kernel.metadata import Actor
from domain.monitoring.periods import due_on, period_bounds, shift_period
from domain.monitoring.returns import Return
from domain.monitoring.templates import parse_template, shipped_template, shipped_template_versions, template_sha256
from tests.unit.story import as_

PROVIDER = Actor(id="u-willow", org="1-000000003", role="provider")
COMMISSIONER = Actor(id="u-cec", org="CEC", role="commissioner")
SYSTEM = Actor(id="process:performance_failures", org="aqp-ledger", role="system")
HOME = "1-000000003"
NOW = datetime(2026, 7, 1, 9, tzinfo=timezone.utc)


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


# ------------------------------------------------------------ shipped KPI sets


def test_the_shipped_kpi_sets_load_with_the_seeds_targets():
    assert shipped_kpi_names() == ["cheshire-east-accommodation-with-care", "london-aqp-care-homes"]
    cheshire = parse_kpis(shipped_kpis("cheshire-east-accommodation-with-care", 1))
    targets = {k["id"]: (k["target"]["comparison"], k["target"]["value"], k["frequency"]) for k in cheshire["indicators"]}
    assert targets == {
        "outcome_reviews": ("at_least", 95, "quarterly"),
        "continuity_of_care_workers": ("at_least", 85, "quarterly"),
        "rostering": ("at_least", 90, "4-weekly"),
        "timeliness_of_submissions": ("at_least", 95, "annual"),
        "accuracy_of_submissions": ("at_least", 95, "annual"),
    }
    assert [k["id"] for k in cheshire["indicators"] if k["critical"]] == ["accuracy_of_submissions"]
    assert all(k["consequence"].strip() and k["definition"].strip() for k in cheshire["indicators"])
    london = parse_kpis(shipped_kpis("london-aqp-care-homes"))
    assert [(k["id"], k["target"]) for k in london["indicators"]] == [
        ("returns_by_deadline", {"comparison": "at_least", "value": 75}),
        ("returns_within_three_months", {"comparison": "above", "value": 95}),
    ]


def test_cheshire_easts_second_version_adds_safe_caring_and_well_led_at_95_and_keeps_the_first_as_it_was():
    first, second = (parse_kpis(raw) for raw in shipped_kpi_versions("cheshire-east-accommodation-with-care"))
    assert (first["version"], second["version"]) == (1, 2)
    assert shipped_kpis("cheshire-east-accommodation-with-care") == shipped_kpi_versions("cheshire-east-accommodation-with-care")[1]
    # Version 1 is published and frozen. The second keeps its indicators, except that Outcomes Reviews
    # is critical, as the KPI and Quality Framework table marks it, and adds three.
    assert second["indicators"][1:5] == first["indicators"][1:5]
    was, now = first["indicators"][0], second["indicators"][0]
    assert was["id"] == now["id"] == "outcome_reviews" and (was["critical"], now["critical"]) == (False, True)
    assert {**now, "critical": False, "consequence": was["consequence"], "source": was["source"]} == was
    assert "Service Action Plan" in now["consequence"]
    added = {k["id"]: (k["label"], k["target"], k["critical"]) for k in second["indicators"][5:]}
    assert added == {
        "safe": ("Safe", {"comparison": "at_least", "value": 95}, True),
        "caring": ("Caring", {"comparison": "at_least", "value": 95}, True),
        "well_led": ("Well-led", {"comparison": "at_least", "value": 95}, True),
    }
    # Published in order, version 2 follows version 1; published first, it is refused.
    with as_(COMMISSIONER, NOW):
        kpis = KpiSet.publish_first(first)
        assert kpis.publish(second) is True
        with pytest.raises(DomainError) as err:
            KpiSet.publish_first(second)
    assert err.value.code == "kpis_version_not_next"


def test_a_bad_kpi_set_names_every_field_at_once():
    raw = copy.deepcopy(shipped_kpis("london-aqp-care-homes"))
    raw["indicators"][0]["target"] = {"comparison": "roughly", "value": 75}
    raw["indicators"][1]["frequency"] = "fortnightly"
    raw["indicators"][1]["critical"] = "no"
    raw["indicators"][1]["consequence"] = ""
    raw["colour"] = "red"
    with pytest.raises(DomainError) as err:
        parse_kpis(raw)
    assert {(f["field"], f["rule"]) for f in err.value.fields} == {
        ("colour", "unknown_key"),
        ("returns_by_deadline.target", "invalid_target"),
        ("returns_within_three_months.frequency", "unknown_frequency"),
        ("returns_within_three_months.critical", "not_yes_no"),
        ("returns_within_three_months.consequence", "required"),
    }


# ------------------------------------------------------------------ evaluation


def kpi(set_name: str, kpi_id: str) -> dict:
    return indicator(parse_kpis(shipped_kpis(set_name)), kpi_id)


def test_a_kpi_is_met_or_breached_with_its_margin():
    reviews = kpi("cheshire-east-accommodation-with-care", "outcome_reviews")
    assert evaluate_kpi(reviews, {"numerator": 19, "denominator": 20}) == {
        "kpi": "outcome_reviews", "value": 95.0, "target": {"comparison": "at_least", "value": 95},
        "outcome": "met", "margin": 0.0, "critical": True, "consequence": None,
    }
    breached = evaluate_kpi(reviews, {"numerator": 9, "denominator": 10})
    assert (breached["outcome"], breached["margin"]) == ("breached", -5.0)
    assert "Service Action Plan" in breached["consequence"]
    by_deadline = kpi("london-aqp-care-homes", "returns_by_deadline")
    assert evaluate_kpi(by_deadline, {"numerator": 31, "denominator": 40})["margin"] == 2.5  # 77.5% against 75%
    accuracy = kpi("cheshire-east-accommodation-with-care", "accuracy_of_submissions")
    assert evaluate_kpi(accuracy, {"value": 80})["critical"] is True


def test_over_95_percent_means_exactly_95_is_a_breach():
    within = kpi("london-aqp-care-homes", "returns_within_three_months")
    assert evaluate_kpi(within, {"numerator": 19, "denominator": 20})["outcome"] == "breached"
    assert evaluate_kpi(within, {"numerator": 39, "denominator": 40})["outcome"] == "met"


def test_at_most_and_below_targets_count_the_margin_the_other_way():
    limit = {"id": "agency", "label": "Agency use", "target": {"comparison": "at_most", "value": 10}, "critical": False, "consequence": "Review."}
    assert (evaluate_kpi(limit, {"value": 7.5})["outcome"], evaluate_kpi(limit, {"value": 7.5})["margin"]) == ("met", 2.5)
    assert evaluate_kpi({**limit, "target": {"comparison": "below", "value": 10}}, {"value": 10})["outcome"] == "breached"


@pytest.mark.parametrize(
    "figures, field, rule",
    [
        ({"numerator": 3, "denominator": 0}, "denominator", "nothing_to_measure"),
        ({"numerator": 5, "denominator": 4}, "numerator", "exceeds_limit"),
        ({"numerator": -1, "denominator": 4}, "numerator", "not_a_count"),
        ({"value": 101}, "value", "not_a_percentage"),
        ({"value": True}, "value", "not_a_percentage"),
    ],
)
def test_bad_figures_are_refused_naming_the_field(figures, field, rule):
    with pytest.raises(DomainError) as err:
        evaluate_kpi(kpi("london-aqp-care-homes", "returns_by_deadline"), figures)
    assert [(f["field"], f["rule"]) for f in err.value.fields] == [(field, rule)]


# ------------------------------------------------------------------- versions


def test_a_kpi_set_is_versioned_and_a_published_version_never_changes():
    definition = parse_kpis(shipped_kpis("london-aqp-care-homes"))
    with as_(COMMISSIONER, NOW):
        kpis = KpiSet.publish_first(definition)
        assert kpis.publish(definition) is False  # unchanged: nothing recorded
        changed = copy.deepcopy(definition)
        changed["indicators"][0]["target"]["value"] = 80
        with pytest.raises(DomainError) as err:
            kpis.publish(changed)
        assert err.value.code == "kpis_version_exists"
        assert kpis.publish({**changed, "version": 2}) is True
    state = kpi_set_state(kpis)
    assert state["latest"] == 2 and state["versions"]["1"]["indicators"][0]["target"]["value"] == 75
    assert kpis.definition_of(None)["indicators"][0]["target"]["value"] == 80


# ---------------------------------------------------------- performance record


def test_a_failure_is_recorded_once_per_cause():
    with as_(SYSTEM, NOW):
        record = PerformanceRecord.open(contract="CEC-AWC/ALL/willow")
        assert record.record_critical_failure(
            cause="cqc_inadequate:1-000000003:2026-06-20", kind="cqc_inadequate", location=HOME,
            description="CQC rated Willow Court Inadequate overall.", occurred_on="2026-06-20",
        )
        assert not record.record_critical_failure(
            cause="cqc_inadequate:1-000000003:2026-06-20", kind="cqc_inadequate", location=HOME,
            description="Again.", occurred_on="2026-06-20",
        )
        periods = ["2026-04-06", "2026-05-04", "2026-06-01"]
        cause = f"returns_missed:{HOME}/cheshire-east-4-weekly/2026-04-06..2026-06-01"
        assert record.record_service_failure(cause=cause, location=HOME, template="cheshire-east-4-weekly", periods=periods, description="Missed.")
        assert not record.record_service_failure(cause=cause, location=HOME, template="cheshire-east-4-weekly", periods=periods, description="Missed.")
        with pytest.raises(DomainError) as err:
            record.record_service_failure(cause="x", location=HOME, template="t", periods=periods[:2], description="Two.")
        assert err.value.field == "periods"
    state = performance_record_state(record)
    assert list(state["critical_failures"]) == ["cqc_inadequate:1-000000003:2026-06-20"]
    assert state["service_failures"][cause]["periods"] == periods
    assert record.missed_periods_recorded(HOME, "cheshire-east-4-weekly") == set(periods)
    assert len(record.collect_events()) == 3


@pytest.mark.parametrize(
    "definition, period, before, after",
    [
        ({"frequency": "monthly"}, "2026-01", "2025-12", "2026-02"),
        ({"frequency": "quarterly"}, "2026-Q1", "2025-Q4", "2026-Q2"),
        ({"frequency": "quarterly"}, "2026-Q4", "2026-Q3", "2027-Q1"),
        ({"frequency": "annual"}, "2026-27", "2025-26", "2027-28"),
        ({"frequency": "4-weekly", "anchor": "2026-04-06"}, "2026-05-04", "2026-04-06", "2026-06-01"),
    ],
)
def test_consecutive_periods(definition, period, before, after):
    assert (shift_period(definition, period, -1), shift_period(definition, period, 1)) == (before, after)


# ------------------------------------------ Cheshire East quarterly and annual returns

QUARTERLY = {
    "supervisions_planned": 57, "supervisions_held": 52, "supervisions_rearranged": 5,
    "appraisals_planned": 14, "appraisals_held": 13, "appraisals_rearranged": 1, "staff_spot_checked": 18,
    "workforce_plan_progress": "Six of eight actions done; the medication competency refresh moves to Q2.",
    "residents": 41, "care_plans_in_place": 41, "care_plans_reviewed": 38,
    "individual_outcomes": "One resident now manages their own medication with prompts.",
    "hse_breaches": 0, "hse_investigations": 0, "infection_outbreaks": 1,
    "infection_control_measures": "Norovirus outbreak in May: unit closed to admissions for 72 hours, deep clean.",
    "last_fire_inspection_on": "2026-02-11",
    "audits_planned": "Medication, care records and mealtime experience audits.", "audits_undertaken": 4,
    "audit_outcomes": "Medication: two recording gaps, retraining done. Care records, infection control, falls: no actions.",
    "cec_funded_residents": 29, "outcome_reviews_required": 8, "outcome_reviews_completed": 9,
    "outcome_reviews_with_outcome_achieved": 8, "staff_at_start": 56, "staff_retained": 53, "staff_retention_percent": 94.6,
}
ANNUAL = {
    "public_liability_cover": 1_000_000_000, "employers_liability_cover": 1_000_000_000,
    "professional_indemnity_cover": 500_000_000, "insurance_certificates_sent": True,
    "workforce_development_plan_sent": True, "training_matrix_sent": True, "staff_employed": 57,
    "staff_level2_diploma": 31, "staff_care_certificate": 22, "staff_turnover_percent": 23.5,
    "recruitment_plans": "Two night senior posts through the local college's care academy.", "vacancies": 3,
    "structures_sent": True, "staff_survey_held": True, "emergency_contact_rota_sent": True,
    "resident_survey_results": "34 of 41 responded; 91% feel listened to; mealtime choice to improve.",
    "cqc_key_findings": "None: no inspection report was published this year.",
    "safeguarding_enquiries": 3, "safeguarding_referrals": 5, "complaints": 6, "comments": 14,
    "council_referrals": 19, "council_referrals_accepted": 15, "council_referrals_refused": 4,
    "reviews_planned": 41, "reviews_undertaken": 40, "unplanned_reviews": 7,
    "improvement_initiatives": "Dementia champion trained; oral health programme with the community dental service.",
    "community_involvement": "Weekly visits from the primary school choir.",
    "partner_involvement": "Monthly multidisciplinary meeting with the GP practice and district nurses.",
    "business_continuity_plan_reviewed_on": "2026-11-02", "hs_incidents": 4, "hse_compliance_confirmed": True,
    "staff_flu_vaccinated": 39, "policies_updated": "Safeguarding and medication policies; Statement of Purpose unchanged.",
    "statement_of_purpose_changed": False, "kpi_outcome_reviews_percent": 97.0, "kpi_continuity_of_care_percent": 88.0,
    "kpi_rostering_percent": 93.5,
}
CHESHIRE_RETURNS = {"cheshire-east-quarterly": ("2026-Q1", QUARTERLY), "cheshire-east-annual": ("2026-27", ANNUAL)}


@pytest.mark.parametrize("name", sorted(CHESHIRE_RETURNS))
def test_each_cheshire_template_loads_and_a_realistic_return_passes(name):
    definition = parse_template(shipped_template(name, 1))
    assert definition["template"] == name and definition["version"] == 1
    assert all(m["definition"].strip() for m in definition["metrics"])
    period, values = CHESHIRE_RETURNS[name]
    due = due_on(definition, period)
    with as_(PROVIDER, at(due)):
        ret = Return.submit_new(
            location=HOME, definition=definition, sha256=template_sha256(definition), period=period,
            values=values, comments={}, answers={}, now=at(due),
        )
    state = return_state(ret)
    assert state["status"] == "submitted" and state["lateness"]["on_time"]
    assert state["period"]["ends_on"] == period_bounds(definition, period)[1].isoformat()


#: version 2 of the annual return adds the KPI and Quality Framework table's Safe, Caring and Well-led
ANNUAL_V2 = {**ANNUAL, "kpi_safe_percent": 96.0, "kpi_caring_percent": 95.0, "kpi_well_led_percent": 94.5}


def test_the_annual_returns_second_version_asks_for_safe_caring_and_well_led_and_keeps_the_first():
    first, second = (parse_template(raw) for raw in shipped_template_versions("cheshire-east-annual"))
    assert (first["version"], second["version"]) == (1, 2)
    assert second["metrics"][: len(first["metrics"])] == first["metrics"]
    assert [m["id"] for m in second["metrics"][len(first["metrics"]):]] == ["kpi_safe_percent", "kpi_caring_percent", "kpi_well_led_percent"]
    due = due_on(second, "2026-27")
    with as_(PROVIDER, at(due)):
        ret = Return.submit_new(
            location=HOME, definition=second, sha256=template_sha256(second), period="2026-27",
            values=ANNUAL_V2, comments={}, answers={}, now=at(due),
        )
        assert return_state(ret)["template"]["version"] == 2
        with pytest.raises(DomainError) as err:
            Return.submit_new(
                location=HOME, definition=second, sha256=template_sha256(second), period="2026-27",
                values=ANNUAL, comments={}, answers={}, now=at(due),
            )
    assert {f["field"] for f in err.value.fields} == {"kpi_safe_percent", "kpi_caring_percent", "kpi_well_led_percent"}


def test_the_annual_return_is_due_on_30_april_and_the_quarterly_ten_working_days_after_the_quarter():
    assert due_on(parse_template(shipped_template("cheshire-east-annual")), "2026-27") == date(2027, 4, 30)
    assert due_on(parse_template(shipped_template("cheshire-east-quarterly")), "2026-Q1") == date(2026, 7, 14)


def test_a_bad_quarterly_return_names_every_field():
    definition = parse_template(shipped_template("cheshire-east-quarterly"))
    values = {**QUARTERLY, "supervisions_held": 50, "care_plans_reviewed": 45, "outcome_reviews_with_outcome_achieved": 10}
    with as_(PROVIDER, NOW), pytest.raises(DomainError) as err:
        Return.submit_new(
            location=HOME, definition=definition, sha256=template_sha256(definition), period="2026-Q1",
            values=values, comments={}, answers={}, now=at(date(2026, 7, 10)),
        )
    assert {(f["field"], f["rule"]) for f in err.value.fields} == {
        ("supervisions_planned", "subtotal_mismatch"),
        ("care_plans_reviewed", "exceeds_limit"),
        ("outcome_reviews_with_outcome_achieved", "exceeds_limit"),
    }
