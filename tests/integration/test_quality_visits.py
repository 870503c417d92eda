"""Quality visits on each store: a visit from scheduling to a Red outcome whose action plan
is linked to the escalated contract's improvement plan, opened in the same atomic save."""

from __future__ import annotations

from datetime import date, datetime, timezone

from domain.contracts import commands as k
from domain.application import Ledger
from domain.contracts.contract import Contract
from domain.contracts.views import contract_state
from domain.kernel.metadata import Actor
from domain.providers.commands import ImportCqcLocation, SetLocationCategory
from domain.monitoring.quality_visits import (
    NOTTINGHAM,
    QualityVisit,
    parse_visit_framework,
    shipped_visit_framework,
)
from domain.monitoring.views import quality_visit_state
from domain.monitoring.commands import (
    AgreeVisitActionPlan,
    ConcludeQualityVisit,
    IndicatorScore,
    ScheduleQualityVisit,
    ScoreQualityVisit,
    VisitAction,
)

HOME, OTHER = "1-1000000001", "1-1000000002"
CONTRACT = "NCC-RES/aster"
COMMISSIONER = Actor(id="u-comm", org="NCC", role="commissioner")
OFFICER = Actor(id="u-qmo", org="NCC", role="contract_manager")
SYSTEM = Actor(id="cqc", org="CSU", role="system")
VISIT_DAY = date(2026, 6, 10)
#: the indicators the visitors found below standard (critical ones at the bottom of the scale)
LOW = {"safeguarding_procedures": 1, "medicines_management": 1, "staffing_levels": 2, "care_planning": 2, "record_keeping": 2}


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=timezone.utc)


def ok(ledger: Ledger, command, actor: Actor, day: date):
    result = ledger.handle(command, actor, at=at(day))
    assert result.ok, result.error
    return result


def escalated_contract_with_a_home(ledger: Ledger) -> None:
    start = date(2026, 3, 2)
    for loc, name in ((HOME, "Aster House"), (OTHER, "Birch Lodge")):
        record = {"locationId": loc, "providerId": "1-2000000001", "name": name, "registrationStatus": "Registered",
                  "localAuthority": "Nottingham"}
        ok(ledger, ImportCqcLocation(record=record), SYSTEM, start)
    ok(ledger, k.EstablishFramework(
        framework="NCC-RES", title="Nottingham City residential care", kind="care_homes",
        lots=[k.FrameworkLot(id="CITY", name="Nottingham City")], commissioners=[k.Commissioner(org="NCC", kind="council", areas=["Nottingham"])],
        starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31), regime="pcr2015", escalation_ladder="nottingham",
        max_extension_months=24,
    ), COMMISSIONER, start)
    ok(ledger, SetLocationCategory(location=HOME, category="older_people"), COMMISSIONER, start)
    ok(ledger, k.AwardContract(
        contract=CONTRACT, framework="NCC-RES", competition="NCC-2026", lot="CITY", provider="1-2000000001",
        value=50_000_000, starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31),
    ), OFFICER, start)
    ok(ledger, k.AddHome(contract=CONTRACT, location=HOME, effective_from=date(2026, 4, 1)), OFFICER, start)
    ok(ledger, k.EscalateContract(
        contract=CONTRACT, to_stage="requirement_to_improve", due=date(2026, 8, 31), reason="Safeguarding concerns upheld",
    ), OFFICER, date(2026, 5, 5))


