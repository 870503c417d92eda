"""The procurement handlers: one per command, each loading the competition and calling one method.

Registered with the dispatcher (`domain/kernel/dispatch.py`) when imported; the Ledger
imports this module so that every command it decodes has its handler.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from domain.procurement import commands as c
from domain.kernel.dispatch import Decision, handles, handles_one
from domain.kernel.errors import AlreadyExists
from domain.kernel.metadata import Actor
from domain.kernel.personal import personal
from domain.procurement.competition import Competition

LEAD = ("procurement_lead",)
PROVIDER = ("provider",)
EVALUATOR = ("evaluator",)


def _competition(ledger: Any, reference: str) -> Competition:
    return ledger.competition(reference)


def _on_competition(
    command_type: type[c.Command],
    roles: tuple[str, ...],
    action: str,
    decide: Callable[[Competition, Any, Actor, datetime], Any],
) -> None:
    """Load the named competition, call one method, save it."""
    handles_one(
        command_type,
        roles,
        action,
        load=lambda ledger, cmd: _competition(ledger, cmd.competition),
        decide=lambda competition, cmd, actor, now, _ledger: decide(competition, cmd, actor, now),
    )


@handles(c.OpenCompetition, LEAD, "open a competition")
def _open_competition(ledger: Any, cmd: c.OpenCompetition, actor: Actor, now: datetime) -> Decision:
    if ledger.exists(Competition, cmd.competition):
        raise AlreadyExists(f"Competition {cmd.competition} already exists.", code="competition_exists")
    competition = Competition.open(
        reference=cmd.competition,
        title=cmd.title,
        authority=actor.org,
        procedure=cmd.procedure,
        standstill_regime=cmd.standstill_regime,
        lots=[
            {"id": lot.id, "name": lot.name, "value_cap_pence": lot.value_cap_pence, "places": lot.places}
            for lot in cmd.lots
        ],
        clarification_deadline=cmd.clarification_deadline,
        tender_deadline=cmd.tender_deadline,
        moderation_spread=cmd.moderation_spread,
        now=now,
        framework=cmd.framework,
    )
    return Decision([competition])


def _criteria(comp: Competition, cmd: c.PublishCriteria, actor: Actor, now: datetime) -> None:
    comp.publish_criteria(
        criteria=[msgspec.to_builtins(cr) for cr in cmd.criteria],
        quality_threshold=cmd.quality_threshold,
        financial_thresholds=msgspec.to_builtins(cmd.financial_thresholds),
        reason=cmd.reason,
        now=now,
    )


_on_competition(c.PublishCriteria, LEAD, "publish evaluation criteria", _criteria)
_on_competition(
    c.PublishDocument,
    LEAD,
    "publish tender documents",
    lambda comp, cmd, actor, now: comp.publish_document(
        document=cmd.document, title=cmd.title, sha256=cmd.sha256, size_bytes=cmd.size_bytes, now=now
    ),
)
_on_competition(
    c.PublishNotice,
    LEAD,
    "publish notices",
    lambda comp, cmd, actor, now: comp.publish_notice(
        notice_type=cmd.notice_type, notice_reference=cmd.notice_reference, published_on=cmd.published_on
    ),
)
_on_competition(
    c.AskClarification,
    PROVIDER,
    "ask a clarification question",
    lambda comp, cmd, actor, now: {
        "clarification": comp.ask_clarification(bidder=actor.org, question=cmd.question, now=now)
    },
)
_on_competition(
    c.AnswerClarification,
    LEAD,
    "answer clarification questions",
    lambda comp, cmd, actor, now: comp.answer_clarification(
        clarification=cmd.clarification, published_question=cmd.published_question, answer=cmd.answer, now=now
    ),
)
_on_competition(
    c.SubmitTender,
    PROVIDER,
    "submit a tender",
    lambda comp, cmd, actor, now: {
        "recorded": comp.submit_tender(
            bidder=actor.org, lots=cmd.lots, content_sha256=cmd.content_sha256, size_bytes=cmd.size_bytes, now=now
        )
    },
)
_on_competition(
    c.WithdrawTender,
    PROVIDER,
    "withdraw a tender",
    lambda comp, cmd, actor, now: comp.withdraw_tender(bidder=actor.org, now=now),
)
_on_competition(c.OpenTenders, LEAD, "open tenders", lambda comp, cmd, actor, now: comp.open_tenders(now=now))
_on_competition(
    c.AppointEvaluator,
    LEAD,
    "appoint evaluators",
    lambda comp, cmd, actor, now: comp.appoint_evaluator(
        evaluator=cmd.evaluator,
        evaluator_org=cmd.evaluator_org,
        panel=cmd.panel,
        name=personal(cmd.evaluator, cmd.name),
        email=personal(cmd.evaluator, cmd.email),
    ),
)
_on_competition(
    c.RecordTraining,
    LEAD,
    "record evaluator training",
    lambda comp, cmd, actor, now: comp.record_training(evaluator=cmd.evaluator),
)
_on_competition(
    c.DeclareConflicts,
    EVALUATOR,
    "declare conflicts of interest",
    lambda comp, cmd, actor, now: comp.declare_conflicts(
        evaluator=actor.id,
        declarations=[{"bidder": d.bidder, "conflicted": d.conflicted, "note": d.note} for d in cmd.declarations],
    ),
)
_on_competition(
    c.RecordCompliance,
    ("procurement_lead", "evaluator"),
    "record compliance checks",
    lambda comp, cmd, actor, now: comp.record_compliance(
        actor=actor, bidder=cmd.bidder, check=cmd.check, passed=cmd.passed, note=cmd.note
    ),
)
_on_competition(
    c.RecordScore,
    EVALUATOR,
    "score tenders",
    lambda comp, cmd, actor, now: comp.record_score(
        evaluator=actor.id,
        evaluator_org=actor.org,
        bidder=cmd.bidder,
        criterion=cmd.criterion,
        score=cmd.score,
        justification=cmd.justification,
        reason=cmd.reason,
    ),
)
_on_competition(
    c.ModerateScore,
    LEAD,
    "moderate scores",
    lambda comp, cmd, actor, now: comp.moderate_score(
        moderator=actor.id,
        bidder=cmd.bidder,
        criterion=cmd.criterion,
        score=cmd.score,
        rationale=cmd.rationale,
        reason=cmd.reason,
    ),
)
_on_competition(
    c.AssessFinances,
    EVALUATOR,
    "assess finances",
    lambda comp, cmd, actor, now: comp.assess_finances(
        evaluator=actor.id,
        evaluator_org=actor.org,
        bidder=cmd.bidder,
        credit_score=cmd.credit_score,
        accounts={
            "current_assets": cmd.accounts.current_assets,
            "current_liabilities": cmd.accounts.current_liabilities,
            "total_debt": cmd.accounts.total_debt,
            "net_assets": cmd.accounts.net_assets,
            "turnover": cmd.accounts.turnover,
            "operating_profit": cmd.accounts.operating_profit,
        },
        offered_prices=dict(cmd.offered_prices),
    ),
)
_on_competition(
    c.OfferGuarantee,
    LEAD,
    "record a parent company guarantee offer",
    lambda comp, cmd, actor, now: comp.offer_guarantee(
        bidder=cmd.bidder, guarantor=cmd.guarantor, guarantor_company_number=cmd.guarantor_company_number
    ),
)
_on_competition(
    c.ExecuteGuarantee,
    LEAD,
    "record an executed parent company guarantee",
    lambda comp, cmd, actor, now: comp.execute_guarantee(bidder=cmd.bidder, document_sha256=cmd.document_sha256),
)
_on_competition(
    c.IssueEvaluationClarification,
    LEAD,
    "issue clarifications to bidders",
    lambda comp, cmd, actor, now: {
        "clarification": comp.issue_evaluation_clarification(bidder=cmd.bidder, question=cmd.question)
    },
)
_on_competition(
    c.RespondToEvaluationClarification,
    PROVIDER,
    "respond to a clarification",
    lambda comp, cmd, actor, now: comp.respond_to_evaluation_clarification(
        bidder=actor.org, clarification=cmd.clarification, response=cmd.response
    ),
)
_on_competition(c.DecideOutcome, LEAD, "decide the outcome", lambda comp, cmd, actor, now: comp.decide_outcome())
_on_competition(
    c.IssueOutcomeLetters,
    LEAD,
    "issue outcome letters",
    lambda comp, cmd, actor, now: comp.issue_outcome_letters(relative_advantages=dict(cmd.relative_advantages), now=now),
)
_on_competition(
    c.ReceiveChallenge,
    LEAD,
    "record a challenge",
    lambda comp, cmd, actor, now: {
        "challenge": comp.receive_challenge(bidder=cmd.bidder, kind=cmd.kind, grounds=cmd.grounds)
    },
)
_on_competition(
    c.ResolveChallenge,
    LEAD,
    "resolve a challenge",
    lambda comp, cmd, actor, now: comp.resolve_challenge(
        challenge=cmd.challenge, outcome=cmd.outcome, decision=cmd.decision, now=now
    ),
)
_on_competition(c.ConcludeAward, LEAD, "conclude an award", lambda comp, cmd, actor, now: comp.conclude_award(now=now))
_on_competition(
    c.CancelCompetition, LEAD, "cancel a competition", lambda comp, cmd, actor, now: comp.cancel(reason=cmd.reason)
)
