"""The evaluation trail's rules, event by event over the story's competition (no store, no clock)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from domain.procurement.competition import Competition
from domain.procurement.outcome import compute_outcome
from projections.evaluation import EvaluationTrail, evaluation_events
from projections.read_model import Replayed
from tests.unit import story
from domain.kernel.metadata import Actor
from domain.kernel.personal import PersonalData
from tests.unit.story import BIDDERS, EVALUATING, LEAD, MENSAH, PATEL, as_, score

LATER = datetime(2026, 3, 5, 9, tzinfo=timezone.utc)


def trail(c: Competition) -> Replayed:
    return Replayed(EvaluationTrail).feed(c.collect_events())


def rows(replayed: Replayed, table: str, **where: Any) -> list[dict[str, Any]]:
    return [r for r in replayed.rows(table) if all(r[k] == v for k, v in where.items())]


def test_it_follows_every_competition_event():
    assert set(EvaluationTrail.followed) == set(evaluation_events())


def test_sealed_tenders_leave_no_trace_before_the_opening():
    c = story.tendered()
    t = trail(c)
    (rnd,) = t.rows("evaluation_rounds")
    assert rnd["bidders"] is None and rnd["tenders_opened_at"] is None
    # The last event shown is the criteria, not a tender: not even when tenders arrived leaks.
    assert rnd["last_event_at"] == story.OPENED.isoformat()
    assert all(t.rows(table.name) == [] for table in EvaluationTrail.tables[1:])


def test_the_opening_lays_out_the_matrix_and_standings():
    t = trail(story.evaluating())
    assert len(t.rows("evaluation_standings")) == len(BIDDERS) * 2
    cells = t.rows("evaluation_matrix")
    assert len(cells) == len(BIDDERS) * 2 * 2
    assert {c["state"] for c in cells} == {"awaiting_scores"}
    assert {(r["evaluator"], r["panels"], r["trained_at"] is not None) for r in t.rows("evaluation_evaluators")} == {
        ("patel", "technical", True), ("mensah", "technical", True), ("owusu", "financial", True),
    }
    conflicts = rows(t, "evaluation_declarations", conflicted="yes")
    assert [(r["evaluator"], r["bidder"]) for r in conflicts] == [("mensah", "cedar")]


def test_the_matrix_and_standings_equal_the_decided_outcome():
    c = story.decided()
    t = trail(c)
    outcome = c.outcome
    assert outcome is not None
    for cell in t.rows("evaluation_matrix"):
        decided = outcome["bidders"][cell["bidder"]]["scores"][cell["criterion"]]
        assert f"{cell['agreed_score']:.2f}" == decided and cell["decided_score"] == float(decided)
    for standing in t.rows("evaluation_standings"):
        bidder, lot = standing["bidder"], outcome["lots"][standing["lot"]]
        assert f"{standing['weighted_score']:.2f}" == outcome["bidders"][bidder]["weighted_score"]
        assert standing["rank"] == lot["ranks"].get(bidder)
        assert standing["result"] == ("successful" if bidder in lot["successful"] else "unsuccessful")
        assert standing["agrees_with_decision"] == "yes"
        assert standing["compliance"] == "passed" and standing["financial_result"] == "pass"
    swl = {r["bidder"]: r for r in rows(t, "evaluation_standings", lot="SWL")}
    assert {b: r["offered_price"] for b, r in swl.items()} == {b: story.PRICES["SWL"] for b in BIDDERS}
    # aster: T1 4,4 -> 4.00 of 5 x 60 = 48; T2 4,5 -> 4.50 of 5 x 40 = 36; 84.00
    assert swl["aster"]["weighted_score"] == 84.0


def test_cedar_is_scored_by_patel_alone_because_mensah_is_conflicted():
    t = trail(story.scored())
    (cell,) = rows(t, "evaluation_matrix", lot="NCL", bidder="cedar", criterion="T1")
    assert (cell["scores"], cell["agreed_score"], cell["state"]) == (1, 5.0, "agreed")


def test_moderation_keeps_the_original_scores_and_records_the_change():
    c = story.evaluating(spread=0)
    story.compliant(c)
    for bidder, by_criterion in story.SCORES.items():
        for criterion, (p, m) in by_criterion.items():
            score(c, PATEL, bidder, criterion, p)
            if m is not None:
                score(c, MENSAH, bidder, criterion, m)
    t = Replayed(EvaluationTrail).feed(c.collect_events())
    (cell,) = rows(t, "evaluation_matrix", lot="NCL", bidder="aster", criterion="T2")
    assert (cell["state"], cell["agreed_score"], cell["spread"]) == ("needs_moderation", None, 1)
    with as_(LEAD, LATER):
        c.moderate_score(moderator=LEAD.id, bidder="aster", criterion="T2", score=4, rationale="Panel agreed on level 4.", reason=None)
    with as_(LEAD, LATER, reason="Evidence of the workforce plan re-read"):
        c.moderate_score(moderator=LEAD.id, bidder="aster", criterion="T2", score=5, rationale="Panel agreed on level 5.", reason="re-read")
    t.feed(c.collect_events())
    first, second = rows(t, "evaluation_moderations", bidder="aster", criterion="T2")
    assert (first["round"], first["individual_scores"], first["previous_score"], first["score"], first["reason"]) == (
        1, "mensah=5, patel=4", None, 4, None,
    )
    assert (second["round"], second["previous_score"], second["score"], second["reason"]) == (
        2, 4, 5, "Evidence of the workforce plan re-read",
    )
    assert (first["moderator"], first["lowest"], first["highest"]) == ("lead", 4, 5)
    scored = rows(t, "evaluation_scores", bidder="aster", criterion="T2")
    assert {(r["evaluator"], r["score"], r["moderated"], r["moderated_score"]) for r in scored} == {
        ("patel", 4, "yes", 5), ("mensah", 5, "yes", 5),
    }
    assert all(r["moderated"] == "no" for r in rows(t, "evaluation_scores", bidder="beech"))
    (cell,) = rows(t, "evaluation_matrix", lot="NCL", bidder="aster", criterion="T2")
    assert (cell["state"], cell["agreed_score"], cell["moderated_score"]) == ("moderated", 5.0, 5)


def test_a_changed_score_supersedes_the_earlier_one_with_its_reason():
    c = story.scored()
    with as_(PATEL, LATER, reason="Misread the staffing evidence"):
        c.record_score(
            evaluator=PATEL.id, evaluator_org=PATEL.org, bidder="beech", criterion="T1", score=4,
            justification="Evidence re-read against the descriptors.", reason="Misread the staffing evidence",
        )
    t = trail(c)
    first, second = rows(t, "evaluation_scores", bidder="beech", criterion="T1", evaluator="patel")
    assert (first["revision"], first["score"], first["superseded_at"], first["reason"]) == (1, 3, LATER.isoformat(), None)
    assert (second["revision"], second["score"], second["superseded_at"], second["reason"]) == (
        2, 4, None, "Misread the staffing evidence",
    )
    (cell,) = rows(t, "evaluation_matrix", lot="NCL", bidder="beech", criterion="T1")
    assert (cell["scores"], cell["agreed_score"]) == (2, 3.5)  # patel 4 (revised), mensah 3


def test_a_conflict_declared_after_scoring_takes_the_scores_out():
    c = story.scored()
    with as_(PATEL, LATER):
        c.declare_conflicts(evaluator=PATEL.id, declarations=[{"bidder": "beech", "conflicted": True, "note": "Former employer"}])
    t = trail(c)
    assert {r["counted"] for r in rows(t, "evaluation_scores", bidder="beech", evaluator="patel")} == {"no"}
    assert {r["counted"] for r in rows(t, "evaluation_scores", bidder="aster", evaluator="patel")} == {"yes"}
    (cell,) = rows(t, "evaluation_matrix", lot="NCL", bidder="beech", criterion="T2")
    assert (cell["scores"], cell["agreed_score"]) == (1, 2.0)  # mensah's 2 alone
    assert cell["agreed_score"] == float(c.counted_scores("beech", "T2")["mensah"])
    (declared,) = rows(t, "evaluation_declarations", evaluator="patel", bidder="beech")
    assert (declared["conflicted"], declared["conflict_declared_at"], declared["note_recorded"]) == ("yes", LATER.isoformat(), "yes")
    assert declared["declared_at"] == story.AFTER_DEADLINE.isoformat()
    (patel,) = rows(t, "evaluation_evaluators", evaluator="patel")
    assert (patel["declared_bidders"], patel["conflicts"]) == (3, 1)
    # The trail's weighted totals agree with what the outcome would now decide.
    expected = compute_outcome(c)["bidders"]["beech"]["weighted_score"]
    assert all(f"{r['weighted_score']:.2f}" == expected for r in rows(t, "evaluation_standings", bidder="beech"))


def test_compliance_records_supersede_and_a_failure_fails_the_bidder():
    c = story.evaluating()
    story.compliant(c, failing=("beech", "insurance"))
    t = trail(c)
    assert {r["compliance"] for r in rows(t, "evaluation_standings", bidder="beech")} == {"failed"}
    assert {r["compliance"] for r in rows(t, "evaluation_standings", bidder="aster")} == {"passed"}
    with as_(LEAD, LATER):
        c.record_compliance(actor=LEAD, bidder="beech", check="insurance", passed=True, note="Renewed policy seen")
    t.feed(c.collect_events())
    first, second = rows(t, "evaluation_compliance", bidder="beech", compliance_check="insurance")
    assert (first["passed"], first["note"], first["superseded_at"]) == ("no", "lapsed", LATER.isoformat())
    assert (second["passed"], second["revision"], second["superseded_at"], second["checked_by"]) == ("yes", 2, None, "lead")
    assert {r["compliance"] for r in rows(t, "evaluation_standings", bidder="beech")} == {"passed"}


def test_partial_compliance_is_incomplete():
    c = story.evaluating()
    with as_(LEAD, EVALUATING):
        c.record_compliance(actor=LEAD, bidder="aster", check="insurance", passed=True, note="")
    t = trail(c)
    assert {r["compliance"] for r in t.rows("evaluation_standings")} == {"incomplete"}


def test_an_upheld_challenge_sets_the_decision_aside():
    c = story.in_standstill()
    with as_(LEAD, story.LETTERS_SENT):
        challenge = c.receive_challenge(bidder="beech", kind="challenge", grounds="Scoring of T2 inconsistent")
        c.resolve_challenge(challenge=challenge, outcome="upheld", decision="Re-evaluate T2", now=story.LETTERS_SENT)
    t = trail(c)
    assert {(r["rank"], r["result"], r["decided_at"]) for r in t.rows("evaluation_standings")} == {(None, None, None)}
    assert {r["decided_score"] for r in t.rows("evaluation_matrix")} == {None}
    assert all(r["weighted_score"] is not None for r in t.rows("evaluation_standings"))  # the working stays
    assert t.rows("evaluation_rounds")[0]["outcome_decided_at"] is None


def test_finances_and_guarantees():
    c = story.evaluating()
    story.compliant(c)
    with as_(story.OWUSU, EVALUATING):
        c.assess_finances(
            evaluator=story.OWUSU.id, evaluator_org=story.OWUSU.org, bidder="aster", credit_score=30,
            accounts=story.WEAK_ACCOUNTS, offered_prices={"SWL": 12_000_000},
        )
    t = trail(c)
    (fin,) = t.rows("evaluation_finances")
    assert (fin["result"], fin["current_ratio"], fin["over_cap_lots"], fin["credit_score"]) == ("pcg_required", 0.5, "SWL", 30)
    assert "credit score 30 below 40" in fin["failures"]
    (swl,) = rows(t, "evaluation_standings", bidder="aster", lot="SWL")
    assert (swl["offered_price"], swl["over_cap"], swl["financial_result"]) == (12_000_000, "yes", "pcg_required")
    with as_(LEAD, LATER):
        c.offer_guarantee(bidder="aster", guarantor="Aster Holdings plc", guarantor_company_number="01234567")
        c.execute_guarantee(bidder="aster", document_sha256=story.sha("pcg"))
    t.feed(c.collect_events())
    (fin,) = t.rows("evaluation_finances")
    assert (fin["guarantor"], fin["guarantee_executed_at"]) == ("Aster Holdings plc", LATER.isoformat())
    assert {r["financial_result"] for r in rows(t, "evaluation_standings", bidder="aster")} == {"pass_with_guarantee"}


def test_clarifications_with_a_bidder():
    c = story.evaluating()
    with as_(LEAD, EVALUATING):
        number = c.issue_evaluation_clarification(bidder="cedar", question="Confirm your turnover.")
    with as_(Actor(id="bm@cedar", org="cedar", role="provider"), LATER):
        c.respond_to_evaluation_clarification(bidder="cedar", clarification=number, response="GBP 9m.")
    (row,) = trail(c).rows("evaluation_clarifications")
    assert (row["clarification"], row["bidder"], row["issued_by"], row["response"], row["responded_at"]) == (
        "EC001", "cedar", "lead", "GBP 9m.", LATER.isoformat(),
    )


def test_no_personal_data_is_copied():
    c = story.tendered()
    with as_(LEAD, story.AFTER_DEADLINE):
        c.open_tenders(now=story.AFTER_DEADLINE)
        c.appoint_evaluator(
            evaluator="okoro", evaluator_org="ICB-SEL", panel="technical",
            name=PersonalData("okoro", "Dr Ada Okoro"), email=PersonalData("okoro", "ada@example.nhs.uk"),
        )
    text = repr(trail(c).page.store)
    assert "Ada" not in text and "example.nhs.uk" not in text
