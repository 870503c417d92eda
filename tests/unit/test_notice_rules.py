"""The notices the law requires, each tried and refused (domain only: no store, no clock).

Procurement Act 2023 ss.50, 51, 53, 75 and 80, and the Provider Selection Regime's notice of
intention to award and confirmation of award (domain/procurement/notices.py). Easter 2026 is
Friday 3 and Monday 6 April, so a standstill counted across it skips both.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from domain.contracts.contract import Contract
from domain.contracts.views import contract_state
from domain.kernel.errors import DomainError
from domain.procurement.notices import change_notice_required, contract_details_due, termination_notice_due
from domain.procurement.standstill import standstill_from_notice
from tests.unit.story import LEAD, as_, decided, in_standstill
from tests.unit.test_contract_rules import MANAGER, contract, framework

UTC = timezone.utc
NOTICE_DAY = datetime(2026, 4, 2, 9, tzinfo=UTC)  # Thursday, the day after the letters


def publish(c, notice_type: str, reference: str, published_on: date, now: datetime = NOTICE_DAY) -> None:
    with as_(LEAD, now):
        c.publish_notice(notice_type=notice_type, notice_reference=reference, published_on=published_on, now=now)


def refused(code: str, at: datetime, action, field: str | None = None) -> DomainError:
    with as_(LEAD, at), pytest.raises(DomainError) as err:
        action()
    assert err.value.code == code, err.value.message
    if field is not None:
        assert err.value.field == field
    return err.value


# ------------------------------------------------- Procurement Act 2023 ss.50 and 51


def test_an_award_under_the_procurement_act_is_refused_without_its_contract_award_notice():
    c = in_standstill("pa2023")
    before = len(c.pending_events)
    long_after = datetime(2026, 6, 1, tzinfo=UTC)
    err = refused("award_notice_required", long_after, lambda: c.conclude_award(now=long_after))
    assert "s.50(1)" in err.message
    assert len(c.pending_events) == before and c.status == "standstill"


def test_the_procurement_act_standstill_counts_from_the_notice_not_the_letters_across_easter():
    c = in_standstill("pa2023")  # letters Wednesday 1 April
    publish(c, "award_notice", "FTS-UK6-1", NOTICE_DAY.date())
    # Beginning with Thursday 2 April: 2, (Good Friday, weekend, Easter Monday), 7, 8, 9, 10, 13, 14, 15.
    assert c.standstill["last_day"] == "2026-04-15"
    assert c.standstill["notice"] == "FTS-UK6-1"
    assert c.notices[-1]["notice_code"] == "UK6"
    # Counted from the letters it would have ended a day earlier (the 14th): not enough.
    last_minute = datetime(2026, 4, 15, 22, 59, tzinfo=UTC)  # 23:59 BST on the last day
    refused("standstill_not_ended", last_minute, lambda: c.conclude_award(now=last_minute))
    at = datetime(2026, 4, 15, 23, 0, tzinfo=UTC)  # midnight London time
    with as_(LEAD, at):
        c.conclude_award(now=at)
    assert c.status == "awarded"


@pytest.mark.parametrize(
    ("published_on", "last_day"),
    [
        (date(2026, 4, 1), date(2026, 4, 14)),  # a Wednesday: it is day 1
        (date(2026, 4, 3), date(2026, 4, 16)),  # Good Friday: Tuesday 7 April is day 1
        (date(2026, 12, 24), date(2027, 1, 7)),  # Christmas Eve: Christmas, Boxing Day (28th) and New Year skipped
    ],
)
def test_the_procurement_act_standstill_is_eight_working_days_beginning_with_the_notice_day(published_on, last_day):
    assert standstill_from_notice("pa2023", published_on)[0] == last_day


def test_the_contract_award_notice_follows_the_assessment_summaries():
    c = decided("pa2023")
    before = len(c.pending_events)
    err = refused(
        "letters_not_issued",
        NOTICE_DAY,
        lambda: c.publish_notice(notice_type="award_notice", notice_reference="FTS-UK6-1", published_on=NOTICE_DAY.date(), now=NOTICE_DAY),
    )
    assert "s.50(3)" in err.message
    assert len(c.pending_events) == before and c.notices == []


def test_a_contract_award_notice_cannot_be_dated_before_the_letters_or_after_today():
    c = in_standstill("pa2023")
    refused(
        "notice_before_letters",
        NOTICE_DAY,
        lambda: c.publish_notice(notice_type="award_notice", notice_reference="X", published_on=date(2026, 3, 31), now=NOTICE_DAY),
        field="published_on",
    )
    refused(
        "published_on_in_future",
        NOTICE_DAY,
        lambda: c.publish_notice(notice_type="award_notice", notice_reference="X", published_on=date(2026, 4, 3), now=NOTICE_DAY),
        field="published_on",
    )
    assert c.notices == [] and c.standstill.get("notice") is None


def test_a_second_award_notice_never_shortens_the_standstill_the_first_began():
    c = in_standstill("pa2023")
    publish(c, "award_notice", "FTS-UK6-1", date(2026, 4, 8), now=datetime(2026, 4, 8, 9, tzinfo=UTC))
    assert c.standstill["last_day"] == "2026-04-17" and c.standstill["notice"] == "FTS-UK6-1"
    # One recorded later but dated earlier (7 April) would end it on the 16th: the 17th stands.
    publish(c, "award_notice", "FTS-UK6-2", date(2026, 4, 7), now=datetime(2026, 4, 9, 9, tzinfo=UTC))
    assert c.standstill["last_day"] == "2026-04-17" and c.standstill["notice"] == "FTS-UK6-1"
    # A corrected notice published later restarts it from its own day.
    publish(c, "award_notice", "FTS-UK6-3", date(2026, 4, 9), now=datetime(2026, 4, 9, 10, tzinfo=UTC))
    assert c.standstill["last_day"] == "2026-04-20"


def test_a_pcr_award_needs_no_notice_and_its_notices_carry_no_uk_code():
    c = in_standstill("pcr2015")
    publish(c, "award_notice", "CF-AWARD", NOTICE_DAY.date())
    assert "notice_code" not in c.notices[-1]
    assert c.standstill["last_day"] == "2026-04-13"  # PCR 2015 counts from the letters still
    at = datetime(2026, 4, 13, 23, 0, tzinfo=UTC)
    with as_(LEAD, at):
        c.conclude_award(now=at)
    assert c.status == "awarded"


# ------------------------------------------------------ Provider Selection Regime


def test_a_psr_award_is_refused_without_the_notice_of_intention_to_award():
    c = in_standstill("psr2024")
    later = datetime(2026, 6, 1, tzinfo=UTC)
    refused("intention_to_award_notice_required", later, lambda: c.conclude_award(now=later))


def test_the_psr_standstill_begins_with_the_intention_notice_and_ends_after_eight_more_working_days():
    c = in_standstill("psr2024")
    publish(c, "psr_intention_to_award", "FTS-PSR-INT", NOTICE_DAY.date())
    # After Thursday 2 April: 7, 8, 9, 10, 13, 14, 15, 16.
    assert c.standstill["last_day"] == "2026-04-16"
    assert "notice_code" not in c.notices[-1]  # Find a Tender's older F forms, not a UK notice
    early = datetime(2026, 4, 16, 22, 59, tzinfo=UTC)
    refused("standstill_not_ended", early, lambda: c.conclude_award(now=early))


def test_the_psr_confirmation_notice_follows_the_award():
    c = in_standstill("psr2024")
    refused(
        "award_not_concluded",
        NOTICE_DAY,
        lambda: c.publish_notice(notice_type="psr_award_confirmation", notice_reference="FTS-PSR-CONF", published_on=NOTICE_DAY.date(), now=NOTICE_DAY),
    )
    publish(c, "psr_intention_to_award", "FTS-PSR-INT", NOTICE_DAY.date())
    awarded_at = datetime(2026, 4, 17, 9, tzinfo=UTC)
    with as_(LEAD, awarded_at):
        c.conclude_award(now=awarded_at)
    publish(c, "psr_award_confirmation", "FTS-PSR-CONF", awarded_at.date(), now=awarded_at)
    assert [n["notice_type"] for n in c.notices] == ["psr_intention_to_award", "psr_award_confirmation"]


def test_psr_notices_belong_to_psr_competitions_only():
    c = in_standstill("pa2023")
    refused(
        "notice_not_in_regime",
        NOTICE_DAY,
        lambda: c.publish_notice(notice_type="psr_intention_to_award", notice_reference="X", published_on=NOTICE_DAY.date(), now=NOTICE_DAY),
    )


def test_a_contract_change_notice_is_not_a_competition_notice():
    c = in_standstill("pa2023")
    refused(
        "unknown_notice_type",
        NOTICE_DAY,
        lambda: c.publish_notice(notice_type="contract_change_notice", notice_reference="X", published_on=NOTICE_DAY.date(), now=NOTICE_DAY),
        field="notice_type",
    )


# -------------------------------------------- contract details (s.53), termination (s.80)

AT = datetime(2026, 5, 1, 9, tzinfo=UTC)


def pa_contract(value: int = 100_000_000) -> Contract:
    return contract(framework("pa2023"), value=value)


def on_contract(k: Contract, at: datetime, **notice) -> None:
    with as_(MANAGER, at):
        k.publish_notice(today=at.date(), **notice)


def contract_refused(code: str, at: datetime, action, field: str | None = None) -> None:
    with as_(MANAGER, at), pytest.raises(DomainError) as err:
        action()
    assert err.value.code == code, err.value.message
    if field is not None:
        assert err.value.field == field


def test_a_contract_details_notice_is_refused_before_the_contract_is_entered_into():
    k = pa_contract()
    before = len(k.pending_events)
    contract_refused(
        "contract_not_entered",
        AT,
        lambda: k.publish_notice(notice_type="contract_details_notice", notice_reference="UK7-1", published_on=AT.date(), today=AT.date()),
        field="notice_type",
    )
    assert len(k.pending_events) == before
    with as_(MANAGER, AT):
        k.sign(signed_on=date(2026, 4, 20))
    contract_refused(
        "notice_before_contract",
        AT,
        lambda: k.publish_notice(notice_type="contract_details_notice", notice_reference="UK7-1", published_on=date(2026, 4, 19), today=AT.date()),
        field="published_on",
    )
    on_contract(k, AT, notice_type="contract_details_notice", notice_reference="UK7-1", published_on=AT.date())
    assert contract_state(k)["notices"][0]["notice_code"] == "UK7"


def test_a_contract_missing_its_details_notice_is_listed_once_thirty_days_have_passed():
    k = pa_contract()
    with as_(MANAGER, AT):
        k.sign(signed_on=date(2026, 4, 20))
    # 30 days beginning with 20 April: the last is 19 May.
    assert contract_details_due(date(2026, 4, 20), light_touch=False) == date(2026, 5, 19)
    assert k.notices_overdue(today=date(2026, 5, 19), light_touch=False) == []
    overdue = k.notices_overdue(today=date(2026, 5, 20), light_touch=False)
    assert [(o["notice_code"], o["due"]) for o in overdue] == [("UK7", "2026-05-19")]
    # A light-touch contract has 120 days (s.53(1)).
    assert k.notices_overdue(today=date(2026, 5, 20), light_touch=True) == []
    on_contract(k, datetime(2026, 5, 20, 9, tzinfo=UTC), notice_type="contract_details_notice", notice_reference="UK7-1",
                published_on=date(2026, 5, 20))
    assert k.notices_overdue(today=date(2026, 6, 30), light_touch=False) == []


def test_a_pcr_contract_owes_no_procurement_act_notices():
    k = contract(framework("pcr2015"))
    with as_(MANAGER, AT):
        k.sign(signed_on=date(2026, 4, 20))
    assert k.notices_overdue(today=date(2027, 1, 1), light_touch=False) == []


def test_a_termination_notice_follows_the_end_and_is_owed_within_thirty_days():
    k = pa_contract()
    contract_refused(
        "contract_not_ended",
        AT,
        lambda: k.publish_notice(notice_type="contract_termination_notice", notice_reference="UK11-1", published_on=AT.date(), today=AT.date()),
        field="notice_type",
    )
    with as_(MANAGER, AT, reason="Home closed"):
        k.terminate(reason_kind="home_closure", effective_on=date(2026, 6, 30), reason="The home closed.")
    assert termination_notice_due(date(2026, 6, 30)) == date(2026, 7, 29)
    assert k.notices_overdue(today=date(2026, 7, 29), light_touch=False) == []
    assert [o["notice_code"] for o in k.notices_overdue(today=date(2026, 7, 30), light_touch=False)] == ["UK11"]
    contract_refused(
        "notice_before_termination",
        datetime(2026, 7, 1, tzinfo=UTC),
        lambda: k.publish_notice(notice_type="contract_termination_notice", notice_reference="UK11-1", published_on=date(2026, 6, 29), today=date(2026, 7, 1)),
        field="published_on",
    )
    on_contract(k, datetime(2026, 7, 1, 9, tzinfo=UTC), notice_type="contract_termination_notice", notice_reference="UK11-1",
                published_on=date(2026, 7, 1))
    assert k.notices_overdue(today=date(2026, 9, 1), light_touch=False) == []


def test_a_notice_cannot_be_recorded_as_published_tomorrow():
    k = pa_contract()
    contract_refused(
        "published_on_in_future",
        AT,
        lambda: k.publish_notice(notice_type="contract_change_notice", notice_reference="UK10-1", published_on=AT.date() + timedelta(days=1),
                                 today=AT.date(), modification="V1"),
        field="published_on",
    )


# ------------------------------------------------------------ change notices (s.75)


def test_a_modification_over_ten_percent_is_refused_until_its_change_notice_is_published():
    k = pa_contract(value=100_000_000)
    before = len(k.pending_events)
    vary = dict(kind="scope", ground="pa2023_sch8_1", value_change=10_000_001, effective_from=date(2026, 6, 1),
                rationale="Twenty more nursing beds as the contract provides.")
    contract_refused("change_notice_required", AT, lambda: k.vary(**vary), field="change_notice")
    contract_refused("change_notice_not_published", AT, lambda: k.vary(**vary, change_notice="UK10-1"), field="change_notice")
    assert len(k.pending_events) == before
    on_contract(k, AT, notice_type="contract_change_notice", notice_reference="UK10-1", published_on=AT.date(), modification="V1")
    with as_(MANAGER, AT):
        k.vary(**vary, change_notice="UK10-1")
    assert k.variations[-1]["change_notice"] == "UK10-1"
    assert k.notices[-1]["notice_code"] == "UK10" and k.notices[-1]["modification"] == "V1"
    # One notice, one modification.
    contract_refused("change_notice_already_used", AT, lambda: k.vary(**vary, change_notice="UK10-1"), field="change_notice")


def test_a_change_notice_must_be_published_before_the_modification_takes_effect():
    k = pa_contract(value=100_000_000)
    on_contract(k, AT, notice_type="contract_change_notice", notice_reference="UK10-1", published_on=AT.date(), modification="V1")
    contract_refused(
        "change_notice_after_modification",
        AT,
        lambda: k.vary(kind="scope", ground="pa2023_sch8_1", value_change=20_000_000, effective_from=date(2026, 4, 30),
                       rationale="Backdated scope change.", change_notice="UK10-1"),
        field="change_notice",
    )


def test_a_modification_of_ten_percent_or_less_needs_no_change_notice():
    k = pa_contract(value=100_000_000)
    with as_(MANAGER, AT):
        k.vary(kind="annual_price", ground="pa2023_sch8_1", value_change=10_000_000, effective_from=date(2026, 6, 1),
               rationale="Annual price review under the price review clause.")
    assert len(k.variations) == 1


def test_a_light_touch_contract_needs_no_change_notice():
    k = pa_contract(value=100_000_000)
    with as_(MANAGER, AT):
        k.vary(kind="scope", ground="pa2023_sch8_1", value_change=50_000_000, effective_from=date(2026, 6, 1),
               rationale="More beds for winter as provided for.", light_touch=True)
        k.vary(kind="scope", ground="pa2023_s74_2_light_touch", value_change=40_000_000, effective_from=date(2026, 7, 1),
               rationale="Not substantial: the same service, more of it.", light_touch=True)
    assert len(k.variations) == 2


def test_naming_the_light_touch_ground_does_not_make_a_contract_light_touch():
    k = pa_contract(value=100_000_000)
    before = len(k.pending_events)
    contract_refused(
        "ground_not_available", AT,
        lambda: k.vary(kind="scope", ground="pa2023_s74_2_light_touch", value_change=40_000_000, effective_from=date(2026, 7, 1),
                       rationale="Not substantial, we say."),
        field="ground",
    )
    assert len(k.pending_events) == before


def test_a_novation_needs_a_change_notice_however_small():
    k = pa_contract()
    contract_refused("change_notice_required", AT, lambda: k.novate(to_provider="beech", effective_from=date(2026, 6, 1)), field="change_notice")
    on_contract(k, AT, notice_type="contract_change_notice", notice_reference="UK10-N", published_on=AT.date(), modification="novation")
    with as_(MANAGER, AT):
        k.novate(to_provider="beech", effective_from=date(2026, 6, 1), change_notice="UK10-N")
    assert k.provider == "beech"


def test_an_extension_of_the_term_by_more_than_ten_percent_needs_a_change_notice():
    f = framework("pa2023", months=24)
    k = contract(f)  # 15 April 2026 to 31 March 2028: 716 days
    with as_(MANAGER, AT):
        k.extend(framework=f, months=2, value_change=0, rationale="Two months to move residents.", today=AT.date())  # 61 days
    contract_refused(
        "change_notice_required",
        AT,
        lambda: k.extend(framework=f, months=12, value_change=0, rationale="A year more while re-procuring.", today=AT.date()),
        field="change_notice",
    )
    assert len(k.extensions) == 1


def test_the_change_notice_rule_reads_s75_exactly_at_ten_percent():
    common = dict(regime="pa2023", light_touch=False, value_before=1000)
    assert change_notice_required(**common, value_change=100) is False
    assert change_notice_required(**common, value_change=-101) is True
    assert change_notice_required(**common, value_change=0, term_days_at_award=1000, term_change_days=100) is False
    assert change_notice_required(**common, value_change=0, term_days_at_award=1000, term_change_days=101) is True
    assert change_notice_required(regime="pcr2015", light_touch=False, value_before=1000, value_change=900) is False
