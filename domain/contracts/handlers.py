"""The framework and contract handlers: one named function per command (see domain/kernel/dispatch.py).

Most load the named contract, check that a provider acts only on its own, and call one
method (`on_contract`); establishing, pricing and awarding, and extending (which reads the
framework's bounds) load what they need themselves. Registered when imported; the Ledger
imports this module so that every command it decodes has its handler.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

from domain.contracts import commands as k
from domain.contracts.contract import Contract
from domain.commissioning import (
    require_areas_not_taken,
    require_commissions_contract,
    require_commissions_framework,
    require_commissions_lot,
)
from domain.contracts.framework import Framework
from domain import access
from domain.access import COMMISSIONING, CONTRACT_AWARDERS, FRAMEWORK_ESTABLISHERS, PROVIDER_OR_MANAGER, RISK_KEEPERS
from domain.kernel.dispatch import Decide, Decision, find, handles, handles_loaded
from domain.kernel.errors import AlreadyExists, NotPermitted, RuleBroken, ValidationFailed
from domain.procurement.vocabulary import AWARDED
from domain.kernel.metadata import Actor
from domain.procurement.competition import Competition
from domain.procurement.handlers import check_party
from domain.monitoring.kpis import shipped_kpi_names

#: an annual price review relies on the contract's own price review clause, ground by regime
PRICE_REVIEW_GROUNDS = {"pcr2015": "pcr2015_reg72_1_a", "pa2023": "pa2023_sch8_1", "psr2024": "psr2024_reg13_1_a"}


@handles(k.EstablishFramework, FRAMEWORK_ESTABLISHERS, "establish a framework")
def establish_framework(ledger: Any, cmd: k.EstablishFramework, actor: Actor, now: datetime) -> Decision:
    if ledger.exists(Framework, cmd.framework):
        raise AlreadyExists(f"Framework {cmd.framework} already exists.", code="framework_exists")
    access.require_commissioner(
        actor, [c.org for c in cmd.commissioners], record=f"framework {cmd.framework}", action="establish it"
    )
    require_areas_not_taken(ledger, [_commissioner(c) for c in cmd.commissioners])
    framework = Framework.establish(
        reference=cmd.framework,
        title=cmd.title,
        kind=cmd.kind,
        lots=[msgspec.to_builtins(lot) for lot in cmd.lots],
        commissioners=[_commissioner(c) for c in cmd.commissioners],
        starts_on=cmd.starts_on,
        ends_on=cmd.ends_on,
        max_extension_months=cmd.max_extension_months,
        max_extension_value_percent=cmd.max_extension_value_percent,
        regime=cmd.regime,
        ladder=cmd.escalation_ladder,
        monitoring=dict(cmd.monitoring),
        kpi_sets=shipped_kpi_names(),
    )
    return Decision([framework])


def _commissioner(commissioner: k.Commissioner) -> dict[str, Any]:
    """As stored: lots and areas only where named, so a framework that names none is stored as before they existed."""
    entry = msgspec.to_builtins(commissioner)
    return {key: value for key, value in entry.items() if value or key not in ("lots", "areas")}


@handles(k.SetFrameworkPrices, COMMISSIONING, "set framework prices")
def set_framework_prices(ledger: Any, cmd: k.SetFrameworkPrices, actor: Actor, now: datetime) -> Decision:
    """The new schedule and every live contract's annual price variation, in one atomic save."""
    framework = ledger.aggregate(Framework, cmd.framework)
    require_commissions_framework(ledger, framework.reference, actor, "set framework prices")
    previous = framework.price_schedules[max(framework.price_schedules)] if framework.price_schedules else None
    framework.set_prices(effective_from=cmd.effective_from, rates=dict(cmd.rates))
    varied = []
    if previous is not None:
        uplift = _uplift(previous, dict(cmd.rates))
        for reference in sorted(framework.contracts):
            contract = ledger.aggregate(Contract, reference)
            if contract.status in ("terminated", "expired") or (contract.ends_on and contract.ends_on < cmd.effective_from):
                continue  # ended, or ends before the new prices take effect
            change = int((Decimal(contract.value) * uplift).quantize(Decimal(1), rounding=ROUND_HALF_UP))
            ground = cmd.ground or PRICE_REVIEW_GROUNDS.get(contract.regime, "")
            contract.vary(
                kind="annual_price", ground=ground, value_change=change, effective_from=cmd.effective_from, rationale=cmd.rationale,
                change_notice=cmd.change_notices.get(reference), light_touch=light_touch(ledger, contract),
            )
            varied.append(contract)
    stray = sorted(set(cmd.change_notices) - {c.reference for c in varied})
    if stray:
        raise ValidationFailed(
            f"change_notices names {', '.join(stray[:5])}, which this price change does not vary "
            f"(not a live contract of framework {framework.reference}, or no earlier schedule to vary from).",
            code="change_notice_unused", field="change_notices",
        )
    return Decision([framework, *varied], value={"contracts_varied": len(varied)})


