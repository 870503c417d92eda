"""The Competition: one procurement round, from opening to award, with its rules.

A procurement lead must be able to defend an award against challenge, so every fact behind
a decision is an event here: the published criteria and documents, each clarification and
its answer to all bidders, each sealed tender's hash, every evaluator's appointment, training
and conflict-of-interest declaration, every score with its justification, every moderation,
the financial assessment, the outcome and the letters as sent, the standstill and any
challenge. The rules of a fair procurement (PCR 2015, Procurement Act 2023, Provider
Selection Regime 2024) are invariants checked before any event is triggered, so a refused
command records nothing.

Public methods decide (check rules, compute values); the nested events' `apply` only
assign state, so replay never re-runs a decision. The rules that are calculations of their
own live beside it and are named after the rule: `standstill.py`, `outcome.py` (final and
agreed scores, pass or fail, ranks), `letters.py`; its words are in `vocabulary.py` and what
each viewer may see in `views.py`.

Longer than 600 lines because the aggregate is one consistency boundary: each command's
checks sit next to the event it triggers and the state that event assigns, and the checks
share the competition's whole state (status, deadlines, panels, conflicts). Split across
files, a rule and the state it guards would no longer be read together.
"""

from __future__ import annotations

import copy
import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from domain import access
from domain.kernel.errors import RuleBroken, ValidationFailed
from domain.kernel.metadata import Actor, LedgerAggregate
from domain.kernel.personal import PersonalData
from domain.kernel.topics import stored_as
from domain.procurement.letters import outcome_letters
from domain.procurement.outcome import FINANCIAL_RATIOS, check_all_scored, compute_outcome, financial_ratios
from domain.procurement.notices import COMPETITION_NOTICE_TYPES, uk_code
from domain.procurement.standstill import LONDON, standstill_after_representation, standstill_end, standstill_from_notice
from domain.procurement.vocabulary import (
    AWARDED,
    CANCELLED,
    CHALLENGE_KINDS,
    CHALLENGE_OUTCOMES,
    COMPLIANCE_CHECKS,
    EVALUATION,
    OPEN,
    OUTCOME_DECIDED,
    PANELS,
    PROCEDURES,
    SCORED_PANELS,
    STANDSTILL,
    STANDSTILL_REGIMES,
)

SHA256 = re.compile(r"^[0-9a-f]{64}$")
#: regime -> the refusal of an award whose standstill no notice has started
NOTICE_STARTS_STANDSTILL = {
    "pa2023": (
        "award_notice_required",
        "Before entering into the contract the contract award notice must be published (Procurement Act 2023 s.50(1)), "
        "and the standstill runs 8 working days beginning with its day (s.51(2))",
    ),
    "psr2024": (
        "intention_to_award_notice_required",
        "Under the Provider Selection Regime the standstill begins with the notice of intention to award (reg 12)",
    ),
}
MIN_JUSTIFICATION = 10


def _refuse(code: str, message: str, **context: Any) -> RuleBroken:
    return RuleBroken(message, code=code, **context)


def _invalid(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, field=field)


def _check_acting_for(named: list[str], authority: str) -> list[str]:
    """The organisations an authority acts for, each once and never itself, in a stable order."""
    repeated = sorted({o for o in named if named.count(o) > 1})
    if repeated:
        raise _invalid("acting_for", "duplicate_organisation", f"Name each organisation once; repeated: {', '.join(repeated)}.")
    if authority in named:
        raise _invalid("acting_for", "authority_named", f"{authority} runs the competition; name only the organisations it acts for.")
    return sorted(named)


def _words(text: str) -> str:
    """Lower-case words separated by single spaces, so "Laurel-Bank care" matches "laurel-bank-care"."""
    return " " + " ".join(re.findall(r"[a-z0-9]+", text.lower())) + " "


