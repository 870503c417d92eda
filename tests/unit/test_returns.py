"""Return templates, quality returns and placement returns: every rule tried with bad data
whose failure names the field (domain only: no store, no clock)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone

import pytest

from domain.kernel.errors import DomainError
from domain.kernel.metadata import Actor
from domain.monitoring.placement_returns import PlacementReturn, passes_nhs_check_digit
from domain.monitoring.returns import Return, ReturnTemplate
from domain.monitoring.templates import (
    ReturnInvalid,
    parse_template,
    shipped_template,
    shipped_template_names,
    template_sha256,
)
from domain.monitoring.periods import due_on, period_bounds
from domain.monitoring.views import return_state, return_template_state
from scenarios.london_returns import CARE_HOME_RETURN
from tests.unit import test_kpis as _kpi_tests
from tests.unit.story import as_

PROVIDER = Actor(id="u-aster", org="1-000000001", role="provider")
COMMISSIONER = Actor(id="u-ncl", org="ICB-NCL", role="commissioner")
HOME = "1-000000001"


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


# ------------------------------------------------------------ realistic returns

CARE_HOME = CARE_HOME_RETURN
HOME_CARE = {
    "service_users": 112, "tier_1": 60, "tier_2": 38, "tier_3": 11, "registered_nursing": 3, "hours_delivered": 9_840,
    "missed_visits": 2, "late_visits": 31, "pressure_ulcers": 2, "pu_acquired": 0, "pu_on_start": 2, "infections": 1,
    "serious_incidents_cqc": 0, "falls": 6, "hospital_admissions": 7, "ambulance_callouts": 5, "complaints_received": 3,
    "complaints_upheld": 1, "compliments": 9, "safeguarding_alerts": 2, "staff_total": 96, "nurses": 3,
    "care_workers": 81, "other_staff": 12, "agency_hours_percent": 3.0, "starters": 6, "leavers": 5, "vacancies": 8,
    "turnover_percent": 34.0, "registered_manager_in_post": True,
}
CHESHIRE = {
    "residents_total": 41, "residents_cec_funded": 29, "residents_self_funded": 12, "reviews_completed": 11,
    "referrals_received": 4, "referrals_accepted": 3, "referrals_refused": 1, "placements_commenced": 2,
    "outcomes_achieved": "Two residents returned to regular church attendance with support.",
    "staff_employed": 57, "staff_full_time": 31, "staff_part_time": 26, "staff_long_term_absent": 2, "staff_recruited": 3,
    "staff_left": 1, "vacancies": 3, "staff_in_induction": 3, "disciplinary_cases": 0, "dismissals": 0,
    "staff_on_risk_assessment": 1, "complaints_received": 1, "complaints_council_informed": 1, "complaints_upheld": 0,
    "compliments_received": 4, "care_concerns_raised": 1, "enquiries_commenced": 1, "enquiries_ongoing": 1,
    "enquiries_concluded": 2, "enquiries_substantiated": 0, "enquiries_partly_substantiated": 1,
    "enquiries_not_substantiated": 1, "dbs_initiated": 3, "dbs_ongoing": 2, "dbs_completed": 4, "incidents": 2,
    "accidents": 5, "hospital_admissions": 2, "staff_rota_attached": True,
}
REALISTIC = {
    "london-aqp-care-home-monthly": ("2026-06", CARE_HOME),
    "london-aqp-home-care-monthly": ("2026-06", HOME_CARE),
    "cheshire-east-4-weekly": ("2026-05-04", CHESHIRE),
    # the quarterly and annual returns' realistic values live with the KPIs' tests
    **{name: _kpi_tests.CHESHIRE_RETURNS[name] for name in ("cheshire-east-quarterly", "cheshire-east-annual")},
}


def test_every_shipped_template_has_a_realistic_return():
    assert sorted(REALISTIC) == shipped_template_names()


@pytest.mark.parametrize("name", sorted(REALISTIC))
def test_each_shipped_template_loads_and_a_realistic_return_passes(name):
    definition = parse_template(shipped_template(name, 1))
    assert definition["template"] == name and definition["version"] == 1
    assert all(m["definition"].strip() for m in definition["metrics"])
    period, values = REALISTIC[name]
    answers = {q["id"]: "We hold monthly reviews with families and GPs." for q in definition["questions"] if 6 in q["ask_in_months"]}
    _, end = period_bounds(definition, period)
    with as_(PROVIDER, at(due_on(definition, period))):
        ret = Return.submit_new(
            location=HOME, definition=definition, sha256=template_sha256(definition), period=period,
            values=values, comments={}, answers=answers, now=at(due_on(definition, period)),
        )
    state = return_state(ret)
    assert state["status"] == "submitted" and state["lateness"]["on_time"] and state["period"]["ends_on"] == end.isoformat()


# ------------------------------------------------------------------- templates

SMALL = {
    "template": "small-return",
    "version": 1,
    "title": "Every kind of metric",
    "frequency": "monthly",
    "deadline": {"rule": "working_days_after_period_end", "days": 10},
    "metrics": [
        {"id": "residents", "label": "Residents", "type": "count", "required": True, "definition": "People living in the home."},
        {"id": "falls", "label": "Residents who fell", "type": "count", "required": True, "definition": "Residents who fell."},
        {"id": "ulcers", "label": "Pressure ulcers", "type": "count", "definition": "Total."},
        {"id": "ulcers_home", "label": "Acquired", "type": "count", "definition": "Acquired in the home."},
        {"id": "ulcers_admission", "label": "On admission", "type": "count", "definition": "Present on admission."},
        {"id": "fees", "label": "Top-up fees", "type": "money", "definition": "Pence."},
        {"id": "agency", "label": "Agency use", "type": "percent", "definition": "Percent of hours."},
        {"id": "notes", "label": "Notes", "type": "text", "definition": "Free text."},
        {"id": "manager", "label": "Registered manager in post", "type": "yes_no", "definition": "Yes or no."},
        {"id": "inspected_on", "label": "Last inspection", "type": "date", "definition": "A date."},
        {"id": "status", "label": "Admissions", "type": "choice", "choices": ["open", "closed"], "definition": "Open or closed."},
    ],
    "subtotals": [{"total": "ulcers", "parts": ["ulcers_home", "ulcers_admission"]}],
    "not_above": [{"fields": ["falls"], "limit": "residents"}],
    "questions": [{"id": "q1", "text": "How do you support end of life care?", "ask_in_months": [6, 12]}],
}
GOOD = {"residents": 40, "falls": 3}


def small(**changes) -> dict:
    return parse_template({**copy.deepcopy(SMALL), **changes})


def failures(action) -> dict[str, str]:
    """field -> rule of every failure reported at once."""
    with pytest.raises(ReturnInvalid) as err:
        action()
    assert err.value.fields == err.value.failures
    return {f["field"]: f["rule"] for f in err.value.failures}


def test_a_broken_template_reports_every_problem_at_once():
    raw = copy.deepcopy(SMALL)
    raw["frequency"] = "fortnightly"
    raw["deadline"] = {"rule": "soon", "days": 0}
    raw["metrics"] += [
        {"id": "residents", "label": "Again", "type": "count", "definition": "x"},
        {"id": "colour", "label": "Colour", "type": "colour", "definition": "x"},
        {"id": "pick", "label": "Pick", "type": "choice", "definition": "x"},
        {"id": "nodef", "label": "No definition", "type": "count"},
    ]
    raw["subtotals"].append({"total": "notes", "parts": ["ulcers_home", "ghost"]})
    raw["not_above"].append({"fields": ["agency"], "limit": "residents"})
    raw["questions"] = [{"id": f"q{i}", "text": "?"} for i in range(4)]
    raw["colour"] = "blue"
    got = failures(lambda: parse_template(raw))
    assert got == {
        "colour": "unknown_key",
        "frequency": "unknown_frequency",
        "deadline": "invalid_deadline",
        "metrics[11].id": "duplicate_metric",
        "colour.type": "unknown_type",
        "pick.choices": "choices_required",
        "nodef.definition": "required",
        "subtotals[1]": "unknown_metric",
        "not_above[1]": "not_a_count",
        "questions": "too_many_questions",
    }


def test_a_four_weekly_template_needs_an_anchor_and_periods_28_days_apart():
    assert failures(lambda: small(frequency="4-weekly"))["anchor"] == "anchor_required"
    definition = small(frequency="4-weekly", anchor="2026-04-06")
    assert period_bounds(definition, "2026-05-04") == (date(2026, 5, 4), date(2026, 5, 31))
    with pytest.raises(DomainError) as err:
        period_bounds(definition, "2026-05-05")
    assert (err.value.code, err.value.field) == ("invalid_period", "period")


def test_periods_and_deadlines_for_each_frequency():
    assert period_bounds(small(), "2026-04") == (date(2026, 4, 1), date(2026, 4, 30))
    # The 10th working day after 31 May 2026 skips no bank holiday: Friday 12 June.
    assert due_on(small(), "2026-05") == date(2026, 6, 12)
    # After 31 August 2026 (Monday 31 August is the summer bank holiday): 14 September.
    assert due_on(small(), "2026-08") == date(2026, 9, 14)
    quarterly = small(frequency="quarterly")
    assert period_bounds(quarterly, "2026-Q4") == (date(2027, 1, 1), date(2027, 3, 31))
    annual = small(frequency="annual", deadline={"rule": "calendar_days_after_period_end", "days": 30})
    assert period_bounds(annual, "2026-27") == (date(2026, 4, 1), date(2027, 3, 31))
    assert due_on(annual, "2026-27") == date(2027, 4, 30)  # seed 003: the annual return by 30 April
    with pytest.raises(DomainError) as err:
        period_bounds(annual, "2026-28")
    assert err.value.field == "period"


# ------------------------------------------------------------------ validation


def submit(values: dict, comments: dict | None = None, answers: dict | None = None, period: str = "2026-04", day: date = date(2026, 5, 6)) -> Return:
    definition = small()
    with as_(PROVIDER, at(day)):
        return Return.submit_new(
            location=HOME, definition=definition, sha256=template_sha256(definition), period=period,
            values=values, comments=comments or {}, answers=answers or {}, now=at(day),
        )


@pytest.mark.parametrize(
    ("values", "field", "rule"),
    [
        ({"falls": 3}, "residents", "required"),
        ({**GOOD, "residents": -1}, "residents", "not_a_count"),
        ({**GOOD, "residents": 4.5}, "residents", "not_a_count"),
        ({**GOOD, "residents": True}, "residents", "not_a_count"),
        ({**GOOD, "fees": -100}, "fees", "not_money"),
        ({**GOOD, "agency": 101}, "agency", "percent_out_of_range"),
        ({**GOOD, "agency": -0.5}, "agency", "percent_out_of_range"),
        ({**GOOD, "agency": "ten"}, "agency", "not_a_number"),
        ({**GOOD, "notes": "  "}, "notes", "not_text"),
        ({**GOOD, "manager": "yes"}, "manager", "not_yes_no"),
        ({**GOOD, "inspected_on": "31/04/2026"}, "inspected_on", "not_a_date"),
        ({**GOOD, "status": "half-open"}, "status", "not_a_choice"),
        ({**GOOD, "ulcers": 3, "ulcers_home": 1, "ulcers_admission": 1}, "ulcers", "subtotal_mismatch"),
        ({**GOOD, "falls": 41}, "falls", "exceeds_limit"),
        ({**GOOD, "bed_blocking": 2}, "bed_blocking", "unknown_metric"),
    ],
)
def test_each_value_rule_refuses_bad_data_and_names_the_field(values, field, rule):
    with pytest.raises(ReturnInvalid) as err:
        submit(values)
    assert [(f["field"], f["rule"]) for f in err.value.failures] == [(field, rule)]
    assert err.value.failures[0]["message"]
    assert err.value.field == field and field in str(err.value)


@pytest.mark.parametrize(
    ("comments", "answers", "period", "field", "rule"),
    [
        ({"ghost": "x"}, {}, "2026-04", "comments.ghost", "unknown_metric"),
        ({"falls": "x" * 2_001}, {}, "2026-04", "comments.falls", "comment_too_long"),
        ({}, {}, "2026-06", "answers.q1", "answer_required"),
        ({}, {"q1": "We plan with families."}, "2026-04", "answers.q1", "question_not_asked"),
        ({}, {"q9": "?"}, "2026-04", "answers.q9", "unknown_question"),
    ],
)
def test_comments_and_answers_are_checked_and_name_the_field(comments, answers, period, field, rule):
    day = date(2026, 7, 6) if period == "2026-06" else date(2026, 5, 6)
    with pytest.raises(ReturnInvalid) as err:
        submit(GOOD, comments, answers, period=period, day=day)
    assert [(f["field"], f["rule"]) for f in err.value.failures] == [(field, rule)]


def test_every_failure_is_reported_at_once_and_nothing_is_recorded():
    bad = {"residents": 10, "falls": 12, "agency": 140, "ulcers": 5, "ulcers_home": 1, "status": "x", "ghost": 1}
    got = failures(lambda: submit(bad, {"ghost": "c"}))
    assert got == {
        "ghost": "unknown_metric", "comments.ghost": "unknown_metric", "agency": "percent_out_of_range",
        "status": "not_a_choice", "ulcers": "subtotal_mismatch", "falls": "exceeds_limit",
    }


def test_a_comment_is_allowed_on_every_item():
    definition = small()
    comments = {m["id"]: "Context for the figure." for m in definition["metrics"]}
    ret = submit(GOOD, comments)
    assert return_state(ret)["comments"] == dict(sorted(comments.items()))


# ----------------------------------------------------------- lifecycle of a return


def test_lateness_is_computed_from_the_deadline_rule():
    assert submit(GOOD, day=date(2026, 5, 15)).lateness == {"due_on": "2026-05-15", "submitted_on": "2026-05-15", "on_time": True, "days_late": 0}
    assert submit(GOOD, day=date(2026, 5, 19)).lateness["days_late"] == 4


def test_a_return_cannot_be_submitted_before_its_period_ends():
    with pytest.raises(DomainError) as err:
        submit(GOOD, day=date(2026, 4, 30))
    assert (err.value.code, err.value.field) == ("period_not_ended", "period")


def test_resubmitting_the_same_values_records_nothing_and_different_values_need_an_amendment():
    ret = submit(GOOD)
    definition = small()
    with as_(PROVIDER, at(date(2026, 5, 7))):
        assert ret.submit(definition=definition, values=GOOD, comments={}, answers={}, now=at(date(2026, 5, 7))) is False
        with pytest.raises(DomainError) as err:
            ret.submit(definition=definition, values={**GOOD, "falls": 4}, comments={}, answers={}, now=at(date(2026, 5, 7)))
    assert err.value.code == "return_already_submitted"


def test_an_amendment_needs_a_reason_is_validated_and_keeps_the_earlier_values():
    ret = submit(GOOD)
    definition = small()
    now = at(date(2026, 5, 20))
    with as_(PROVIDER, now):
        with pytest.raises(DomainError) as err:
            ret.amend(definition=definition, values={**GOOD, "falls": 5}, comments={}, answers={}, reason=" ", now=now)
        assert (err.value.code, err.value.field) == ("reason_required", "reason")
        with pytest.raises(ReturnInvalid) as invalid:
            ret.amend(definition=definition, values={**GOOD, "falls": 50}, comments={}, answers={}, reason="Recount.", now=now)
        assert invalid.value.fields[0]["field"] == "falls"
        ret.amend(definition=definition, values={**GOOD, "falls": 5}, comments={"falls": "Two falls found in the night log."}, answers={}, reason="Night log recount.", now=now)
    state = return_state(ret)
    assert state["values"]["falls"] == 5 and state["lateness"]["on_time"]
    [amendment] = state["amendments"]
    assert amendment["previous"]["values"] == GOOD and amendment["changed"] == ["falls"] and amendment["reason"] == "Night log recount."


def test_a_commissioner_reviews_only_the_provider_commentary_there_is():
    ret = submit(GOOD, {"falls": "One resident fell three times; falls clinic referral made."})
    now = at(date(2026, 5, 21))
    with as_(COMMISSIONER, now):
        got = failures(lambda: ret.review(outcome="maybe", note="", items={"residents": "?"}, reviewer="ICB-NCL", now=now))
        assert got == {"outcome": "unknown_outcome", "note": "required", "items.residents": "no_comment_to_review"}
        ret.review(outcome="accepted", note="Thank you.", items={"falls": "Referral noted."}, reviewer="ICB-NCL", now=now)
    assert return_state(ret)["reviews"][0]["items"] == {"falls": "Referral noted."}


def test_a_return_is_missed_only_after_its_deadline_and_can_then_be_submitted_late():
    definition = small()
    sha = template_sha256(definition)
    with as_(COMMISSIONER, at(date(2026, 5, 15))), pytest.raises(DomainError) as err:
        Return.missed(location=HOME, definition=definition, sha256=sha, period="2026-04", now=at(date(2026, 5, 15)))
    assert err.value.code == "deadline_not_passed"
    with as_(COMMISSIONER, at(date(2026, 5, 18))):
        ret = Return.missed(location=HOME, definition=definition, sha256=sha, period="2026-04", now=at(date(2026, 5, 18)))
    assert return_state(ret)["status"] == "missed"
    with as_(PROVIDER, at(date(2026, 6, 1))):
        ret.submit(definition=definition, values=GOOD, comments={}, answers={}, now=at(date(2026, 6, 1)))
    assert return_state(ret)["status"] == "submitted" and ret.lateness["days_late"] == 17


def test_a_published_version_never_changes_and_versions_follow_one_another():
    with as_(COMMISSIONER, at(date(2026, 3, 1))):
        template = ReturnTemplate.publish_first(small())
        assert template.publish(small()) is False
        with pytest.raises(DomainError) as err:
            template.publish(small(title="Changed after publication"))
        assert err.value.code == "template_version_exists"
        with pytest.raises(DomainError) as err:
            template.publish(small(version=3))
        assert err.value.code == "template_version_not_next"
        template.publish(small(version=2, title="Version 2", questions=[]))
    state = return_template_state(template)
    assert state["latest"] == 2 and state["versions"]["1"]["title"] == "Every kind of metric"
    assert template.definition_of(1) == small() and template.definition_of(None)["questions"] == []


# ------------------------------------------------------------ placement returns

RATES = {"nursing": 95_000, "nursing_dementia": 100_000, "residential": 80_000, "residential_dementia": 85_000}


def rate_on(day: date, bed_type: str) -> int | None:
    return RATES[bed_type] + (5_000 if day >= date(2026, 4, 1) else 0)


def placement(ref: str = "AST-0001", **changes) -> dict:
    return {"reference": ref, "icb": "ICB-NCL", "bed_type": "nursing", "weekly_rate": 100_000, "start_date": "2026-03-10", **changes}


def place(placements: list[dict], previous: list[dict] | None = None, period: str = "2026-04", day: date = date(2026, 5, 5)) -> PlacementReturn:
    with as_(PROVIDER, at(day)):
        return PlacementReturn.submit_new(
            location=HOME, framework="AQP-CH", period=period, placements=placements, rate_on=rate_on, previous=previous, now=at(day)
        )


def test_the_nhs_number_check_digit():
    assert passes_nhs_check_digit("9434765919") and passes_nhs_check_digit("943 476 5919")
    assert not passes_nhs_check_digit("9434765918") and not passes_nhs_check_digit("AST-0001")


def test_a_reference_that_passes_the_nhs_number_check_digit_is_refused_and_says_why():
    with pytest.raises(ReturnInvalid) as err:
        place([placement("9434765919")])
    [failure] = err.value.failures
    assert (failure["field"], failure["rule"]) == ("placements[0].reference", "nhs_number_refused")
    assert "NHS number" in failure["message"] and "pseudonymous" in failure["message"]
    assert place([placement("9434765918")]).placements[0]["reference"] == "9434765918"


def test_the_rate_must_be_the_framework_rate_for_the_bed_type_on_the_day_unless_explained():
    got = failures(lambda: place([placement(weekly_rate=95_000)]))
    assert got == {"placements.AST-0001.weekly_rate": "rate_not_framework_rate"}
    ret = place([placement(weekly_rate=120_000, rate_explanation="One-to-one enhanced care agreed by the ICB.")])
    assert ret.placements[0]["rate_flagged"] is True and ret.placements[0]["framework_rate"] == 100_000


def test_no_placement_date_may_be_in_the_future():
    got = failures(lambda: place([placement(start_date="2026-05-20"), placement("AST-0002", end_date="2026-05-09", end_reason="died")]))
    assert got == {"placements.AST-0001.start_date": "date_in_future", "placements.AST-0002.end_date": "date_in_future"}


def test_a_placement_may_not_disappear_without_an_end_date_and_reason():
    march = place([placement(weekly_rate=95_000), placement("AST-0002", weekly_rate=95_000)], period="2026-03", day=date(2026, 4, 2)).placements
    got = failures(lambda: place([placement()], previous=march))
    assert got == {"placements.AST-0002": "placement_disappeared"}
    got = failures(lambda: place([placement(), placement("AST-0002", end_date="2026-04-12")], previous=march))
    assert got == {"placements.AST-0002.end_reason": "end_reason_required"}
    april = place([placement(), placement("AST-0002", end_date="2026-04-12", end_reason="discharged_home")], previous=march)
    assert len(april.placements) == 2
    # Ended in April: it may drop off May's return.
    assert place([placement()], previous=april.placements, period="2026-05", day=date(2026, 6, 2)).placements[0]["reference"] == "AST-0001"


def test_other_placement_fields_are_checked_together():
    bad = placement(bed_type="respite", start_date="yesterday", end_reason="moved", icb="")
    got = failures(lambda: place([bad, placement(), placement()]))
    assert got == {
        "placements.AST-0001.bed_type": "unknown_bed_type",
        "placements.AST-0001.start_date": "not_a_date",
        "placements.AST-0001.end_reason": "unknown_end_reason",
        "placements.AST-0001.end_date": "end_date_required",
        "placements.AST-0001.icb": "required",
        "placements.AST-0001": "duplicate_placement",
    }
