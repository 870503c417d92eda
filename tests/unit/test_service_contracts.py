"""Service contracts (seed 002, the NHS England call-off): milestones, highlight reports,
payments against a value cap and the risk register; and the escalation rules of seed 004.
Each rule is tried and refused (domain only: no store, no clock)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import msgspec
import pytest

from domain.contracts import commands as k
from domain.contracts.contract import Contract
from domain.contracts.delivery import DELIVERY_CONFIDENCE, RISK_MATRIX, risk_rating
from domain.contracts.framework import Framework
from domain.contracts.views import contract_state
from domain.kernel.errors import DomainError
from domain.kernel.metadata import Actor
from tests.unit.story import as_

NHSE = Actor(id="cm-nhse", org="NHSE", role="contract_manager")
AT = datetime(2016, 10, 17, 9, tzinfo=timezone.utc)
START, END = date(2016, 10, 17), date(2017, 3, 31)
CAP = 10_000_000  # GBP 100k a lot


def framework() -> Framework:
    with as_(NHSE, AT):
        return Framework.establish(
            reference="NHSE-ICS-2016",
            title="Enhanced support to the independent care sector",
            kind="services",
            lots=[
                {"id": "NORTH", "name": "North", "value_cap_pence": CAP},
                {"id": "LONDON", "name": "London", "value_cap_pence": CAP},
            ],
            commissioners=[{"org": "NHSE", "kind": "nhs_england", "directorates": []}],
            starts_on=date(2016, 10, 1),
            ends_on=date(2017, 9, 30),
            max_extension_months=6,
            max_extension_value_percent=10,
            regime="pcr2015",
            ladder=["remedial_notice", "termination"],
            monitoring={},
        )


def contract(value: int = CAP, f: Framework | None = None) -> Contract:
    with as_(NHSE, AT):
        return Contract.award(
            reference="NHSE-ICS-2016/NORTH/forum-partners",
            framework=f or framework(),
            competition="NHSE-ICS-CALL-OFF",
            lot="NORTH",
            provider="forum-partners",
            value=value,
            starts_on=START,
            ends_on=END,
        )


def refused(code: str, action) -> None:
    with as_(NHSE, AT), pytest.raises(DomainError) as err:
        action()
    assert err.value.code == code, err.value.message


def with_milestones(value: int = CAP) -> Contract:
    """D1 (draft 3 weeks, final 4 weeks, GBP 10k) and D2 (7 and 8 weeks, GBP 15k)."""
    c = contract(value)
    with as_(NHSE, AT):
        c.add_milestone(milestone="D1", title="Directory of care sector forums", phase="I", draft_due=date(2016, 11, 7),
                        final_due=date(2016, 11, 14), payment=1_000_000)
        c.add_milestone(milestone="D2", title="Results of forum assessment", phase="II", draft_due=date(2016, 12, 5),
                        final_due=date(2016, 12, 12), payment=1_500_000)
    return c


def accepted(c: Contract, milestone: str = "D1") -> Contract:
    with as_(NHSE, AT):
        c.submit_deliverable(milestone=milestone, version="draft", submitted_on=date(2016, 11, 7), document_sha256=None)
        c.submit_deliverable(milestone=milestone, version="final", submitted_on=date(2016, 11, 14), document_sha256=None)
        c.accept_milestone(milestone=milestone, accepted_on=date(2016, 11, 18))
    return c


# ------------------------------------------------------------------------ award


def test_a_contract_may_not_be_worth_more_than_its_lots_cap():
    f = framework()
    with as_(NHSE, AT), pytest.raises(DomainError) as err:
        Contract.award(reference="X", framework=f, competition="C", lot="NORTH", provider="p", value=CAP + 1, starts_on=START, ends_on=END)
    assert err.value.code == "value_over_lot_cap"
    assert contract(CAP).value == CAP


# ------------------------------------------------------------------- milestones


def test_a_milestone_is_added_once_with_its_draft_before_its_final_and_within_the_term():
    c = with_milestones()
    refused("milestone_exists", lambda: c.add_milestone(milestone="D1", title="x", phase="I", draft_due=None, final_due=END, payment=0))
    refused(
        "draft_after_final",
        lambda: c.add_milestone(milestone="D3", title="x", phase="II", draft_due=date(2017, 1, 10), final_due=date(2017, 1, 9), payment=0),
    )
    refused(
        "milestone_outside_term",
        lambda: c.add_milestone(milestone="D3", title="x", phase="II", draft_due=None, final_due=date(2017, 4, 3), payment=0),
    )
    state = contract_state(c)["milestones"]["D1"]
    assert state["baseline"] == state["forecast"] == "2016-11-14" and state["status"] == "planned"


def test_the_payment_plan_may_not_exceed_the_contracts_value():
    c = with_milestones(value=3_000_000)
    refused(
        "payment_plan_over_value",
        lambda: c.add_milestone(milestone="D3", title="Best practice paper", phase="II", draft_due=None, final_due=date(2017, 1, 9),
                                payment=500_001),
    )
    with as_(NHSE, AT):
        c.add_milestone(milestone="D3", title="Best practice paper", phase="II", draft_due=None, final_due=date(2017, 1, 9), payment=500_000)
    assert contract_state(c)["payments"]["planned"] == 3_000_000


def test_a_final_deliverable_follows_its_draft_and_waits_for_review():
    c = with_milestones()
    refused("draft_required", lambda: c.submit_deliverable(milestone="D1", version="final", submitted_on=date(2016, 11, 14), document_sha256=None))
    with as_(NHSE, AT):
        c.submit_deliverable(milestone="D1", version="draft", submitted_on=date(2016, 11, 9), document_sha256=None)
        c.submit_deliverable(milestone="D1", version="final", submitted_on=date(2016, 11, 14), document_sha256=None)
    refused("already_delivered", lambda: c.submit_deliverable(milestone="D1", version="final", submitted_on=date(2016, 11, 15), document_sha256=None))
    refused("unknown_milestone", lambda: c.submit_deliverable(milestone="D9", version="draft", submitted_on=date(2016, 11, 15), document_sha256=None))
    submissions = contract_state(c)["milestones"]["D1"]["submissions"]
    assert [(s["version"], s["late"]) for s in submissions] == [("draft", True), ("final", False)]
    assert contract_state(c)["milestones"]["D1"]["status"] == "delivered"


def test_a_milestone_is_accepted_only_once_delivered_and_not_before_its_delivery_date():
    c = with_milestones()
    refused("milestone_not_delivered", lambda: c.accept_milestone(milestone="D1", accepted_on=date(2016, 11, 18)))
    with as_(NHSE, AT):
        c.submit_deliverable(milestone="D1", version="draft", submitted_on=date(2016, 11, 7), document_sha256=None)
        c.submit_deliverable(milestone="D1", version="final", submitted_on=date(2016, 11, 14), document_sha256=None)
    refused("accepted_before_delivery", lambda: c.accept_milestone(milestone="D1", accepted_on=date(2016, 11, 13)))
    with as_(NHSE, AT):
        c.accept_milestone(milestone="D1", accepted_on=date(2016, 11, 18))
    refused("milestone_accepted", lambda: c.accept_milestone(milestone="D1", accepted_on=date(2016, 11, 19)))
    refused("milestone_accepted", lambda: c.submit_deliverable(milestone="D1", version="draft", submitted_on=date(2016, 11, 20), document_sha256=None))


def test_a_returned_deliverable_needs_a_reason_and_is_resubmitted():
    c = with_milestones()
    refused("milestone_not_delivered", lambda: c.return_deliverable(milestone="D1", returned_on=date(2016, 11, 15), reason="Incomplete"))
    with as_(NHSE, AT):
        c.submit_deliverable(milestone="D1", version="draft", submitted_on=date(2016, 11, 7), document_sha256=None)
        c.submit_deliverable(milestone="D1", version="final", submitted_on=date(2016, 11, 14), document_sha256=None)
    refused("reason_required", lambda: c.return_deliverable(milestone="D1", returned_on=date(2016, 11, 15), reason=None))
    with as_(NHSE, AT):
        c.return_deliverable(milestone="D1", returned_on=date(2016, 11, 15), reason="The directory misses the chairs of 12 forums.")
        c.submit_deliverable(milestone="D1", version="final", submitted_on=date(2016, 11, 21), document_sha256=None)
        c.accept_milestone(milestone="D1", accepted_on=date(2016, 11, 22))
    state = contract_state(c)["milestones"]["D1"]
    assert state["status"] == "accepted" and len(state["returns"]) == 1 and state["submissions"][-1]["late"] is True


def test_no_milestone_is_added_to_an_ended_contract():
    c = with_milestones()
    with as_(NHSE, AT):
        c.terminate(reason_kind="mutual_agreement", effective_on=date(2016, 12, 1), reason="Lot merged into Midlands and East")
    refused("contract_ended", lambda: c.add_milestone(milestone="D3", title="x", phase="II", draft_due=None, final_due=END, payment=0))


# ------------------------------------------------------------- highlight reports


def test_delivery_confidence_uses_the_seeds_five_definitions():
    assert [(code, name) for code, (name, _) in DELIVERY_CONFIDENCE.items()] == [
        ("G", "Green"), ("A/G", "Amber/Green"), ("A", "Amber"), ("A/R", "Amber/Red"), ("R", "Red"),
    ]
    assert DELIVERY_CONFIDENCE["A/R"][1].startswith("Successful delivery is in doubt with major risks or issues")
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"milestone": "D1", "confidence": "Amber"}, k.HighlightItem)


def report(c: Contract, period_ending: date, items: list[dict], overall: str = "G", rationale: str = "") -> None:
    c.submit_highlight_report(period_ending=period_ending, overall_confidence=overall, rationale=rationale, items=items, summary="")


GREEN = [{"milestone": "D1", "confidence": "G"}, {"milestone": "D2", "confidence": "G"}]


def test_a_highlight_report_rates_every_open_milestone_once():
    c = with_milestones()
    refused("milestone_not_reported", lambda: report(c, date(2016, 10, 28), GREEN[:1]))
    refused("duplicate_milestone", lambda: report(c, date(2016, 10, 28), [*GREEN, GREEN[0]]))
    refused("unknown_milestone", lambda: report(c, date(2016, 10, 28), [*GREEN, {"milestone": "D9", "confidence": "G"}]))
    refused("unknown_confidence", lambda: report(c, date(2016, 10, 28), GREEN, overall="Purple"))
    accepted(c, "D1")
    with as_(NHSE, AT):
        report(c, date(2016, 10, 28), GREEN[1:])  # D1 is accepted: no longer rated
    assert contract_state(c)["highlight_reports"][0]["overall_confidence"] == {"code": "G", "name": "Green"}


def test_a_rating_below_green_or_a_slipped_forecast_needs_its_rationale():
    c = with_milestones()
    amber = [GREEN[0], {"milestone": "D2", "confidence": "A/G"}]
    refused("rationale_required", lambda: report(c, date(2016, 10, 28), amber))
    slipped = [GREEN[0], {"milestone": "D2", "confidence": "G", "forecast": "2016-12-19"}]
    refused("rationale_required", lambda: report(c, date(2016, 10, 28), slipped))
    refused("rationale_required", lambda: report(c, date(2016, 10, 28), GREEN, overall="A"))
    with as_(NHSE, AT):
        report(c, date(2016, 10, 28), [GREEN[0], {"milestone": "D2", "confidence": "A/G", "forecast": date(2016, 12, 19),
                                                  "rationale": "Survey response rate low in the North East."}])
    d2 = contract_state(c)["milestones"]["D2"]
    assert d2["baseline"] == "2016-12-12" and d2["forecast"] == "2016-12-19"
    assert d2["confidence"] == {"code": "A/G", "name": "Amber/Green"}


def test_highlight_reports_follow_a_fortnightly_cycle_from_the_first():
    c = with_milestones()
    refused("report_before_start", lambda: report(c, date(2016, 10, 14), GREEN))
    with as_(NHSE, AT):
        report(c, date(2016, 10, 28), GREEN)
    refused("not_fortnightly", lambda: report(c, date(2016, 11, 4), GREEN))
    refused("report_not_later", lambda: report(c, date(2016, 10, 28), GREEN))
    with as_(NHSE, AT):
        report(c, date(2016, 11, 11), GREEN)
        report(c, date(2016, 12, 9), GREEN)  # the fortnight ending 25 November was missed: a gap, not a refusal
    refused("report_not_later", lambda: report(c, date(2016, 11, 25), GREEN))
    assert [r["period_ending"] for r in contract_state(c)["highlight_reports"]] == ["2016-10-28", "2016-11-11", "2016-12-09"]


# ---------------------------------------------------------------------- payments


def test_a_payment_is_made_only_against_an_accepted_milestone():
    c = with_milestones()
    refused("milestone_not_accepted", lambda: c.record_payment(payment="P1", milestone="D1", amount=1_000_000, paid_on=date(2016, 11, 30)))
    refused("unknown_milestone", lambda: c.record_payment(payment="P1", milestone="D9", amount=1, paid_on=date(2016, 11, 30)))
    accepted(c)
    refused("amount_not_positive", lambda: c.record_payment(payment="P1", milestone="D1", amount=0, paid_on=date(2016, 11, 30)))
    with as_(NHSE, AT):
        c.record_payment(payment="P1", milestone="D1", amount=1_000_000, paid_on=date(2016, 11, 30))
    assert contract_state(c)["payments"]["paid"] == 1_000_000


def test_no_milestone_is_paid_more_than_its_amount():
    c = accepted(with_milestones())
    with as_(NHSE, AT):
        c.record_payment(payment="P1", milestone="D1", amount=600_000, paid_on=date(2016, 11, 30))
    refused("payment_over_milestone", lambda: c.record_payment(payment="P2", milestone="D1", amount=400_001, paid_on=date(2016, 12, 30)))
    with as_(NHSE, AT):
        c.record_payment(payment="P2", milestone="D1", amount=400_000, paid_on=date(2016, 12, 30))
    assert contract_state(c)["milestones"]["D1"]["paid"] == 1_000_000


def test_total_payments_never_exceed_the_contracts_value():
    c = contract(value=2_000_000)
    with as_(NHSE, AT):
        c.add_milestone(milestone="D1", title="Directory", phase="I", draft_due=None, final_due=date(2016, 11, 14), payment=2_000_000)
        c.submit_deliverable(milestone="D1", version="final", submitted_on=date(2016, 11, 14), document_sha256=None)
        c.accept_milestone(milestone="D1", accepted_on=date(2016, 11, 18))
        c.record_payment(payment="P1", milestone="D1", amount=1_500_000, paid_on=date(2016, 11, 30))
        # A scope reduction lowers the value below what the plan would pay.
        c.vary(kind="scope", ground="pcr2015_reg72_1_e", value_change=-400_000, effective_from=date(2016, 12, 1),
               rationale="Lot reduced: the London forums are supported by the London lot.")
    refused("payment_over_cap", lambda: c.record_payment(payment="P2", milestone="D1", amount=500_000, paid_on=date(2016, 12, 30)))
    with as_(NHSE, AT):
        c.record_payment(payment="P2", milestone="D1", amount=100_000, paid_on=date(2016, 12, 30))
    assert contract_state(c)["payments"] | {"records": None} == {
        "value_cap": 1_600_000, "planned": 2_000_000, "paid": 1_600_000, "remaining": 0, "records": None,
    }


def test_a_payment_recorded_twice_is_recorded_once_and_its_id_is_not_reused():
    c = accepted(with_milestones())
    with as_(NHSE, AT):
        c.record_payment(payment="P1", milestone="D1", amount=1_000_000, paid_on=date(2016, 11, 30))
        c.record_payment(payment="P1", milestone="D1", amount=1_000_000, paid_on=date(2016, 11, 30))
    refused("payment_exists", lambda: c.record_payment(payment="P1", milestone="D1", amount=1, paid_on=date(2016, 12, 1)))
    assert contract_state(c)["payments"]["paid"] == 1_000_000 and len(c.pending_events) == 7


def test_an_extension_raises_the_cap_and_work_accepted_in_term_is_paid_after_expiry():
    f = framework()
    c = contract(f=f)
    with as_(NHSE, AT):
        c.add_milestone(milestone="D7", title="Final report", phase="III", draft_due=date(2017, 3, 20), final_due=date(2017, 3, 27),
                        payment=CAP)
    refused("payment_plan_over_value",
            lambda: c.add_milestone(milestone="D8", title="Extra forums", phase="III", draft_due=None, final_due=END, payment=1))
    with as_(NHSE, AT):
        c.extend(framework=f, months=6, value_change=CAP // 10, rationale="Phase III extended to support 10 more forums.")
        c.add_milestone(milestone="D8", title="Extra forums", phase="III", draft_due=None, final_due=date(2017, 9, 29), payment=CAP // 10)
        c.submit_deliverable(milestone="D7", version="draft", submitted_on=date(2017, 3, 20), document_sha256=None)
        c.submit_deliverable(milestone="D7", version="final", submitted_on=date(2017, 3, 27), document_sha256=None)
        c.expire(today=date(2017, 10, 1))
        c.accept_milestone(milestone="D7", accepted_on=date(2017, 10, 2))
        c.record_payment(payment="P7", milestone="D7", amount=CAP, paid_on=date(2017, 10, 20))
    assert contract_state(c)["payments"]["value_cap"] == 11_000_000 and c.status == "expired"


# ----------------------------------------------------------------- risk register


def test_the_risk_matrix_is_the_seeds():
    # Seed 002 control sheet: impact rows 5 (Very High) down to 1, likelihood columns 1 to 5.
    assert RISK_MATRIX[5] == ("A", "A/R", "R", "R", "R")
    assert RISK_MATRIX[1] == ("G", "G", "G", "G", "G")
    assert risk_rating(impact=3, likelihood=1) == "A/G" and risk_rating(impact=2, likelihood=4) == "A"
    assert risk_rating(impact=4, likelihood=3) == "A/R" and risk_rating(impact=4, likelihood=4) == "R"
    with pytest.raises(DomainError) as err:
        risk_rating(impact=6, likelihood=1)
    assert err.value.code == "score_out_of_range"


def raise_risk(c: Contract, risk: str = "R1", impact: int = 4, likelihood: int = 3, mitigation: str = "Weekly calls with leads") -> None:
    c.raise_risk(risk=risk, description="Forum chairs unavailable over winter", impact=impact, likelihood=likelihood,
                 owner_role="provider programme lead", mitigation=mitigation, raised_on=date(2016, 11, 1))


def test_a_risk_rated_above_green_needs_its_mitigation_and_ids_are_unique():
    c = contract()
    refused("mitigation_required", lambda: raise_risk(c, mitigation=" "))
    refused("score_out_of_range", lambda: raise_risk(c, impact=0))
    with as_(NHSE, AT):
        raise_risk(c, "R0", impact=1, likelihood=5, mitigation="")  # Green: none needed
        raise_risk(c)
    refused("risk_exists", lambda: raise_risk(c))
    risks = contract_state(c)["risks"]
    assert risks["R1"]["rating"] == {"code": "A/R", "name": "Amber/Red"} and risks["R0"]["rating"]["code"] == "G"


def test_a_risk_is_rescored_with_progress_and_closed_with_a_reason():
    c = contract()
    refused("unknown_risk", lambda: c.close_risk(risk="R1", closed_on=date(2016, 12, 1), reason="Passed"))
    with as_(NHSE, AT):
        raise_risk(c)
    refused("nothing_to_update", lambda: c.update_risk(risk="R1", impact=None, likelihood=None, owner_role=None, mitigation=None,
                                                       progress="", updated_on=date(2016, 11, 15)))
    refused("mitigation_required", lambda: c.update_risk(risk="R1", impact=None, likelihood=None, owner_role=None, mitigation="",
                                                         progress="x", updated_on=date(2016, 11, 15)))
    refused("date_before_raised", lambda: c.update_risk(risk="R1", impact=None, likelihood=2, owner_role=None, mitigation=None,
                                                        progress="x", updated_on=date(2016, 10, 31)))
    with as_(NHSE, AT):
        c.update_risk(risk="R1", impact=None, likelihood=1, owner_role=None, mitigation=None,
                      progress="Deputy chairs nominated in 9 of 11 areas.", updated_on=date(2016, 11, 15))
    assert contract_state(c)["risks"]["R1"]["rating"]["code"] == "A"
    refused("reason_required", lambda: c.close_risk(risk="R1", closed_on=date(2016, 12, 1), reason=None))
    with as_(NHSE, AT):
        c.close_risk(risk="R1", closed_on=date(2016, 12, 1), reason="Winter meetings scheduled with deputies.")
    refused("risk_closed", lambda: c.close_risk(risk="R1", closed_on=date(2016, 12, 2), reason="again"))
    refused("risk_closed", lambda: c.update_risk(risk="R1", impact=5, likelihood=None, owner_role=None, mitigation=None,
                                                 progress="", updated_on=date(2016, 12, 2)))
    assert contract_state(c)["risks"]["R1"]["status"] == "closed"


# ------------------------------------------------------ escalation (seed 004)


def nottingham_contract() -> Contract:
    with as_(NHSE, AT):
        f = Framework.establish(
            reference="NCC-RES", title="Nottingham City residential care", kind="care_homes", lots=[{"id": "CITY", "name": "City"}],
            commissioners=[{"org": "NCC", "kind": "council", "directorates": []}], starts_on=date(2016, 4, 1), ends_on=date(2020, 3, 31),
            max_extension_months=0, max_extension_value_percent=None, regime="pcr2015", ladder="nottingham", monitoring={},
        )
        c = Contract.award(reference="NCC-RES/1", framework=f, competition="NCC", lot="CITY", provider="p", value=1,
                           starts_on=date(2016, 4, 1), ends_on=date(2020, 3, 31))
        c.escalate(to_stage="requirement_to_improve", due=date(2016, 12, 1), reason="Red on 12 of 43 indicators", serious_breach=False)
    return c


def test_a_contract_suspension_suspends_referrals():
    c = nottingham_contract()
    with as_(NHSE, AT):
        c.escalate(to_stage="contract_suspension", due=date(2017, 1, 1), reason="Action plan not met", serious_breach=False,
                   issued_on=date(2016, 12, 2))
    assert contract_state(c)["referrals_suspended"] == {"reason": "Contract suspension: Action plan not met", "from": "2016-12-02"}
    refused("already_suspended", lambda: c.suspend_referrals(reason="again", from_date=date(2016, 12, 3)))


def test_a_final_notice_runs_ninety_days_and_termination_waits_for_it():
    c = nottingham_contract()
    with as_(NHSE, AT):
        c.escalate(to_stage="contract_suspension", due=date(2017, 1, 1), reason="Action plan not met", serious_breach=False)
    refused("notice_period_too_short", lambda: c.escalate(to_stage="final_notice_90_day", due=date(2017, 3, 1), reason="No improvement",
                                                          serious_breach=False, issued_on=date(2017, 1, 2)))
    with as_(NHSE, AT):
        c.escalate(to_stage="final_notice_90_day", due=date(2017, 4, 2), reason="No improvement", serious_breach=False,
                   issued_on=date(2017, 1, 2))
    refused("final_notice_not_expired", lambda: c.terminate(reason_kind="default", effective_on=date(2017, 4, 1), reason="Not remedied"))
    with as_(NHSE, AT):
        c.terminate(reason_kind="default", effective_on=date(2017, 4, 2), reason="Final notice expired without remedy")
    assert c.status == "terminated"


def test_a_provider_acts_only_on_the_contracts_it_holds():
    from domain.contracts.handlers import check_own_contract

    c = contract()
    check_own_contract(Actor(id="lead", org="forum-partners", role="provider"), c, "submit a highlight report")
    check_own_contract(NHSE, c, "submit a highlight report")
    with pytest.raises(DomainError) as err:
        check_own_contract(Actor(id="lead", org="capital-care-networks", role="provider"), c, "submit a highlight report")
    assert err.value.code == "not_your_contract"
