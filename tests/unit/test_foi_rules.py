"""The FOI request's rules, through the domain alone: what the Act refuses is refused, and records nothing."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from domain import access
from domain.foi.request import FoiRequest
from domain.foi.views import foi_request_view, status_on
from domain.kernel.errors import DomainError
from domain.kernel.metadata import Actor
from tests.unit.story import as_

OFFICER = Actor(id="okafor", org="LBC", role="foi_officer")
AT = datetime(2026, 4, 1, 10, tzinfo=timezone.utc)
TODAY = date(2026, 7, 31)
PARTS = ["The contracts awarded under AQP-CH-2026", "The scores of each bidder", "The names of the evaluators"]
PUBLIC_INTEREST = {
    "factors_for_disclosure": ["Transparency in spending public money"],
    "factors_for_withholding": ["Bidders' prices would be known to competitors before the next round"],
    "conclusion": "maintain_exemption",
    "reasoning": "The next round opens within months; disclosure now would distort it.",
}


def received(parts: list[str] = PARTS) -> FoiRequest:
    with as_(OFFICER, AT):
        request = FoiRequest.receive(authority="LBC", reference="FOI-1", received_on=date(2026, 4, 1), channel="email",
                                     requester="p-1", name="A. Requester", address="a@example.org", parts=parts, today=TODAY)
    request.collect_events()
    return request


def refused(request: FoiRequest, method: str, code: str, **kwargs) -> DomainError:
    with as_(OFFICER, AT), pytest.raises(DomainError) as err:
        getattr(request, method)(today=TODAY, **kwargs)
    assert err.value.code == code, err.value.message
    assert request.pending_events == [], "a refused command recorded an event"
    return err.value


def done(request: FoiRequest, method: str, **kwargs):
    with as_(OFFICER, AT):
        value = getattr(request, method)(today=TODAY, **kwargs)
    request.collect_events()
    return value


def consider(request: FoiRequest, part: int, exemption: str, **extra) -> None:
    done(request, "consider_exemption", part=part, exemption=exemption, considered_on=date(2026, 4, 10),
         grounds=extra.pop("grounds", "Prices are commercially sensitive"), public_interest=extra.pop("public_interest", None),
         qualified_person_opinion=extra.pop("qualified_person_opinion", None))


def test_a_request_is_due_twenty_working_days_after_it_is_received():
    assert received().due_on == "2026-05-01"


def test_a_clarification_stops_the_clock_and_its_answer_starts_it_again_from_the_answer():
    request = received()
    done(request, "seek_clarification", sought_on=date(2026, 4, 2), question="Which lots?")
    assert request.due_on is None
    assert status_on("paused_for_clarification", None, TODAY)["status"] == "paused_for_clarification"
    assert done(request, "record_clarification", received_on=date(2026, 4, 10), answer="NCL only", parts=None) == {"due_on": "2026-05-11"}


def test_an_unpaid_fee_stops_the_clock_and_a_fee_paid_after_three_months_is_refused():
    request = received()
    done(request, "issue_fees_notice", issued_on=date(2026, 4, 2), amount_pence=1500, basis="photocopying 300 pages")
    assert request.due_on is None
    # "three months beginning with" 2 Apr: up to and including 1 Jul.
    refused(request, "record_fee_paid", "fees_notice_lapsed", paid_on=date(2026, 7, 2))
    # The working days 2-10 Apr (2 Apr, 7-10 Apr: five) are disregarded: 1 May moves five working days on to 11 May.
    assert done(request, "record_fee_paid", paid_on=date(2026, 4, 10)) == {"due_on": "2026-05-11"}


def test_a_cost_limit_refusal_needs_an_estimate_above_the_limit_its_basis_and_advice():
    request = received()
    common = {"sent_on": date(2026, 4, 20), "authority": "other", "estimate_basis": "a sample of 10 files", "advice": "Ask for one lot"}
    refused(request, "refuse_over_cost_limit", "within_cost_limit", **{**common, "estimated_hours": 18})
    refused(request, "refuse_over_cost_limit", "estimate_basis_required", **{**common, "estimated_hours": 30, "estimate_basis": " "})
    refused(request, "refuse_over_cost_limit", "advice_and_assistance_required", **{**common, "estimated_hours": 30, "advice": ""})
    done(request, "refuse_over_cost_limit", **{**common, "estimated_hours": 19})
    assert request.answered


def test_central_government_has_the_higher_limit_of_24_hours():
    refused(received(), "refuse_over_cost_limit", "within_cost_limit", sent_on=date(2026, 4, 20), authority="central_government",
            estimated_hours=24, estimate_basis="a sample", advice="Narrow it")


def test_every_exemption_needs_its_reason():
    err = refused(received(), "consider_exemption", "exemption_reason_required", part=2, exemption="s41",
                  considered_on=date(2026, 4, 10), grounds="  ", public_interest=None, qualified_person_opinion=None)
    assert err.field == "grounds"


def test_a_qualified_exemption_needs_the_public_interest_test_and_an_absolute_one_refuses_it():
    request = received()
    base = {"part": 2, "considered_on": date(2026, 4, 10), "grounds": "prices", "qualified_person_opinion": None}
    refused(request, "consider_exemption", "public_interest_test_required", exemption="s43", public_interest=None, **base)
    for absolute in ("s21", "s40", "s41"):
        refused(request, "consider_exemption", "public_interest_test_not_applicable", exemption=absolute,
                public_interest=PUBLIC_INTEREST, **base)
    refused(request, "consider_exemption", "public_interest_factors_required", exemption="s43",
            public_interest={**PUBLIC_INTEREST, "factors_for_disclosure": [" "]}, **base)
    refused(request, "consider_exemption", "qualified_person_opinion_required", exemption="s36", public_interest=PUBLIC_INTEREST, **base)
    refused(request, "consider_exemption", "unknown_part", exemption="s41", public_interest=None, **{**base, "part": 4})
    consider(request, 2, "s43", public_interest=PUBLIC_INTEREST)
    assert request.holds(2, "s43") is True


def test_a_response_must_decide_every_part_and_names_the_part_without_a_decision():
    request = received()
    err = refused(request, "send_response", "part_without_decision", sent_on=date(2026, 4, 20), decisions=[
        {"part": 1, "outcome": "released_in_full", "exemptions": [], "released": "The contract register"},
        {"part": 3, "outcome": "not_held", "exemptions": [], "released": ""},
    ])
    assert "Part 2" in err.message
    assert [f["field"] for f in err.fields] == ["decisions"]


def test_a_part_withheld_names_exemptions_considered_for_it_that_hold():
    request = received()
    consider(request, 3, "s40", grounds="The evaluators' names are their personal data")
    consider(request, 2, "s43", public_interest={**PUBLIC_INTEREST, "conclusion": "disclose"})
    decisions = [
        {"part": 1, "outcome": "released_in_full", "exemptions": ["s43"], "released": "The register"},
        {"part": 2, "outcome": "withheld", "exemptions": ["s43"], "released": ""},
        {"part": 3, "outcome": "released_in_part", "exemptions": ["s41"], "released": ""},
    ]
    err = refused(request, "send_response", "exemption_without_withholding", sent_on=date(2026, 4, 20), decisions=decisions)
    assert {f["rule"] for f in err.fields} == {"exemption_without_withholding", "public_interest_favours_disclosure",
                                               "exemption_not_considered", "release_description_required"}


def test_a_complete_response_is_recorded_with_whether_it_was_late():
    request = received()
    consider(request, 3, "s40", grounds="The evaluators' names are their personal data")
    value = done(request, "send_response", sent_on=date(2026, 5, 5), decisions=[
        {"part": 1, "outcome": "released_in_full", "exemptions": [], "released": "The contract register"},
        {"part": 2, "outcome": "not_held", "exemptions": [], "released": ""},
        {"part": 3, "outcome": "withheld", "exemptions": ["s40"], "released": ""},
    ])
    assert value == {"late": True, "due_on": "2026-05-01"}
    refused(request, "send_response", "response_already_sent", sent_on=date(2026, 5, 6), decisions=[])


def test_an_extension_is_for_a_qualified_exemption_notified_in_time_and_at_most_twenty_working_days():
    request = received()
    base = {"notified_on": date(2026, 4, 20), "why": "Consulting the bidders"}
    refused(request, "extend_for_public_interest", "extension_needs_qualified_exemption", exemption="s41", working_days=5, **base)
    refused(request, "extend_for_public_interest", "extension_too_late", exemption="s43", working_days=5,
            **{**base, "notified_on": date(2026, 5, 4)})
    assert done(request, "extend_for_public_interest", exemption="s43", working_days=10, **base) == {"due_on": "2026-05-18"}
    refused(request, "extend_for_public_interest", "extension_too_long", exemption="s43", working_days=11, **base)


def test_a_review_is_of_an_answer_and_the_ico_decides_a_complaint_on_record():
    request = received()
    refused(request, "request_internal_review", "not_answered", requested_on=date(2026, 4, 20), grounds="No answer")
    refused(request, "record_ico_decision", "no_ico_complaint_open", decided_on=date(2026, 4, 20), outcome="upheld",
            decision_notice=None, summary="...")


def test_a_day_after_today_is_refused():
    refused(received(), "seek_clarification", "day_in_future", sought_on=date(2026, 8, 3), question="Which?")


def test_only_the_receiving_authoritys_foi_officers_and_admins_see_the_request():
    request = received()
    assert foi_request_view(request, OFFICER, today=TODAY)["requester"]["name"] == "A. Requester"
    assert access.handles_foi_request(Actor(id="a", org="LBC", role="admin"), received_by="LBC")
    for other in (Actor(id="b", org="RBK", role="foi_officer"), Actor(id="c", org="LBC", role="commissioner"),
                  Actor(id="d", org="LBC", role="auditor")):
        with pytest.raises(DomainError) as err:
            foi_request_view(request, other, today=TODAY)
        assert err.value.code == "foi_request_not_found"
