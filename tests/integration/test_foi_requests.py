"""FOI requests through the Ledger, on SQLite and PostgreSQL: the clock, the refusals, the read model, erasure."""

from __future__ import annotations

from datetime import date, datetime, timezone

import msgspec
import pytest

from domain.commands import AnyCommand
from domain.foi.request import FoiRequest
from domain.foi.views import foi_request_view
from domain.kernel.metadata import Actor
from projections.foi import DISCLOSURE_LOG, REQUESTS, catch_up, open_view

pytestmark = pytest.mark.storage

LBC = Actor(id="okafor", org="LBC", role="foi_officer")
RBK = Actor(id="singh", org="RBK", role="foi_officer")
LBC_ADMIN = Actor(id="root", org="LBC", role="admin")
UTC = timezone.utc


def send(ledger, actor: Actor, at: datetime, **command):
    return ledger.handle(msgspec.convert(command, AnyCommand), actor, at=at)


def receive(ledger, actor: Actor = LBC, reference: str = "FOI-2025-0100", received_on: str = "2025-12-22", **extra):
    return send(ledger, actor, datetime.fromisoformat(f"{received_on}T10:00:00+00:00"), type="foi.receive", request=reference,
                received_on=received_on, channel="email", requester_name="Ada Requester", requester_address="ada@example.org",
                parts=["Contracts awarded under AQP-CH-2026", "Each bidder's quality scores"], **extra)


def test_a_request_before_christmas_is_due_after_new_year_and_a_clarification_restarts_the_clock(ledger):
    result = receive(ledger)
    assert result.ok, result.error
    assert result.value == {"request": "FOI-2025-0100", "due_on": "2026-01-23"}
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    assert send(ledger, LBC, at, type="foi.seek_clarification", request="FOI-2025-0100", sought_on="2026-01-05", question="Which lots?").ok
    # Answered Fri 9 Jan 2026: 12-16 Jan (1-5), 19-23 (6-10), 26-30 (11-15), 2-6 Feb (16-20).
    answered = send(ledger, LBC, datetime(2026, 1, 9, 9, tzinfo=UTC), type="foi.record_clarification", request="FOI-2025-0100",
                    received_on="2026-01-09", answer="NCL and NEL")
    assert answered.ok, answered.error
    assert answered.value == {"due_on": "2026-02-06"}
    catch_up(ledger)
    row, = open_view(ledger).rows(REQUESTS.name)
    assert (row["stage"], row["date_of_receipt"], row["due_on"], row["received_by"]) == ("open", "2026-01-09", "2026-02-06", "LBC")


def test_a_refused_command_records_no_event_and_says_which_part_has_no_decision(ledger):
    receive(ledger)
    before = ledger.max_position()
    at = datetime(2026, 1, 12, 9, tzinfo=UTC)
    refusals = [
        send(ledger, LBC, at, type="foi.send_response", request="FOI-2025-0100", sent_on="2026-01-12",
             decisions=[{"part": 1, "outcome": "released_in_full", "released": "The contract register"}]),
        send(ledger, LBC, at, type="foi.consider_exemption", request="FOI-2025-0100", part=2, exemption="s43",
             considered_on="2026-01-12", grounds=""),
        send(ledger, LBC, at, type="foi.consider_exemption", request="FOI-2025-0100", part=2, exemption="s43",
             considered_on="2026-01-12", grounds="Prices and scores of unsuccessful bidders"),
    ]
    assert [r.error.code for r in refusals] == ["part_without_decision", "exemption_reason_required", "public_interest_test_required"]
    assert "Part 2" in refusals[0].error.message
    assert ledger.max_position() == before


def test_another_authoritys_officer_finds_no_such_request_and_keeps_its_own_of_the_same_reference(ledger):
    receive(ledger)
    at = datetime(2026, 1, 5, 9, tzinfo=UTC)
    before = ledger.max_position()
    intruding = send(ledger, RBK, at, type="foi.seek_clarification", request="FOI-2025-0100", sought_on="2026-01-05", question="?")
    assert intruding.error.code == "foi_request_not_found"
    assert ledger.max_position() == before
    assert receive(ledger, RBK, received_on="2026-01-05").ok  # RBK's own FOI-2025-0100
    assert receive(ledger, LBC_ADMIN).error.code == "foi_request_exists"
    commissioner = send(ledger, Actor(id="c", org="LBC", role="commissioner"), at, type="foi.seek_clarification",
                        request="FOI-2025-0100", sought_on="2026-01-05", question="?")
    assert commissioner.error.code == "not_permitted"
    catch_up(ledger)
    assert sorted((r["received_by"], r["due_on"]) for r in open_view(ledger).rows(REQUESTS.name)) == [
        ("LBC", "2026-01-23"), ("RBK", "2026-02-02")]


def test_the_response_fills_the_disclosure_log_part_by_part(ledger):
    receive(ledger)
    at = datetime(2026, 1, 14, 9, tzinfo=UTC)
    assert send(ledger, LBC, at, type="foi.consider_exemption", request="FOI-2025-0100", part=2, exemption="s43",
                considered_on="2026-01-14", grounds="Unsuccessful bidders' scores would show their bids' weaknesses",
                public_interest={"factors_for_disclosure": ["Accountability for the award"],
                                 "factors_for_withholding": ["The bidders compete again in 2027"],
                                 "conclusion": "maintain_exemption", "reasoning": "The harm is real and near."}).ok
    sent = send(ledger, LBC, at, type="foi.send_response", request="FOI-2025-0100", sent_on="2026-01-14", decisions=[
        {"part": 2, "outcome": "released_in_part", "exemptions": ["s43"], "released": "The winners' scores"},
        {"part": 1, "outcome": "released_in_full", "released": "The contract register, 12 contracts"},
    ])
    assert sent.ok, sent.error
    assert sent.value == {"late": False, "due_on": "2026-01-23"}
    catch_up(ledger)
    view = open_view(ledger)
    assert [(r["part"], r["outcome"], r["exemptions"], r["sent_on"]) for r in view.rows(DISCLOSURE_LOG.name)] == [
        (1, "released_in_full", None, "2026-01-14"), (2, "released_in_part", "s43", "2026-01-14")]
    row, = view.rows(REQUESTS.name)
    assert (row["stage"], row["responded_on"], row["responded_late"]) == ("answered", "2026-01-14", "no")
    review = send(ledger, LBC, datetime(2026, 1, 20, tzinfo=UTC), type="foi.request_internal_review", request="FOI-2025-0100",
                  requested_on="2026-01-20", grounds="The scores should all be released")
    assert review.ok, review.error
    catch_up(ledger)
    assert open_view(ledger).rows(REQUESTS.name)[0]["stage"] == "under_review"


def test_the_requesters_name_and_address_are_erasable(ledger):
    receive(ledger, requester="person-ada")
    reference = FoiRequest.key("LBC", "FOI-2025-0100")
    shown = foi_request_view(ledger.aggregate(FoiRequest, reference), LBC, today=date(2026, 1, 5))
    assert shown["requester"] == {"name": "Ada Requester", "address": "ada@example.org"}
    erased = ledger.handle(msgspec.convert({"type": "personal_data.erase", "subject": "person-ada", "reason": "DSAR-7"}, AnyCommand),
                           Actor(id="root", org="LBC", role="admin"), at=datetime(2026, 1, 6, tzinfo=UTC))
    assert erased.ok, erased.error
    ledger.subject_keys.refresh()
    shown = foi_request_view(ledger.aggregate(FoiRequest, reference), LBC, today=date(2026, 1, 6))
    assert shown["requester"] == {"name": "[erased]", "address": "[erased]"}
