"""Handlers of the monitoring commands: one function per command, registered with `handles`.

Who may send what: commissioners, contract managers and admins publish return templates and
KPI sets; a provider submits and amends returns and placement returns only for a home it
runs (as the home or its head office); commissioners and contract managers review the
provider's commentary; the scheduler (system) or a contract manager records a return missed
after its deadline; commissioners and contract managers record spot checks of a return's data
(`SPOT_CHECKERS`). A placement return is checked against the named framework's rates, read
here and passed to the domain, and against the home's previous month's placement return.

Commissioners and contract managers (the council for residential homes, the CCG for nursing
homes: seed 004) schedule, score and conclude quality visits and agree their action plans;
providers see the outcome but do not score themselves. Where the visit's contract is
escalated, the action plan is linked to the contract's improvement action plan: opened on
the Contract in the same atomic save when it does not exist yet.

The performance process (the system) or a contract manager records failures on a contract's
performance record, which is opened with the first failure; a cause already recorded records
nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from domain.commissioning import require_commissions_contract, require_commissions_home
from domain.contracts.contract import Contract
from domain.contracts.framework import Framework
from domain.access import COMMISSIONING, PROVIDER, PUBLISHERS, RECORDERS, SPOT_CHECKERS
from domain.kernel.dispatch import Decision, find, handles
from domain.kernel.errors import NotFound, RuleBroken, ValidationFailed
from domain.kernel.metadata import Actor
from domain.kernel.versioned import VersionedDefinition
from domain.monitoring import commands as mc
from domain.monitoring.failures import PerformanceRecord
from domain.monitoring.kpis import KpiSet, parse_kpis
from domain.monitoring.periods import previous_month
from domain.monitoring.placement_returns import PlacementReturn, placement_return_reference
from domain.monitoring.quality_visits import (
    QualityVisit,
    contract_plan_actions,
    default_contract_plan,
    parse_visit_framework,
    shipped_visit_framework,
    visit_reference,
)
from domain.monitoring.returns import Return, ReturnTemplate, return_reference
from domain.monitoring.templates import parse_template
from domain.providers.location import Location, require_own_location

if TYPE_CHECKING:
    from domain.kernel.dispatch import Ledger

def _published(ledger: Ledger, cls: type[VersionedDefinition], definition: dict[str, Any]) -> tuple[Any, bool]:
    """The template or KPI set with `definition` published; False when that version was already."""
    existing = find(ledger, cls, definition[cls.REFERENCE_KEY])
    if existing is None:
        return cls.publish_first(definition), True
    return existing, existing.publish(definition)


def _own_location(ledger: Ledger, reference: str, actor: Actor, action: str) -> Location:
    """The named home, once a provider is shown to run it and a commissioner to commission it."""
    location = ledger.aggregate(Location, reference)
    require_own_location(location, actor, action)
    require_commissions_home(ledger, location, actor, action)
    return location


# ---------------------------------------------------------------- templates and returns


def _template_version(ledger: Ledger, template: str, version: int | None) -> tuple[dict[str, Any], str]:
    tmpl = ledger.aggregate(ReturnTemplate, template)
    definition = tmpl.definition_of(version)
    return definition, tmpl.versions[str(definition["version"])]["sha256"]


@handles(mc.PublishTemplate, PUBLISHERS, "publish a return template")
def _publish_template(ledger: Ledger, cmd: mc.PublishTemplate, actor: Actor, now: datetime) -> Decision:
    definition = parse_template(cmd.template)
    template, recorded = _published(ledger, ReturnTemplate, definition)
    return Decision([template], {"template": definition["template"], "version": definition["version"], "recorded": recorded})


def _return_value(ret: Return, recorded: bool) -> dict[str, Any]:
    return {"return": ret.reference, "recorded": recorded, "status": ret.status, "lateness": ret.lateness}


@handles(mc.SubmitReturn, PROVIDER, "submit a return")
def _submit_return(ledger: Ledger, cmd: mc.SubmitReturn, actor: Actor, now: datetime) -> Decision:
    _own_location(ledger, cmd.location, actor, "submit a return")
    definition, sha256 = _template_version(ledger, cmd.template, cmd.version)
    existing = find(ledger, Return, return_reference(cmd.location, cmd.template, definition["version"], cmd.period))
    content = {"values": dict(cmd.values), "comments": dict(cmd.comments), "answers": dict(cmd.answers)}
    if existing is None:
        ret = Return.submit_new(location=cmd.location, definition=definition, sha256=sha256, period=cmd.period, now=now, **content)
        recorded = True
    else:
        ret = existing
        recorded = ret.submit(definition=definition, now=now, **content)
    return Decision([ret], _return_value(ret, recorded))


@handles(mc.AmendReturn, PROVIDER, "amend a return")
def _amend_return(ledger: Ledger, cmd: mc.AmendReturn, actor: Actor, now: datetime) -> Decision:
    _own_location(ledger, cmd.location, actor, "amend a return")
    definition, _ = _template_version(ledger, cmd.template, cmd.version)
    reference = return_reference(cmd.location, cmd.template, definition["version"], cmd.period)
    ret = find(ledger, Return, reference)
    if ret is None:
        raise RuleBroken(f"No return {reference} has been submitted; submit it first.", code="return_not_submitted")
    recorded = ret.amend(
        definition=definition, values=dict(cmd.values), comments=dict(cmd.comments), answers=dict(cmd.answers), reason=cmd.reason, now=now
    )
    return Decision([ret], _return_value(ret, recorded))


@handles(mc.RecordReturnMissed, RECORDERS, "record a missed return")
def _record_return_missed(ledger: Ledger, cmd: mc.RecordReturnMissed, actor: Actor, now: datetime) -> Decision:
    _own_location(ledger, cmd.location, actor, "record a missed return")
    definition, sha256 = _template_version(ledger, cmd.template, cmd.version)
    existing = find(ledger, Return, return_reference(cmd.location, cmd.template, definition["version"], cmd.period))
    if existing is None:
        ret = Return.missed(location=cmd.location, definition=definition, sha256=sha256, period=cmd.period, now=now)
        recorded = True
    else:
        ret = existing
        recorded = ret.record_missed(now=now)
    return Decision([ret], _return_value(ret, recorded))


@handles(mc.ReviewReturn, COMMISSIONING, "review a return's commentary")
def _review_return(ledger: Ledger, cmd: mc.ReviewReturn, actor: Actor, now: datetime) -> Decision:
    _own_location(ledger, cmd.location, actor, "review a return's commentary")
    ret = ledger.aggregate(Return, return_reference(cmd.location, cmd.template, cmd.version, cmd.period))
    recorded = ret.review(outcome=cmd.outcome, note=cmd.note, items=dict(cmd.items), reviewer=actor.org, now=now)
    return Decision([ret], {"return": ret.reference, "recorded": recorded})


@handles(mc.RecordSpotCheck, SPOT_CHECKERS, "record a spot check of a return")
def _record_spot_check(ledger: Ledger, cmd: mc.RecordSpotCheck, actor: Actor, now: datetime) -> Decision:
    _own_location(ledger, cmd.location, actor, "record a spot check of a return")
    definition, _ = _template_version(ledger, cmd.template, cmd.version)
    reference = return_reference(cmd.location, cmd.template, cmd.version, cmd.period)
    ret = find(ledger, Return, reference)
    if ret is None:
        raise RuleBroken(f"No return {reference} has been received; there is nothing to spot check.", code="return_not_submitted")
    recorded = ret.record_spot_check(
        definition=definition,
        checked_on=cmd.checked_on,
        fields_checked=list(cmd.fields_checked),
        fields_accurate=list(cmd.fields_accurate),
        method=cmd.method,
        checker=actor.org,
        now=now,
    )
    return Decision([ret], {"return": ret.reference, "recorded": recorded, "spot_checks": len(ret.spot_checks)})


@handles(mc.SubmitPlacementReturn, PROVIDER, "submit a placement return")
def _submit_placement_return(ledger: Ledger, cmd: mc.SubmitPlacementReturn, actor: Actor, now: datetime) -> Decision:
    _own_location(ledger, cmd.location, actor, "submit a placement return")
    placements = [msgspec.to_builtins(p) for p in cmd.placements]
    reference = placement_return_reference(cmd.location, cmd.period)
    existing = find(ledger, PlacementReturn, reference)
    if existing is not None:
        if existing.same_as(placements):
            return Decision([existing], {"placement_return": reference, "recorded": False})
        raise RuleBroken(
            f"The placements for {cmd.period} were returned on {existing.lateness['submitted_on']}; they are not replaced.",
            code="placement_return_exists",
        )
    framework = ledger.aggregate(Framework, cmd.framework)
    previous = find(ledger, PlacementReturn, placement_return_reference(cmd.location, previous_month(cmd.period)))
    ret = PlacementReturn.submit_new(
        location=cmd.location,
        framework=cmd.framework,
        period=cmd.period,
        placements=placements,
        rate_on=framework.rate_on,
        previous=previous.placements if previous is not None else None,
        now=now,
    )
    return Decision([ret], {"placement_return": reference, "recorded": True, "lateness": ret.lateness})


# ----------------------------------------------------------------------- quality visits


def _visit(ledger: Ledger, location: str, visit_date: Any, actor: Actor, action: str) -> QualityVisit:
    """The visit, once the actor is shown to commission its home."""
    visit = ledger.aggregate(QualityVisit, visit_reference(location, visit_date))
    _own_location(ledger, location, actor, action)
    return visit


@handles(mc.ScheduleQualityVisit, COMMISSIONING, "schedule a quality visit")
def _schedule_visit(ledger: Ledger, cmd: mc.ScheduleQualityVisit, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "schedule a quality visit")
    framework = parse_visit_framework(shipped_visit_framework(cmd.framework))
    if cmd.contract is not None:
        contract = ledger.aggregate(Contract, cmd.contract)
        # the visit may open an improvement plan on the contract: only its commissioners name it
        require_commissions_contract(ledger, contract, actor, "schedule a quality visit under a contract")
        home = contract.homes.get(cmd.location)
        if home is None or home["removed_on"] is not None:
            raise ValidationFailed(
                f"{location.name} ({cmd.location}) is not a home under contract {cmd.contract}.",
                code="not_a_contract_home",
                field="contract",
            )
    reference = visit_reference(cmd.location, cmd.visit_date)
    existing = find(ledger, QualityVisit, reference)
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


@handles(mc.ScoreQualityVisit, COMMISSIONING, "score a quality visit")
def _score_visit(ledger: Ledger, cmd: mc.ScoreQualityVisit, actor: Actor, now: datetime) -> Decision:
    visit = _visit(ledger, cmd.location, cmd.visit_date, actor, "score a quality visit")
    recorded = visit.score(scores=[msgspec.to_builtins(s) for s in cmd.scores], now=now)
    return Decision([visit], {"quality_visit": visit.reference, "recorded": recorded, "unscored": len(visit.unscored())})


@handles(mc.ConcludeQualityVisit, COMMISSIONING, "conclude a quality visit")
def _conclude_visit(ledger: Ledger, cmd: mc.ConcludeQualityVisit, actor: Actor, now: datetime) -> Decision:
    visit = _visit(ledger, cmd.location, cmd.visit_date, actor, "conclude a quality visit")
    recorded = visit.conclude(now=now)
    assert visit.outcome is not None
    return Decision([visit], {"quality_visit": visit.reference, "recorded": recorded, "rag": visit.outcome["rag"]})


@handles(mc.AgreeVisitActionPlan, COMMISSIONING, "agree a quality visit's action plan")
def _agree_action_plan(ledger: Ledger, cmd: mc.AgreeVisitActionPlan, actor: Actor, now: datetime) -> Decision:
    visit = _visit(ledger, cmd.location, cmd.visit_date, actor, "agree a quality visit's action plan")
    actions = [msgspec.to_builtins(a) for a in cmd.actions]
    planned = visit.check_action_plan(actions)
    saved: list[Any] = [visit]
    linked = None
    contract = ledger.aggregate(Contract, visit.contract) if visit.contract else None
    if contract is not None:
        require_commissions_contract(ledger, contract, actor, "agree an action plan on a contract")
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


# ---------------------------------------------------- KPI sets and performance failures


@handles(mc.PublishKpis, PUBLISHERS, "publish a KPI set")
def _publish_kpis(ledger: Ledger, cmd: mc.PublishKpis, actor: Actor, now: datetime) -> Decision:
    definition = parse_kpis(cmd.kpis)
    kpis, recorded = _published(ledger, KpiSet, definition)
    return Decision([kpis], {"kpis": definition["kpis"], "version": definition["version"], "recorded": recorded})


def _performance_record(ledger: Ledger, contract: str, actor: Actor, action: str) -> PerformanceRecord:
    # a failure is recorded only against a contract that exists, by its commissioners
    require_commissions_contract(ledger, ledger.aggregate(Contract, contract), actor, action)
    try:
        return ledger.aggregate(PerformanceRecord, contract)
    except NotFound:
        return PerformanceRecord.open(contract=contract)


@handles(mc.RecordCriticalFailure, RECORDERS, "record a critical performance failure")
def _record_critical_failure(ledger: Ledger, cmd: mc.RecordCriticalFailure, actor: Actor, now: datetime) -> Decision:
    record = _performance_record(ledger, cmd.contract, actor, "record a critical performance failure")
    recorded = record.record_critical_failure(
        cause=cmd.cause, kind=cmd.kind, location=cmd.location, description=cmd.description, occurred_on=cmd.occurred_on.isoformat()
    )
    return Decision([record], {"contract": cmd.contract, "cause": cmd.cause, "recorded": recorded})


@handles(mc.RecordServiceFailure, RECORDERS, "record a service failure")
def _record_service_failure(ledger: Ledger, cmd: mc.RecordServiceFailure, actor: Actor, now: datetime) -> Decision:
    record = _performance_record(ledger, cmd.contract, actor, "record a service failure")
    recorded = record.record_service_failure(
        cause=cmd.cause, location=cmd.location, template=cmd.template, periods=list(cmd.periods), description=cmd.description
    )
    return Decision([record], {"contract": cmd.contract, "cause": cmd.cause, "recorded": recorded})