def _uplift(old: dict[str, int], new: dict[str, int]) -> Decimal:
    """The mean relative change of the rates both schedules share."""
    shared = sorted(set(old) & set(new))
    if not shared:
        return Decimal(0)
    return sum((Decimal(new[r]) / Decimal(old[r]) - 1 for r in shared), Decimal(0)) / len(shared)


@handles(k.AwardContract, CONTRACT_AWARDERS, "award a contract")
def award_contract(ledger: Any, cmd: k.AwardContract, actor: Actor, now: datetime) -> Decision:
    _check_party_to_competition(ledger, cmd.competition, actor, lot=cmd.lot, provider=cmd.provider)
    if ledger.exists(Contract, cmd.contract):
        raise AlreadyExists(f"Contract {cmd.contract} already exists.", code="contract_exists")
    framework = ledger.aggregate(Framework, cmd.framework)
    require_commissions_lot(ledger, framework.reference, cmd.lot, actor, "award a contract")
    contract = Contract.award(
        reference=cmd.contract,
        framework=framework,
        competition=cmd.competition,
        lot=cmd.lot,
        provider=cmd.provider,
        value=cmd.value,
        starts_on=cmd.starts_on,
        ends_on=cmd.ends_on,
    )
    framework.register_contract(reference=cmd.contract)
    return Decision([contract, framework])


def _check_party_to_competition(ledger: Any, reference: str, actor: Actor, *, lot: str, provider: str) -> None:
    """A contract awarded by hand off a competition the ledger holds: only by its own parties (the
    award process, as the system, is not scoped), and only once that competition's award is
    concluded, to a provider it awarded the lot to, so that its standstill and (Procurement Act
    2023 s.50) its contract award notice come first. One the ledger does not hold may be named,
    as an award made outside it (an accreditation) is."""
    competition = find(ledger, Competition, reference)
    if competition is None:
        return
    if actor.role in access.COMPETITION_PARTIES:
        check_party(competition, actor, "award a contract")
    if competition.status != AWARDED or competition.award is None:
        raise RuleBroken(
            f"Competition {reference} has not concluded its award ({competition.status}): a contract follows the award, "
            "after the standstill and, under the Procurement Act 2023, the contract award notice (s.50, s.51).",
            code="competition_not_awarded", field="competition",
        )
    if provider not in (competition.award["awards"].get(lot) or []):
        raise RuleBroken(
            f"Competition {reference} did not award lot {lot} to {provider}.", code="not_awarded_to_provider", field="provider",
        )


def check_own_contract(actor: Actor, contract: Contract, action: str) -> None:
    """A provider acts only on the contracts it holds (after a novation, the new provider does)."""
    if not access.may_deal_with(actor, contract.provider):
        raise NotPermitted(
            f"{actor.org} may not {action} on contract {contract.reference}, which {contract.provider} holds.",
            code="not_your_contract",
        )


def _contract(ledger: Any, cmd: Any) -> Contract:
    return ledger.aggregate(Contract, cmd.contract)


def _check_holder(ledger: Any, contract: Contract, actor: Actor, action: str) -> None:
    check_own_contract(actor, contract, action)
    require_commissions_contract(ledger, contract, actor, action)


def on_contract(command_type: type[k.Command], roles: tuple[str, ...], action: str) -> Callable[[Decide], Decide]:
    """Register the decorated function of the command's contract: loaded, its holder checked, called, saved."""
    return handles_loaded(command_type, roles, action, load=_contract, check=_check_holder)


@on_contract(k.SignContract, COMMISSIONING, "sign a contract")
def sign_contract(contract: Contract, cmd: k.SignContract, actor: Actor, now: datetime) -> None:
    contract.sign(signed_on=cmd.signed_on)


@on_contract(k.MobiliseContract, COMMISSIONING, "mobilise a contract")
def mobilise_contract(contract: Contract, cmd: k.MobiliseContract, actor: Actor, now: datetime) -> None:
    contract.mobilise(
        contract_manager=cmd.contract_manager, invoicing_contact_role=cmd.invoicing_contact_role, go_live=cmd.go_live
    )


@on_contract(k.AddHome, COMMISSIONING, "add a home")
def add_home(contract: Contract, cmd: k.AddHome, actor: Actor, now: datetime) -> None:
    contract.add_home(location=cmd.location, effective_from=cmd.effective_from)


@on_contract(k.RemoveHome, COMMISSIONING, "remove a home")
def remove_home(contract: Contract, cmd: k.RemoveHome, actor: Actor, now: datetime) -> None:
    contract.remove_home(location=cmd.location, effective_from=cmd.effective_from, reason=cmd.reason)


