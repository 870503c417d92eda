"""The procurement commands: a competition from opening to award (see competition.py).

Types and simple constraints are checked when a command is decoded, so a malformed command
never reaches the Competition; rules that depend on its state are the aggregate's business.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from domain.kernel.command_types import (
    MAX_LOTS,
    AccountsPence,
    Command,
    Day,
    Deadline,
    Note,
    Pence,
    Reference,
    Sha256,
    ShortText,
    SizeBytes,
    Text,
    entries,
    unique,
)

#: a score on a criterion's published scale (at most 100 points: `CriterionSpec.max_score`)
Points = Annotated[int, Meta(ge=0, le=100)]
#: a financial ratio or margin threshold (current ratio, gearing: a few; a margin: a fraction)
Ratio = Annotated[float, Meta(ge=-100, le=100)]
#: bidders of one competition (London's AQP round has about 40 homes' providers)
MAX_BIDDERS = 1_000


class LotSpec(Struct, forbid_unknown_fields=True):
    id: Reference
    name: ShortText
    #: a capped price for the lot, in pence (seed 002: four lots of GBP 100k)
    value_cap_pence: Pence | None = None
    #: how many providers the lot can award; None: every qualifying provider (AQP)
    places: Annotated[int, Meta(ge=1, le=10_000)] | None = None


class CriterionSpec(Struct, forbid_unknown_fields=True):
    id: Reference
    title: ShortText
    panel: Literal["technical", "financial"]
    weight: Annotated[int, Meta(ge=1, le=100)]
    max_score: Annotated[int, Meta(ge=1, le=100)]
    pass_mark: Annotated[int, Meta(ge=0, le=100)] | None = None


class FinancialThresholds(Struct, forbid_unknown_fields=True, omit_defaults=True):
    min_credit_score: Annotated[int, Meta(ge=0, le=100)] | None = None
    min_current_ratio: Annotated[float, Meta(ge=0, le=100)] | None = None
    max_gearing: Annotated[float, Meta(ge=0, le=100)] | None = None
    min_operating_margin: Ratio | None = None


class ConflictDeclaration(Struct, forbid_unknown_fields=True):
    bidder: Reference
    conflicted: bool
    note: Note = ""


class Accounts(Struct, forbid_unknown_fields=True):
    """Figures from the latest filed accounts, in pence."""

    current_assets: Annotated[int, Meta(ge=0, le=10**14)]
    current_liabilities: Annotated[int, Meta(ge=0, le=10**14)]
    total_debt: Annotated[int, Meta(ge=0, le=10**14)]
    net_assets: AccountsPence
    turnover: Annotated[int, Meta(ge=0, le=10**14)]
    operating_profit: AccountsPence


# ------------------------------------------------------------------ competition

#: organisations, each once (more than England's 42 ICBs and a CSU's councils besides would be a mistake)
ActingFor = Annotated[list[Reference], unique(max_length=100, domain_rule="duplicate_organisation")]


class OpenCompetition(Command, tag="competition.open"):
    competition: Reference
    title: ShortText
    procedure: Literal["open", "restricted", "competitive_flexible", "light_touch", "psr_competitive", "call_off"]
    standstill_regime: Literal["pcr2015", "pa2023", "psr2024"]
    lots: Annotated[list[LotSpec], unique(min_length=1, max_length=MAX_LOTS, by="id", domain_rule="duplicate_lot")]
    clarification_deadline: Deadline
    tender_deadline: Deadline
    moderation_spread: Annotated[int, Meta(ge=0, le=100)] = 1
    #: the framework the awarded contracts are called off (contracts follow the award)
    framework: Reference | None = None
    #: the organisations the authority runs it for (a CSU's ICBs), each once: theirs to see and run too
    acting_for: ActingFor = []


class SetActingFor(Command, tag="competition.set_acting_for"):
    """The authority names the organisations it runs the competition for, in place of those named before (a reason is required)."""

    competition: Reference
    acting_for: ActingFor


class PublishCriteria(Command, tag="criteria.publish"):
    competition: Reference
    criteria: Annotated[list[CriterionSpec], unique(min_length=1, max_length=100, by="id", domain_rule="duplicate_criterion")]
    financial_thresholds: FinancialThresholds
    quality_threshold: Annotated[int, Meta(ge=0, le=100)] | None = None


class PublishDocument(Command, tag="document.publish"):
    competition: Reference
    document: Reference
    title: ShortText
    sha256: Sha256
    size_bytes: SizeBytes


class PublishNotice(Command, tag="notice.publish"):
    """A notice of the procurement as published: its type, the reference the service returned, its day.

    Under the Procurement Act 2023 the award notice (UK6), and under the PSR the notice of
    intention to award, start the standstill (domain/procurement/notices.py)."""

    competition: Reference
    notice_type: Literal[
        "future_opportunity",
        "contract_notice",
        "award_notice",
        "contract_details_notice",
        "psr_intention_to_award",
        "psr_award_confirmation",
    ]
    notice_reference: ShortText
    published_on: Day
    #: SHA-256 of the payload as published (the OCDS release generated for it), where there is one
    payload_sha256: Sha256 | None = None


class AskClarification(Command, tag="clarification.ask"):
    competition: Reference
    question: Text


class AnswerClarification(Command, tag="clarification.answer"):
    competition: Reference
    clarification: Reference
    published_question: Text
    answer: Text


class SubmitTender(Command, tag="tender.submit"):
    competition: Reference
    lots: Annotated[list[Reference], unique(min_length=1, max_length=MAX_LOTS)]
    content_sha256: Sha256
    size_bytes: SizeBytes


class WithdrawTender(Command, tag="tender.withdraw"):
    competition: Reference


class OpenTenders(Command, tag="tenders.open"):
    competition: Reference


class AppointEvaluator(Command, tag="evaluator.appoint"):
    competition: Reference
    #: an opaque person id; the name and e-mail address are personal data, stored erasably
    evaluator: Reference
    evaluator_org: Reference
    panel: Literal["compliance", "technical", "financial"]
    name: ShortText | None = None
    email: Annotated[str, Meta(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)] | None = None


class RecordTraining(Command, tag="evaluator.train"):
    competition: Reference
    evaluator: Reference


class DeclareConflicts(Command, tag="conflict.declare"):
    competition: Reference
    declarations: Annotated[list[ConflictDeclaration], unique(min_length=1, max_length=MAX_BIDDERS, by="bidder", domain_rule="duplicate_bidder")]


class RecordCompliance(Command, tag="compliance.record"):
    competition: Reference
    bidder: Reference
    check: Literal["cqc_registration", "ico_registration", "insurance", "exclusion_grounds"]
    passed: bool
    note: Note = ""


class RecordScore(Command, tag="score.record"):
    competition: Reference
    bidder: Reference
    criterion: Reference
    score: Points
    justification: Note


class ModerateScore(Command, tag="score.moderate"):
    competition: Reference
    bidder: Reference
    criterion: Reference
    score: Points
    rationale: Note


class AssessFinances(Command, tag="financial.assess"):
    competition: Reference
    bidder: Reference
    credit_score: Annotated[int, Meta(ge=0, le=100)]
    accounts: Accounts
    offered_prices: Annotated[dict[Reference, Pence], entries(max_length=MAX_LOTS)] = {}


class OfferGuarantee(Command, tag="guarantee.offer"):
    competition: Reference
    bidder: Reference
    guarantor: ShortText
    guarantor_company_number: Annotated[str, Meta(pattern=r"^[A-Z0-9]{8}$")]


class ExecuteGuarantee(Command, tag="guarantee.execute"):
    competition: Reference
    bidder: Reference
    document_sha256: Sha256


class IssueEvaluationClarification(Command, tag="evaluation_clarification.issue"):
    competition: Reference
    bidder: Reference
    question: Text


class RespondToEvaluationClarification(Command, tag="evaluation_clarification.respond"):
    competition: Reference
    clarification: Reference
    response: Text


class DecideOutcome(Command, tag="outcome.decide"):
    competition: Reference


class IssueOutcomeLetters(Command, tag="outcome_letters.issue"):
    competition: Reference
    #: per lot: the characteristics and relative advantages of the successful tenders
    relative_advantages: Annotated[dict[Reference, Note], entries(max_length=MAX_LOTS)] = {}


class ReceiveChallenge(Command, tag="challenge.receive"):
    competition: Reference
    bidder: Reference
    kind: Literal["challenge", "representation"]
    grounds: Text


class ResolveChallenge(Command, tag="challenge.resolve"):
    competition: Reference
    challenge: Reference
    outcome: Literal["dismissed", "upheld", "withdrawn"]
    decision: Text


class ConcludeAward(Command, tag="award.conclude"):
    competition: Reference


class CancelCompetition(Command, tag="competition.cancel"):
    competition: Reference


PROCUREMENT_COMMANDS = (
    OpenCompetition,
    PublishCriteria,
    PublishDocument,
    PublishNotice,
    AskClarification,
    AnswerClarification,
    SubmitTender,
    WithdrawTender,
    OpenTenders,
    AppointEvaluator,
    RecordTraining,
    DeclareConflicts,
    RecordCompliance,
    RecordScore,
    ModerateScore,
    AssessFinances,
    OfferGuarantee,
    ExecuteGuarantee,
    IssueEvaluationClarification,
    RespondToEvaluationClarification,
    DecideOutcome,
    IssueOutcomeLetters,
    ReceiveChallenge,
    ResolveChallenge,
    ConcludeAward,
    CancelCompetition,
    SetActingFor,
)