@stored_as("domain.procurement")
class Competition(LedgerAggregate):
    """A procurement round: lots, criteria, sealed tenders, evaluation, outcome and award."""

    KIND = "competition"

    def __init__(self) -> None:
        self.reference = ""
        self.title = ""
        self.authority = ""
        #: the organisations the authority acts for (a CSU's ICBs): the competition is theirs too
        self.acting_for: list[str] = []
        self.procedure = ""
        self.standstill_regime = ""
        self.status = OPEN
        self.lots: dict[str, dict[str, Any]] = {}
        self.clarification_deadline: datetime | None = None
        self.tender_deadline: datetime | None = None
        self.moderation_spread = 1
        self.framework: str | None = None
        self.criteria: dict[str, dict[str, Any]] = {}
        self.criteria_version = 0
        self.quality_threshold: int | None = None
        self.financial_thresholds: dict[str, Any] = {}
        self.documents: dict[str, dict[str, Any]] = {}
        self.notices: list[dict[str, Any]] = []
        self.clarifications: dict[str, dict[str, Any]] = {}
        self.tenders: dict[str, dict[str, Any]] = {}
        self.opened_at: datetime | None = None
        self.evaluators: dict[str, dict[str, Any]] = {}
        self.compliance: dict[str, dict[str, dict[str, Any]]] = {}
        #: (evaluator, bidder, criterion) -> score record
        self.scores: dict[tuple[str, str, str], dict[str, Any]] = {}
        #: (bidder, criterion) -> moderation record
        self.moderations: dict[tuple[str, str], dict[str, Any]] = {}
        self.financial: dict[str, dict[str, Any]] = {}
        self.guarantees: dict[str, dict[str, Any]] = {}
        self.evaluation_clarifications: dict[str, dict[str, Any]] = {}
        self.outcome: dict[str, Any] | None = None
        self.letters: dict[str, Any] | None = None
        self.standstill: dict[str, Any] | None = None
        self.challenges: dict[str, dict[str, Any]] = {}
        self.award: dict[str, Any] | None = None
        self.cancellation: dict[str, Any] | None = None

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(
        cls,
        *,
        reference: str,
        title: str,
        authority: str,
        procedure: str,
        standstill_regime: str,
        lots: list[dict[str, Any]],
        clarification_deadline: datetime,
        tender_deadline: datetime,
        moderation_spread: int,
        now: datetime,
        framework: str | None = None,
        acting_for: list[str] | None = None,
    ) -> Competition:
        acting_for = _check_acting_for(list(acting_for or ()), authority)
        if procedure not in PROCEDURES:
            raise _invalid("procedure", "unknown_procedure", f"Procedure must be one of {', '.join(PROCEDURES)}.")
        if standstill_regime not in STANDSTILL_REGIMES:
            raise _invalid(
                "standstill_regime",
                "unknown_standstill_regime",
                f"Standstill regime must be one of {', '.join(STANDSTILL_REGIMES)}.",
            )
        if not lots:
            raise _invalid("lots", "lots_required", "A competition needs at least one lot.")
        ids = [lot["id"] for lot in lots]
        if len(set(ids)) != len(ids):
            raise _invalid("lots", "duplicate_lot", "Lot ids must be unique within a competition.")
        if tender_deadline <= now:
            raise _invalid("tender_deadline", "deadline_in_past", "The tender deadline must be in the future.")
        if clarification_deadline >= tender_deadline:
            raise _invalid(
                "clarification_deadline",
                "clarification_after_tender_deadline",
                "The clarification deadline must fall before the tender deadline.",
            )
        if moderation_spread < 0:
            raise _invalid("moderation_spread", "negative_spread", "The moderation spread cannot be negative.")
        return cls._create(
            cls.Opened,
            id=cls.id_for(reference),
            reference=reference,
            title=title,
            authority=authority,
            procedure=procedure,
            standstill_regime=standstill_regime,
            lots=copy.deepcopy(lots),
            clarification_deadline=clarification_deadline,
            tender_deadline=tender_deadline,
            moderation_spread=moderation_spread,
            framework=framework,
            acting_for=acting_for or None,
        )

    class Opened(LedgerAggregate.Created):
        reference: str
        title: str
        authority: str
        procedure: str
        standstill_regime: str
        lots: list
        clarification_deadline: datetime
        tender_deadline: datetime
        moderation_spread: int
        framework: str | None = None
        #: None: the authority named nobody (and every competition opened before it could)
        acting_for: list | None = None

        def apply(self, c: Competition) -> None:
            c.framework = self.framework
            c.acting_for = list(getattr(self, "acting_for", None) or ())
            c.reference = self.reference
            c.title = self.title
            c.authority = self.authority
            c.procedure = self.procedure
            c.standstill_regime = self.standstill_regime
            c.lots = {lot["id"]: dict(lot) for lot in self.lots}
            c.clarification_deadline = self.clarification_deadline
            c.tender_deadline = self.tender_deadline
            c.moderation_spread = self.moderation_spread

    def set_acting_for(self, *, acting_for: list[str], reason: str | None) -> None:
        """The authority names (again) the organisations it acts for; who is dropped no longer sees the round."""
        named = _check_acting_for(list(acting_for), self.authority)
        if named == self.acting_for:
            return  # already so: a retry records nothing
        if not reason or not reason.strip():
            raise _invalid("reason", "reason_required", "Changing the organisations a competition is run for needs a reason.")
        self.trigger_event(self.ActingForChanged, acting_for=named, previous=list(self.acting_for))

    class ActingForChanged(LedgerAggregate.Event):
        acting_for: list
        previous: list

        def apply(self, c: Competition) -> None:
            c.acting_for = list(self.acting_for)

    # ------------------------------------------------------- shared state checks

    def _check_not_closed(self) -> None:
        if self.status == CANCELLED:
            raise _refuse("competition_cancelled", f"Competition {self.reference} has been cancelled.")
        if self.status == AWARDED:
            raise _refuse("competition_awarded", f"Competition {self.reference} has already been awarded.")

    def _check_before_deadline(self, now: datetime, what: str) -> None:
        assert self.tender_deadline is not None
        if now >= self.tender_deadline:
            raise _refuse(
                "tender_deadline_passed",
                f"{what} is not allowed after the tender deadline ({self.tender_deadline.isoformat()}).",
                deadline=self.tender_deadline.isoformat(),
            )

    def _check_opened(self, what: str) -> None:
        self._check_not_closed()
        if self.opened_at is None:
            raise _refuse("tenders_not_opened", f"{what} is not allowed before the tenders are opened.")

    def _check_evaluating(self, what: str) -> None:
        self._check_opened(what)
        if self.status != EVALUATION:
            raise _refuse(
                "evaluation_closed",
                f"{what} is not allowed once the outcome has been decided (status: {self.status}).",
            )

    def _check_live_bidder(self, bidder: str) -> dict[str, Any]:
        tender = self.tenders.get(bidder)
        if tender is None or tender["status"] != "submitted":
            raise _refuse("unknown_bidder", f"{bidder} has no live tender in {self.reference}.", bidder=bidder)
        return tender

    def _check_sha256(self, field: str, value: str) -> None:
        if not SHA256.match(value):
            raise _invalid(field, "invalid_sha256", f"{field} must be 64 lower-case hexadecimal characters.")

    # ------------------------------------------------- criteria, documents, notices

    def publish_criteria(
        self,
        *,
        criteria: list[dict[str, Any]],
        quality_threshold: int | None,
        financial_thresholds: dict[str, Any],
        reason: str | None,
        now: datetime,
    ) -> None:
        self._check_not_closed()
        # Frozen at the deadline: changing the rules once bids are in breaks equal treatment.
        self._check_before_deadline(now, "Changing the evaluation criteria")
        if self.criteria_version and not reason:
            raise _invalid("reason", "reason_required", "Republishing criteria needs a reason that bidders will see.")
        ids = [c["id"] for c in criteria]
        if not criteria:
            raise _invalid("criteria", "criteria_required", "At least one criterion must be published.")
        if len(set(ids)) != len(ids):
            raise _invalid("criteria", "duplicate_criterion", "Criterion ids must be unique.")
        for i, c in enumerate(criteria):
            if c["panel"] not in SCORED_PANELS:
                raise _invalid(
                    f"criteria[{i}].panel", "unknown_panel", f"A scored criterion's panel must be one of {SCORED_PANELS}."
                )
            if c["pass_mark"] is not None and not 0 <= c["pass_mark"] <= c["max_score"]:
                raise _invalid(f"criteria[{i}].pass_mark", "pass_mark_off_scale", "The pass mark must be on the scale.")
        total = sum(c["weight"] for c in criteria)
        if total != 100:
            raise _invalid("criteria", "weights_not_100", f"Criterion weights must add up to 100, not {total}.")
        if quality_threshold is not None and not 0 <= quality_threshold <= 100:
            raise _invalid("quality_threshold", "threshold_off_scale", "The quality threshold is a percentage 0-100.")
        self.trigger_event(
            self.CriteriaPublished,
            version=self.criteria_version + 1,
            criteria=copy.deepcopy(criteria),
            quality_threshold=quality_threshold,
            financial_thresholds=dict(financial_thresholds),
        )

    class CriteriaPublished(LedgerAggregate.Event):
        version: int
        criteria: list
        quality_threshold: int | None
        financial_thresholds: dict

        def apply(self, c: Competition) -> None:
            c.criteria_version = self.version
            c.criteria = {cr["id"]: dict(cr) for cr in self.criteria}
            c.quality_threshold = self.quality_threshold
            c.financial_thresholds = dict(self.financial_thresholds)

    def publish_document(self, *, document: str, title: str, sha256: str, size_bytes: int, now: datetime) -> None:
        self._check_not_closed()
        self._check_before_deadline(now, "Publishing tender documents")
        self._check_sha256("sha256", sha256)
        existing = self.documents.get(document)
        if existing and existing["sha256"] == sha256:
            return  # a retried publication of the same bytes records nothing new
        self.trigger_event(
            self.DocumentPublished,
            document=document,
            title=title,
            sha256=sha256,
            size_bytes=size_bytes,
            revision=(existing["revision"] + 1) if existing else 1,
        )

    class DocumentPublished(LedgerAggregate.Event):
        document: str
        title: str
        sha256: str
        size_bytes: int
        revision: int

        def apply(self, c: Competition) -> None:
            c.documents[self.document] = {
                "title": self.title,
                "sha256": self.sha256,
                "size_bytes": self.size_bytes,
                "revision": self.revision,
                "published_at": self.timestamp.isoformat(),
            }

    def publish_notice(
        self,
        *,
        notice_type: str,
        notice_reference: str,
        published_on: date,
        now: datetime,
        payload_sha256: str | None = None,
    ) -> None:
        """Record a notice as published, with the reference the service returned (`notices.py`).

        Under the Procurement Act 2023 the contract award notice, and under the PSR the notice
        of intention to award, start the standstill: it is counted again from its day.
        """
        # Notices follow the award too (the award notice), so only cancellation closes them.
        if self.status == CANCELLED:
            raise _refuse("competition_cancelled", f"Competition {self.reference} has been cancelled.")
        if notice_type not in COMPETITION_NOTICE_TYPES:
            raise _invalid(
                "notice_type",
                "unknown_notice_type",
                f"A competition's notice type is one of {', '.join(COMPETITION_NOTICE_TYPES)}; "
                "a contract's change and termination notices are published on the contract (contract.publish_notice).",
            )
        if payload_sha256 is not None:
            self._check_sha256("payload_sha256", payload_sha256)
        if notice_type in ("award_notice", "contract_details_notice") and self.outcome is None:
            raise _refuse("outcome_not_decided", "An award notice needs a decided outcome.")
        if any(n["notice_reference"] == notice_reference for n in self.notices):
            return
        standstill: tuple[date, datetime] | None = None
        if notice_type == "award_notice" and self.standstill_regime == "pa2023":
            standstill = self._check_notice_starts_standstill(
                published_on,
                now,
                "Under the Procurement Act 2023 the contract award notice follows the assessment summaries "
                "(the outcome letters) given to every assessed bidder (s.50(3)) and precedes the award (s.50(1))",
            )
        elif notice_type.startswith("psr_") and self.standstill_regime != "psr2024":
            raise _refuse(
                "notice_not_in_regime",
                f"A {notice_type.replace('_', ' ')} notice belongs to the Provider Selection Regime; "
                f"{self.reference} runs under {self.standstill_regime}.",
            )
        elif notice_type == "psr_intention_to_award":
            standstill = self._check_notice_starts_standstill(
                published_on,
                now,
                "Under the Provider Selection Regime the notice of intention to award follows the decision "
                "told to the bidders and starts the standstill (reg 12)",
            )
        elif notice_type == "psr_award_confirmation" and self.status != AWARDED:
            raise _refuse(
                "award_not_concluded",
                "The notice confirming a Provider Selection Regime award follows the award, once the standstill has ended.",
            )
        self.trigger_event(
            self.NoticePublished,
            notice_type=notice_type,
            notice_reference=notice_reference,
            published_on=published_on.isoformat(),
            notice_code=uk_code(notice_type, self.standstill_regime),
            payload_sha256=payload_sha256,
            standstill_last_day=standstill[0].isoformat() if standstill else None,
            standstill_ends_at=standstill[1] if standstill else None,
        )

    def _check_notice_starts_standstill(self, published_on: date, now: datetime, rule: str) -> tuple[date, datetime]:
        """The standstill counted from a notice published after the letters and not after today."""
        if self.status != STANDSTILL or self.letters is None:
            raise _refuse("letters_not_issued", f"{rule}: issue the outcome letters first (status: {self.status}).")
        letters_day = datetime.fromisoformat(self.letters["sent_at"]).astimezone(LONDON).date()
        if published_on < letters_day:
            raise _invalid(
                "published_on",
                "notice_before_letters",
                f"{rule}: a notice published on {published_on} would come before the letters of {letters_day}.",
            )
        if published_on > now.astimezone(LONDON).date():
            raise _invalid(
                "published_on",
                "published_on_in_future",
                f"A notice is recorded once published; {published_on} is after today ({now.astimezone(LONDON).date()}).",
            )
        return standstill_from_notice(self.standstill_regime, published_on)

    class NoticePublished(LedgerAggregate.Event):
        notice_type: str
        notice_reference: str
        published_on: str
        #: Find a Tender's notice type under the Procurement Act 2023 ("UK6"); None before it or outside it
        notice_code: str | None = None
        #: SHA-256 of the payload as published (an OCDS release), where the ledger generated it
        payload_sha256: str | None = None
        #: the standstill recounted from this notice (PA 2023 s.51, PSR reg 12), else None
        standstill_last_day: str | None = None
        standstill_ends_at: datetime | None = None

        def apply(self, c: Competition) -> None:
            notice = {"notice_type": self.notice_type, "notice_reference": self.notice_reference, "published_on": self.published_on}
            # Only what the notice has: a notice recorded before codes and payloads shows as it did.
            for extra in ("notice_code", "payload_sha256"):
                if getattr(self, extra, None) is not None:
                    notice[extra] = getattr(self, extra)
            c.notices.append(notice)
            ends_at = getattr(self, "standstill_ends_at", None)
            if ends_at is not None and c.standstill is not None:
                # A second notice (a corrected one) never shortens the standstill the first began.
                if c.standstill.get("notice") is None or ends_at > c.standstill["ends_at"]:
                    c.standstill["last_day"] = self.standstill_last_day
                    c.standstill["ends_at"] = ends_at
                c.standstill["notice"] = c.standstill.get("notice") or self.notice_reference

    # ------------------------------------------------------------ clarifications

    def ask_clarification(self, *, bidder: str, question: str, now: datetime) -> str:
        self._check_not_closed()
        assert self.clarification_deadline is not None
        if now >= self.clarification_deadline:
            raise _refuse(
                "clarification_deadline_passed",
                f"Clarification questions closed at {self.clarification_deadline.isoformat()}.",
            )
        if not question.strip():
            raise _invalid("question", "question_required", "A clarification needs a question.")
        clarification = f"Q{len(self.clarifications) + 1:03d}"
        self.trigger_event(self.ClarificationAsked, clarification=clarification, asked_by=bidder, question=question)
        return clarification

    class ClarificationAsked(LedgerAggregate.Event):
        clarification: str
        asked_by: str
        question: str

        def apply(self, c: Competition) -> None:
            c.clarifications[self.clarification] = {
                "asked_by": self.asked_by,
                "question": self.question,
                "asked_at": self.timestamp.isoformat(),
                "published_question": None,
                "answer": None,
                "answered_at": None,
            }

    def answer_clarification(self, *, clarification: str, published_question: str, answer: str, now: datetime) -> None:
        self._check_not_closed()
        self._check_before_deadline(now, "Answering a clarification")
        record = self.clarifications.get(clarification)
        if record is None:
            raise _refuse("unknown_clarification", f"There is no clarification {clarification}.")
        if record["answer"] is not None:
            raise _refuse("clarification_already_answered", f"Clarification {clarification} has already been answered.")
        if not answer.strip():
            raise _invalid("answer", "answer_required", "A clarification answer cannot be empty.")
        # The answer goes to every bidder: the question as published must not identify the asker.
        if _words(record["asked_by"]) in _words(published_question):
            raise _invalid(
                "published_question",
                "clarification_not_anonymised",
                "The published question names the bidder who asked it; remove it before publishing to all bidders.",
            )
        self.trigger_event(
            self.ClarificationAnswered,
            clarification=clarification,
            published_question=published_question,
            answer=answer,
            published_to="all_bidders",
        )

    class ClarificationAnswered(LedgerAggregate.Event):
        clarification: str
        published_question: str
        answer: str
        published_to: str

        def apply(self, c: Competition) -> None:
            record = c.clarifications[self.clarification]
            record["published_question"] = self.published_question
            record["answer"] = self.answer
            record["answered_at"] = self.timestamp.isoformat()

    # ------------------------------------------------------------------- tenders

    def submit_tender(self, *, bidder: str, lots: list[str], content_sha256: str, size_bytes: int, now: datetime) -> bool:
        """Record a sealed tender; False when it repeats the bidder's live tender exactly."""
        self._check_not_closed()
        self._check_before_deadline(now, "Submitting a tender")
        if not self.criteria:
            raise _refuse("criteria_not_published", "Tenders cannot be accepted before the criteria are published.")
        self._check_sha256("content_sha256", content_sha256)
        if not lots:
            raise _invalid("lots", "lots_required", "A tender must name at least one lot.")
        unknown = sorted(set(lots) - set(self.lots))
        if unknown:
            raise _invalid("lots", "unknown_lot", f"Unknown lot(s): {', '.join(unknown)}.")
        if size_bytes <= 0:
            raise _invalid("size_bytes", "empty_tender", "A tender cannot be empty.")
        current = self.tenders.get(bidder)
        if (
            current
            and current["status"] == "submitted"
            and current["content_sha256"] == content_sha256
            and current["lots"] == sorted(lots)
        ):
            return False
        self.trigger_event(
            self.TenderSubmitted,
            bidder=bidder,
            lots=sorted(lots),
            content_sha256=content_sha256,
            size_bytes=size_bytes,
            submission=(current["submission"] + 1) if current else 1,
        )
        return True

    class TenderSubmitted(LedgerAggregate.Event):
        bidder: str
        lots: list
        content_sha256: str
        size_bytes: int
        submission: int

        def apply(self, c: Competition) -> None:
            c.tenders[self.bidder] = {
                "lots": list(self.lots),
                "content_sha256": self.content_sha256,
                "size_bytes": self.size_bytes,
                "submission": self.submission,
                "submitted_at": self.timestamp.isoformat(),
                "status": "submitted",
            }

    def withdraw_tender(self, *, bidder: str, now: datetime) -> None:
        self._check_not_closed()
        self._check_before_deadline(now, "Withdrawing a tender")
        tender = self.tenders.get(bidder)
        if tender is None or tender["status"] != "submitted":
            raise _refuse("no_tender", f"{bidder} has no submitted tender to withdraw.")
        self.trigger_event(self.TenderWithdrawn, bidder=bidder)

    class TenderWithdrawn(LedgerAggregate.Event):
        bidder: str

        def apply(self, c: Competition) -> None:
            c.tenders[self.bidder]["status"] = "withdrawn"
            c.tenders[self.bidder]["withdrawn_at"] = self.timestamp.isoformat()

    def open_tenders(self, *, now: datetime) -> None:
        self._check_not_closed()
        assert self.tender_deadline is not None
        if now < self.tender_deadline:
            raise _refuse(
                "deadline_not_reached",
                f"Tenders stay sealed until the deadline ({self.tender_deadline.isoformat()}).",
            )
        if self.opened_at is not None:
            raise _refuse("tenders_already_opened", "The tenders have already been opened.")
        live = sorted(b for b, t in self.tenders.items() if t["status"] == "submitted")
        self.trigger_event(self.TendersOpened, bidders=live)

    class TendersOpened(LedgerAggregate.Event):
        bidders: list

        def apply(self, c: Competition) -> None:
            c.opened_at = self.timestamp
            c.status = EVALUATION

    # ---------------------------------------------------------------- evaluators

    def appoint_evaluator(
        self,
        *,
        evaluator: str,
        evaluator_org: str,
        panel: str,
        name: PersonalData | None = None,
        email: PersonalData | None = None,
    ) -> None:
        self._check_not_closed()
        if panel not in PANELS:
            raise _invalid("panel", "unknown_panel", f"Panel must be one of {', '.join(PANELS)}.")
        if self.status not in (OPEN, EVALUATION):
            raise _refuse("evaluation_closed", "Evaluators cannot be appointed once the outcome is decided.")
        record = self.evaluators.get(evaluator)
        if record and panel in record["panels"]:
            return
        self.trigger_event(
            self.EvaluatorAppointed, evaluator=evaluator, evaluator_org=evaluator_org, panel=panel, name=name, email=email
        )

    class EvaluatorAppointed(LedgerAggregate.Event):
        evaluator: str
        evaluator_org: str
        panel: str
        #: personal data of the evaluator, erasable (see domain/personal.py)
        name: PersonalData | None
        email: PersonalData | None

        def apply(self, c: Competition) -> None:
            record = c.evaluators.setdefault(
                self.evaluator,
                {"org": self.evaluator_org, "panels": [], "trained_at": None, "declarations": {}},
            )
            if self.name is not None:
                record["name"] = self.name
            if self.email is not None:
                record["email"] = self.email
            record["panels"].append(self.panel)
            record["panels"].sort()

    def record_training(self, *, evaluator: str) -> None:
        self._check_not_closed()
        if self.status not in (OPEN, EVALUATION):
            raise _refuse("evaluation_closed", "Training is recorded before the outcome is decided.")
        record = self._evaluator(evaluator)
        if record["trained_at"] is not None:
            return
        self.trigger_event(self.EvaluatorTrained, evaluator=evaluator)

    class EvaluatorTrained(LedgerAggregate.Event):
        evaluator: str

        def apply(self, c: Competition) -> None:
            c.evaluators[self.evaluator]["trained_at"] = self.timestamp.isoformat()

    def _evaluator(self, evaluator: str) -> dict[str, Any]:
        record = self.evaluators.get(evaluator)
        if record is None:
            raise _refuse("evaluator_not_appointed", f"{evaluator} has not been appointed as an evaluator.")
        return record

    def declare_conflicts(self, *, evaluator: str, declarations: list[dict[str, Any]]) -> None:
        # Bidders are only known once the tenders are opened, so that is when evaluators declare.
        self._check_evaluating("Declaring conflicts of interest")
        record = self._evaluator(evaluator)
        if not declarations:
            raise _invalid("declarations", "declarations_required", "Declare for at least one bidder.")
        named = [d["bidder"] for d in declarations]
        repeated = sorted({b for b in named if named.count(b) > 1})
        if repeated:
            raise _invalid(
                "declarations", "duplicate_bidder", f"Declare once per bidder; repeated: {', '.join(repeated)}."
            )
        changes = []
        for i, d in enumerate(declarations):
            bidder = d["bidder"]
            if bidder not in self.tenders:
                raise _invalid(f"declarations[{i}].bidder", "unknown_bidder", f"{bidder} did not tender.")
            before = record["declarations"].get(bidder)
            if before is not None and before["conflicted"] and not d["conflicted"]:
                raise _refuse(
                    "conflict_cannot_be_withdrawn",
                    f"{evaluator} declared a conflict with {bidder}; a declared conflict stands for this competition.",
                )
            if before is None or before["conflicted"] != d["conflicted"]:
                # A declaration's note is about the evaluator: personal data, erasable.
                note = PersonalData(evaluator, d["note"]) if d.get("note") else None
                changes.append({"bidder": bidder, "conflicted": bool(d["conflicted"]), "note": note})
        if not changes:
            return
        self.trigger_event(self.ConflictsDeclared, evaluator=evaluator, declarations=changes)

    class ConflictsDeclared(LedgerAggregate.Event):
        evaluator: str
        declarations: list

        def apply(self, c: Competition) -> None:
            record = c.evaluators[self.evaluator]
            for d in self.declarations:
                record["declarations"][d["bidder"]] = {
                    "conflicted": d["conflicted"],
                    "note": d["note"],
                    "declared_at": self.timestamp.isoformat(),
                }

    def _check_may_evaluate(self, evaluator: str, evaluator_org: str, bidder: str, panel: str) -> None:
        record = self._evaluator(evaluator)
        if evaluator_org != record["org"]:
            raise _refuse(
                "evaluator_org_mismatch",
                f"{evaluator} was appointed for {record['org']}, not {evaluator_org}.",
                evaluator=evaluator,
            )
        if record["org"] == bidder:
            # Checked here rather than at appointment: refusing an appointment would tell the
            # authority who has tendered before the tenders are opened.
            raise _refuse(
                "evaluator_from_bidder",
                f"{evaluator} belongs to {bidder} and cannot evaluate its tender.",
                evaluator=evaluator,
                bidder=bidder,
            )
        if panel not in record["panels"]:
            raise _refuse(
                "evaluator_not_on_panel",
                f"{evaluator} is not on the {panel} panel.",
                evaluator=evaluator,
                panel=panel,
            )
        if record["trained_at"] is None:
            raise _refuse(
                "evaluator_not_trained",
                f"{evaluator} has not been trained on the evaluation methodology.",
                evaluator=evaluator,
            )
        declaration = record["declarations"].get(bidder)
        if declaration is None:
            raise _refuse(
                "conflict_not_declared",
                f"{evaluator} has not declared whether they have a conflict of interest with {bidder}.",
                evaluator=evaluator,
                bidder=bidder,
            )
        if declaration["conflicted"]:
            raise _refuse(
                "evaluator_conflicted",
                f"{evaluator} declared a conflict of interest with {bidder} and cannot evaluate their tender.",
                evaluator=evaluator,
                bidder=bidder,
            )

    # ---------------------------------------------------------------- compliance

    def record_compliance(self, *, actor: Actor, bidder: str, check: str, passed: bool, note: str) -> None:
        self._check_evaluating("Recording a compliance check")
        if check not in COMPLIANCE_CHECKS:
            raise _invalid("check", "unknown_check", f"Check must be one of {', '.join(COMPLIANCE_CHECKS)}.")
        self._check_live_bidder(bidder)
        if access.evaluates(actor):
            self._check_may_evaluate(actor.id, actor.org, bidder, "compliance")
        if not passed and not note.strip():
            raise _invalid("note", "note_required", "A failed compliance check needs a note saying why.")
        current = self.compliance.get(bidder, {}).get(check)
        if current and current["passed"] == passed and current["note"] == note:
            return
        self.trigger_event(self.ComplianceChecked, bidder=bidder, check=check, passed=passed, note=note, checked_by=actor.id)

    class ComplianceChecked(LedgerAggregate.Event):
        bidder: str
        check: str
        passed: bool
        note: str
        checked_by: str

        def apply(self, c: Competition) -> None:
            c.compliance.setdefault(self.bidder, {})[self.check] = {
                "passed": self.passed,
                "note": self.note,
                "checked_by": self.checked_by,
                "checked_at": self.timestamp.isoformat(),
            }

    # ------------------------------------------------------- scores, moderation

    def _criterion(self, criterion: str) -> dict[str, Any]:
        record = self.criteria.get(criterion)
        if record is None:
            raise _refuse("unknown_criterion", f"{criterion} is not a published criterion.", criterion=criterion)
        return record

    def _check_on_scale(self, criterion: dict[str, Any], score: int, field: str) -> None:
        if not 0 <= score <= criterion["max_score"]:
            raise ValidationFailed(
                f"Scores for {criterion['id']} are whole numbers from 0 to {criterion['max_score']}; {score} is off the scale.",
                code="score_off_scale",
                field=field,
            )

    def record_score(
        self,
        *,
        evaluator: str,
        evaluator_org: str,
        bidder: str,
        criterion: str,
        score: int,
        justification: str,
        reason: str | None,
    ) -> None:
        self._check_evaluating("Scoring")
        crit = self._criterion(criterion)
        self._check_live_bidder(bidder)
        self._check_may_evaluate(evaluator, evaluator_org, bidder, crit["panel"])
        self._check_on_scale(crit, score, "score")
        if len(justification.strip()) < MIN_JUSTIFICATION:
            raise _invalid(
                "justification",
                "justification_required",
                f"A score needs a justification against the published criterion (at least {MIN_JUSTIFICATION} characters).",
            )
        if (bidder, criterion) in self.moderations:
            raise _refuse("already_moderated", f"{criterion} for {bidder} has been moderated; individual scores are closed.")
        previous = self.scores.get((evaluator, bidder, criterion))
        if previous is not None:
            if previous["score"] == score and previous["justification"] == justification:
                return
            if not reason:
                raise _invalid("reason", "reason_required", "Changing a recorded score needs a reason.")
        self.trigger_event(
            self.ScoreRecorded,
            evaluator=evaluator,
            bidder=bidder,
            criterion=criterion,
            score=score,
            justification=justification,
            revision=(previous["revision"] + 1) if previous else 1,
        )

    class ScoreRecorded(LedgerAggregate.Event):
        evaluator: str
        bidder: str
        criterion: str
        score: int
        justification: str
        revision: int

        def apply(self, c: Competition) -> None:
            c.scores[(self.evaluator, self.bidder, self.criterion)] = {
                "evaluator": self.evaluator,
                "bidder": self.bidder,
                "criterion": self.criterion,
                "score": self.score,
                "justification": self.justification,
                "revision": self.revision,
                "recorded_at": self.timestamp.isoformat(),
            }

    def counted_scores(self, bidder: str, criterion: str) -> dict[str, int]:
        """Individual scores that count: those of evaluators not (since) conflicted with the bidder."""
        counted = {}
        for (evaluator, b, cr), record in self.scores.items():
            if b != bidder or cr != criterion:
                continue
            declaration = self.evaluators[evaluator]["declarations"].get(bidder)
            if declaration and declaration["conflicted"]:
                continue
            counted[evaluator] = record["score"]
        return dict(sorted(counted.items()))

    def moderate_score(
        self, *, moderator: str, bidder: str, criterion: str, score: int, rationale: str, reason: str | None
    ) -> None:
        self._check_evaluating("Moderation")
        crit = self._criterion(criterion)
        self._check_live_bidder(bidder)
        self._check_on_scale(crit, score, "score")
        individual = self.counted_scores(bidder, criterion)
        check_all_scored(self, bidder, crit, individual)
        if len(rationale.strip()) < MIN_JUSTIFICATION:
            raise _invalid("rationale", "rationale_required", "A moderated score needs the panel's rationale.")
        previous = self.moderations.get((bidder, criterion))
        if previous is not None and not reason:
            raise _invalid("reason", "reason_required", "Changing a moderated score needs a reason.")
        self.trigger_event(
            self.ScoreModerated,
            bidder=bidder,
            criterion=criterion,
            score=score,
            rationale=rationale,
            moderator=moderator,
            individual_scores=individual,
        )

    class ScoreModerated(LedgerAggregate.Event):
        bidder: str
        criterion: str
        score: int
        rationale: str
        moderator: str
        individual_scores: dict

        def apply(self, c: Competition) -> None:
            c.moderations[(self.bidder, self.criterion)] = {
                "bidder": self.bidder,
                "criterion": self.criterion,
                "score": self.score,
                "rationale": self.rationale,
                "moderator": self.moderator,
                "individual_scores": dict(self.individual_scores),
                "moderated_at": self.timestamp.isoformat(),
            }

    # ------------------------------------------------------ financial assessment

    def assess_finances(
        self,
        *,
        evaluator: str,
        evaluator_org: str,
        bidder: str,
        credit_score: int,
        accounts: dict[str, int],
        offered_prices: dict[str, int],
    ) -> None:
        self._check_evaluating("Financial assessment")
        tender = self._check_live_bidder(bidder)
        self._check_may_evaluate(evaluator, evaluator_org, bidder, "financial")
        if not self.financial_thresholds:
            raise _refuse("thresholds_not_published", "Financial thresholds must be published with the criteria.")
        extra = sorted(set(offered_prices) - set(tender["lots"]))
        if extra:
            raise _invalid("offered_prices", "unknown_lot", f"{bidder} did not bid for lot(s) {', '.join(extra)}.")
        unpriced = sorted(
            lot for lot in tender["lots"] if self.lots[lot].get("value_cap_pence") is not None and lot not in offered_prices
        )
        if unpriced:
            raise _invalid(
                "offered_prices",
                "price_required",
                f"Lot(s) {', '.join(unpriced)} have a capped price: record {bidder}'s offered price for each.",
            )
        ratios = financial_ratios(accounts)
        failures = []
        for name, (op, key) in FINANCIAL_RATIOS.items():
            limit = self.financial_thresholds.get(key)
            if limit is None:
                continue
            value, threshold = ratios[name], Decimal(str(limit))
            if value is None or (op == ">=" and value < threshold) or (op == "<=" and value > threshold):
                failures.append(f"{name} {value if value is not None else 'undefined'} not {op} {threshold}")
        min_credit = self.financial_thresholds.get("min_credit_score")
        if min_credit is not None and credit_score < min_credit:
            failures.append(f"credit score {credit_score} below {min_credit}")
        over_cap = {}
        for lot, price in sorted(offered_prices.items()):
            cap = self.lots[lot].get("value_cap_pence")
            if cap is not None and price > cap:
                over_cap[lot] = f"offered price {price} exceeds the lot's cap of {cap} (pence)"
        self.trigger_event(
            self.FinancesAssessed,
            bidder=bidder,
            evaluator=evaluator,
            credit_score=credit_score,
            accounts=dict(sorted(accounts.items())),
            ratios={k: (str(v) if v is not None else None) for k, v in ratios.items()},
            offered_prices=dict(sorted(offered_prices.items())),
            result="pass" if not failures else "pcg_required",
            failures=failures,
            over_cap=over_cap,
        )

    class FinancesAssessed(LedgerAggregate.Event):
        bidder: str
        evaluator: str
        credit_score: int
        accounts: dict
        ratios: dict
        offered_prices: dict
        result: str
        failures: list
        over_cap: dict

        def apply(self, c: Competition) -> None:
            c.financial[self.bidder] = {
                "evaluator": self.evaluator,
                "credit_score": self.credit_score,
                "accounts": dict(self.accounts),
                "ratios": dict(self.ratios),
                "offered_prices": dict(self.offered_prices),
                "result": self.result,
                "failures": list(self.failures),
                "over_cap": dict(self.over_cap),
                "assessed_at": self.timestamp.isoformat(),
            }

    def offer_guarantee(self, *, bidder: str, guarantor: str, guarantor_company_number: str) -> None:
        self._check_evaluating("A parent company guarantee")
        self._check_live_bidder(bidder)
        assessment = self.financial.get(bidder)
        if assessment is None or assessment["result"] != "pcg_required":
            raise _refuse(
                "guarantee_not_needed",
                f"{bidder} has no financial assessment that calls for a parent company guarantee.",
            )
        self.trigger_event(
            self.GuaranteeOffered, bidder=bidder, guarantor=guarantor, guarantor_company_number=guarantor_company_number
        )

    class GuaranteeOffered(LedgerAggregate.Event):
        bidder: str
        guarantor: str
        guarantor_company_number: str

        def apply(self, c: Competition) -> None:
            c.guarantees[self.bidder] = {
                "guarantor": self.guarantor,
                "guarantor_company_number": self.guarantor_company_number,
                "offered_at": self.timestamp.isoformat(),
                "executed_at": None,
                "document_sha256": None,
            }

    def execute_guarantee(self, *, bidder: str, document_sha256: str) -> None:
        self._check_evaluating("A parent company guarantee")
        self._check_sha256("document_sha256", document_sha256)
        record = self.guarantees.get(bidder)
        if record is None:
            raise _refuse("guarantee_not_offered", f"No parent company guarantee has been offered for {bidder}.")
        if record["executed_at"] is not None:
            return
        self.trigger_event(self.GuaranteeExecuted, bidder=bidder, document_sha256=document_sha256)

    class GuaranteeExecuted(LedgerAggregate.Event):
        bidder: str
        document_sha256: str

        def apply(self, c: Competition) -> None:
            c.guarantees[self.bidder]["executed_at"] = self.timestamp.isoformat()
            c.guarantees[self.bidder]["document_sha256"] = self.document_sha256

    # --------------------------------------- clarification with a bidder in evaluation

    def issue_evaluation_clarification(self, *, bidder: str, question: str) -> str:
        self._check_evaluating("An evaluation clarification")
        self._check_live_bidder(bidder)
        if not question.strip():
            raise _invalid("question", "question_required", "A clarification needs a question.")
        clarification = f"EC{len(self.evaluation_clarifications) + 1:03d}"
        self.trigger_event(self.EvaluationClarificationIssued, clarification=clarification, bidder=bidder, question=question)
        return clarification

    class EvaluationClarificationIssued(LedgerAggregate.Event):
        clarification: str
        bidder: str
        question: str

        def apply(self, c: Competition) -> None:
            c.evaluation_clarifications[self.clarification] = {
                "bidder": self.bidder,
                "question": self.question,
                "issued_at": self.timestamp.isoformat(),
                "response": None,
                "responded_at": None,
            }

    def respond_to_evaluation_clarification(self, *, bidder: str, clarification: str, response: str) -> None:
        self._check_evaluating("Responding to a clarification")
        record = self.evaluation_clarifications.get(clarification)
        # A bidder can only see and answer its own clarifications; anything else is "not found".
        if record is None or record["bidder"] != bidder:
            raise _refuse("unknown_clarification", f"There is no clarification {clarification} for {bidder}.")
        if record["response"] is not None:
            raise _refuse("clarification_already_answered", f"Clarification {clarification} has already been answered.")
        if not response.strip():
            raise _invalid("response", "response_required", "A response cannot be empty.")
        self.trigger_event(self.EvaluationClarificationAnswered, clarification=clarification, response=response)

    class EvaluationClarificationAnswered(LedgerAggregate.Event):
        clarification: str
        response: str

        def apply(self, c: Competition) -> None:
            c.evaluation_clarifications[self.clarification]["response"] = self.response
            c.evaluation_clarifications[self.clarification]["responded_at"] = self.timestamp.isoformat()

    # ------------------------------------------------------------------- outcome

    def decide_outcome(self) -> None:
        self._check_evaluating("Deciding the outcome")
        open_ecs = sorted(k for k, v in self.evaluation_clarifications.items() if v["response"] is None)
        if open_ecs:
            raise _refuse(
                "evaluation_clarification_open",
                f"Clarification(s) {', '.join(open_ecs)} await a bidder's response.",
            )
        if not any(t["status"] == "submitted" for t in self.tenders.values()):
            raise _refuse("no_tenders", f"{self.reference} has no live tenders; cancel it instead.")
        results = compute_outcome(self)
        self.trigger_event(self.OutcomeDecided, bidders=results["bidders"], lots=results["lots"])

    class OutcomeDecided(LedgerAggregate.Event):
        bidders: dict
        lots: dict

        def apply(self, c: Competition) -> None:
            c.outcome = {
                "bidders": copy.deepcopy(self.bidders),
                "lots": copy.deepcopy(self.lots),
                "decided_at": self.timestamp.isoformat(),
            }
            c.status = OUTCOME_DECIDED

    def issue_outcome_letters(self, *, relative_advantages: dict[str, str], now: datetime) -> None:
        self._check_not_closed()
        if self.status != OUTCOME_DECIDED or self.outcome is None:
            raise _refuse("outcome_not_decided", "Outcome letters follow a decided outcome.")
        lots_needing = sorted(
            lot
            for lot, result in self.outcome["lots"].items()
            if result["successful"] and result["unsuccessful"]
        )
        missing = [lot for lot in lots_needing if not relative_advantages.get(lot, "").strip()]
        if missing:
            raise _invalid(
                "relative_advantages",
                "relative_advantages_required",
                f"Letters to unsuccessful bidders must give the relative advantages of the successful tenders "
                f"(PCR 2015 reg 86); missing for lot(s) {', '.join(missing)}.",
            )
        last_day, ends_at = standstill_end(self.standstill_regime, now)
        letters = outcome_letters(
            outcome=self.outcome,
            criteria=self.criteria,
            tenders=self.tenders,
            relative_advantages=relative_advantages,
            standstill_ends_at=ends_at,
        )
        self.trigger_event(
            self.OutcomeLettersIssued,
            letters=letters,
            standstill_last_day=last_day.isoformat(),
            standstill_ends_at=ends_at,
        )

    class OutcomeLettersIssued(LedgerAggregate.Event):
        letters: list
        standstill_last_day: str
        standstill_ends_at: datetime

        def apply(self, c: Competition) -> None:
            c.letters = {"sent_at": self.timestamp.isoformat(), "letters": copy.deepcopy(self.letters)}
            c.standstill = {
                "regime": c.standstill_regime,
                "started_at": self.timestamp.isoformat(),
                "last_day": self.standstill_last_day,
                "ends_at": self.standstill_ends_at,
                "extended_by": None,
            }
            c.status = STANDSTILL

    # ---------------------------------------------------------------- challenges

    def receive_challenge(self, *, bidder: str, kind: str, grounds: str) -> str:
        self._check_not_closed()
        if kind not in CHALLENGE_KINDS:
            raise _invalid("kind", "unknown_challenge_kind", f"Kind must be one of {', '.join(CHALLENGE_KINDS)}.")
        if self.letters is None:
            raise _refuse("no_decision_to_challenge", "A challenge follows the outcome letters.")
        assert self.outcome is not None
        if bidder not in self.outcome["bidders"]:
            raise _refuse("unknown_bidder", f"{bidder} had no tender in the outcome of {self.reference}.")
        if not grounds.strip():
            raise _invalid("grounds", "grounds_required", "A challenge must state its grounds.")
        challenge = f"CH{len(self.challenges) + 1:02d}"
        self.trigger_event(self.ChallengeReceived, challenge=challenge, bidder=bidder, kind=kind, grounds=grounds)
        return challenge

    class ChallengeReceived(LedgerAggregate.Event):
        challenge: str
        bidder: str
        kind: str
        grounds: str

        def apply(self, c: Competition) -> None:
            c.challenges[self.challenge] = {
                "bidder": self.bidder,
                "kind": self.kind,
                "grounds": self.grounds,
                "received_at": self.timestamp.isoformat(),
                "outcome": None,
                "decision": None,
                "resolved_at": None,
            }

    def resolve_challenge(self, *, challenge: str, outcome: str, decision: str, now: datetime) -> None:
        self._check_not_closed()
        record = self.challenges.get(challenge)
        if record is None:
            raise _refuse("unknown_challenge", f"There is no challenge {challenge}.")
        if record["outcome"] is not None:
            raise _refuse("challenge_already_resolved", f"Challenge {challenge} was resolved already.")
        if outcome not in CHALLENGE_OUTCOMES:
            raise _invalid("outcome", "unknown_challenge_outcome", f"Outcome must be one of {CHALLENGE_OUTCOMES}.")
        if not decision.strip():
            raise _invalid("decision", "decision_required", "Resolving a challenge needs the authority's decision.")
        standstill_ends_at = None
        last_day = None
        # PSR 2024 reg 12: a representation the authority does not uphold extends the standstill.
        if self.standstill_regime == "psr2024" and record["kind"] == "representation" and outcome != "upheld":
            end_day, standstill_ends_at = standstill_after_representation(now)
            last_day = end_day.isoformat()
        self.trigger_event(
            self.ChallengeResolved,
            challenge=challenge,
            outcome=outcome,
            decision=decision,
            standstill_last_day=last_day,
            standstill_ends_at=standstill_ends_at,
        )

    class ChallengeResolved(LedgerAggregate.Event):
        challenge: str
        outcome: str
        decision: str
        standstill_last_day: str | None
        standstill_ends_at: datetime | None

        def apply(self, c: Competition) -> None:
            record = c.challenges[self.challenge]
            record["outcome"] = self.outcome
            record["decision"] = self.decision
            record["resolved_at"] = self.timestamp.isoformat()
            if self.standstill_ends_at is not None and c.standstill is not None:
                if self.standstill_ends_at > c.standstill["ends_at"]:
                    c.standstill["last_day"] = self.standstill_last_day
                    c.standstill["ends_at"] = self.standstill_ends_at
                    c.standstill["extended_by"] = self.challenge
            if self.outcome == "upheld":
                # The decision is set aside: evaluation reopens and a new outcome, letters and
                # standstill must follow. The earlier ones stay in history.
                c.status = EVALUATION
                c.outcome = None
                c.letters = None
                c.standstill = None

    # --------------------------------------------------------- award, cancellation

    def conclude_award(self, *, now: datetime) -> None:
        self._check_not_closed()
        if self.status != STANDSTILL or self.standstill is None or self.outcome is None:
            raise _refuse("standstill_not_started", "An award follows the outcome letters and the standstill.")
        open_challenges = sorted(k for k, v in self.challenges.items() if v["outcome"] is None)
        if open_challenges:
            raise _refuse(
                "challenge_open",
                f"Challenge(s) {', '.join(open_challenges)} must be resolved before the award.",
            )
        if self.standstill_regime in NOTICE_STARTS_STANDSTILL and not self.standstill.get("notice"):
            code, rule = NOTICE_STARTS_STANDSTILL[self.standstill_regime]
            raise _refuse(code, f"{rule}; none is recorded for the letters of {self.letters['sent_at'] if self.letters else 'this outcome'}.")
        if now < self.standstill["ends_at"]:
            raise _refuse(
                "standstill_not_ended",
                f"The standstill runs until the end of {self.standstill['last_day']}; no award before "
                f"{self.standstill['ends_at'].isoformat()}.",
            )
        awards = {lot: list(result["successful"]) for lot, result in sorted(self.outcome["lots"].items())}
        self.trigger_event(self.AwardConcluded, awards=awards)

    class AwardConcluded(LedgerAggregate.Event):
        awards: dict

        def apply(self, c: Competition) -> None:
            c.award = {"awards": copy.deepcopy(self.awards), "concluded_at": self.timestamp.isoformat()}
            c.status = AWARDED

    def cancel(self, *, reason: str | None) -> None:
        self._check_not_closed()
        if not reason or not reason.strip():
            raise _invalid("reason", "reason_required", "Cancelling a competition needs a reason.")
        self.trigger_event(self.Cancelled, previous_status=self.status)

    class Cancelled(LedgerAggregate.Event):
        previous_status: str

        def apply(self, c: Competition) -> None:
            c.cancellation = {"cancelled_at": self.timestamp.isoformat(), "previous_status": self.previous_status}
            c.status = CANCELLED
