"""Commands for frameworks and contracts (part of the one command union in domain/commands.py)."""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from domain.kernel.command_types import (
    MAX_LOTS,
    Command,
    Day,
    Note,
    Pence,
    PenceChange,
    RatePence,
    Reference,
    Sha256,
    ShortText,
    Text,
    entries,
    unique,
)

#: a template's or a KPI set's name (domain/monitoring/templates/, kpi_sets/)
DefinitionRef = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
#: a bed type or a home-care tier, as a price schedule names it
RateKind = Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]

#: delivery confidence and risk ratings on the seed's RAG scale (seed 002): Green, Amber/Green,
#: Amber, Amber/Red, Red; the definitions are in domain/contracts/delivery.py (DELIVERY_CONFIDENCE)
Confidence = Literal["G", "A/G", "A", "A/R", "R"]
#: impact or likelihood of a risk: 1 Very Low to 5 Very High
Score = Annotated[int, Meta(ge=1, le=5)]


class FrameworkLot(Struct, forbid_unknown_fields=True, omit_defaults=True):
    id: Reference
    name: ShortText
    #: the most a contract for this lot may be worth, in pence (seed 002: four lots of GBP 100k)
    value_cap_pence: Pence | None = None


class Commissioner(Struct, forbid_unknown_fields=True):
    """One organisation commissioning under the framework, and what it commissions (`domain.commissioning`)."""

    org: Reference
    kind: Literal["icb", "ccg", "council", "nhs_england"]
    directorates: Annotated[list[ShortText], unique(max_length=100)] = []
    #: the framework's lots it commissions (none: every lot)
    lots: Annotated[list[Reference], unique(max_length=MAX_LOTS)] = []
    #: the local authorities whose homes it commissions, as CQC names them (none: its directorates)
    areas: Annotated[list[ShortText], unique(max_length=400)] = []


class EstablishFramework(Command, tag="framework.establish"):
    framework: Reference
    title: ShortText
    kind: Literal["care_homes", "home_care", "services"]
    lots: Annotated[list[FrameworkLot], unique(min_length=1, max_length=MAX_LOTS, by="id")]
    commissioners: Annotated[list[Commissioner], unique(max_length=200, by="org")]
    starts_on: Day
    ends_on: Day
    regime: Literal["pcr2015", "pa2023", "psr2024"]
    #: a shipped ladder ("nottingham", "cheshire_east") or the stages in order
    escalation_ladder: Reference | Annotated[list[Reference], unique(min_length=1, max_length=20, domain_rule="duplicate_stage")]
    max_extension_months: Annotated[int, Meta(ge=0, le=120)] = 0
    max_extension_value_percent: Annotated[int, Meta(ge=0, le=100)] | None = None
    #: the monitoring regime: "returns" (the return templates its homes owe) and "kpis" (the KPI sets,
    #: domain/monitoring/kpi_sets/, that judge them; none named: not monitored by KPIs)
    monitoring: Annotated[dict[Annotated[str, Meta(pattern=r"^[a-z_]{1,40}$")], Annotated[list[DefinitionRef], unique(max_length=50)]], entries(max_length=10)] = {}


class SetFrameworkPrices(Command, tag="framework.set_prices"):
    """A new dated price schedule, and the annual price variation of every live contract."""

    framework: Reference
    effective_from: Day
    #: pence per week by bed type, or per hour by home-care tier
    rates: Annotated[dict[RateKind, RatePence], entries(min_length=1, max_length=50)]
    #: the legal ground of the contracts' variations; default: the regime's "provided for in the contract"
    #: ground (a price review clause): pcr2015_reg72_1_a, pa2023_sch8_1 or psr2024_reg13_1_a
    ground: Reference | None = None
    rationale: Text = "Annual price review under the contract's price review clause."
    #: by contract, the contract change notice published for its variation where the Procurement Act
    #: 2023 needs one (s.75: a change of the value by more than 10%); publish each first (contract.publish_notice)
    change_notices: Annotated[dict[Reference, ShortText], entries(max_length=5000)] = {}


class AwardContract(Command, tag="contract.award"):
    contract: Reference
    framework: Reference
    competition: Reference
    lot: Reference
    provider: Reference
    value: Pence
    starts_on: Day
    ends_on: Day


class SignContract(Command, tag="contract.sign"):
    contract: Reference
    signed_on: Day


class MobiliseContract(Command, tag="contract.mobilise"):
    contract: Reference
    contract_manager: ShortText
    invoicing_contact_role: ShortText
    go_live: Day


class AddHome(Command, tag="contract.add_home"):
    contract: Reference
    location: Reference
    effective_from: Day


class RemoveHome(Command, tag="contract.remove_home"):
    contract: Reference
    location: Reference
    effective_from: Day


class VaryContract(Command, tag="contract.vary"):
    contract: Reference
    kind: Literal["annual_price", "national", "scope", "other"]
    ground: Reference
    value_change: PenceChange
    effective_from: Day
    rationale: Text
    #: the contract change notice published for it, where Procurement Act 2023 s.75 requires one
    change_notice: ShortText | None = None


class NotifyChangeOfControl(Command, tag="contract.notify_change_of_control"):
    contract: Reference
    new_controller: ShortText
    notified_on: Day


class NovateContract(Command, tag="contract.novate"):
    contract: Reference
    to_provider: Reference
    effective_from: Day
    #: the contract change notice published for it (Procurement Act 2023 s.75, Sch 8 para 9)
    change_notice: ShortText | None = None


