"""The placement tables' rules, event by event (pure: no store, no clock)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

import pytest

from domain.contracts.contract import Contract
from domain.contracts.framework import Framework
from domain.kernel.metadata import Actor
from domain.monitoring.placement_returns import PlacementReturn
from projections.placements import (
    NON_FRAMEWORK,
    RATE_EXCEPTIONS,
    USAGE,
    Placements,
    month_facts,
    on_framework,
    rate_on,
)
from projections.read_model import Replayed
from tests.unit.story import as_

UTC = timezone.utc
COMMISSIONER = Actor(id="cm", org="ICB-NCL", role="commissioner")
ASTER, BIRCH = "1-1000000001", "1-1000000002"
RATES_2025 = {"nursing": 95_000, "nursing_dementia": 100_000, "residential": 80_000, "residential_dementia": 85_000}
RATES_2026 = {"nursing": 99_750, "nursing_dementia": 105_000, "residential": 84_000, "residential_dementia": 89_250}
SET_UP = datetime(2026, 3, 2, 9, tzinfo=UTC)


def london_framework() -> Framework:
    with as_(COMMISSIONER, SET_UP):
        f = Framework.establish(
            reference="AQP-CH-LONDON-2026", title="London AQP care homes", kind="care_homes",
            lots=[{"id": "NCL", "name": "North Central London"}], commissioners=[{"org": "ICB-NCL", "kind": "icb"}],
            starts_on=date(2025, 4, 1), ends_on=date(2029, 3, 31), max_extension_months=0, max_extension_value_percent=None,
            regime="pcr2015", ladder="nottingham", monitoring={},
        )
        f.set_prices(effective_from=date(2025, 4, 1), rates=RATES_2025)
        f.set_prices(effective_from=date(2026, 4, 1), rates=RATES_2026)
    return f


def aster_contract(f: Framework, *homes: str) -> Contract:
    with as_(COMMISSIONER, SET_UP):
        k = Contract.award(
            reference="AQP-CH-LONDON-2026/NCL/aster", framework=f, competition="AQP-CH-2026", lot="NCL", provider="aster",
            value=100_000_000, starts_on=date(2025, 4, 1), ends_on=date(2027, 3, 31),
        )
        for home in homes:
            k.add_home(location=home, effective_from=date(2025, 4, 1))
    return k


def placement(ref: str, bed_type: str, rate: int, start: str, icb: str = "ICB-NCL", **extra: Any) -> dict[str, Any]:
    return {"reference": ref, "icb": icb, "bed_type": bed_type, "weekly_rate": rate, "start_date": start, **extra}


def returned(f: Framework, location: str, period: str, placements: list[dict[str, Any]], at: datetime) -> PlacementReturn:
    with as_(Actor(id="m", org=location, role="provider"), at):
        return PlacementReturn.submit_new(
            location=location, framework=f.reference, period=period, placements=placements, rate_on=f.rate_on, previous=None, now=at,
        )


APRIL = [
    placement("AST-0007", "nursing", 99_750, "2025-11-03"),
    placement("AST-0015", "residential", 84_000, "2026-03-09", end_date="2026-04-21", end_reason="discharged_home"),
]
IN_MAY = datetime(2026, 5, 6, 10, tzinfo=UTC)


def replay(*aggregates: Any) -> Replayed:
    return Replayed(Placements).feed([e for a in aggregates for e in a.collect_events()])


@pytest.mark.parametrize(
    ("start", "end", "facts"),
    [
        ("2025-11-03", None, dict(started=False, ended=False, active=True, open_at_month_end=True, days=30, priced_on="2026-04-01")),
        ("2026-03-09", "2026-04-21", dict(started=False, ended=True, active=True, open_at_month_end=False, days=20, priced_on="2026-04-01")),
        ("2026-04-13", None, dict(started=True, ended=False, active=True, open_at_month_end=True, days=18, priced_on="2026-04-13")),
        ("2026-04-13", "2026-04-13", dict(started=True, ended=True, active=True, open_at_month_end=False, days=0, priced_on="2026-04-13")),
        ("2026-04-02", "2026-04-30", dict(started=True, ended=True, active=True, open_at_month_end=False, days=28, priced_on="2026-04-02")),
        ("2026-01-05", "2026-03-28", dict(started=False, ended=False, active=False, open_at_month_end=False, days=0, priced_on="2026-04-01")),
    ],
)
def test_how_a_placement_counts_in_its_month(start, end, facts):
    assert month_facts({"start_date": start, "end_date": end}, "2026-04") == facts


def test_the_price_is_the_latest_schedule_effective_on_the_day():
    schedules = {"2025-04-01": RATES_2025, "2026-04-01": RATES_2026}
    assert rate_on(schedules, "2026-03-31", "nursing") == 95_000
    assert rate_on(schedules, "2026-04-01", "nursing") == 99_750
    assert rate_on(schedules, "2025-03-31", "nursing") is None
    assert rate_on({"2025-04-01": {"nursing": 1}}, "2026-01-01", "residential") is None


def test_spells_on_the_framework_include_their_first_day_and_not_their_last():
    spells = [{"contract": "k", "from": "2025-04-01", "to": "2026-06-01"}, {"contract": "j", "from": "2026-09-01", "to": None}]
    assert [on_framework(spells, d) for d in ("2025-03-31", "2025-04-01", "2026-05-31", "2026-06-01", "2026-09-01", "2030-01-01")] == [
        False, True, True, False, True, True,
    ]


def test_the_worked_example_of_a_months_usage():
    f = london_framework()
    k = aster_contract(f, ASTER)
    r = returned(f, ASTER, "2026-04", APRIL, IN_MAY)
    replayed = replay(f, k, r)
    assert replayed.rows(USAGE.name) == [{
        "framework": "AQP-CH-LONDON-2026", "commissioner": "ICB-NCL", "period": "2026-04", "homes": 1, "started": 0, "ended": 1,
        "active": 2, "open_at_month_end": 1, "weekly_spend": 99_750, "care_days": 50, "month_spend": 667_500,
        "rate_exceptions": 0, "at_non_framework_homes": 0,
    }]
    assert replayed.rows(RATE_EXCEPTIONS.name) == [] and replayed.rows(NON_FRAMEWORK.name) == []


def test_a_framework_home_paid_another_rate_is_an_exception_with_the_difference():
    f = london_framework()
    k = aster_contract(f, ASTER)
    explained = "Agreed a higher rate for one-to-one care; the explanation may name a resident"
    r = returned(f, ASTER, "2026-04", [
        *APRIL,
        placement("AST-0019", "nursing_dementia", 110_000, "2026-04-13", rate_explanation=explained),
        placement("AST-0020", "residential", 82_000, "2026-04-20", icb="ICB-NEL", rate_explanation="Legacy rate"),
    ], IN_MAY)
    replayed = replay(f, k, r)
    exceptions = replayed.rows(RATE_EXCEPTIONS.name)
    assert [(e["placement"], e["framework_rate"], e["paid_rate"], e["difference"], e["priced_on"], e["home_on_framework"]) for e in exceptions] == [
        ("AST-0019", 105_000, 110_000, 5_000, "2026-04-13", "yes"),
        ("AST-0020", 84_000, 82_000, -2_000, "2026-04-20", "yes"),
    ]
    assert all(e["explained"] == "yes" for e in exceptions)
    assert explained not in str(replayed.page.store)
    # The price the read model looked up is the one the domain checked the return against.
    by_ref = {p["reference"]: p for p in r.placements}
    assert all(by_ref[e["placement"]]["framework_rate"] == e["framework_rate"] for e in exceptions)
    usage = {u["commissioner"]: u for u in replayed.rows(USAGE.name)}
    assert (usage["ICB-NCL"]["rate_exceptions"], usage["ICB-NEL"]["rate_exceptions"]) == (1, 1)
    assert (usage["ICB-NCL"]["started"], usage["ICB-NEL"]["started"], usage["ICB-NEL"]["weekly_spend"]) == (1, 1, 82_000)


def test_a_home_not_on_the_framework_charging_its_rate_is_listed_to_be_invited():
    f = london_framework()
    k = aster_contract(f, ASTER)
    march = returned(f, BIRCH, "2026-03", [placement("BIR-1", "nursing", 95_000, "2026-02-02")], datetime(2026, 4, 2, tzinfo=UTC))
    april = returned(f, BIRCH, "2026-04", [
        placement("BIR-1", "nursing", 99_750, "2026-02-02"),
        placement("BIR-2", "residential", 84_000, "2026-04-06", icb="ICB-NEL"),
        placement("BIR-3", "nursing", 120_000, "2026-04-07", rate_explanation="Our own rate"),
    ], IN_MAY)
    replayed = replay(f, k, march, april)
    assert replayed.rows(NON_FRAMEWORK.name) == [{
        "framework": "AQP-CH-LONDON-2026", "location": BIRCH, "home": None, "placements": 2,
        "commissioners": "ICB-NCL; ICB-NEL", "first_period": "2026-03", "last_period": "2026-04",
    }]
    # Its own rate is no error at a home off the framework: listed, marked, and not counted as an exception.
    (own_rate,) = replayed.rows(RATE_EXCEPTIONS.name)
    assert (own_rate["placement"], own_rate["home_on_framework"]) == ("BIR-3", "no")
    usage = {(u["commissioner"], u["period"]): u for u in replayed.rows(USAGE.name)}
    assert usage[("ICB-NCL", "2026-04")]["rate_exceptions"] == 0
    assert usage[("ICB-NCL", "2026-04")]["at_non_framework_homes"] == 2


def test_a_home_leaves_the_framework_when_removed_or_when_its_contract_ends():
    f = london_framework()
    k = aster_contract(f, ASTER, BIRCH)
    with as_(COMMISSIONER, SET_UP):
        k.remove_home(location=BIRCH, effective_from=date(2026, 4, 10), reason="Left the framework")
        k.terminate(reason_kind="mutual_agreement", effective_on=date(2026, 4, 20), reason="Provider exit")
    why = {"rate_explanation": "Rate agreed before the uplift"}
    paid_less = [placement("P1", "nursing", 90_000, "2026-04-01", **why), placement("P2", "nursing", 90_000, "2026-04-15", **why),
                 placement("P3", "nursing", 90_000, "2026-04-25", **why)]
    aster = returned(f, ASTER, "2026-04", paid_less, IN_MAY)
    birch = returned(f, BIRCH, "2026-04", [placement("B1", "nursing", 90_000, "2026-04-09", **why), placement("B2", "nursing", 90_000, "2026-04-10", **why)], IN_MAY)
    rows = {(e["location"], e["placement"]): e["home_on_framework"] for e in replay(f, k, aster, birch).rows(RATE_EXCEPTIONS.name)}
    assert rows == {(ASTER, "P1"): "yes", (ASTER, "P2"): "yes", (ASTER, "P3"): "no", (BIRCH, "B1"): "yes", (BIRCH, "B2"): "no"}


def test_an_expired_contracts_homes_stay_on_to_the_end_of_its_last_day():
    f = london_framework()
    k = aster_contract(f, ASTER)
    with as_(COMMISSIONER, SET_UP):
        k.expire(today=date(2027, 4, 2))
    why = {"rate_explanation": "Test"}
    march = returned(f, ASTER, "2027-03", [placement("E1", "nursing", 1, "2027-03-31", **why)], datetime(2027, 4, 5, tzinfo=UTC))
    april = returned(f, ASTER, "2027-04", [placement("E1", "nursing", 1, "2027-03-31", **why)], datetime(2027, 5, 5, tzinfo=UTC))
    rows = replay(f, k, march, april).rows(RATE_EXCEPTIONS.name)
    assert [(r["period"], r["home_on_framework"]) for r in rows] == [("2027-03", "yes"), ("2027-04", "no")]


def test_homes_count_once_per_commissioner_and_month_and_months_add_up_across_homes():
    f = london_framework()
    k = aster_contract(f, ASTER, BIRCH)
    a = returned(f, ASTER, "2026-04", APRIL, IN_MAY)
    b = returned(f, BIRCH, "2026-04", [placement("B1", "nursing", 99_750, "2026-04-01")], IN_MAY)
    (usage,) = replay(f, k, a, b).rows(USAGE.name)
    assert (usage["homes"], usage["active"], usage["open_at_month_end"], usage["weekly_spend"]) == (2, 3, 2, 199_500)
    assert usage["month_spend"] == (99_750 * 30 + 84_000 * 20 + 99_750 * 30) // 7
