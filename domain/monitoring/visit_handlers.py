"""Handlers of the quality visit commands (registered with `domain.dispatch.handles`).

Commissioners and contract managers (the council for residential homes, the CCG for nursing
homes: seed 004) schedule, score and conclude visits and agree their action plans; providers
see the outcome but do not score themselves. Where the visit's contract is escalated, the
action plan is linked to the contract's improvement action plan: opened on the Contract in
the same atomic save when it does not exist yet.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from domain.monitoring import visit_commands as vc
from domain.contracts.contract import Contract
from domain.kernel.dispatch import Decision, handles
from domain.kernel.errors import NotFound, RuleBroken, ValidationFailed
from domain.kernel.metadata import Actor
from domain.providers.location import Location
from domain.monitoring.quality_visits import (
    QualityVisit,
    contract_plan_actions,
    default_contract_plan,
    parse_visit_framework,
    shipped_visit_framework,
    visit_reference,
)

if TYPE_CHECKING:
    from domain.kernel.dispatch import Ledger

VISITORS = ("commissioner", "contract_manager")


def _visit(ledger: Ledger, location: str, visit_date: Any) -> QualityVisit:
    return ledger.aggregate(QualityVisit, visit_reference(location, visit_date))


@handles(vc.ScheduleQualityVisit, VISITORS, "schedule a quality visit")
def _schedule(ledger: Ledger, cmd: vc.ScheduleQualityVisit, actor: Actor, now: datetime) -> Decision:
    location = ledger.aggregate(Location, cmd.location)
    framework = parse_visit_framework(shipped_visit_framework(cmd.framework))
    if cmd.contract is not None:
        contract = ledger.aggregate(Contract, cmd.contract)
        home = contract.homes.get(cmd.location)
        if home is None or home["removed_on"] is not None:
            raise ValidationFailed(
                f"{location.name} ({cmd.location}) is not a home under contract {cmd.contract}.",
                code="not_a_contract_home",
                field="contract",
            )
    reference = visit_reference(cmd.location, cmd.visit_date)
    try:
        existing = ledger.aggregate(QualityVisit, reference)
    except NotFound:
        existing = None
    if existing is not None:
        if existing.same_schedule(visitors=list(cmd.visitors), framework=framework, contract=cmd.contract):
            return Decision([existing], {"quality_visit": reference, "recorded": False})
        raise RuleBroken(f"The visit {reference} is already scheduled.", code="visit_exists")
    visit = QualityVisit.schedule(
        location=cmd.location,
        category=location.category,
        visit_date=cmd.visit_date,
        visitors=list(cmd.visitors),
        framework=framework,
        contract=cmd.contract,
        now=now,
    )
    return Decision([visit], {"quality_visit": reference, "recorded": True})


@handles(vc.ScoreQualityVisit, VISITORS, "score a quality visit")
def _score(ledger: Ledger, cmd: vc.ScoreQualityVisit, actor: Actor, now: datetime) -> Decision:
    visit = _visit(ledger, cmd.location, cmd.visit_date)
    recorded = visit.score(scores=[msgspec.to_builtins(s) for s in cmd.scores], now=now)
    return Decision([visit], {"quality_visit": visit.reference, "recorded": recorded, "unscored": len(visit.unscored())})


@handles(vc.ConcludeQualityVisit, VISITORS, "conclude a quality visit")
def _conclude(ledger: Ledger, cmd: vc.ConcludeQualityVisit, actor: Actor, now: datetime) -> Decision:
    visit = _visit(ledger, cmd.location, cmd.visit_date)
    recorded = visit.conclude(now=now)
    assert visit.outcome is not None
    return Decision([visit], {"quality_visit": visit.reference, "recorded": recorded, "rag": visit.outcome["rag"]})


@handles(vc.AgreeVisitActionPlan, VISITORS, "agree a quality visit's action plan")
def _agree_action_plan(ledger: Ledger, cmd: vc.AgreeVisitActionPlan, actor: Actor, now: datetime) -> Decision:
    visit = _visit(ledger, cmd.location, cmd.visit_date)
    actions = [msgspec.to_builtins(a) for a in cmd.actions]
    planned = visit.check_action_plan(actions)
    saved: list[Any] = [visit]
    linked = None
    contract = ledger.aggregate(Contract, visit.contract) if visit.contract else None
    if contract is not None and contract.stage >= 0:
        plan = cmd.contract_plan or default_contract_plan(visit)
        existing = contract.action_plans.get(plan)
        if existing is None:
            contract.open_action_plan(plan=plan, actions=contract_plan_actions(visit, planned))
            saved.append(contract)
        elif existing["closed_on"] is not None:
            raise RuleBroken(f"Action plan {plan} of contract {contract.reference} is closed.", code="plan_closed", field="contract_plan")
        linked = {"contract": contract.reference, "plan": plan, "stage": contract.ladder[contract.stage]}
    elif cmd.contract_plan is not None:
        raise RuleBroken(
            "The visit's contract is not escalated, so its action plan is not linked to a contract improvement plan.",
            code="contract_not_escalated",
            field="contract_plan",
        )
    visit.agree_action_plan(actions=actions, linked=linked, now=now)
    return Decision(saved, {"quality_visit": visit.reference, "recorded": True, "linked_to": linked})