def light_touch(ledger: Any, contract: Contract) -> bool:
    """A contract is for light-touch services when the competition that awarded it, held by the
    ledger, ran under the light-touch procedure (Procurement Act 2023 s.9): its notices differ."""
    competition = find(ledger, Competition, contract.competition) if contract.competition else None
    return competition is not None and competition.procedure == "light_touch"


@handles(k.VaryContract, COMMISSIONING, "vary a contract")
def vary_contract(ledger: Any, cmd: k.VaryContract, actor: Actor, now: datetime) -> Decision:
    contract = _contract(ledger, cmd)
    _check_holder(ledger, contract, actor, "vary a contract")
    contract.vary(
        kind=cmd.kind,
        ground=cmd.ground,
        value_change=cmd.value_change,
        effective_from=cmd.effective_from,
        rationale=cmd.rationale,
        change_notice=cmd.change_notice,
        light_touch=light_touch(ledger, contract),
    )
    return Decision([contract])


@on_contract(k.NotifyChangeOfControl, PROVIDER_OR_MANAGER, "notify a change of control")
def notify_change_of_control(contract: Contract, cmd: k.NotifyChangeOfControl, actor: Actor, now: datetime) -> None:
    contract.notify_change_of_control(new_controller=cmd.new_controller, notified_on=cmd.notified_on)


@handles(k.NovateContract, COMMISSIONING, "novate a contract")
def novate_contract(ledger: Any, cmd: k.NovateContract, actor: Actor, now: datetime) -> Decision:
    contract = _contract(ledger, cmd)
    _check_holder(ledger, contract, actor, "novate a contract")
    contract.novate(
        to_provider=cmd.to_provider,
        effective_from=cmd.effective_from,
        change_notice=cmd.change_notice,
        light_touch=light_touch(ledger, contract),
    )
    return Decision([contract])


@handles(k.ExtendContract, COMMISSIONING, "extend a contract")
def extend_contract(ledger: Any, cmd: k.ExtendContract, actor: Actor, now: datetime) -> Decision:
    """Within the bounds of the contract's framework, which is read but not changed."""
    contract = _contract(ledger, cmd)
    _check_holder(ledger, contract, actor, "extend a contract")
    contract.extend(
        framework=ledger.aggregate(Framework, contract.framework),
        months=cmd.months,
        value_change=cmd.value_change,
        rationale=cmd.rationale,
        today=now.date(),
        change_notice=cmd.change_notice,
        light_touch=light_touch(ledger, contract),
    )
    return Decision([contract])


@on_contract(k.SuspendReferrals, COMMISSIONING, "suspend referrals")
def suspend_referrals(contract: Contract, cmd: k.SuspendReferrals, actor: Actor, now: datetime) -> None:
    contract.suspend_referrals(reason=cmd.reason, from_date=cmd.from_date)


@on_contract(k.ResumeReferrals, COMMISSIONING, "resume referrals")
def resume_referrals(contract: Contract, cmd: k.ResumeReferrals, actor: Actor, now: datetime) -> None:
    contract.resume_referrals(from_date=cmd.from_date, phased=cmd.phased)


@on_contract(k.EscalateContract, COMMISSIONING, "escalate a contract")
def escalate_contract(contract: Contract, cmd: k.EscalateContract, actor: Actor, now: datetime) -> None:
    """The notice is issued the day the escalation is recorded."""
    contract.escalate(
        to_stage=cmd.to_stage, due=cmd.due, reason=cmd.reason, serious_breach=cmd.serious_breach, issued_on=now.date()
    )


@on_contract(k.DeEscalateContract, COMMISSIONING, "de-escalate a contract")
def de_escalate_contract(contract: Contract, cmd: k.DeEscalateContract, actor: Actor, now: datetime) -> None:
    contract.de_escalate(reason=cmd.reason)


@on_contract(k.OpenActionPlan, COMMISSIONING, "open an improvement action plan")
def open_action_plan(contract: Contract, cmd: k.OpenActionPlan, actor: Actor, now: datetime) -> None:
    contract.open_action_plan(plan=cmd.plan, actions=[msgspec.to_builtins(a) for a in cmd.actions])


@on_contract(k.ReviewActionPlan, COMMISSIONING, "review an action plan")
def review_action_plan(contract: Contract, cmd: k.ReviewActionPlan, actor: Actor, now: datetime) -> None:
    contract.review_action_plan(plan=cmd.plan, completed=list(cmd.completed), notes=cmd.notes, reviewed_on=cmd.reviewed_on)


@on_contract(k.CloseActionPlan, COMMISSIONING, "close an action plan")
def close_action_plan(contract: Contract, cmd: k.CloseActionPlan, actor: Actor, now: datetime) -> None:
    contract.close_action_plan(plan=cmd.plan, closed_on=cmd.closed_on)


