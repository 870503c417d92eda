"""The procurement handlers: one per command, each loading the competition and calling one method.

Registered with the dispatcher (`domain/kernel/dispatch.py`) when imported; the Ledger
imports this module so that every command it decodes has its handler.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec

from domain import access
from domain.access import EVALUATOR, LEAD_OR_EVALUATOR, PROCUREMENT_LEAD, PROVIDER
from domain.contracts.framework import Framework
from domain.kernel.dispatch import Decide, Decision, find, handles, handles_loaded
from domain.kernel.errors import AlreadyExists, NotPermitted, ValidationFailed, no_such
from domain.kernel.metadata import Actor
from domain.kernel.personal import personal
from domain.procurement import commands as c
from domain.procurement.competition import Competition
from domain.procurement.views import there_for


def _competition(ledger: Any, cmd: Any) -> Competition:
    return ledger.competition(cmd.competition)


def check_party(competition: Competition, actor: Actor, action: str) -> None:
    """A competition is absent to another organisation's leads, commissioners, contract managers and
    unseated evaluators (`access.sees_competition`): the answer to an unknown reference, given before
    any rule of the competition can say anything about it."""
    if not there_for(competition, actor):
        raise no_such(Competition.KIND, competition.reference)


def _check_party(_ledger: Any, competition: Competition, actor: Actor, action: str) -> None:
    check_party(competition, actor, action)


def on_competition(command_type: type[c.Command], roles: tuple[str, ...], action: str) -> Callable[[Decide], Decide]:
    """Register the decorated function of the command's competition: loaded, its parties checked, called, saved."""
    return handles_loaded(command_type, roles, action, load=_competition, check=_check_party)


@handles(c.OpenCompetition, PROCUREMENT_LEAD, "open a competition")
def open_competition(ledger: Any, cmd: c.OpenCompetition, actor: Actor, now: datetime) -> Decision:
    if ledger.exists(Competition, cmd.competition):
        raise AlreadyExists(f"Competition {cmd.competition} already exists.", code="competition_exists")
    _check_framework_regime(ledger, cmd)
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
        acting_for=list(cmd.acting_for),
    )
    return Decision([competition])


def _check_framework_regime(ledger: Any, cmd: c.OpenCompetition) -> None:
    """A call-off from a Procurement Act 2023 framework is a procurement under the Act: opened under
    another regime, its award would need no contract award notice (s.50) while its contracts, which
    take the framework's regime, are the Act's."""
    framework = find(ledger, Framework, cmd.framework) if cmd.framework else None
    if framework is not None and framework.regime == "pa2023" and cmd.standstill_regime != "pa2023":
        raise ValidationFailed(
            f"Framework {framework.reference} is under the Procurement Act 2023, so a competition calling off it runs "
            f"under it too (standstill_regime pa2023), not {cmd.standstill_regime}.",
            code="regime_not_the_frameworks",
            field="standstill_regime",
        )


@on_competition(c.SetActingFor, PROCUREMENT_LEAD, "change the organisations a competition is run for")
def set_acting_for(competition: Competition, cmd: c.SetActingFor, actor: Actor, now: datetime) -> None:
    if not access.may_name_acting_for(actor, authority=competition.authority):
        raise NotPermitted(
            f"{competition.authority} runs competition {competition.reference}; only it names the organisations it acts for.",
            code="not_the_authority",
        )
    competition.set_acting_for(acting_for=list(cmd.acting_for), reason=cmd.reason)


@on_competition(c.PublishCriteria, PROCUREMENT_LEAD, "publish evaluation criteria")
def publish_criteria(competition: Competition, cmd: c.PublishCriteria, actor: Actor, now: datetime) -> None:
    competition.publish_criteria(
        criteria=[msgspec.to_builtins(cr) for cr in cmd.criteria],
        quality_threshold=cmd.quality_threshold,
        financial_thresholds=msgspec.to_builtins(cmd.financial_thresholds),
        reason=cmd.reason,
        now=now,
    )


