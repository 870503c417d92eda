"""What each may read of a competition: sealed tenders, conflicted evaluators, providers (domain only)."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from domain.kernel.metadata import Actor, current_context
from domain.procurement.views import competition_view
from tests.unit.story import EVALUATING, LEAD, MENSAH, PATEL, as_, compliant, evaluating, in_standstill, opened, score, scored, sha, tendered

UTC = timezone.utc



def test_an_evaluator_cannot_read_another_evaluators_scores_before_moderation():
    c = evaluating()
    compliant(c)
    score(c, PATEL, "aster", "T1", 4)
    score(c, MENSAH, "aster", "T1", 3)
    patel_sees = competition_view(c, PATEL)["scores"]
    assert [(s["evaluator"], s["score"]) for s in patel_sees] == [("patel", 4)]
    with as_(LEAD, EVALUATING):
        c.moderate_score(moderator=LEAD.id, bidder="aster", criterion="T1", score=4, rationale="Consensus at moderation meeting.", reason=None)
    patel_sees = competition_view(c, PATEL)["scores"]
    assert sorted(s["evaluator"] for s in patel_sees) == ["mensah", "patel"]


def test_a_conflicted_evaluator_sees_nothing_of_that_bidder():
    c = scored()
    view = competition_view(c, MENSAH)
    assert "cedar" not in view["tenders"]
    assert all(s["bidder"] != "cedar" for s in view["scores"])
    assert "cedar" not in view["financial"]


def test_a_conflicted_evaluator_learns_from_the_decision_only_whether_that_bidder_won():
    c = in_standstill()
    full = competition_view(c, LEAD)
    assert "cedar" in full["outcome"]["bidders"] and any(l["bidder"] == "cedar" for l in full["letters"]["letters"])
    view = competition_view(c, MENSAH)
    assert "cedar" not in view["outcome"]["bidders"]
    assert all("cedar" not in lot["ranks"] and "cedar" not in lot["unsuccessful"] for lot in view["outcome"]["lots"].values())
    assert all(l["bidder"] != "cedar" for l in view["letters"]["letters"])
    for letter in view["letters"]["letters"]:
        for lot in letter["lots"].values():
            assert all(set(w) == {"bidder"} for w in lot["successful_bidders"] if w["bidder"] == "cedar")
    # Others' letters still say who won, as the award does.
    assert view["award"] == full["award"]
    # The lead's view is untouched by the evaluator's.
    assert "cedar" in competition_view(c, LEAD)["outcome"]["bidders"]


def test_tenders_are_sealed_to_the_authority_until_opened():
    c = tendered()
    view = competition_view(c, LEAD)
    assert view["tenders"] == {"sealed": True, "count": 3}
    assert "sha" not in str(view["tenders"])


def test_a_provider_sees_only_its_own_tender_and_no_evaluation_working():
    c = in_standstill()
    view = competition_view(c, Actor(id="bm", org="beech", role="provider"))
    assert list(view["tenders"]) == ["beech"]
    assert view["scores"] is None and view["evaluators"] is None
    assert [l["bidder"] for l in view["letters"]["letters"]] == ["beech"]


def test_every_event_carries_who_when_and_why():
    c = opened()
    at = datetime(2026, 1, 6, tzinfo=UTC)
    with as_(LEAD, at, reason="addendum"):
        c.publish_document(document="SPEC", title="Specification", sha256=sha("spec"), size_bytes=10, now=at)
        meta = current_context().as_meta()
    event = c.pending_events[-1]
    assert event.timestamp == at
    assert event.meta["actor"] == {"id": "lead", "org": "CSU", "role": "procurement_lead"}
    assert event.meta["reason"] == "addendum"
    assert event.meta["correlation_id"] == meta["correlation_id"]
    assert event.meta["recorded_at"] == at.isoformat()


def test_no_event_can_be_triggered_outside_a_command_context():
    c = opened()
    with pytest.raises(RuntimeError):
        c.trigger_event(c.EvaluatorTrained, evaluator="x")
