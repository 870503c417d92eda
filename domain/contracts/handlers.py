"""Handlers for framework and contract commands: load, decide, save (see domain/dispatch.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import msgspec

from domain.contracts import commands as k
from domain.contracts.contract import Contract, Framework
from domain.kernel.dispatch import Decision, handles, handles_one
from domain.kernel.errors import AlreadyExists, NotPermitted
from domain.kernel.metadata import Actor

COMMISSIONING = ("commissioner", "contract_manager")
SYSTEM = ("system", "contract_manager", "procurement_lead")
#: the provider reports on its own contract; the contract manager may record on its behalf
PROVIDER_OR_MANAGER = ("provider", "contract_manager")
#: an annual price review relies on the contract's own price review clause, ground by regime
PRICE_REVIEW_GROUNDS = {"pcr2015": "pcr2015_reg72_1_a", "pa2023": "pa2023_sch8_1", "psr2024": "psr2024_reg13_1_a"}


@handles(k.EstablishFramework, ("commissioner", "procurement_lead"), "establish a framework")
def _establish(ledger: Any, cmd: k.EstablishFramework, actor: Actor, now: datetime) -> Decision:
    if ledger.exists(Framework, cmd.framework):
        raise AlreadyExists(f"Framework {cmd.framework} already exists.", code="framework_exists")
    framework = Framework.establish(
        reference=cmd.framework,
        title=cmd.title,
        kind=cmd.kind,
        lots=[msgspec.to_builtins(lot) for lot in cmd.lots],
        commissioners=[msgspec.to_builtins(c) for c in cmd.commissioners],
        starts_on=cmd.starts_on,
        ends_on=cmd.ends_on,
        max_extension_months=cmd.max_extension_months,
        max_extension_value_percent=cmd.max_extension_value_percent,
        regime=cmd.regime,
        ladder=cmd.escalation_ladder,
        monitoring=dict(cmd.monitoring),
    )
    return Decision([framework])


@handles(k.SetFrameworkPrices, COMMISSIONING, "set framework prices")
def _set_prices(ledger: Any, cmd: k.SetFrameworkPrices, actor: Actor, now: datetime) -> Decision:
    """The new schedule and every live contract's annual price variation, in one atomic save."""
    framework = ledger.aggregate(Framework, cmd.framework)
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
                kind="annual_price", ground=ground, value_change=change, effective_from=cmd.effective_from, rationale=cmd.rationale
            )
            varied.append(contract)
    return Decision([framework, *varied], value={"contracts_varied": len(varied)})


def _uplift(old: dict[str, int], new: dict[str, int]) -> Decimal:
    """The mean relative change of the rates both schedules share."""
    shared = sorted(set(old) & set(new))
    if not shared:
        return Decimal(0)
    return sum((Decimal(new[r]) / Decimal(old[r]) - 1 for r in shared), Decimal(0)) / len(shared)


@handles(k.AwardContract, SYSTEM, "award a contract")
def _award(ledger: Any, cmd: k.AwardContract, actor: Actor, now: datetime) -> Decision:
    if ledger.exists(Contract, cmd.contract):
        raise AlreadyExists(f"Contract {cmd.contract} already exists.", code="contract_exists")
    framework = ledger.aggregate(Framework, cmd.framework)
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


def _on_contract(
    command_type: type, roles: tuple[str, ...], action: str, decide: Callable[[Contract, Any, Any], Any]
) -> None:
    """Load the named contract, check a provider holds it, call one method, save it (no value back)."""

    def decided(contract: Contract, cmd: Any, _actor: Actor, _now: datetime, ledger: Any) -> None:
        decide(contract, cmd, ledger)

    handles_one(
        command_type,
        roles,
        action,
        load=lambda ledger, cmd: ledger.aggregate(Contract, cmd.contract),
        check=lambda contract, actor, action: check_own_contract(actor, contract, action),
        decide=decided,
    )


def check_own_contract(actor: Actor, contract: Contract, action: str) -> None:
    """A provider acts only on the contracts it holds (after a novation, the new provider does)."""
    if actor.role == "provider" and actor.org != contract.provider:
        raise NotPermitted(
            f"{actor.org} may not {action} on contract {contract.reference}, which {contract.provider} holds.",
            code="not_your_contract",
        )


_on_contract(k.SignContract, COMMISSIONING, "sign a contract", lambda c, cmd, _: c.sign(signed_on=cmd.signed_on))
_on_contract(
    k.MobiliseContract,
    COMMISSIONING,
    "mobilise a contract",
    lambda c, cmd, _: c.mobilise(
        contract_manager=cmd.contract_manager, invoicing_contact_role=cmd.invoicing_contact_role, go_live=cmd.go_live
    ),
)
_on_contract(k.AddHome, COMMISSIONING, "add a home", lambda c, cmd, _: c.add_home(location=cmd.location, effective_from=cmd.effective_from))
_on_contract(
    k.RemoveHome,
    COMMISSIONING,
    "remove a home",
    lambda c, cmd, _: c.remove_home(location=cmd.location, effective_from=cmd.effective_from, reason=cmd.reason),
)
_on_contract(
    k.VaryContract,
    COMMISSIONING,
    "vary a contract",
    lambda c, cmd, _: c.vary(
        kind=cmd.kind, ground=cmd.ground, value_change=cmd.value_change, effective_from=cmd.effective_from, rationale=cmd.rationale
    ),
)
_on_contract(
    k.NotifyChangeOfControl,
    ("contract_manager", "provider"),
    "notify a change of control",
    lambda c, cmd, _: c.notify_change_of_control(new_controller=cmd.new_controller, notified_on=cmd.notified_on),
)
_on_contract(
    k.NovateContract,
    COMMISSIONING,
    "novate a contract",
    lambda c, cmd, _: c.novate(to_provider=cmd.to_provider, effective_from=cmd.effective_from),
)
_on_contract(
    k.ExtendContract,
    COMMISSIONING,
    "extend a contract",
    lambda c, cmd, ledger: c.extend(
        framework=ledger.aggregate(Framework, c.framework), months=cmd.months, value_change=cmd.value_change, rationale=cmd.rationale
    ),
)
_on_contract(
    k.SuspendReferrals,
    COMMISSIONING,
    "suspend referrals",
    lambda c, cmd, _: c.suspend_referrals(reason=cmd.reason, from_date=cmd.from_date),
)
_on_contract(
    k.ResumeReferrals,
    COMMISSIONING,
    "resume referrals",
    lambda c, cmd, _: c.resume_referrals(from_date=cmd.from_date, phased=cmd.phased),
)