@on_contract(k.TerminateContract, COMMISSIONING, "terminate a contract")
def terminate_contract(contract: Contract, cmd: k.TerminateContract, actor: Actor, now: datetime) -> None:
    contract.terminate(reason_kind=cmd.reason_kind, effective_on=cmd.effective_on, reason=cmd.reason)


@on_contract(k.PublishContractNotice, COMMISSIONING, "publish a contract's notices")
def publish_contract_notice(contract: Contract, cmd: k.PublishContractNotice, actor: Actor, now: datetime) -> None:
    contract.publish_notice(
        notice_type=cmd.notice_type,
        notice_reference=cmd.notice_reference,
        published_on=cmd.published_on,
        today=now.date(),
        modification=cmd.modification,
        payload_sha256=cmd.payload_sha256,
    )


@on_contract(k.ExpireContract, CONTRACT_AWARDERS, "expire a contract")
def expire_contract(contract: Contract, cmd: k.ExpireContract, actor: Actor, now: datetime) -> None:
    contract.expire(today=cmd.today)


# ------------------------------------------------------- service contracts (seed 002)


@on_contract(k.AddMilestone, COMMISSIONING, "add a milestone")
def add_milestone(contract: Contract, cmd: k.AddMilestone, actor: Actor, now: datetime) -> None:
    contract.add_milestone(
        milestone=cmd.milestone, title=cmd.title, phase=cmd.phase, draft_due=cmd.draft_due, final_due=cmd.final_due, payment=cmd.payment
    )


@on_contract(k.SubmitDeliverable, PROVIDER_OR_MANAGER, "submit a deliverable")
def submit_deliverable(contract: Contract, cmd: k.SubmitDeliverable, actor: Actor, now: datetime) -> None:
    contract.submit_deliverable(
        milestone=cmd.milestone, version=cmd.version, submitted_on=cmd.submitted_on, document_sha256=cmd.document_sha256
    )


@on_contract(k.AcceptMilestone, COMMISSIONING, "accept a milestone")
def accept_milestone(contract: Contract, cmd: k.AcceptMilestone, actor: Actor, now: datetime) -> None:
    contract.accept_milestone(milestone=cmd.milestone, accepted_on=cmd.accepted_on)


@on_contract(k.ReturnDeliverable, COMMISSIONING, "return a deliverable")
def return_deliverable(contract: Contract, cmd: k.ReturnDeliverable, actor: Actor, now: datetime) -> None:
    contract.return_deliverable(milestone=cmd.milestone, returned_on=cmd.returned_on, reason=cmd.reason)


@on_contract(k.SubmitHighlightReport, PROVIDER_OR_MANAGER, "submit a highlight report")
def submit_highlight_report(contract: Contract, cmd: k.SubmitHighlightReport, actor: Actor, now: datetime) -> None:
    contract.submit_highlight_report(
        period_ending=cmd.period_ending,
        overall_confidence=cmd.overall_confidence,
        rationale=cmd.rationale,
        summary=cmd.summary,
        items=[msgspec.to_builtins(item) for item in cmd.items],
    )


@on_contract(k.RecordPayment, COMMISSIONING, "record a payment")
def record_payment(contract: Contract, cmd: k.RecordPayment, actor: Actor, now: datetime) -> None:
    contract.record_payment(payment=cmd.payment, milestone=cmd.milestone, amount=cmd.amount, paid_on=cmd.paid_on)


@on_contract(k.RaiseRisk, RISK_KEEPERS, "raise a risk")
def raise_risk(contract: Contract, cmd: k.RaiseRisk, actor: Actor, now: datetime) -> None:
    contract.raise_risk(
        risk=cmd.risk,
        description=cmd.description,
        impact=cmd.impact,
        likelihood=cmd.likelihood,
        owner_role=cmd.owner_role,
        mitigation=cmd.mitigation,
        raised_on=cmd.raised_on,
    )


@on_contract(k.UpdateRisk, RISK_KEEPERS, "update a risk")
def update_risk(contract: Contract, cmd: k.UpdateRisk, actor: Actor, now: datetime) -> None:
    contract.update_risk(
        risk=cmd.risk,
        impact=cmd.impact,
        likelihood=cmd.likelihood,
        owner_role=cmd.owner_role,
        mitigation=cmd.mitigation,
        progress=cmd.progress,
        updated_on=cmd.updated_on,
    )


@on_contract(k.CloseRisk, RISK_KEEPERS, "close a risk")
def close_risk(contract: Contract, cmd: k.CloseRisk, actor: Actor, now: datetime) -> None:
    contract.close_risk(risk=cmd.risk, closed_on=cmd.closed_on, reason=cmd.reason)