class ExtendContract(Command, tag="contract.extend"):
    contract: Reference
    months: Annotated[int, Meta(ge=1, le=120)]
    value_change: Pence
    rationale: Text
    #: the contract change notice published for it, where Procurement Act 2023 s.75 requires one
    change_notice: ShortText | None = None


class SuspendReferrals(Command, tag="contract.suspend_referrals"):
    contract: Reference
    from_date: Day


class ResumeReferrals(Command, tag="contract.resume_referrals"):
    contract: Reference
    from_date: Day
    phased: bool = True


class EscalateContract(Command, tag="contract.escalate"):
    contract: Reference
    to_stage: Reference
    due: Day
    serious_breach: bool = False


class DeEscalateContract(Command, tag="contract.de_escalate"):
    contract: Reference


class PlannedAction(Struct, forbid_unknown_fields=True):
    id: Reference
    description: ShortText
    #: a role, not a person (e.g. "registered manager")
    owner_role: ShortText
    due: Day


class OpenActionPlan(Command, tag="action_plan.open"):
    contract: Reference
    plan: Reference
    actions: Annotated[list[PlannedAction], unique(min_length=1, max_length=200, by="id", domain_rule="duplicate_action")]


class ReviewActionPlan(Command, tag="action_plan.review"):
    contract: Reference
    plan: Reference
    completed: Annotated[list[Reference], unique(max_length=200)]
    notes: Note
    reviewed_on: Day


class CloseActionPlan(Command, tag="action_plan.close"):
    contract: Reference
    plan: Reference
    closed_on: Day


class TerminateContract(Command, tag="contract.terminate"):
    contract: Reference
    reason_kind: Literal["home_closure", "default", "expiry", "mutual_agreement", "novation"]
    effective_on: Day


class ExpireContract(Command, tag="contract.expire"):
    contract: Reference
    today: Day


class PublishContractNotice(Command, tag="contract.publish_notice"):
    """A notice of the contract's life as published on Find a Tender: the details after it is
    entered into (UK7, s.53), a change before a modification (UK10, s.75), its end (UK11, s.80)."""

    contract: Reference
    notice_type: Literal["contract_details_notice", "contract_change_notice", "contract_termination_notice"]
    #: the reference the service returned
    notice_reference: ShortText
    published_on: Day
    #: the modification a change notice announces (the variation, extension or novation then names the notice)
    modification: ShortText | None = None
    #: SHA-256 of the payload as published (the OCDS release generated for it), where there is one
    payload_sha256: Sha256 | None = None


# ------------------------------------------------------- service contracts (seed 002)


class AddMilestone(Command, tag="milestone.add"):
    contract: Reference
    milestone: Reference
    title: ShortText
    phase: ShortText
    #: the final due date, which is the milestone's baseline
    final_due: Day
    #: when the draft is due (None: no draft stage)
    draft_due: Day | None = None
    #: what the milestone pays on acceptance, in pence
    payment: Pence = 0


class SubmitDeliverable(Command, tag="milestone.submit"):
    contract: Reference
    milestone: Reference
    version: Literal["draft", "final"]
    submitted_on: Day
    document_sha256: Sha256 | None = None


class AcceptMilestone(Command, tag="milestone.accept"):
    contract: Reference
    milestone: Reference
    accepted_on: Day


class ReturnDeliverable(Command, tag="milestone.return"):
    """The final version is not to the commissioner's satisfaction (the reason is required)."""

    contract: Reference
    milestone: Reference
    returned_on: Day


class HighlightItem(Struct, forbid_unknown_fields=True):
    milestone: Reference
    confidence: Confidence
    #: the forecast delivery date, if it moves (seed: "if the baseline will be missed, the new expected date")
    forecast: Day | None = None
    #: why, for any rating below Green or a forecast after the baseline
    rationale: Note = ""


class SubmitHighlightReport(Command, tag="highlight_report.submit"):
    contract: Reference
    period_ending: Day
    overall_confidence: Confidence
    #: the reason for the overall rating and the actions in place to address it
    rationale: Note = ""
    #: deliverables achieved this fortnight, planned for the next, resource deployed
    summary: Note = ""
    items: Annotated[list[HighlightItem], unique(max_length=200, by="milestone", domain_rule="duplicate_milestone")] = []


class RecordPayment(Command, tag="payment.record"):
    contract: Reference
    payment: Reference
    milestone: Reference
    amount: Pence
    paid_on: Day


class RaiseRisk(Command, tag="risk.raise"):
    contract: Reference
    risk: Reference
    description: ShortText
    impact: Score
    likelihood: Score
    #: a role, not a person (e.g. "provider programme lead")
    owner_role: ShortText
    raised_on: Day
    mitigation: Note = ""


class UpdateRisk(Command, tag="risk.update"):
    contract: Reference
    risk: Reference
    updated_on: Day
    impact: Score | None = None
    likelihood: Score | None = None
    owner_role: ShortText | None = None
    mitigation: Note | None = None
    #: status and mitigating action progress
    progress: Note = ""


class CloseRisk(Command, tag="risk.close"):
    """Closing a risk needs the reason."""

    contract: Reference
    risk: Reference
    closed_on: Day


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
    PublishContractNotice,
    AddMilestone,
    SubmitDeliverable,
    AcceptMilestone,
    ReturnDeliverable,
    SubmitHighlightReport,
    RecordPayment,
    RaiseRisk,
    UpdateRisk,
    CloseRisk,
)