@handles(k.EscalateContract, COMMISSIONING, "escalate a contract")
def _escalate(ledger: Any, cmd: k.EscalateContract, actor: Actor, now: datetime) -> Decision:
    """The notice is issued the day the escalation is recorded."""
    contract = ledger.aggregate(Contract, cmd.contract)
    contract.escalate(
        to_stage=cmd.to_stage, due=cmd.due, reason=cmd.reason, serious_breach=cmd.serious_breach, issued_on=now.date()
    )
    return Decision([contract])


_on_contract(k.DeEscalateContract, COMMISSIONING, "de-escalate a contract", lambda c, cmd, _: c.de_escalate(reason=cmd.reason))
_on_contract(
    k.OpenActionPlan,
    COMMISSIONING,
    "open an improvement action plan",
    lambda c, cmd, _: c.open_action_plan(plan=cmd.plan, actions=[msgspec.to_builtins(a) for a in cmd.actions]),
)
_on_contract(
    k.ReviewActionPlan,
    COMMISSIONING,
    "review an action plan",
    lambda c, cmd, _: c.review_action_plan(plan=cmd.plan, completed=list(cmd.completed), notes=cmd.notes, reviewed_on=cmd.reviewed_on),
)
_on_contract(
    k.CloseActionPlan, COMMISSIONING, "close an action plan", lambda c, cmd, _: c.close_action_plan(plan=cmd.plan, closed_on=cmd.closed_on)
)
_on_contract(
    k.TerminateContract,
    COMMISSIONING,
    "terminate a contract",
    lambda c, cmd, _: c.terminate(reason_kind=cmd.reason_kind, effective_on=cmd.effective_on, reason=cmd.reason),
)
_on_contract(k.ExpireContract, SYSTEM, "expire a contract", lambda c, cmd, _: c.expire(today=cmd.today))


# ------------------------------------------------------- service contracts (seed 002)

_on_contract(
    k.AddMilestone,
    COMMISSIONING,
    "add a milestone",
    lambda c, cmd, _: c.add_milestone(
        milestone=cmd.milestone, title=cmd.title, phase=cmd.phase, draft_due=cmd.draft_due, final_due=cmd.final_due, payment=cmd.payment
    ),
)
_on_contract(
    k.SubmitDeliverable,
    PROVIDER_OR_MANAGER,
    "submit a deliverable",
    lambda c, cmd, _: c.submit_deliverable(
        milestone=cmd.milestone, version=cmd.version, submitted_on=cmd.submitted_on, document_sha256=cmd.document_sha256
    ),
)
_on_contract(
    k.AcceptMilestone,
    COMMISSIONING,
    "accept a milestone",
    lambda c, cmd, _: c.accept_milestone(milestone=cmd.milestone, accepted_on=cmd.accepted_on),
)
_on_contract(
    k.ReturnDeliverable,
    COMMISSIONING,
    "return a deliverable",
    lambda c, cmd, _: c.return_deliverable(milestone=cmd.milestone, returned_on=cmd.returned_on, reason=cmd.reason),
)
_on_contract(
    k.SubmitHighlightReport,
    PROVIDER_OR_MANAGER,
    "submit a highlight report",
    lambda c, cmd, _: c.submit_highlight_report(
        period_ending=cmd.period_ending,
        overall_confidence=cmd.overall_confidence,
        rationale=cmd.rationale,
        summary=cmd.summary,
        items=[msgspec.to_builtins(item) for item in cmd.items],
    ),
)
_on_contract(
    k.RecordPayment,
    COMMISSIONING,
    "record a payment",
    lambda c, cmd, _: c.record_payment(payment=cmd.payment, milestone=cmd.milestone, amount=cmd.amount, paid_on=cmd.paid_on),
)
_on_contract(
    k.RaiseRisk,
    (*COMMISSIONING, "provider"),
    "raise a risk",
    lambda c, cmd, _: c.raise_risk(
        risk=cmd.risk,
        description=cmd.description,
        impact=cmd.impact,
        likelihood=cmd.likelihood,
        owner_role=cmd.owner_role,
        mitigation=cmd.mitigation,
        raised_on=cmd.raised_on,
    ),
)
_on_contract(
    k.UpdateRisk,
    (*COMMISSIONING, "provider"),
    "update a risk",
    lambda c, cmd, _: c.update_risk(
        risk=cmd.risk,
        impact=cmd.impact,
        likelihood=cmd.likelihood,
        owner_role=cmd.owner_role,
        mitigation=cmd.mitigation,
        progress=cmd.progress,
        updated_on=cmd.updated_on,
    ),
)
_on_contract(
    k.CloseRisk,
    (*COMMISSIONING, "provider"),
    "close a risk",
    lambda c, cmd, _: c.close_risk(risk=cmd.risk, closed_on=cmd.closed_on, reason=cmd.reason),
)
