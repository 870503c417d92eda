"""The rules of contract management, each tried and refused (domain only: no store, no clock)."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from domain.contracts.contract import Contract
from domain.contracts.framework import Framework
from domain.contracts.views import contract_state
from domain.kernel.errors import DomainError
from domain.kernel.metadata import Actor
from domain.contracts.modifications import check_modification
from tests.unit.story import as_

MANAGER = Actor(id="cm", org="ICB-NCL", role="contract_manager")
AT = datetime(2026, 4, 1, 9, tzinfo=timezone.utc)


def framework(regime: str = "pcr2015", ladder="nottingham", months: int = 24, value_percent: int | None = None) -> Framework:
    with as_(MANAGER, AT):
        return Framework.establish(
            reference="AQP-NH",
            title="London AQP nursing homes",
            kind="care_homes",
            lots=[{"id": "NCL", "name": "North Central London"}],
            commissioners=[{"org": "ICB-NCL", "kind": "icb", "directorates": ["Barnet"]}],
            starts_on=date(2026, 4, 1),
            ends_on=date(2030, 3, 31),
            max_extension_months=months,
            max_extension_value_percent=value_percent,
            regime=regime,
            ladder=ladder,
            monitoring={},
        )


def contract(f: Framework | None = None, value: int = 100_000_000, ends_on: date = date(2028, 3, 31)) -> Contract:
    f = f or framework()
    with as_(MANAGER, AT):
        return Contract.award(
            reference="AQP-NH/NCL/aster",
            framework=f,
            competition="AQP-CH-2026",
            lot="NCL",
            provider="aster",
            value=value,
            starts_on=date(2026, 4, 15),
            ends_on=ends_on,
        )


def refused(code: str, action) -> None:
    with as_(MANAGER, AT), pytest.raises(DomainError) as err:
        action()
    assert err.value.code == code, err.value.message


# ------------------------------------------------------------------ modifications


def test_a_de_minimis_variation_may_not_take_the_cumulative_change_to_ten_percent():
    k = contract(value=100_000_000)
    with as_(MANAGER, AT):
        k.vary(kind="scope", ground="pcr2015_reg72_5", value_change=6_000_000, effective_from=date(2026, 5, 1), rationale="Extra respite beds for winter.")
    refused(
        "modification_not_permitted",
        lambda: k.vary(kind="scope", ground="pcr2015_reg72_5", value_change=4_000_000, effective_from=date(2026, 6, 1), rationale="More respite beds for winter."),
    )
    assert k.cumulative_change == 6_000_000 and len(k.pending_events) == 2


def test_a_price_review_clause_permits_an_annual_uplift_of_any_size():
    k = contract(value=100_000_000)
    with as_(MANAGER, AT):
        k.vary(kind="annual_price", ground="pcr2015_reg72_1_a", value_change=25_000_000, effective_from=date(2027, 4, 1), rationale="Annual price review.")
    assert contract_state(k)["value"] == {"original": 100_000_000, "current": 125_000_000, "cumulative_variation": 25_000_000}


def test_a_ground_from_another_regime_is_refused():
    k = contract()
    refused(
        "ground_wrong_regime",
        lambda: k.vary(kind="scope", ground="psr2024_reg13_1_e", value_change=1, effective_from=date(2026, 5, 1), rationale="Minor change to scope."),
    )


def test_unforeseeable_circumstances_allow_at_most_half_the_original_value_per_change():
    with pytest.raises(DomainError) as err:
        check_modification(regime="pcr2015", ground_code="pcr2015_reg72_1_c", original_value=1000, cumulative_before=0, change=501, rationale="Pandemic demand surge.")
    assert err.value.code == "modification_not_permitted"
    check_modification(regime="pcr2015", ground_code="pcr2015_reg72_1_c", original_value=1000, cumulative_before=0, change=500, rationale="Pandemic demand surge.")


@pytest.mark.parametrize(
    ("original", "cumulative", "allowed"),
    [
        (10_000_000_000, 49_999_999, True),  # under GBP 500k, though under 1% anyway
        (100_000_000, 24_000_000, True),  # under 25%
        (1_000_000_000, 60_000_000, True),  # over GBP 500k but under 25%
        (100_000_000, 60_000_000, False),  # over GBP 500k and over 25%
    ],
)
def test_the_psr_minor_change_ground_allows_under_500k_or_under_a_quarter(original, cumulative, allowed):
    args = dict(regime="psr2024", ground_code="psr2024_reg13_1_e", original_value=original, cumulative_before=0, change=cumulative, rationale="Character of the contract unchanged.")
    if allowed:
        check_modification(**args)
    else:
        with pytest.raises(DomainError):
            check_modification(**args)


def test_a_variation_needs_its_rationale_and_a_known_ground():
    k = contract()
    refused("rationale_required", lambda: k.vary(kind="scope", ground="pcr2015_reg72_1_e", value_change=1, effective_from=date(2026, 5, 1), rationale=""))
    refused("unknown_ground", lambda: k.vary(kind="scope", ground="because", value_change=1, effective_from=date(2026, 5, 1), rationale="We decided so."))


# --------------------------------------------------------------------- extensions


def test_an_extension_beyond_the_framework_maximum_is_refused():
    f = framework(months=6, value_percent=10)  # the NHS England call-off (seed 002)
    k = contract(f, value=40_000_000, ends_on=date(2027, 3, 31))
    refused("extension_too_long", lambda: k.extend(framework=f, months=7, value_change=1_000_000, rationale="Phase III overran by a quarter."))
    with as_(MANAGER, AT):
        k.extend(framework=f, months=4, value_change=2_000_000, rationale="Phase III overran by a quarter.")
    refused("extension_too_long", lambda: k.extend(framework=f, months=3, value_change=1_000_000, rationale="A further overrun in Phase III."))
    assert k.ends_on == date(2027, 7, 31)


def test_an_extension_worth_more_than_ten_percent_of_the_original_value_is_refused():
    f = framework(months=6, value_percent=10)
    k = contract(f, value=40_000_000, ends_on=date(2027, 3, 31))
    refused("extension_over_value_cap", lambda: k.extend(framework=f, months=6, value_change=4_000_001, rationale="Six more months of forums."))
    with as_(MANAGER, AT):
        k.extend(framework=f, months=6, value_change=4_000_000, rationale="Six more months of forums.")


# --------------------------------------------------------------------- escalation


def test_escalation_moves_one_stage_at_a_time_unless_a_serious_breach_is_recorded():
    k = contract()
    refused("stage_skipped", lambda: k.escalate(to_stage="contract_suspension", due=date(2026, 7, 1), reason="Missed returns", serious_breach=False))
    with as_(MANAGER, AT):
        k.escalate(to_stage="contract_suspension", due=date(2026, 7, 1), reason="Safeguarding enquiry opened", serious_breach=True)
    assert contract_state(k)["escalation"]["stage"] == "contract_suspension"


def test_termination_for_default_follows_the_last_stage_of_the_ladder():
    k = contract()
    with as_(MANAGER, AT):
        k.escalate(to_stage="requirement_to_improve", due=date(2026, 6, 1), reason="CQC rated Requires Improvement", serious_breach=False)
    refused("escalation_incomplete", lambda: k.terminate(reason_kind="default", effective_on=date(2026, 9, 1), reason="No improvement"))
    refused("terminate_instead", lambda: k.escalate(to_stage="termination", due=date(2026, 9, 1), reason="x", serious_breach=True))
    with as_(MANAGER, AT):
        k.escalate(to_stage="contract_suspension", due=date(2026, 7, 1), reason="No improvement", serious_breach=False)
        k.escalate(to_stage="final_notice_90_day", due=date(2026, 10, 1), reason="Still no improvement", serious_breach=False)
        k.terminate(reason_kind="default", effective_on=date(2026, 10, 1), reason="Final notice expired without remedy")
    refused("contract_ended", lambda: k.add_home(location="1-123", effective_from=date(2026, 11, 1)))


def test_a_de_escalation_needs_a_reason_and_an_escalation():
    k = contract()
    refused("not_escalated", lambda: k.de_escalate(reason="Improved"))
    with as_(MANAGER, AT):
        k.escalate(to_stage="requirement_to_improve", due=date(2026, 6, 1), reason="Late returns", serious_breach=False)
    refused("reason_required", lambda: k.de_escalate(reason=None))


def test_cheshire_east_ships_improvement_and_default_notices():
    k = contract(framework(ladder="cheshire_east"))
    with as_(MANAGER, AT):
        k.escalate(to_stage="improvement_notice", due=date(2026, 6, 1), reason="KPI 3 below target", serious_breach=False)
        k.escalate(to_stage="default_notice", due=date(2026, 7, 1), reason="Improvement notice not met", serious_breach=False)
    assert contract_state(k)["escalation"]["stage"] == "default_notice"


def test_an_action_plan_closes_only_when_every_action_is_complete():
    k = contract()
    actions = [
        {"id": "A1", "description": "Retrain staff on falls prevention", "owner_role": "registered manager", "due": "2026-06-01"},
        {"id": "A2", "description": "Audit care plans", "owner_role": "clinical lead", "due": "2026-06-15"},
    ]
    with as_(MANAGER, AT):
        k.open_action_plan(plan="SIAP-1", actions=actions)
        k.review_action_plan(plan="SIAP-1", completed=["A1"], notes="Training delivered", reviewed_on=date(2026, 6, 2))
    refused("actions_outstanding", lambda: k.close_action_plan(plan="SIAP-1", closed_on=date(2026, 6, 3)))
    with as_(MANAGER, AT):
        k.review_action_plan(plan="SIAP-1", completed=["A2"], notes="Audit done", reviewed_on=date(2026, 6, 16))
        k.close_action_plan(plan="SIAP-1", closed_on=date(2026, 6, 16))
    refused("plan_closed", lambda: k.review_action_plan(plan="SIAP-1", completed=[], notes="", reviewed_on=date(2026, 7, 1)))


# ---------------------------------------------------------- referrals, homes, prices


def test_referrals_are_suspended_once_and_resumed_only_when_suspended():
    k = contract()
    refused("not_suspended", lambda: k.resume_referrals(from_date=date(2026, 5, 1), phased=True))
    with as_(MANAGER, AT):
        k.suspend_referrals(reason="Large scale safeguarding enquiry", from_date=date(2026, 5, 1))
    refused("already_suspended", lambda: k.suspend_referrals(reason="again", from_date=date(2026, 5, 2)))


def test_a_home_is_removed_only_with_a_reason_and_only_if_on_the_contract():
    k = contract()
    refused("home_not_on_contract", lambda: k.remove_home(location="1-1", effective_from=date(2026, 5, 1), reason="closed"))
    with as_(MANAGER, AT):
        k.add_home(location="1-1", effective_from=date(2026, 4, 15))
    refused("reason_required", lambda: k.remove_home(location="1-1", effective_from=date(2026, 5, 1), reason=None))


def test_a_contract_term_must_fall_within_the_framework():
    f = framework()
    with as_(MANAGER, AT), pytest.raises(DomainError) as err:
        Contract.award(reference="X", framework=f, competition="C", lot="NCL", provider="p", value=1, starts_on=date(2026, 4, 1), ends_on=date(2031, 1, 1))
    assert err.value.code == "term_outside_framework"


def test_price_schedules_use_the_frameworks_rate_types_and_move_forward_in_time():
    f = framework()
    refused("unknown_rate", lambda: f.set_prices(effective_from=date(2026, 4, 1), rates={"tier_1": 2100}))
    with as_(MANAGER, AT):
        f.set_prices(effective_from=date(2026, 4, 1), rates={"nursing": 95_000, "residential": 80_000})
    refused("price_schedule_not_later", lambda: f.set_prices(effective_from=date(2026, 4, 1), rates={"nursing": 99_000}))
    assert f.rate_on(date(2026, 12, 1), "nursing") == 95_000 and f.rate_on(date(2026, 1, 1), "nursing") is None


def test_a_novation_moves_the_contract_to_another_provider():
    k = contract()
    refused("same_provider", lambda: k.novate(to_provider="aster", effective_from=date(2026, 9, 1)))
    with as_(MANAGER, AT):
        k.novate(to_provider="beech", effective_from=date(2026, 9, 1))
    assert k.provider == "beech" and contract_state(k)["novations"][0]["from"] == "aster"