@on_competition(c.PublishDocument, PROCUREMENT_LEAD, "publish tender documents")
def publish_document(competition: Competition, cmd: c.PublishDocument, actor: Actor, now: datetime) -> None:
    competition.publish_document(
        document=cmd.document, title=cmd.title, sha256=cmd.sha256, size_bytes=cmd.size_bytes, now=now
    )


@on_competition(c.PublishNotice, PROCUREMENT_LEAD, "publish notices")
def publish_notice(competition: Competition, cmd: c.PublishNotice, actor: Actor, now: datetime) -> None:
    competition.publish_notice(
        notice_type=cmd.notice_type,
        notice_reference=cmd.notice_reference,
        published_on=cmd.published_on,
        now=now,
        payload_sha256=cmd.payload_sha256,
    )


@on_competition(c.AskClarification, PROVIDER, "ask a clarification question")
def ask_clarification(competition: Competition, cmd: c.AskClarification, actor: Actor, now: datetime) -> dict[str, Any]:
    return {"clarification": competition.ask_clarification(bidder=actor.org, question=cmd.question, now=now)}


@on_competition(c.AnswerClarification, PROCUREMENT_LEAD, "answer clarification questions")
def answer_clarification(competition: Competition, cmd: c.AnswerClarification, actor: Actor, now: datetime) -> None:
    competition.answer_clarification(
        clarification=cmd.clarification, published_question=cmd.published_question, answer=cmd.answer, now=now
    )


@on_competition(c.SubmitTender, PROVIDER, "submit a tender")
def submit_tender(competition: Competition, cmd: c.SubmitTender, actor: Actor, now: datetime) -> dict[str, Any]:
    recorded = competition.submit_tender(
        bidder=actor.org, lots=cmd.lots, content_sha256=cmd.content_sha256, size_bytes=cmd.size_bytes, now=now
    )
    return {"recorded": recorded}


@on_competition(c.WithdrawTender, PROVIDER, "withdraw a tender")
def withdraw_tender(competition: Competition, cmd: c.WithdrawTender, actor: Actor, now: datetime) -> None:
    competition.withdraw_tender(bidder=actor.org, now=now)


@on_competition(c.OpenTenders, PROCUREMENT_LEAD, "open tenders")
def open_tenders(competition: Competition, cmd: c.OpenTenders, actor: Actor, now: datetime) -> None:
    competition.open_tenders(now=now)


@on_competition(c.AppointEvaluator, PROCUREMENT_LEAD, "appoint evaluators")
def appoint_evaluator(competition: Competition, cmd: c.AppointEvaluator, actor: Actor, now: datetime) -> None:
    competition.appoint_evaluator(
        evaluator=cmd.evaluator,
        evaluator_org=cmd.evaluator_org,
        panel=cmd.panel,
        name=personal(cmd.evaluator, cmd.name),
        email=personal(cmd.evaluator, cmd.email),
    )


@on_competition(c.RecordTraining, PROCUREMENT_LEAD, "record evaluator training")
def record_training(competition: Competition, cmd: c.RecordTraining, actor: Actor, now: datetime) -> None:
    competition.record_training(evaluator=cmd.evaluator)


@on_competition(c.DeclareConflicts, EVALUATOR, "declare conflicts of interest")
def declare_conflicts(competition: Competition, cmd: c.DeclareConflicts, actor: Actor, now: datetime) -> None:
    competition.declare_conflicts(
        evaluator=actor.id,
        declarations=[{"bidder": d.bidder, "conflicted": d.conflicted, "note": d.note} for d in cmd.declarations],
    )


@on_competition(c.RecordCompliance, LEAD_OR_EVALUATOR, "record compliance checks")
def record_compliance(competition: Competition, cmd: c.RecordCompliance, actor: Actor, now: datetime) -> None:
    competition.record_compliance(actor=actor, bidder=cmd.bidder, check=cmd.check, passed=cmd.passed, note=cmd.note)


@on_competition(c.RecordScore, EVALUATOR, "score tenders")
def record_score(competition: Competition, cmd: c.RecordScore, actor: Actor, now: datetime) -> None:
    competition.record_score(
        evaluator=actor.id,
        evaluator_org=actor.org,
        bidder=cmd.bidder,
        criterion=cmd.criterion,
        score=cmd.score,
        justification=cmd.justification,
        reason=cmd.reason,
    )


