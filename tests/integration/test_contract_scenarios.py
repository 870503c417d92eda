"""The contract scenario files, applied on each store: every line meets its expectation and
the contracts end where the story says (escalation, price variation, novation, the NHS
England call-off with milestones, payments, risks and extensions)."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.scenario import apply_lines
from domain.application import Ledger
from domain.contracts.contract import Contract
from domain.contracts.framework import Framework
from domain.contracts.views import contract_state, framework_state

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def applied(ledger: Ledger, name: str) -> list:
    outcomes = list(apply_lines(ledger, (SCENARIOS / name).read_text().splitlines()))
    assert [o.line for o in outcomes if not o.met] == []
    return outcomes


def refusals(outcomes: list) -> list[str]:
    return [o.expected for o in outcomes if o.expected != "ok"]


def contract(ledger: Ledger, reference: str) -> dict:
    return contract_state(ledger.aggregate(Contract, reference))


def test_nottingham_escalation_ends_in_termination_for_default(ledger):
    outcomes = applied(ledger, "nottingham-escalation.jsonl")
    assert refusals(outcomes) == [
        "contract_not_ended", "stage_skipped", "escalation_incomplete", "already_suspended", "actions_outstanding",
        "notice_period_too_short", "final_notice_not_expired", "contract_ended",
    ]
    framework = framework_state(ledger.aggregate(Framework, "NCC-RES-2026"))
    assert framework["escalation_ladder"] == ["requirement_to_improve", "contract_suspension", "final_notice_90_day", "termination"]
    assert set(framework["price_schedules"]["2026-04-01"].values()) == {46_928}
    state = contract(ledger, "NCC-RES-2026/CITY/meadowview-care")
    assert state["status"] == "terminated" and state["termination"] == {"reason": "default", "effective_on": "2027-06-01"}
    assert [(e["stage"], e["due"]) for e in state["escalation"]["history"]] == [
        ("requirement_to_improve", "2026-12-18"), ("contract_suspension", "2027-03-01"), ("final_notice_90_day", "2027-05-31"),
    ]
    assert state["referrals_suspended"]["from"] == "2026-12-21"
    plan = state["action_plans"]["RTI-2026-01"]
    assert plan["closed_on"] is None and [a for a, v in plan["actions"].items() if v["completed_on"] is None] == ["A4"]
    assert state["value"]["original"] == 46_928 * 30 * 52 * 4
    # Procurement Act 2023: its details notice after signing (s.53), its termination notice after the end (s.80).
    assert [(n["notice_type"], n["notice_code"], n["published_on"]) for n in state["notices"]] == [
        ("contract_details_notice", "UK7", "2026-03-18"), ("contract_termination_notice", "UK11", "2027-06-08"),
    ]


def test_april_price_variation_varies_every_live_contract_and_leaves_ended_ones_alone(ledger):
    outcomes = applied(ledger, "april-price-variation.jsonl")
    assert refusals(outcomes) == ["not_permitted", "unknown_rate", "price_schedule_not_later", "contract_ended"]
    uplift = next(o for o in outcomes if o.command == "framework.set_prices" and o.result.ok and o.result.value["contracts_varied"])
    assert uplift.result.value == {"contracts_varied": 3}
    # Mean uplift of the four hourly rates: +6.414985%, under the contract's price review clause (PSR 2024 reg 13(1)(a)).
    expected = {
        "NCL/alder-home-care": (120_000_000, 127_697_983),
        "NCL/birch-domiciliary": (85_000_000, 90_452_738),
        "SEL/cobalt-care": (150_000_000, 159_622_478),
    }
    for ref, (original, current) in expected.items():
        state = contract(ledger, f"AQP-HC-LONDON-2026/{ref}")
        assert (state["value"]["original"], state["value"]["current"]) == (original, current)
        [variation] = state["variations"]
        assert (variation["kind"], variation["ground"], variation["effective_from"]) == ("annual_price", "psr2024_reg13_1_a", "2027-04-01")
    assert contract(ledger, "AQP-HC-LONDON-2026/SEL/cobalt-care")["referrals_suspended"] is not None
    for ref, status in (("SEL/dovetail-support", "terminated"), ("NCL/elm-tree-care", "expired")):
        state = contract(ledger, f"AQP-HC-LONDON-2026/{ref}")
        assert state["status"] == status and state["variations"] == [] and state["value"]["current"] == state["value"]["original"]
    schedules = framework_state(ledger.aggregate(Framework, "AQP-HC-LONDON-2026"))["price_schedules"]
    assert sorted(schedules) == ["2026-04-01", "2027-04-01"] and schedules["2027-04-01"]["tier_1"] == 2_500


def test_novation_after_sale_moves_the_live_contracts_to_the_buyer(ledger):
    outcomes = applied(ledger, "novation-after-sale.jsonl")
    assert refusals(outcomes) == ["not_your_contract", "contract_ended", "same_provider", "contract_ended", "not_your_contract"]
    for lot in ("BEXLEY", "BROMLEY"):
        state = contract(ledger, f"SEL-NH-2026/{lot}/oakleigh-care-group")
        assert state["provider"] == "harbourside-healthcare"
        assert state["changes_of_control"] == [{"new_controller": "Harbourside Healthcare Group Ltd", "notified_on": "2027-01-11"}]
        assert state["novations"] == [{"from": "oakleigh-care-group", "to": "harbourside-healthcare", "effective_from": "2027-03-01"}]
    closed = contract(ledger, "SEL-NH-2026/GREENWICH/oakleigh-care-group")
    assert closed["provider"] == "oakleigh-care-group" and closed["status"] == "terminated" and closed["novations"] == []
    other = contract(ledger, "SEL-NH-2026/BROMLEY/rosewood-nursing")
    assert other["provider"] == "rosewood-nursing" and other["changes_of_control"] == []
    risk = contract(ledger, "SEL-NH-2026/BEXLEY/oakleigh-care-group")["risks"]["R1"]
    assert risk["rating"] == {"code": "A/R", "name": "Amber/Red"}


NHSE = "NHSE-ICS-2016"


def test_the_nhs_england_call_off_pays_on_milestones_within_each_lots_cap(ledger):
    outcomes = applied(ledger, "nhse-call-off.jsonl")
    assert sorted(refusals(outcomes)) == sorted([
        "value_over_lot_cap", "not_your_contract", "milestone_not_reported", "not_fortnightly", "draft_required",
        "milestone_not_delivered", "milestone_not_accepted", "payment_exists", "reason_required", "mitigation_required",
        "rationale_required", "extension_over_value_cap", "extension_too_long", "payment_over_cap", "not_yet_expired",
    ])
    framework = framework_state(ledger.aggregate(Framework, NHSE))
    assert [(lot["name"], lot["value_cap_pence"]) for lot in framework["lots"].values()] == [
        ("North", 10_000_000), ("Midlands and East", 10_000_000), ("South", 10_000_000), ("London", 10_000_000),
    ]
    assert len(framework["contracts"]) == 4
    lots = {
        "NORTH/forum-partners-cic": 10_000_000,
        "MIDLANDS-EAST/forum-partners-cic": 9_850_000,
        "SOUTH/care-sector-improvement": 9_900_000,
        "LONDON/capital-care-networks": 10_000_000,
    }
    total_paid = 0
    for ref, value in lots.items():
        state = contract(ledger, f"{NHSE}/{ref}")
        assert state["value"]["original"] == value
        assert all(m["status"] == "accepted" and m["paid"] == m["payment"] for m in state["milestones"].values())
        assert [r["period_ending"] for r in state["highlight_reports"]][::11] == ["2016-10-28", "2017-03-31"]
        assert state["payments"]["paid"] == state["payments"]["value_cap"] == state["value"]["current"]
        total_paid += state["payments"]["paid"]
    assert total_paid == 39_750_000 + 1_000_000  # GBP 397,500 of the GBP 400k, and North's GBP 10k extension

    north = contract(ledger, f"{NHSE}/NORTH/forum-partners-cic")
    assert north["status"] == "mobilised" and north["term"]["ends_on"] == "2017-09-30"
    assert north["value"] == {"original": 10_000_000, "current": 11_000_000, "cumulative_variation": 0}
    assert [(e["months"], e["value_change"]) for e in north["extensions"]] == [(6, 1_000_000)]
    d2 = north["milestones"]["D2"]
    assert (d2["baseline"], d2["forecast"], [s["late"] for s in d2["submissions"]]) == ("2016-12-12", "2016-12-16", [True, True])
    assert [r["overall_confidence"]["name"] for r in north["highlight_reports"][2:4]] == ["Amber/Green", "Amber"]
    assert north["payments"]["records"]["NORTH-P08"] == {"milestone": "D8", "amount": 1_000_000, "paid_on": "2017-10-12"}
    assert north["risks"]["R1"]["status"] == "closed" and north["risks"]["R1"]["rating"]["code"] == "A"

    midlands = contract(ledger, f"{NHSE}/MIDLANDS-EAST/forum-partners-cic")
    assert midlands["status"] == "expired" and len(midlands["milestones"]["D5"]["returns"]) == 1
    london = contract(ledger, f"{NHSE}/LONDON/capital-care-networks")
    assert london["milestones"]["D6"]["forecast"] == "2017-03-24" and london["risks"]["R1"]["rating"]["code"] == "R"
    south = contract(ledger, f"{NHSE}/SOUTH/care-sector-improvement")
    assert len(south["payments"]["records"]) == 7  # the retried payment was recorded once
    assert all(r["overall_confidence"]["code"] == "G" for r in south["highlight_reports"])


@pytest.mark.parametrize(
    "name", ["nottingham-escalation.jsonl", "april-price-variation.jsonl", "novation-after-sale.jsonl", "nhse-call-off.jsonl"]
)
def test_a_contract_scenario_applied_twice_changes_nothing_the_second_time(ledger, name):
    applied(ledger, name)
    position = ledger.max_position()
    again = list(apply_lines(ledger, (SCENARIOS / name).read_text().splitlines()))
    assert ledger.max_position() == position
    assert all(not o.result.ok or not o.result.events for o in again)
