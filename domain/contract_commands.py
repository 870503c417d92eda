"""Commands for frameworks and contracts (part of the one command union in domain/commands.py)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from msgspec import Meta, Struct

from domain.command_types import Command, Pence, Reference, ShortText, Text


class FrameworkLot(Struct, forbid_unknown_fields=True):
    id: Reference
    name: ShortText


class Commissioner(Struct, forbid_unknown_fields=True):
    org: Reference
    kind: Literal["icb", "ccg", "council", "nhs_england"]
    directorates: list[ShortText] = []


class EstablishFramework(Command, tag="framework.establish"):
    framework: Reference
    title: ShortText
    kind: Literal["care_homes", "home_care", "services"]
    lots: Annotated[list[FrameworkLot], Meta(min_length=1)]
    commissioners: list[Commissioner]
    starts_on: date
    ends_on: date
    regime: Literal["pcr2015", "pa2023", "psr2024"]
    #: a shipped ladder ("nottingham", "cheshire_east") or the stages in order
    escalation_ladder: str | list[Reference]
    max_extension_months: Annotated[int, Meta(ge=0, le=120)] = 0
    max_extension_value_percent: Annotated[int, Meta(ge=0, le=100)] | None = None
    #: which return templates and KPIs apply (defined by the returns issue)
    monitoring: dict[str, list[str]] = {}


class SetFrameworkPrices(Command, tag="framework.set_prices"):
    """A new dated price schedule, and the annual price variation of every live contract."""

    framework: Reference
    effective_from: date
    #: pence per week by bed type, or per hour by home-care tier
    rates: dict[str, Annotated[int, Meta(ge=1)]]
    ground: Reference = "pcr2015_reg72_1_a"
    rationale: str = "Annual price review under the contract's price review clause."


class AwardContract(Command, tag="contract.award"):
    contract: Reference
    framework: Reference
    competition: Reference
    lot: Reference
    provider: Reference
    value: Pence
    starts_on: date
    ends_on: date


class SignContract(Command, tag="contract.sign"):
    contract: Reference
    signed_on: date


class MobiliseContract(Command, tag="contract.mobilise"):
    contract: Reference
    contract_manager: ShortText
    invoicing_contact_role: ShortText
    go_live: date


class AddHome(Command, tag="contract.add_home"):
    contract: Reference
    location: Reference
    effective_from: date


class RemoveHome(Command, tag="contract.remove_home"):
    contract: Reference
    location: Reference
    effective_from: date


class VaryContract(Command, tag="contract.vary"):
    contract: Reference
    kind: Literal["annual_price", "national", "scope", "other"]
    ground: Reference
    value_change: int
    effective_from: date
    rationale: Text


class NotifyChangeOfControl(Command, tag="contract.notify_change_of_control"):
    contract: Reference
    new_controller: ShortText
    notified_on: date


class NovateContract(Command, tag="contract.novate"):
    contract: Reference
    to_provider: Reference
    effective_from: date


class ExtendContract(Command, tag="contract.extend"):
    contract: Reference
    months: Annotated[int, Meta(ge=1)]
    value_change: Pence
    rationale: Text


class SuspendReferrals(Command, tag="contract.suspend_referrals"):
    contract: Reference
    from_date: date


class ResumeReferrals(Command, tag="contract.resume_referrals"):
    contract: Reference
    from_date: date
    phased: bool = True


class EscalateContract(Command, tag="contract.escalate"):
    contract: Reference
    to_stage: Reference
    due: date
    serious_breach: bool = False


class DeEscalateContract(Command, tag="contract.de_escalate"):
    contract: Reference


class PlannedAction(Struct, forbid_unknown_fields=True):
    id: Reference
    description: ShortText
    #: a role, not a person (e.g. "registered manager")
    owner_role: ShortText
    due: date


class OpenActionPlan(Command, tag="action_plan.open"):
    contract: Reference
    plan: Reference
    actions: Annotated[list[PlannedAction], Meta(min_length=1)]


class ReviewActionPlan(Command, tag="action_plan.review"):
    contract: Reference
    plan: Reference
    completed: list[Reference]
    notes: str
    reviewed_on: date


class CloseActionPlan(Command, tag="action_plan.close"):
    contract: Reference
    plan: Reference
    closed_on: date


class TerminateContract(Command, tag="contract.terminate"):
    contract: Reference
    reason_kind: Literal["home_closure", "default", "expiry", "mutual_agreement", "novation"]
    effective_on: date


class ExpireContract(Command, tag="contract.expire"):
    contract: Reference
    today: date


CONTRACT_COMMANDS = (
    EstablishFramework,
    SetFrameworkPrices,
    AwardContract,
    SignContract,
    MobiliseContract,
    AddHome,
    RemoveHome,
    VaryContract,
    NotifyChangeOfControl,
    NovateContract,
    ExtendContract,
    SuspendReferrals,
    ResumeReferrals,
    EscalateContract,
    DeEscalateContract,
    OpenActionPlan,
    ReviewActionPlan,
    CloseActionPlan,
    TerminateContract,
    ExpireContract,
)
