"""The evaluation trail over the London AQP care-home procurement (each test on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from eventsourcing.utils import get_topic

from audit.replay import replay_projection
from domain.application import Ledger
from domain.kernel.errors import NotFound
from domain.procurement.competition import Competition
from domain.procurement.views import competition_state
from projections import follow, runner
from projections.evaluation import EvaluationTrail
from tests.integration.machinery import apply, live_contents

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "london-aqp-care-homes-2026.jsonl"
UTC = timezone.utc
REFERENCE = "AQP-CH-2026"


def lines() -> list[str]:
    return SCENARIO.read_text().splitlines()


def catch_up(ledger: Ledger, page_size: int | None = None) -> int:
    return follow.catch_up(ledger, EvaluationTrail(follow.live_view(ledger, EvaluationTrail)), page_size=page_size)


@pytest.fixture
def procured(ledger: Ledger) -> Ledger:
    apply(ledger, lines())
    return ledger


def test_the_score_matrix_equals_the_decided_outcome(procured):
    ledger = procured
    catch_up(ledger, page_size=25)
    view = follow.live_view(ledger, EvaluationTrail)
    state = competition_state(ledger.aggregate(Competition, REFERENCE))
    decided = [ledger.mapper.to_domain_event(n) for n in ledger.notification_log.select(
        start=1, limit=1000, topics=[get_topic(Competition.OutcomeDecided)])]
    (outcome,) = decided
    assert outcome.bidders == state["outcome"]["bidders"]

    matrix = view.select("evaluation_matrix", where={"competition": REFERENCE})
    standings = view.select("evaluation_standings", where={"competition": REFERENCE})
    entrants = {(lot, b) for lot, r in outcome.lots.items() for b in (*r["successful"], *r["unsuccessful"])}
    assert {(s["lot"], s["bidder"]) for s in standings} == entrants
    scored = 0
    for cell in matrix:
        result = outcome.bidders[cell["bidder"]]
        if result["scores"]:
            scored += 1
            assert f"{cell['agreed_score']:.2f}" == result["scores"][cell["criterion"]]
            assert cell["decided_score"] == float(result["scores"][cell["criterion"]])
    assert scored > 0
    for s in standings:
        result, lot = outcome.bidders[s["bidder"]], outcome.lots[s["lot"]]
        assert s["rank"] == lot["ranks"].get(s["bidder"])
        assert s["result"] == ("successful" if s["bidder"] in lot["successful"] else "unsuccessful")
        assert s["passed"] == ("yes" if result["passed"] else "no")
        if result["weighted_score"] is None:
            assert (s["compliance"], s["agrees_with_decision"]) == ("failed", None)
        else:
            assert f"{s['weighted_score']:.2f}" == result["weighted_score"]
            assert s["agrees_with_decision"] == "yes"
    assert any(s["financial_result"] == "pass_with_guarantee" for s in standings)

    # Every score, moderation and check the competition holds is in the trail.
    scores = view.select("evaluation_scores", where={"competition": REFERENCE, "superseded_at": None})
    assert sorted((r["evaluator"], r["bidder"], r["criterion"], r["score"], r["justification"]) for r in scores) == sorted(
        (s["evaluator"], s["bidder"], s["criterion"], s["score"], s["justification"]) for s in state["scores"]
    )
    moderated = [r for r in scores if r["moderated"] == "yes"]
    (moderation,) = state["moderations"]
    assert {(r["bidder"], r["criterion"], r["moderated_score"]) for r in moderated} == {
        (moderation["bidder"], moderation["criterion"], moderation["score"])
    }
    assert len(moderated) == len(moderation["individual_scores"])
    assert view.count("evaluation_compliance") == sum(len(v) for v in state["compliance"].values())
    assert view.count("evaluation_declarations") == sum(len(e["declarations"]) for e in state["evaluators"].values())
    assert {r["bidder"] for r in view.select("evaluation_finances")} == set(state["financial"])
    # An evaluator's own scores, as the API will filter them before moderation.
    mine = view.select("evaluation_scores", where={"competition": REFERENCE, "evaluator": "dr.a.patel"})
    assert mine and {r["evaluator"] for r in mine} == {"dr.a.patel"}


def test_incremental_catch_up_equals_a_rebuild(ledger):
    script = lines()
    cut = [len(script) // 3, 2 * len(script) // 3, len(script)]
    start = 0
    for end in cut:
        apply(ledger, script[start:end])
        start = end
        catch_up(ledger, page_size=7)
        catch_up(ledger, page_size=7)  # nothing new: changes nothing
    caught_up = live_contents(ledger, EvaluationTrail)
    assert caught_up["evaluation_scores"]
    assert runner.rebuild(ledger, "evaluation") == {"evaluation": ledger.max_position()}
    assert live_contents(ledger, EvaluationTrail) == caught_up


def test_replaying_the_trail_as_of_a_past_time(procured):
    ledger = procured
    before_moderation = datetime(2026, 3, 18, 12, tzinfo=UTC)
    (rnd,) = replay_projection(ledger, "evaluation", before_moderation)
    assert (rnd["moderations"], rnd["outcome_decided_at"]) == (0, None)
    assert rnd["scores_recorded"] == 140
    cells = replay_projection(ledger, "evaluation", before_moderation, table="evaluation_matrix")
    (cedar_t2, *_) = [c for c in cells if (c["bidder"], c["criterion"]) == ("cedar-lodge-care", "T2")]
    assert (cedar_t2["state"], cedar_t2["agreed_score"]) == ("needs_moderation", None)
    now = replay_projection(ledger, "evaluation", datetime(2100, 1, 1, tzinfo=UTC), table="evaluation_matrix")
    (cedar_t2, *_) = [c for c in now if (c["bidder"], c["criterion"]) == ("cedar-lodge-care", "T2")]
    assert (cedar_t2["state"], cedar_t2["agreed_score"]) == ("moderated", 3.0)
    # Before the opening: a competition with its criteria, and nothing of the sealed tenders.
    sealed = datetime(2026, 2, 20, 11, tzinfo=UTC)
    (rnd,) = replay_projection(ledger, "evaluation", sealed)
    assert rnd["bidders"] is None
    assert replay_projection(ledger, "evaluation", sealed, table="evaluation_standings") == []
    with pytest.raises(NotFound):
        replay_projection(ledger, "evaluation", sealed, table="no_such_table")
