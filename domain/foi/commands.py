"""Commands of the FOI case: a request for information under the Freedom of Information Act 2000.

Part of the one tagged union: `domain.commands.AnyCommand` includes `FOI_COMMANDS`. Every
command names the request by the reference its authority gives it (e.g. `FOI-2026-0042`);
the request is the authority's own (its FOI officers' and admins'), so two authorities may
use the same reference. Days are the days things happened (a request received by post on
Saturday is received on Saturday); the domain refuses a day after today.
"""

from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from domain.kernel.command_types import Command, Note, Pence, RecentDay, Reference, ShortNote, ShortText, Text, unique

Channel = Literal["email", "post", "web_form", "social_media", "in_person", "other"]
#: the exemptions the ledger's records meet (FOIA Part II): s.21 information accessible by other
#: means, s.36 prejudice to the conduct of public affairs, s.40 personal data, s.41 information
#: provided in confidence, s.43 commercial interests
Exemption = Literal["s21", "s36", "s40", "s41", "s43"]
Outcome = Literal["released_in_full", "released_in_part", "withheld", "not_held"]
#: a request's parts are numbered from 1 in the order asked
PartNumber = Annotated[int, Meta(ge=1, le=100)]
Factor = Annotated[str, Meta(max_length=2_000)]


class ReceiveFoiRequest(Command, tag="foi.receive", kw_only=True):
    """A request received: when, how, from whom (personal data) and what is asked, part by part."""

    request: Reference
    received_on: RecentDay
    channel: Channel
    #: the requester's opaque person id, under which their name and address are erasable
    #: (default: one of this request's own, `foi-requester:<request>`)
    requester: Reference | None = None
    requester_name: ShortText
    #: where the response goes: a postal or e-mail address
    requester_address: Annotated[str, Meta(min_length=1, max_length=1_000)]
    #: what is asked, one item per part, numbered 1, 2, ... in this order
    parts: Annotated[list[Text], Meta(min_length=1, max_length=100)]


class SeekClarification(Command, tag="foi.seek_clarification", kw_only=True):
    """FOIA s.1(3): the authority needs more to identify and locate what is asked; the clock stops."""

    request: Reference
    sought_on: RecentDay
    question: Text


class RecordClarification(Command, tag="foi.record_clarification", kw_only=True):
    """The requester's answer: the clarified request starts a new 20 working days (s.10(6)(b))."""

    request: Reference
    received_on: RecentDay
    answer: Text
    #: what is now asked, where the answer changes it (the parts as clarified, numbered anew)
    parts: Annotated[list[Text], Meta(min_length=1, max_length=100)] | None = None


class IssueFeesNotice(Command, tag="foi.issue_fees_notice", kw_only=True):
    """FOIA s.9: a fee is due before the authority complies; the clock stops until it is paid."""

    request: Reference
    issued_on: RecentDay
    amount_pence: Pence
    #: how it was worked out (disbursements: printing, postage...)
    basis: Text


class RecordFeePaid(Command, tag="foi.record_fee_paid", kw_only=True):
    """The fee received, within three months of the notice (s.9(2)); the clock runs again."""

    request: Reference
    paid_on: RecentDay


class RefuseOverCostLimit(Command, tag="foi.refuse_over_cost_limit", kw_only=True):
    """FOIA s.12: complying would cost more than the appropriate limit (the Fees Regulations 2004:
    £600 for central government, £450 for every other authority, at £25 an hour)."""

    request: Reference
    sent_on: RecentDay
    authority: Literal["central_government", "other"] = "other"
    #: the estimate, in hours of staff time to determine, locate, retrieve and extract
    estimated_hours: Annotated[int, Meta(ge=0, le=100_000)]
    #: how the estimate was reached (a sampling exercise, the records to be searched...)
    estimate_basis: Note
    #: s.16: how the requester could bring the request within the limit
    advice_and_assistance: Note


class PublicInterestTest(Struct, forbid_unknown_fields=True, kw_only=True):
    """FOIA s.2(2)(b): whether the public interest in maintaining the exemption outweighs that in disclosure."""

    factors_for_disclosure: Annotated[list[Factor], Meta(max_length=50)]
    factors_for_withholding: Annotated[list[Factor], Meta(max_length=50)]
    conclusion: Literal["maintain_exemption", "disclose"]
    reasoning: Note


class ConsiderExemption(Command, tag="foi.consider_exemption", kw_only=True):
    """An exemption considered for one part, with its grounds (and for a qualified one the public interest test)."""

    request: Reference
    part: PartNumber
    exemption: Exemption
    considered_on: RecentDay
    #: why the exemption is engaged: required for every exemption
    grounds: Note
    #: required for the qualified exemptions (s.36, s.43), refused for the absolute ones
    public_interest: PublicInterestTest | None = None
    #: s.36(2): the reasonable opinion of the authority's qualified person (who, when, what)
    qualified_person_opinion: ShortNote | None = None


class ExtendForPublicInterest(Command, tag="foi.extend_for_public_interest", kw_only=True):
    """FOIA s.10(3): more time to consider the public interest, notified within the 20 working days."""

    request: Reference
    notified_on: RecentDay
    #: the qualified exemption whose public interest test needs the time
    exemption: Exemption
    working_days: Annotated[int, Meta(ge=1, le=20)]
    why: Note


class PartDecision(Struct, forbid_unknown_fields=True, kw_only=True):
    part: PartNumber
    outcome: Outcome
    #: the exemptions relied on to withhold (all or some of) the part
    exemptions: Annotated[list[Exemption], unique(max_length=5)] = []
    #: what was released, as the disclosure log is to show it
    released: Note = ""


class SendResponse(Command, tag="foi.send_response", kw_only=True):
    """The response sent: a decision on every part of the request."""

    request: Reference
    sent_on: RecentDay
    decisions: Annotated[list[PartDecision], unique(max_length=100, by="part", domain_rule="part_decided_twice")]


class RequestInternalReview(Command, tag="foi.request_internal_review", kw_only=True):
    request: Reference
    requested_on: RecentDay
    grounds: Text


class DecideInternalReview(Command, tag="foi.decide_internal_review", kw_only=True):
    request: Reference
    decided_on: RecentDay
    outcome: Literal["upheld", "partly_overturned", "overturned"]
    findings: Text


class RecordIcoComplaint(Command, tag="foi.record_ico_complaint", kw_only=True):
    """The Information Commissioner told the authority of a complaint (FOIA s.50)."""

    request: Reference
    notified_on: RecentDay
    ico_reference: Reference


class RecordIcoDecision(Command, tag="foi.record_ico_decision", kw_only=True):
    request: Reference
    decided_on: RecentDay
    outcome: Literal["upheld", "partly_upheld", "not_upheld", "informally_resolved", "withdrawn"]
    decision_notice: Reference | None = None
    summary: Text


FOI_COMMANDS = (
    ReceiveFoiRequest,
    SeekClarification,
    RecordClarification,
    IssueFeesNotice,
    RecordFeePaid,
    RefuseOverCostLimit,
    ConsiderExemption,
    ExtendForPublicInterest,
    SendResponse,
    RequestInternalReview,
    DecideInternalReview,
    RecordIcoComplaint,
    RecordIcoDecision,
)