def test_a_visit_from_scheduling_to_a_red_outcome_linked_to_the_escalated_contracts_plan(ledger):
    escalated_contract_with_a_home(ledger)
    schedule = ScheduleQualityVisit(
        location=HOME, visit_date=VISIT_DAY, visitors=["NCC quality monitoring officer", "CCG quality nurse"], contract=CONTRACT,
    )
    assert ok(ledger, schedule, OFFICER, date(2026, 5, 20)).value == {"quality_visit": f"{HOME}/quality-visit/2026-06-10", "recorded": True}
    assert ok(ledger, schedule, OFFICER, date(2026, 5, 20)).events == []  # the same schedule again records nothing
    wrong_home = ledger.handle(ScheduleQualityVisit(location=OTHER, visit_date=VISIT_DAY, visitors=["NCC officer"], contract=CONTRACT),
                               OFFICER, at=at(date(2026, 5, 20)))
    assert not wrong_home.ok and wrong_home.error.code == "not_a_contract_home"
    provider = ledger.handle(ScoreQualityVisit(location=HOME, visit_date=VISIT_DAY, scores=[IndicatorScore(indicator="consent", score=4)]),
                             Actor(id="m", org=HOME, role="provider"), at=at(VISIT_DAY))
    assert not provider.ok and provider.error.code == "not_permitted"

    framework = parse_visit_framework(shipped_visit_framework(NOTTINGHAM))
    ids = [i["id"] for g in framework["groups"] for i in g["indicators"]]
    first, rest = ids[:20], ids[20:]
    def scores(group: list[str]) -> list[IndicatorScore]:
        return [IndicatorScore(indicator=i, score=LOW.get(i, 3), evidence=f"Evidence seen for {i}.") for i in group]

    ok(ledger, ScoreQualityVisit(location=HOME, visit_date=VISIT_DAY, scores=scores(first)), OFFICER, VISIT_DAY)
    position = ledger.max_position()
    early = ledger.handle(ConcludeQualityVisit(location=HOME, visit_date=VISIT_DAY), OFFICER, at=at(VISIT_DAY))
    assert not early.ok and early.error.code == "indicators_unscored" and ledger.max_position() == position
    bad = ledger.handle(ScoreQualityVisit(location=HOME, visit_date=VISIT_DAY, scores=[
        IndicatorScore(indicator="consent", score=7, evidence="x"), IndicatorScore(indicator="advocacy", score=2),
    ]), OFFICER, at=at(VISIT_DAY))
    assert not bad.ok and bad.error.code == "scoring_invalid" and ledger.max_position() == position
    assert {(f.field, f.rule) for f in bad.error.fields} == {("scores.consent.score", "not_on_scale"), ("scores.advocacy.evidence", "evidence_required")}
    ok(ledger, ScoreQualityVisit(location=HOME, visit_date=VISIT_DAY, scores=scores(rest)), OFFICER, VISIT_DAY)
    concluded = ok(ledger, ConcludeQualityVisit(location=HOME, visit_date=VISIT_DAY), OFFICER, VISIT_DAY)
    assert concluded.value["rag"] == "red"

    actions = [
        VisitAction(indicator=i, description=f"Put right {i.replace('_', ' ')}", owner_role="registered manager", due=date(2026, 7, 31))
        for i in sorted(LOW)
    ]
    incomplete = ledger.handle(AgreeVisitActionPlan(location=HOME, visit_date=VISIT_DAY, actions=actions[1:]), OFFICER, at=at(date(2026, 6, 12)))
    assert not incomplete.ok and incomplete.error.code == "action_plan_invalid"
    assert not contract_state(ledger.aggregate(Contract, CONTRACT))["action_plans"]
    agreed = ok(ledger, AgreeVisitActionPlan(location=HOME, visit_date=VISIT_DAY, actions=actions), OFFICER, date(2026, 6, 12))
    link = {"contract": CONTRACT, "plan": "quality-visit-2026-06-10", "stage": "requirement_to_improve"}
    assert agreed.value["linked_to"] == link
    assert len(agreed.events) == 2  # the visit's plan and the contract's plan, in one save

    state = quality_visit_state(ledger.aggregate(QualityVisit, f"{HOME}/quality-visit/2026-06-10"))
    assert state["status"] == "action_plan_agreed" and state["category"] == "older_people" and state["contract"] == CONTRACT
    assert state["outcome"]["rag"] == "red" and state["outcome"]["critical_failures"] == ["medicines_management", "safeguarding_procedures"]
    assert state["outcome"]["below_standard"] == sorted(LOW) and state["unscored"] == []
    assert state["action_plan"]["linked_to"] == link
    assert [a["indicator"] for a in state["action_plan"]["actions"]] == sorted(LOW)
    plan = contract_state(ledger.aggregate(Contract, CONTRACT))["action_plans"]["quality-visit-2026-06-10"]
    assert sorted(plan["actions"]) == sorted(f"{i}-1" for i in LOW) and plan["closed_on"] is None
    assert plan["actions"]["care_planning-1"]["due"] == "2026-07-31"
    again = ledger.handle(AgreeVisitActionPlan(location=HOME, visit_date=VISIT_DAY, actions=actions), OFFICER, at=at(date(2026, 6, 12)))
    assert not again.ok and again.error.code == "action_plan_exists"


def test_a_visit_to_a_home_whose_contract_is_not_escalated_keeps_its_plan_alone(ledger):
    escalated_contract_with_a_home(ledger)
    ok(ledger, k.DeEscalateContract(contract=CONTRACT, reason="Improvement evidenced"), OFFICER, date(2026, 5, 20))
    ok(ledger, ScheduleQualityVisit(location=HOME, visit_date=VISIT_DAY, visitors=["NCC officer"], contract=CONTRACT), OFFICER, date(2026, 5, 20))
    framework = parse_visit_framework(shipped_visit_framework(NOTTINGHAM))
    scores = [IndicatorScore(indicator=i["id"], score=2 if i["id"] == "consent" else 4, evidence="Seen.")
              for g in framework["groups"] for i in g["indicators"]]
    ok(ledger, ScoreQualityVisit(location=HOME, visit_date=VISIT_DAY, scores=scores), OFFICER, VISIT_DAY)
    assert ok(ledger, ConcludeQualityVisit(location=HOME, visit_date=VISIT_DAY), OFFICER, VISIT_DAY).value["rag"] == "green"
    action = [VisitAction(indicator="consent", description="Audit consent forms", owner_role="registered manager", due=date(2026, 7, 31))]
    linked = ledger.handle(AgreeVisitActionPlan(location=HOME, visit_date=VISIT_DAY, actions=action, contract_plan="QV-1"), OFFICER,
                           at=at(date(2026, 6, 12)))
    assert not linked.ok and linked.error.code == "contract_not_escalated"
    agreed = ok(ledger, AgreeVisitActionPlan(location=HOME, visit_date=VISIT_DAY, actions=action), OFFICER, date(2026, 6, 12))
    assert agreed.value["linked_to"] is None and len(agreed.events) == 1
    assert contract_state(ledger.aggregate(Contract, CONTRACT))["action_plans"] == {}
