"""Handlers of the FOI commands: each loads the sender's own authority's request and calls one method.

Only FOI officers and admins send them (`access.FOI_OFFICERS`), and each only on a request
its own organisation received (`access.handles_foi_request`): the request is looked up under
the sender's organisation, so another authority's request of the same reference is not
found, as one that does not exist; nothing about it is said or recorded.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from domain import access
from domain.foi import commands as fc
from domain.foi.request import FoiRequest
from domain.kernel.dispatch import Decision, handles
from domain.kernel.errors import AlreadyExists, NotFound, no_such
from domain.kernel.metadata import Actor

ENGLAND = ZoneInfo("Europe/London")


def today_in_england(now: datetime) -> date:
    """The day a command is sent, as an English authority counts days."""
    return now.astimezone(ENGLAND).date()


def own_request(ledger: Any, actor: Actor, reference: str) -> FoiRequest:
    """The request `reference` of the actor's own authority, or not found."""
    try:
        request = ledger.aggregate(FoiRequest, FoiRequest.key(actor.org, reference))
    except NotFound:
        # The ledger names the record by its key (authority/reference); the officer knows it by its reference.
        raise no_such(FoiRequest.KIND, reference) from None
    if not access.handles_foi_request(actor, received_by=request.received_by):
        raise no_such(FoiRequest.KIND, reference)
    return request


Decide = Callable[[FoiRequest, Any, date], dict[str, Any] | None]


def on_request(command_type: type[fc.Command], action: str) -> Callable[[Decide], Decide]:
    """Register the decorated function of the command's request (the sender's authority's): loaded, called, saved."""

    def register(decide: Decide) -> Decide:
        def handler(ledger: Any, cmd: Any, actor: Actor, now: datetime) -> Decision:
            request = own_request(ledger, actor, cmd.request)
            return Decision([request], decide(request, cmd, today_in_england(now)))

        handles(command_type, access.FOI_OFFICERS, action)(handler)
        return decide

    return register


@handles(fc.ReceiveFoiRequest, access.FOI_OFFICERS, "record an FOI request")
def receive(ledger: Any, cmd: fc.ReceiveFoiRequest, actor: Actor, now: datetime) -> Decision:
    key = FoiRequest.key(actor.org, cmd.request)
    if ledger.exists(FoiRequest, key):
        raise AlreadyExists(f"FOI request {cmd.request} is already on record.", code="foi_request_exists", field="request")
    request = FoiRequest.receive(
        authority=actor.org, reference=cmd.request, received_on=cmd.received_on, channel=cmd.channel,
        requester=cmd.requester or f"foi-requester:{actor.org}/{cmd.request}", name=cmd.requester_name,
        address=cmd.requester_address, parts=list(cmd.parts), today=today_in_england(now),
    )
    return Decision([request], {"request": cmd.request, "due_on": request.due_on})


@on_request(fc.SeekClarification, "seek clarification of an FOI request")
def seek_clarification(request: FoiRequest, cmd: fc.SeekClarification, today: date) -> None:
    request.seek_clarification(sought_on=cmd.sought_on, question=cmd.question, today=today)


@on_request(fc.RecordClarification, "record the clarification of an FOI request")
def record_clarification(request: FoiRequest, cmd: fc.RecordClarification, today: date) -> dict[str, Any]:
    return request.record_clarification(received_on=cmd.received_on, answer=cmd.answer,
                                        parts=list(cmd.parts) if cmd.parts else None, today=today)


@on_request(fc.IssueFeesNotice, "issue a fees notice")
def issue_fees_notice(request: FoiRequest, cmd: fc.IssueFeesNotice, today: date) -> None:
    request.issue_fees_notice(issued_on=cmd.issued_on, amount_pence=cmd.amount_pence, basis=cmd.basis, today=today)


@on_request(fc.RecordFeePaid, "record a fee paid")
def record_fee_paid(request: FoiRequest, cmd: fc.RecordFeePaid, today: date) -> dict[str, Any]:
    return request.record_fee_paid(paid_on=cmd.paid_on, today=today)


@on_request(fc.RefuseOverCostLimit, "refuse an FOI request over the cost limit")
def refuse_over_cost_limit(request: FoiRequest, cmd: fc.RefuseOverCostLimit, today: date) -> None:
    request.refuse_over_cost_limit(sent_on=cmd.sent_on, authority=cmd.authority, estimated_hours=cmd.estimated_hours,
                                   estimate_basis=cmd.estimate_basis, advice=cmd.advice_and_assistance, today=today)


@on_request(fc.ConsiderExemption, "consider an exemption")
def consider_exemption(request: FoiRequest, cmd: fc.ConsiderExemption, today: date) -> None:
    request.consider_exemption(
        part=cmd.part, exemption=cmd.exemption, considered_on=cmd.considered_on, grounds=cmd.grounds,
        public_interest=msgspec.to_builtins(cmd.public_interest) if cmd.public_interest is not None else None,
        qualified_person_opinion=cmd.qualified_person_opinion, today=today,
    )


@on_request(fc.ExtendForPublicInterest, "extend the time for the public interest test")
def extend_for_public_interest(request: FoiRequest, cmd: fc.ExtendForPublicInterest, today: date) -> dict[str, Any]:
    return request.extend_for_public_interest(notified_on=cmd.notified_on, exemption=cmd.exemption,
                                              working_days=cmd.working_days, why=cmd.why, today=today)


@on_request(fc.SendResponse, "send the response to an FOI request")
def send_response(request: FoiRequest, cmd: fc.SendResponse, today: date) -> dict[str, Any]:
    return request.send_response(sent_on=cmd.sent_on, decisions=msgspec.to_builtins(cmd.decisions), today=today)


@on_request(fc.RequestInternalReview, "record a request for internal review")
def request_internal_review(request: FoiRequest, cmd: fc.RequestInternalReview, today: date) -> None:
    request.request_internal_review(requested_on=cmd.requested_on, grounds=cmd.grounds, today=today)


@on_request(fc.DecideInternalReview, "decide an internal review")
def decide_internal_review(request: FoiRequest, cmd: fc.DecideInternalReview, today: date) -> None:
    request.decide_internal_review(decided_on=cmd.decided_on, outcome=cmd.outcome, findings=cmd.findings, today=today)


@on_request(fc.RecordIcoComplaint, "record a complaint to the ICO")
def record_ico_complaint(request: FoiRequest, cmd: fc.RecordIcoComplaint, today: date) -> None:
    request.record_ico_complaint(notified_on=cmd.notified_on, ico_reference=cmd.ico_reference, today=today)


@on_request(fc.RecordIcoDecision, "record the ICO's decision")
def record_ico_decision(request: FoiRequest, cmd: fc.RecordIcoDecision, today: date) -> None:
    request.record_ico_decision(decided_on=cmd.decided_on, outcome=cmd.outcome, decision_notice=cmd.decision_notice,
                                summary=cmd.summary, today=today)
