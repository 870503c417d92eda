"""Quality monitoring visits: the shipped framework, and every rule of a visit on its refusing
path (domain only: no store, no clock)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timezone

import pytest

from domain.kernel.errors import DomainError
from domain.kernel.metadata import Actor
from domain.monitoring.quality_visits import (
    NOTTINGHAM,
    QualityVisit,
    frozen_framework,
    parse_visit_framework,
    rag_outcome,
    rag_table,
    shipped_visit_framework,
    shipped_visit_framework_names,
)
from domain.monitoring.views import quality_visit_state
from domain.monitoring.templates import shipped_template_names
from tests.unit.story import as_

OFFICER = Actor(id="u-qmo", org="NCC", role="contract_manager")
HOME = "1-000000001"
VISIT_DAY = date(2026, 6, 10)
ROLES = ["NCC quality monitoring officer", "CCG quality nurse"]


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def framework() -> dict:
    return parse_visit_framework(shipped_visit_framework(NOTTINGHAM))


def indicators(framework: dict) -> list[str]:
    return [i["id"] for g in framework["groups"] for i in g["indicators"]]


def scheduled(framework: dict, contract: str | None = None) -> QualityVisit:
    with as_(OFFICER, at(date(2026, 5, 1))):
        return QualityVisit.schedule(
            location=HOME, category="older_people", visit_date=VISIT_DAY, visitors=ROLES, framework=framework,
            contract=contract, now=at(date(2026, 5, 1)),
        )


def all_scored(framework: dict, score: int = 4, low: dict | None = None) -> QualityVisit:
    visit = scheduled(framework)
    scores = [
        {"indicator": i, "score": (low or {}).get(i, score), "evidence": "Seen in three sampled care files."}
        for i in indicators(framework)
    ]
    with as_(OFFICER, at(VISIT_DAY)):
        assert visit.score(scores=scores, now=at(VISIT_DAY))
    return visit


def refused(code: str, call) -> DomainError:
    with pytest.raises(DomainError) as err:
        call()
    assert err.value.code == code, (err.value.code, str(err.value))
    return err.value


# ---------------------------------------------------------------- the framework


def test_the_nottingham_framework_has_43_documented_indicators_in_groups(framework):
    assert shipped_visit_framework_names() == [NOTTINGHAM]
    ids = indicators(framework)
    assert len(ids) == 43 == len(set(ids))
    assert [g["id"] for g in framework["groups"]] == ["safe", "effective", "caring", "responsive", "well_led"]
    assert all(i["definition"] and i["evidence_expected"] for g in framework["groups"] for i in g["indicators"])
    assert [s["score"] for s in framework["scale"]] == [1, 2, 3, 4] and framework["standard"] == 3


def test_the_framework_is_not_mistaken_for_a_return_template():
    assert NOTTINGHAM not in shipped_template_names()


def test_a_bad_framework_is_explained_field_by_field_all_at_once():
    raw = shipped_visit_framework(NOTTINGHAM)
    bad = copy.deepcopy(raw)
    bad["colour"] = "red"
    bad["standard"] = 9
    bad["indicator_count"] = 44
    bad["rag"]["green"]["min_percent"] = 40  # less strict than amber
    bad["groups"][0]["indicators"][1]["id"] = bad["groups"][0]["indicators"][0]["id"]
    del bad["groups"][1]["indicators"][0]["evidence_expected"]
    err = refused("visit_framework_invalid", lambda: parse_visit_framework(bad))
    rules = {(f["field"], f["rule"]) for f in err.fields}
    assert {("colour", "unknown_key"), ("standard", "invalid_standard"), ("rag", "invalid_thresholds"),
            ("indicator_count", "count_mismatch"), ("pre_admission_assessment.evidence_expected", "required")} <= rules
    assert any(rule == "duplicate_indicator" for _, rule in rules)
    scale = copy.deepcopy(raw)
    scale["scale"] = [scale["scale"][1], scale["scale"][0]]
    assert ("scale", "invalid_scale") in {(f["field"], f["rule"]) for f in refused("visit_framework_invalid", lambda: parse_visit_framework(scale)).fields}


def test_an_unknown_framework_is_refused():
    refused("unknown_visit_framework", lambda: shipped_visit_framework("no-such-framework"))
    refused("unknown_visit_framework", lambda: shipped_visit_framework("../returns"))


# ------------------------------------------------------------------- scheduling


def test_a_visit_in_the_past_or_without_visitors_is_refused(framework):
    with as_(OFFICER, at(date(2026, 7, 1))):
        err = refused("visit_invalid", lambda: QualityVisit.schedule(
            location=HOME, category=None, visit_date=VISIT_DAY, visitors=[" ", "CCG quality nurse", "CCG quality nurse"],
            framework=framework, contract=None, now=at(date(2026, 7, 1)),
        ))
    assert {(f["field"], f["rule"]) for f in err.fields} == {
        ("visit_date", "date_in_past"), ("visitors", "invalid_role"), ("visitors", "duplicate_role"),
    }
    with as_(OFFICER, at(date(2026, 5, 1))):
        err = refused("visit_invalid", lambda: QualityVisit.schedule(
            location=HOME, category=None, visit_date=VISIT_DAY, visitors=[], framework=framework, contract=None, now=at(date(2026, 5, 1)),
        ))
    assert err.field == "visitors"


def test_a_scheduled_visit_freezes_its_framework(framework):
    state = quality_visit_state(scheduled(framework))
    assert state["reference"] == f"{HOME}/quality-visit/2026-06-10" and state["status"] == "scheduled"
    assert state["framework"]["reference"] == NOTTINGHAM and len(state["unscored"]) == 43 and state["visitors"] == ROLES


# ---------------------------------------------------------------------- scoring


def test_scores_before_the_visit_are_refused(framework):
    visit = scheduled(framework)
    with as_(OFFICER, at(date(2026, 6, 9))):
        refused("visit_not_held", lambda: visit.score(scores=[{"indicator": "consent", "score": 4}], now=at(date(2026, 6, 9))))


def test_every_bad_score_is_reported_at_once_and_nothing_is_recorded(framework):
    visit = scheduled(framework)
    with as_(OFFICER, at(VISIT_DAY)):
        err = refused("scoring_invalid", lambda: visit.score(scores=[
            {"indicator": "smiles_per_hour", "score": 4},
            {"indicator": "consent", "score": 5, "evidence": "x"},
            {"indicator": "consent", "score": 4},
            {"indicator": "falls_management", "score": 2, "evidence": "  "},
            {"indicator": "medicines_management", "score": True, "evidence": "MAR charts"},
            {"indicator": "advocacy", "score": 3, "evidence": 7},
        ], now=at(VISIT_DAY)))
    assert {(f["field"], f["rule"]) for f in err.fields} == {
        ("scores.smiles_per_hour", "unknown_indicator"),
        ("scores.consent.score", "not_on_scale"),
        ("scores.consent", "duplicate_indicator"),
        ("scores.falls_management.evidence", "evidence_required"),
        ("scores.medicines_management.score", "not_on_scale"),
        ("scores.advocacy.evidence", "evidence_invalid"),
    }
    assert visit.scores == {} and visit.status == "scheduled"


def test_the_top_score_needs_no_evidence_and_a_repeat_records_nothing(framework):
    visit = scheduled(framework)
    with as_(OFFICER, at(VISIT_DAY)):
        assert visit.score(scores=[{"indicator": "consent", "score": 4}], now=at(VISIT_DAY))
        assert not visit.score(scores=[{"indicator": "consent", "score": 4, "evidence": ""}], now=at(VISIT_DAY))
        assert visit.score(scores=[{"indicator": "consent", "score": 3, "evidence": "Two forms unsigned."}], now=at(VISIT_DAY))
    state = quality_visit_state(visit)
    assert state["scores"]["consent"]["score"] == 3 and state["rescored"][0]["previous"]["score"] == 4


# ------------------------------------------------------------------- conclusion


def test_a_visit_with_any_indicator_unscored_cannot_be_concluded(framework):
    visit = scheduled(framework)
    with as_(OFFICER, at(VISIT_DAY)):
        visit.score(scores=[{"indicator": i, "score": 4} for i in indicators(framework)[:-1]], now=at(VISIT_DAY))
        err = refused("indicators_unscored", lambda: visit.conclude(now=at(VISIT_DAY)))
    assert err.context["unscored"] == ["business_continuity"] and "1 of the 43" in err.message


def test_scores_are_final_once_concluded(framework):
    visit = all_scored(framework)
    with as_(OFFICER, at(VISIT_DAY)):
        assert visit.conclude(now=at(VISIT_DAY))
        assert not visit.conclude(now=at(VISIT_DAY))
        refused("visit_concluded", lambda: visit.score(scores=[{"indicator": "consent", "score": 1, "evidence": "x"}], now=at(VISIT_DAY)))
    assert visit.outcome["rag"] == "green" and visit.outcome["percent"] == 100.0


@pytest.mark.parametrize(
    ("low", "expected"),
    [
        ({}, "green"),
        ({"consent": 2, "advocacy": 2, "equality_diversity": 2}, "green"),
        ({"consent": 2, "advocacy": 2, "equality_diversity": 2, "independence": 2}, "amber"),
        ({"safeguarding_procedures": 1}, "red"),  # a critical indicator at the bottom of the scale
        ({"consent": 1}, "green"),  # not critical, and only one below standard
    ],
)
def test_the_rag_outcome_follows_the_thresholds(framework, low, expected):
    frozen = frozen_framework(framework)
    scores = {i: low.get(i, 4) for i in indicators(framework)}
    assert rag_outcome(frozen, scores)["rag"] == expected


def test_an_all_requires_improvement_visit_is_red_and_the_thresholds_are_configurable(framework):
    frozen = frozen_framework(framework)
    scores = {i: 3 for i in indicators(framework)}
    assert rag_outcome(frozen, scores)["rag"] == "green"  # 75% exactly, nothing below standard
    scores = {i: 2 for i in indicators(framework)}
    outcome = rag_outcome(frozen, scores)
    assert outcome["rag"] == "red" and outcome["percent"] == 50.0 and len(outcome["below_standard"]) == 43
    lenient = copy.deepcopy(frozen)
    lenient["rag"]["amber"] = {"min_percent": 50, "max_below_standard": 43}
    assert rag_outcome(lenient, scores)["rag"] == "amber"


# ------------------------------------------------------------------ action plan


def concluded(framework: dict, low: dict) -> QualityVisit:
    visit = all_scored(framework, low=low)
    with as_(OFFICER, at(VISIT_DAY)):
        visit.conclude(now=at(VISIT_DAY))
    return visit


def test_no_action_plan_before_the_visit_is_concluded_or_when_nothing_is_below_standard(framework):
    visit = all_scored(framework, low={"consent": 2})
    with as_(OFFICER, at(VISIT_DAY)):
        refused("visit_not_concluded", lambda: visit.check_action_plan([]))
    good = concluded(framework, {})
    refused("nothing_below_standard", lambda: good.check_action_plan([]))


def test_every_indicator_below_standard_needs_an_action_and_only_those(framework):
    visit = concluded(framework, {"consent": 2, "falls_management": 1})
    err = refused("action_plan_invalid", lambda: visit.check_action_plan([
        {"indicator": "consent", "description": "Audit consent forms", "owner_role": "registered manager", "due": "2026-06-01"},
        {"indicator": "advocacy", "description": "x", "owner_role": "registered manager", "due": "2026-07-01"},
        {"indicator": "nope", "description": "x", "owner_role": "registered manager", "due": "2026-07-01"},
        {"indicator": "consent", "description": " ", "owner_role": "registered manager", "due": "soon"},
    ]))
    assert {(f["field"], f["rule"]) for f in err.fields} == {
        ("actions[0].due", "due_before_visit"),
        ("actions[1].indicator", "indicator_meets_standard"),
        ("actions[2].indicator", "unknown_indicator"),
        ("actions[3].due", "not_a_date"),
        ("actions[3].description", "required"),
        ("actions.falls_management", "action_required"),
    }


def test_an_agreed_plan_is_recorded_once(framework):
    visit = concluded(framework, {"consent": 2})
    actions = [{"indicator": "consent", "description": "Audit consent forms", "owner_role": "registered manager", "due": "2026-07-31"}]
    with as_(OFFICER, at(date(2026, 6, 12))):
        visit.agree_action_plan(actions=actions, linked=None, now=at(date(2026, 6, 12)))
        refused("action_plan_exists", lambda: visit.agree_action_plan(actions=actions, linked=None, now=at(date(2026, 6, 12))))
    plan = quality_visit_state(visit)["action_plan"]
    assert plan["actions"][0]["id"] == "consent-1" and plan["linked_to"] is None and visit.status == "action_plan_agreed"


def test_the_rag_table_counts_concluded_visits_by_year_and_category(framework):
    visits = [concluded(framework, {}), concluded(framework, {"safeguarding_procedures": 1}), scheduled(framework)]
    assert rag_table(visits) == {
        "2026/27": {"older_people": {"red": 1, "amber": 0, "green": 1}, "total": {"red": 1, "amber": 0, "green": 1}},
    }


def test_the_visit_commands_are_part_of_the_command_union():
    import msgspec

    from domain import commands as c

    line = b'{"type": "quality_visit.score", "location": "1-1", "visit_date": "2026-06-10", "scores": [{"indicator": "consent", "score": 4}]}'
    assert type(msgspec.json.decode(line, type=c.AnyCommand)).__name__ == "ScoreQualityVisit"
