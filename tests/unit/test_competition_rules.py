"""The rules of a fair procurement, each tried and refused (domain only: no store, no clock)."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from domain.kernel.errors import DomainError
from domain.kernel.metadata import Actor
from domain.procurement.competition import Competition
from domain.procurement.outcome import agreed_score
from domain.procurement.standstill import standstill_end
from domain.procurement.views import competition_view
from tests.unit.story import (
    AFTER_DEADLINE,
    CRITERIA,
    DEADLINE,
    EVALUATING,
    HEALTHY_ACCOUNTS,
    LEAD,
    LETTERS_SENT,
    PRICES,
    MENSAH,
    OWUSU,
    PATEL,
    THRESHOLDS,
    WEAK_ACCOUNTS,
    as_,
    compliant,
    decided,
    evaluating,
    in_standstill,
    opened,
    score,
    scored,
    sha,
    tendered,
)

UTC = timezone.utc


def pending_count(c: Competition) -> int:
    return len(c.pending_events)


# ---------------------------------------------------------------- tenders, deadline


def test_a_tender_after_the_deadline_is_refused():
    c = opened()
    before = pending_count(c)
    late = DEADLINE + timedelta(minutes=4)
    with as_(Actor(id="bm", org="late-care", role="provider"), late), pytest.raises(DomainError) as err:
        c.submit_tender(bidder="late-care", lots=["NCL"], content_sha256=sha(1), size_bytes=10, now=late)
    assert err.value.code == "tender_deadline_passed"
    assert pending_count(c) == before


def test_a_tender_exactly_at_the_deadline_is_late():
    c = opened()
    with as_(Actor(id="bm", org="x", role="provider"), DEADLINE), pytest.raises(DomainError) as err:
        c.submit_tender(bidder="x", lots=["NCL"], content_sha256=sha(1), size_bytes=10, now=DEADLINE)
    assert err.value.code == "tender_deadline_passed"


def test_a_retried_tender_with_the_same_content_records_nothing_new():
    c = tendered()
    before = pending_count(c)
    at = DEADLINE - timedelta(hours=1)
    with as_(Actor(id="bm", org="aster", role="provider"), at):
        assert c.submit_tender(bidder="aster", lots=["SWL", "NCL"], content_sha256=sha("aster"), size_bytes=1000, now=at) is False
    assert pending_count(c) == before


def test_tenders_cannot_be_opened_before_the_deadline():
    c = tendered()
    early = DEADLINE - timedelta(minutes=1)
    with as_(LEAD, early), pytest.raises(DomainError) as err:
        c.open_tenders(now=early)
    assert err.value.code == "deadline_not_reached"
    assert c.opened_at is None


def test_criteria_and_weights_are_frozen_at_the_tender_deadline():
    c = tendered()
    with as_(LEAD, DEADLINE, reason="rebalance"), pytest.raises(DomainError) as err:
        c.publish_criteria(criteria=CRITERIA, quality_threshold=40, financial_thresholds=THRESHOLDS, reason="rebalance", now=DEADLINE)
    assert err.value.code == "tender_deadline_passed"
    assert c.quality_threshold == 50


def test_criteria_can_be_republished_before_the_deadline_only_with_a_reason():
    c = opened()
    at = DEADLINE - timedelta(days=3)
    with as_(LEAD, at), pytest.raises(DomainError) as err:
        c.publish_criteria(criteria=CRITERIA, quality_threshold=40, financial_thresholds=THRESHOLDS, reason=None, now=at)
    assert err.value.code == "reason_required"
    with as_(LEAD, at, reason="clarified threshold"):
        c.publish_criteria(criteria=CRITERIA, quality_threshold=40, financial_thresholds=THRESHOLDS, reason="x", now=at)
    assert c.criteria_version == 2


def test_weights_must_add_up_to_one_hundred():
    c = opened()
    bad = [dict(CRITERIA[0], weight=50), CRITERIA[1]]
    at = DEADLINE - timedelta(days=3)
    with as_(LEAD, at), pytest.raises(DomainError) as err:
        c.publish_criteria(criteria=bad, quality_threshold=None, financial_thresholds={}, reason="x", now=at)
    assert err.value.code == "weights_not_100"
    assert err.value.field == "criteria"


def test_a_clarification_answer_naming_the_asker_is_refused_because_it_goes_to_all_bidders():
    c = opened()
    at = datetime(2026, 1, 20, tzinfo=UTC)
    with as_(Actor(id="bm", org="laurel-bank-care", role="provider"), at):
        q = c.ask_clarification(bidder="laurel-bank-care", question="Laurel Bank Care asks about FNC", now=at)
    with as_(LEAD, at), pytest.raises(DomainError) as err:
        c.answer_clarification(clarification=q, published_question="Laurel Bank Care asks about FNC", answer="Yes", now=at)
    assert err.value.code == "clarification_not_anonymised"
    with as_(LEAD, at):
        c.answer_clarification(clarification=q, published_question="Is FNC included?", answer="Yes", now=at)
    bidder_view = competition_view(c, Actor(id="bm", org="beech", role="provider"))
    assert bidder_view["clarifications"][q]["asked_by"] == "(anonymised)"
    assert bidder_view["clarifications"][q]["answer"] == "Yes"


def test_a_question_after_the_clarification_deadline_is_refused():
    c = opened()
    at = datetime(2026, 2, 7, tzinfo=UTC)
    with as_(Actor(id="bm", org="x", role="provider"), at), pytest.raises(DomainError) as err:
        c.ask_clarification(bidder="x", question="Late?", now=at)
    assert err.value.code == "clarification_deadline_passed"


# ------------------------------------------------------------------------- scoring


def test_no_score_before_the_tenders_are_opened():
    c = tendered()
    with as_(LEAD, AFTER_DEADLINE):
        c.appoint_evaluator(evaluator=PATEL.id, evaluator_org=PATEL.org, panel="technical")
        c.record_training(evaluator=PATEL.id)
    with pytest.raises(DomainError) as err:
        score(c, PATEL, "aster", "T1", 4, at=AFTER_DEADLINE)
    assert err.value.code == "tenders_not_opened"


def test_an_evaluator_not_on_the_panel_cannot_score():
    c = evaluating()
    with pytest.raises(DomainError) as err:
        score(c, OWUSU, "aster", "T1", 4)
    assert err.value.code == "evaluator_not_on_panel"


def test_an_evaluator_who_was_not_appointed_cannot_score():
    c = evaluating()
    with pytest.raises(DomainError) as err:
        score(c, Actor(id="stranger", org="ICB-SEL", role="evaluator"), "aster", "T1", 4)
    assert err.value.code == "evaluator_not_appointed"


def test_an_untrained_evaluator_cannot_score():
    c = evaluating(train=False)
    with pytest.raises(DomainError) as err:
        score(c, PATEL, "aster", "T1", 4)
    assert err.value.code == "evaluator_not_trained"


def test_an_evaluator_who_has_not_declared_cannot_score():
    c = evaluating(declare=False)
    with pytest.raises(DomainError) as err:
        score(c, PATEL, "aster", "T1", 4)
    assert err.value.code == "conflict_not_declared"


def test_an_evaluator_who_declared_a_conflict_cannot_score_that_bidder():
    c = evaluating()
    before = pending_count(c)
    with pytest.raises(DomainError) as err:
        score(c, MENSAH, "cedar", "T1", 5)
    assert err.value.code == "evaluator_conflicted"
    assert pending_count(c) == before
    score(c, MENSAH, "aster", "T1", 4)  # but may score the others


def test_a_declared_conflict_cannot_be_withdrawn():
    c = evaluating()
    with as_(MENSAH, EVALUATING), pytest.raises(DomainError) as err:
        c.declare_conflicts(evaluator=MENSAH.id, declarations=[{"bidder": "cedar", "conflicted": False, "note": ""}])
    assert err.value.code == "conflict_cannot_be_withdrawn"


def test_a_conflict_declared_after_scoring_voids_that_evaluators_scores_for_the_bidder():
    c = evaluating()
    score(c, PATEL, "beech", "T1", 3)
    with as_(PATEL, EVALUATING):
        c.declare_conflicts(evaluator=PATEL.id, declarations=[{"bidder": "beech", "conflicted": True, "note": "relative"}])
    assert c.counted_scores("beech", "T1") == {}


@pytest.mark.parametrize("value", [-1, 6, 100])
def test_a_score_off_the_published_scale_is_refused(value):
    c = evaluating()
    with pytest.raises(DomainError) as err:
        score(c, PATEL, "aster", "T1", value)
    assert err.value.code == "score_off_scale"
    assert err.value.field == "score"


def test_a_score_without_a_justification_is_refused():
    c = evaluating()
    with as_(PATEL, EVALUATING), pytest.raises(DomainError) as err:
        c.record_score(evaluator=PATEL.id, evaluator_org=PATEL.org, bidder="aster", criterion="T1", score=4, justification="  ", reason=None)
    assert err.value.code == "justification_required"


def test_a_score_against_an_unpublished_criterion_is_refused():
    c = evaluating()
    with pytest.raises(DomainError) as err:
        score(c, PATEL, "aster", "T9", 4)
    assert err.value.code == "unknown_criterion"


def test_changing_a_recorded_score_needs_a_reason():
    c = evaluating()
    score(c, PATEL, "aster", "T1", 4)
    with as_(PATEL, EVALUATING), pytest.raises(DomainError) as err:
        c.record_score(evaluator=PATEL.id, evaluator_org=PATEL.org, bidder="aster", criterion="T1", score=3, justification="Second look at the evidence.", reason=None)
    assert err.value.code == "reason_required"
    with as_(PATEL, EVALUATING, reason="misread the staffing table"):
        c.record_score(evaluator=PATEL.id, evaluator_org=PATEL.org, bidder="aster", criterion="T1", score=3, justification="Second look at the evidence.", reason="misread")
    assert c.scores[("patel", "aster", "T1")]["revision"] == 2


# ------------------------------------------------------------- moderation, outcome


def test_the_outcome_waits_for_every_required_score():
    c = evaluating()
    compliant(c)
    score(c, PATEL, "aster", "T1", 4)
    with as_(LEAD, EVALUATING), pytest.raises(DomainError) as err:
        c.decide_outcome()
    assert err.value.code == "score_missing"
    assert c.outcome is None


def test_scores_spread_beyond_the_configured_amount_must_be_moderated_before_the_outcome():
    c = scored(spread=1)
    with as_(MENSAH, EVALUATING, reason="re-read"):
        c.record_score(evaluator=MENSAH.id, evaluator_org=MENSAH.org, bidder="beech", criterion="T1", score=5, justification="Re-read the evidence.", reason="x")
    with as_(LEAD, EVALUATING), pytest.raises(DomainError) as err:
        c.decide_outcome()
    assert err.value.code == "moderation_missing"
    with as_(LEAD, EVALUATING):
        c.moderate_score(moderator=LEAD.id, bidder="beech", criterion="T1", score=4, rationale="Panel agreed on 4 after discussion.", reason=None)
        c.decide_outcome()
    assert c.outcome["bidders"]["beech"]["scores"]["T1"] == "4.00"


def test_the_agreed_score_is_the_moderated_score_else_the_mean_within_the_spread():
    # One rule, used by the outcome and by the evaluation trail's matrix alike.
    assert agreed_score({}, None, 1) == ("awaiting_scores", None)
    assert agreed_score({"a": 3, "b": 4}, None, 1) == ("agreed", Decimal("3.5"))
    assert agreed_score({"a": 2, "b": 5}, None, 1) == ("needs_moderation", None)
    assert agreed_score({"a": 2, "b": 5}, 4, 1) == ("moderated", Decimal(4))
    assert agreed_score({"a": 2, "b": 5}, None, 3)[0] == "agreed"


def test_individual_scores_close_once_moderated():
    c = scored()
    with as_(LEAD, EVALUATING):
        c.moderate_score(moderator=LEAD.id, bidder="aster", criterion="T1", score=4, rationale="Consensus reached at moderation.", reason=None)
    with pytest.raises(DomainError) as err:
        score(c, PATEL, "aster", "T1", 5)
    assert err.value.code == "already_moderated"


def test_the_outcome_waits_for_compliance_checks_and_financial_assessment():
    c = evaluating()
    with as_(LEAD, EVALUATING), pytest.raises(DomainError) as err:
        c.decide_outcome()
    assert err.value.code == "compliance_check_missing"


def test_the_outcome_waits_for_open_evaluation_clarifications():
    c = scored()
    with as_(LEAD, EVALUATING):
        c.issue_evaluation_clarification(bidder="beech", question="Confirm your turnover.")
        with pytest.raises(DomainError) as err:
            c.decide_outcome()
    assert err.value.code == "evaluation_clarification_open"


def test_outcome_ranks_lots_and_limits_places():
    c = decided()
    lots = c.outcome["lots"]
    assert lots["NCL"]["successful"] == ["cedar", "aster", "beech"]
    assert lots["SWL"]["successful"] == ["cedar"]
    assert lots["SWL"]["unsuccessful"]["aster"] == ["ranked 2, below the 1 place(s) available"]
    assert c.outcome["bidders"]["aster"]["weighted_score"] == "84.00"


def test_a_failed_compliance_check_makes_the_bidder_unsuccessful():
    c = evaluating()
    compliant(c, failing=("beech", "insurance"))
    for bidder, crit, p, m in [("aster", "T1", 4, 4), ("aster", "T2", 4, 4), ("cedar", "T1", 5, None), ("cedar", "T2", 4, None)]:
        score(c, PATEL, bidder, crit, p)
        if m:
            score(c, MENSAH, bidder, crit, m)
    with as_(OWUSU, EVALUATING):
        for b in ("aster", "cedar"):
            c.assess_finances(evaluator=OWUSU.id, evaluator_org=OWUSU.org, bidder=b, credit_score=70, accounts=HEALTHY_ACCOUNTS, offered_prices=PRICES)
    with as_(LEAD, EVALUATING):
        c.decide_outcome()
    assert "beech" in c.outcome["lots"]["NCL"]["unsuccessful"]
    assert c.outcome["bidders"]["beech"]["reasons"] == ["compliance: insurance failed (lapsed)"]


def test_weak_finances_need_an_executed_parent_company_guarantee():
    c = evaluating()
    compliant(c)
    for bidder, crit, p, m in [("aster", "T1", 4, 4), ("aster", "T2", 4, 4), ("beech", "T1", 3, 3), ("beech", "T2", 3, 3), ("cedar", "T1", 5, None), ("cedar", "T2", 4, None)]:
        score(c, PATEL, bidder, crit, p)
        if m:
            score(c, MENSAH, bidder, crit, m)
    with as_(OWUSU, EVALUATING):
        c.assess_finances(evaluator=OWUSU.id, evaluator_org=OWUSU.org, bidder="aster", credit_score=70, accounts=WEAK_ACCOUNTS, offered_prices=PRICES)
        c.assess_finances(evaluator=OWUSU.id, evaluator_org=OWUSU.org, bidder="beech", credit_score=30, accounts=HEALTHY_ACCOUNTS, offered_prices=PRICES)
        c.assess_finances(evaluator=OWUSU.id, evaluator_org=OWUSU.org, bidder="cedar", credit_score=70, accounts=HEALTHY_ACCOUNTS, offered_prices={"SWL": 10_000_001})
    assert c.financial["aster"]["result"] == "pcg_required"
    assert c.financial["aster"]["ratios"]["current_ratio"] == "0.5000"
    with as_(LEAD, EVALUATING):
        c.offer_guarantee(bidder="aster", guarantor="Aster Holdings plc", guarantor_company_number="01234567")
        c.execute_guarantee(bidder="aster", document_sha256=sha("pcg"))
        c.decide_outcome()
    assert c.outcome["bidders"]["aster"]["financial"] == "pass_with_guarantee"
    assert "beech" in c.outcome["lots"]["NCL"]["unsuccessful"]  # no guarantee
    assert c.outcome["lots"]["SWL"]["unsuccessful"]["cedar"][0].startswith("price: offered price 10000001 exceeds")


# --------------------------------------------------------- letters, standstill, award


def test_letters_to_unsuccessful_bidders_must_give_the_relative_advantages():
    c = decided()
    with as_(LEAD, LETTERS_SENT), pytest.raises(DomainError) as err:
        c.issue_outcome_letters(relative_advantages={}, now=LETTERS_SENT)
    assert err.value.code == "relative_advantages_required"


def test_outcome_letters_carry_the_scores_the_winner_and_the_exact_standstill_end():
    c = in_standstill()
    letter = next(l for l in c.letters["letters"] if l["bidder"] == "aster")
    swl = letter["lots"]["SWL"]
    assert swl["result"] == "unsuccessful"
    assert swl["successful_bidders"][0]["bidder"] == "cedar"
    assert swl["successful_bidders"][0]["scores"] == {"T1": "5.00", "T2": "4.00"}
    assert swl["relative_advantages"] == "Higher quality scores."
    assert letter["scores"] == {"T1": "4.00", "T2": "4.50"}
    # Letters on Wednesday 1 April 2026: day 10 is Saturday 11 April, so the standstill runs
    # to Monday 13 April and ends at midnight London time (BST).
    assert c.standstill["last_day"] == "2026-04-13"
    assert letter["standstill_ends_at"] == "2026-04-14T00:00:00+01:00"


def test_no_award_before_the_standstill_ends():
    c = in_standstill()
    last_minute = datetime(2026, 4, 13, 22, 59, tzinfo=UTC)  # 23:59 BST on the last day
    with as_(LEAD, last_minute), pytest.raises(DomainError) as err:
        c.conclude_award(now=last_minute)
    assert err.value.code == "standstill_not_ended"
    at = datetime(2026, 4, 13, 23, 0, tzinfo=UTC)
    with as_(LEAD, at):
        c.conclude_award(now=at)
    assert c.status == "awarded"
    assert c.award["awards"]["SWL"] == ["cedar"]


def test_no_award_while_a_challenge_is_open():
    c = in_standstill()
    with as_(LEAD, datetime(2026, 4, 8, tzinfo=UTC)):
        ch = c.receive_challenge(bidder="aster", kind="challenge", grounds="Scoring of T2 was inconsistent.")
    later = datetime(2026, 4, 20, tzinfo=UTC)
    with as_(LEAD, later), pytest.raises(DomainError) as err:
        c.conclude_award(now=later)
    assert err.value.code == "challenge_open"
    with as_(LEAD, later):
        c.resolve_challenge(challenge=ch, outcome="dismissed", decision="Scores were moderated consistently.", now=later)
        c.conclude_award(now=later)
    assert c.status == "awarded"


def test_an_upheld_challenge_reopens_the_evaluation():
    c = in_standstill()
    at = datetime(2026, 4, 8, tzinfo=UTC)
    with as_(LEAD, at):
        ch = c.receive_challenge(bidder="aster", kind="challenge", grounds="Scoring of T2 was inconsistent.")
        c.resolve_challenge(challenge=ch, outcome="upheld", decision="T2 to be re-moderated.", now=at)
    assert c.status == "evaluation" and c.outcome is None and c.standstill is None
    later = datetime(2026, 5, 1, tzinfo=UTC)
    with as_(LEAD, later), pytest.raises(DomainError) as err:
        c.conclude_award(now=later)
    assert err.value.code == "standstill_not_started"


@pytest.mark.parametrize(
    ("regime", "sent", "last_day"),
    [
        # PCR 2015: 10 days, ending on a working day.
        ("pcr2015", datetime(2026, 4, 1, 10, tzinfo=UTC), date(2026, 4, 13)),
        ("pcr2015", datetime(2026, 3, 20, 10, tzinfo=UTC), date(2026, 3, 30)),  # Monday: no extension
        ("pcr2015", datetime(2026, 12, 16, 10, tzinfo=UTC), date(2026, 12, 29)),  # 26th Sat, 28th substitute Boxing Day
        # Easter 2026 is 3 and 6 April.
        # Procurement Act 2023 s.51: 8 working days beginning with the day of the notice.
        ("pa2023", datetime(2026, 3, 31, 10, tzinfo=UTC), date(2026, 4, 13)),
        ("pa2023", datetime(2026, 3, 2, 10, tzinfo=UTC), date(2026, 3, 11)),
        ("pa2023", datetime(2026, 3, 28, 10, tzinfo=UTC), date(2026, 4, 10)),  # a Saturday: Monday is day 1
        # PSR 2024 reg 12: 8 working days from the day after.
        ("psr2024", datetime(2026, 3, 31, 10, tzinfo=UTC), date(2026, 4, 14)),
        # 23:30 UTC on 31 March is already 1 April in London.
        ("pa2023", datetime(2026, 3, 31, 23, 30, tzinfo=UTC), date(2026, 4, 14)),
    ],
)
def test_standstill_periods_follow_each_regime(regime, sent, last_day):
    assert standstill_end(regime, sent)[0] == last_day


def test_a_psr_representation_keeps_the_standstill_open_then_five_more_working_days():
    c = in_standstill("psr2024")
    with as_(LEAD, LETTERS_SENT):
        c.publish_notice(notice_type="psr_intention_to_award", notice_reference="FTS-PSR-1", published_on=LETTERS_SENT.date(), now=LETTERS_SENT)
    # Notice on Wednesday 1 April: 8 working days skipping Good Friday and Easter Monday.
    assert c.standstill["last_day"] == "2026-04-15"
    with as_(LEAD, datetime(2026, 4, 9, tzinfo=UTC)):
        rep = c.receive_challenge(bidder="aster", kind="representation", grounds="Please review the T2 scores.")
    decided_at = datetime(2026, 4, 21, 10, tzinfo=UTC)  # a Tuesday
    with as_(LEAD, decided_at):
        c.resolve_challenge(challenge=rep, outcome="dismissed", decision="Reviewed; the decision stands.", now=decided_at)
    assert c.standstill["last_day"] == "2026-04-28"
    with as_(LEAD, datetime(2026, 4, 28, 12, tzinfo=UTC)), pytest.raises(DomainError) as err:
        c.conclude_award(now=datetime(2026, 4, 28, 12, tzinfo=UTC))
    assert err.value.code == "standstill_not_ended"


def test_a_cancelled_competition_refuses_further_commands():
    c = tendered()
    with as_(LEAD, AFTER_DEADLINE), pytest.raises(DomainError) as err:
        c.cancel(reason=None)
    assert err.value.code == "reason_required"
    with as_(LEAD, AFTER_DEADLINE, reason="budget withdrawn"):
        c.cancel(reason="budget withdrawn")
    with as_(LEAD, AFTER_DEADLINE), pytest.raises(DomainError) as err:
        c.open_tenders(now=AFTER_DEADLINE)
    assert err.value.code == "competition_cancelled"


def test_history_cannot_be_recorded_earlier_than_the_last_change():
    c = tendered()
    earlier = datetime(2026, 1, 1, tzinfo=UTC)
    with as_(LEAD, earlier), pytest.raises(DomainError) as err:
        c.publish_document(document="X", title="x", sha256=sha(9), size_bytes=1, now=earlier)
    assert err.value.code == "time_before_last_change"


# ------------------------------------------- holes found in review, each closed


def test_an_evaluator_from_a_bidders_own_organisation_cannot_evaluate_it_and_appointment_reveals_nothing():
    c = tendered()
    spy = Actor(id="spy", org="aster", role="evaluator")
    with as_(LEAD, AFTER_DEADLINE):
        # Appointing someone from a bidder is not refused before opening: that would
        # tell the authority who has tendered.
        c.appoint_evaluator(evaluator=spy.id, evaluator_org=spy.org, panel="technical")
        c.open_tenders(now=AFTER_DEADLINE)
        c.record_training(evaluator=spy.id)
    with as_(spy, AFTER_DEADLINE):
        c.declare_conflicts(evaluator=spy.id, declarations=[{"bidder": "aster", "conflicted": False, "note": ""}])
    with pytest.raises(DomainError) as err:
        score(c, spy, "aster", "T1", 5)
    assert err.value.code == "evaluator_from_bidder"


def test_an_evaluator_acting_for_another_organisation_than_appointed_is_refused():
    c = evaluating()
    with pytest.raises(DomainError) as err:
        score(c, Actor(id=PATEL.id, org="aster", role="evaluator"), "beech", "T1", 3)
    assert err.value.code == "evaluator_org_mismatch"


def test_a_conflict_cannot_be_declared_and_withdrawn_in_one_command():
    c = evaluating(declare=False)
    with as_(PATEL, AFTER_DEADLINE), pytest.raises(DomainError) as err:
        c.declare_conflicts(
            evaluator=PATEL.id,
            declarations=[
                {"bidder": "aster", "conflicted": True, "note": "sister"},
                {"bidder": "aster", "conflicted": False, "note": ""},
            ],
        )
    assert err.value.code == "duplicate_bidder"


def test_moderation_waits_for_every_panel_members_score():
    c = evaluating()
    compliant(c)
    score(c, PATEL, "aster", "T1", 4)
    with as_(LEAD, EVALUATING), pytest.raises(DomainError) as err:
        c.moderate_score(moderator=LEAD.id, bidder="aster", criterion="T1", score=4, rationale="Consensus at the meeting.", reason=None)
    assert err.value.code == "score_missing"


def test_other_bidders_never_see_the_askers_own_wording():
    c = opened()
    at = datetime(2026, 1, 20, tzinfo=UTC)
    with as_(Actor(id="bm", org="aster", role="provider"), at):
        q = c.ask_clarification(bidder="aster", question="We run 4 homes in Barnet; may we bid for them all?", now=at)
    with as_(LEAD, at):
        c.answer_clarification(clarification=q, published_question="May a provider bid several homes?", answer="Yes", now=at)
    for viewer in (Actor(id="x", org="beech", role="provider"), Actor(id="y", org="ICB-NCL", role="commissioner")):
        record = competition_view(c, viewer)["clarifications"][q]
        assert record["question"] == "May a provider bid several homes?"
        assert "Barnet" not in str(record)
    own = competition_view(c, Actor(id="bm", org="aster", role="provider"))["clarifications"][q]
    assert "Barnet" in own["question"]


def test_a_standstill_beyond_the_shipped_calendar_is_refused_not_a_crash():
    c = decided("pa2023")
    beyond = datetime(2030, 12, 27, 10, tzinfo=UTC)
    with as_(LEAD, beyond), pytest.raises(DomainError) as err:
        c.issue_outcome_letters(relative_advantages={"SWL": "x"}, now=beyond)
    assert err.value.code == "calendar_not_covered"


def test_conflict_declarations_and_training_close_with_the_outcome():
    c = in_standstill()
    with as_(MENSAH, LETTERS_SENT), pytest.raises(DomainError) as err:
        c.declare_conflicts(evaluator=MENSAH.id, declarations=[{"bidder": "aster", "conflicted": True, "note": ""}])
    assert err.value.code == "evaluation_closed"
    with as_(LEAD, LETTERS_SENT), pytest.raises(DomainError) as err:
        c.record_training(evaluator="someone")
    assert err.value.code == "evaluation_closed"


def test_only_a_bidder_in_the_outcome_can_challenge_it():
    c = in_standstill()
    with as_(LEAD, datetime(2026, 4, 8, tzinfo=UTC)), pytest.raises(DomainError) as err:
        c.receive_challenge(bidder="withdrawn-care", kind="challenge", grounds="We would have won.")
    assert err.value.code == "unknown_bidder"


def test_no_outcome_without_live_tenders():
    c = opened()
    with as_(LEAD, AFTER_DEADLINE):
        c.open_tenders(now=AFTER_DEADLINE)
        with pytest.raises(DomainError) as err:
            c.decide_outcome()
    assert err.value.code == "no_tenders"


def test_a_bid_for_a_capped_lot_needs_its_offered_price():
    c = evaluating()
    with as_(OWUSU, EVALUATING), pytest.raises(DomainError) as err:
        c.assess_finances(
            evaluator=OWUSU.id, evaluator_org=OWUSU.org, bidder="aster", credit_score=70, accounts=HEALTHY_ACCOUNTS, offered_prices={}
        )
    assert err.value.code == "price_required"


def test_a_conflicted_evaluator_sees_nothing_of_that_bidder_in_compliance_either():
    c = scored()
    compliant(c)
    view = competition_view(c, MENSAH)
    assert "cedar" not in view["compliance"] and "aster" in view["compliance"]


def test_an_evaluator_on_no_panel_of_the_competition_sees_none_of_the_bids():
    c = scored()
    outsider = Actor(id="r.hughes", org="ICB-SWL", role="evaluator")
    view = competition_view(c, outsider)
    assert view["tenders"] is None and view["scores"] is None and view["financial"] is None
    assert view["title"] == c.title and view["criteria"]["criteria"]
    # The same person id acting for another organisation is not the appointed evaluator.
    impostor = Actor(id=PATEL.id, org="ICB-SWL", role="evaluator")
    assert competition_view(c, impostor)["scores"] is None