@on_competition(c.ModerateScore, PROCUREMENT_LEAD, "moderate scores")
def moderate_score(competition: Competition, cmd: c.ModerateScore, actor: Actor, now: datetime) -> None:
    competition.moderate_score(
        moderator=actor.id,
        bidder=cmd.bidder,
        criterion=cmd.criterion,
        score=cmd.score,
        rationale=cmd.rationale,
        reason=cmd.reason,
    )


@on_competition(c.AssessFinances, EVALUATOR, "assess finances")
def assess_finances(competition: Competition, cmd: c.AssessFinances, actor: Actor, now: datetime) -> None:
    competition.assess_finances(
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
    )


@on_competition(c.OfferGuarantee, PROCUREMENT_LEAD, "record a parent company guarantee offer")
def offer_guarantee(competition: Competition, cmd: c.OfferGuarantee, actor: Actor, now: datetime) -> None:
    competition.offer_guarantee(
        bidder=cmd.bidder, guarantor=cmd.guarantor, guarantor_company_number=cmd.guarantor_company_number
    )


@on_competition(c.ExecuteGuarantee, PROCUREMENT_LEAD, "record an executed parent company guarantee")
def execute_guarantee(competition: Competition, cmd: c.ExecuteGuarantee, actor: Actor, now: datetime) -> None:
    competition.execute_guarantee(bidder=cmd.bidder, document_sha256=cmd.document_sha256)


@on_competition(c.IssueEvaluationClarification, PROCUREMENT_LEAD, "issue clarifications to bidders")
def issue_evaluation_clarification(
    competition: Competition, cmd: c.IssueEvaluationClarification, actor: Actor, now: datetime
) -> dict[str, Any]:
    return {"clarification": competition.issue_evaluation_clarification(bidder=cmd.bidder, question=cmd.question)}


@on_competition(c.RespondToEvaluationClarification, PROVIDER, "respond to a clarification")
def respond_to_evaluation_clarification(
    competition: Competition, cmd: c.RespondToEvaluationClarification, actor: Actor, now: datetime
) -> None:
    competition.respond_to_evaluation_clarification(
        bidder=actor.org, clarification=cmd.clarification, response=cmd.response
    )


@on_competition(c.DecideOutcome, PROCUREMENT_LEAD, "decide the outcome")
def decide_outcome(competition: Competition, cmd: c.DecideOutcome, actor: Actor, now: datetime) -> None:
    competition.decide_outcome()


@on_competition(c.IssueOutcomeLetters, PROCUREMENT_LEAD, "issue outcome letters")
def issue_outcome_letters(competition: Competition, cmd: c.IssueOutcomeLetters, actor: Actor, now: datetime) -> None:
    competition.issue_outcome_letters(relative_advantages=dict(cmd.relative_advantages), now=now)


@on_competition(c.ReceiveChallenge, PROCUREMENT_LEAD, "record a challenge")
def receive_challenge(competition: Competition, cmd: c.ReceiveChallenge, actor: Actor, now: datetime) -> dict[str, Any]:
    return {"challenge": competition.receive_challenge(bidder=cmd.bidder, kind=cmd.kind, grounds=cmd.grounds)}


@on_competition(c.ResolveChallenge, PROCUREMENT_LEAD, "resolve a challenge")
def resolve_challenge(competition: Competition, cmd: c.ResolveChallenge, actor: Actor, now: datetime) -> None:
    competition.resolve_challenge(challenge=cmd.challenge, outcome=cmd.outcome, decision=cmd.decision, now=now)


@on_competition(c.ConcludeAward, PROCUREMENT_LEAD, "conclude an award")
def conclude_award(competition: Competition, cmd: c.ConcludeAward, actor: Actor, now: datetime) -> None:
    competition.conclude_award(now=now)


@on_competition(c.CancelCompetition, PROCUREMENT_LEAD, "cancel a competition")
def cancel_competition(competition: Competition, cmd: c.CancelCompetition, actor: Actor, now: datetime) -> None:
    competition.cancel(reason=cmd.reason)
