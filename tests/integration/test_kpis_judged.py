"""Spot checks of a return's data and the Cheshire East KPIs judged, on each store (issue 18 item 1).

A commissioner or contract manager of the home records a spot check (`return.record_spot_check`):
refused, with the fields named and nothing recorded, for a provider, for another council, for a
return not received and for bad input; recorded once for a good one. The compliance read model
then judges Cheshire East's KPIs for the home, and only Cheshire East's: outcomes reviews from the
quarterly return, accuracy from the spot checks.
"""

from __future__ import annotations

from datetime import date, datetime, timezone

import msgspec

from domain.application import Ledger
from domain.kernel.metadata import Actor
from domain.monitoring.commands import PublishTemplate, RecordSpotCheck, SubmitReturn
from domain.monitoring.returns import Return
from domain.monitoring.templates import shipped_template
from projections import follow
from projections.catalogue import READ_MODELS
from api.cqc_import import import_records
from domain.contracts import commands as k
from tests.integration.test_performance_failures import CARE_HOME, COMMISSIONER, CONTRACT, MANAGER, MARCH, SYNC, ok
from tests.unit.test_cqc_records import shipped_records
from tests.unit.test_kpis import QUARTERLY

UTC = timezone.utc
QUARTERLY_TEMPLATE = "cheshire-east-quarterly"
PROVIDER = Actor(id="u-provider", org="1-102642955", role="provider")
ELSEWHERE = Actor(id="u-other", org="STOCKPORT", role="contract_manager")
REFERENCE = f"{CARE_HOME}/{QUARTERLY_TEMPLATE}/v1/2026-Q1"
FIELDS = ["residents", "cec_funded_residents", "outcome_reviews_completed", "outcome_reviews_with_outcome_achieved"]


def set_up(ledger: Ledger, kpi_sets: tuple[str, ...] = ("cheshire-east-accommodation-with-care",)) -> None:
    """Cheshire East's framework, monitored by its KPI set, commissioning the home's area; the home on a contract under it."""
    assert [o.outcome for o in import_records(ledger, list(shipped_records().values()), SYNC, MARCH)] == ["recorded", "recorded"]
    at = datetime(2026, 3, 3, 9, tzinfo=UTC)
    ok(ledger, k.EstablishFramework(
        framework="CEC-AWC-2026", title="Cheshire East accommodation with care", kind="care_homes",
        lots=[k.FrameworkLot(id="ALL", name="Cheshire East")], commissioners=[k.Commissioner(org="CEC", kind="council", areas=["Devon"])],
        starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31), regime="pcr2015", escalation_ladder="cheshire_east",
        monitoring={"returns": [QUARTERLY_TEMPLATE], "kpis": list(kpi_sets)},
    ), COMMISSIONER, at)
    ok(ledger, k.AwardContract(
        contract=CONTRACT, framework="CEC-AWC-2026", competition="CEC-AWC-2026", lot="ALL", provider="1-102642955",
        value=0, starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31),
    ), MANAGER, at)
    ok(ledger, k.AddHome(contract=CONTRACT, location=CARE_HOME, effective_from=date(2026, 4, 1)), MANAGER, at)


def with_a_quarterly_return(ledger: Ledger, kpi_sets: tuple[str, ...] = ("cheshire-east-accommodation-with-care",)) -> int:
    """The set-up and the home's first quarterly return; the position of its event."""
    set_up(ledger, kpi_sets)
    ok(ledger, PublishTemplate(template=shipped_template(QUARTERLY_TEMPLATE)), COMMISSIONER, datetime(2026, 3, 3, 10, tzinfo=UTC))
    values = {**QUARTERLY, "cec_funded_residents": 28, "outcome_reviews_completed": 7, "outcome_reviews_with_outcome_achieved": 6}
    return ok(ledger, SubmitReturn(location=CARE_HOME, template=QUARTERLY_TEMPLATE, period="2026-Q1", values=values), PROVIDER,
              datetime(2026, 7, 10, 9, tzinfo=UTC)).position


def spot_check(**changes) -> RecordSpotCheck:
    return RecordSpotCheck(**{
        "location": CARE_HOME, "template": QUARTERLY_TEMPLATE, "version": 1, "period": "2026-Q1", "checked_on": date(2026, 8, 3),
        "fields_checked": FIELDS, "fields_accurate": FIELDS[:3], "method": "Care plans and the outcomes review matrix seen at the home.",
        **changes,
    })


AUGUST = datetime(2026, 8, 4, 10, tzinfo=UTC)


def test_a_spot_check_is_refused_with_its_fields_named_and_nothing_recorded(ledger):
    with_a_quarterly_return(ledger)
    position = ledger.max_position()
    refusals = {
        "provider": ledger.handle(spot_check(), PROVIDER, at=AUGUST),
        "another council": ledger.handle(spot_check(), ELSEWHERE, at=AUGUST),
        "not received": ledger.handle(spot_check(period="2026-Q2"), MANAGER, at=AUGUST),
        "bad input": ledger.handle(
            spot_check(fields_checked=["residents", "beds"], fields_accurate=["staff_retained"], checked_on=date(2026, 8, 9)), MANAGER, at=AUGUST,
        ),
    }
    assert {why: (r.ok, r.error.code) for why, r in refusals.items()} == {
        "provider": (False, "not_permitted"),
        "another council": (False, "not_your_commission"),
        "not received": (False, "return_not_submitted"),
        "bad input": (False, refusals["bad input"].error.code),
    }
    assert {(f.field, f.rule) for f in refusals["bad input"].error.fields} == {
        ("fields_checked.beds", "unknown_metric"), ("fields_accurate.staff_retained", "not_checked"), ("checked_on", "in_the_future"),
    }
    assert all(r.events == [] for r in refusals.values())
    assert ledger.max_position() == position
    assert ledger.aggregate(Return, REFERENCE).spot_checks == []


def test_a_contract_manager_records_a_spot_check_once_and_cheshire_easts_kpis_are_judged(ledger):
    with_a_quarterly_return(ledger)
    first = ok(ledger, spot_check(), MANAGER, AUGUST)
    assert first.value == {"return": REFERENCE, "recorded": True, "spot_checks": 1}
    assert [e.type for e in first.events] == ["Return.SpotChecked"]
    again = ok(ledger, spot_check(), MANAGER, AUGUST)
    assert again.value["recorded"] is False and again.events == []
    ok(ledger, spot_check(checked_on=date(2026, 8, 4), fields_checked=FIELDS[:1], fields_accurate=FIELDS[:1]), COMMISSIONER, AUGUST)
    (check, _) = ledger.aggregate(Return, REFERENCE).spot_checks
    assert (check["fields_inaccurate"], check["checker"], check["checked_on"]) == (["outcome_reviews_with_outcome_achieved"], "CEC", "2026-08-03")

    model = READ_MODELS["compliance"]
    follow.catch_up(ledger, model(follow.live_view(ledger, model)), page_size=5)
    view = follow.live_view(ledger, model)
    judged = {r["kpi"]: r for r in view.select("compliance_kpis", where={"scope": "home", "scope_id": CARE_HOME})}
    assert {r["kpi_set"] for r in judged.values()} == {"cheshire-east-accommodation-with-care"}
    # 25% of 28 CEC funded residents is 7 reviews; 6 evidenced an outcome: 85.71%, below 95%.
    reviews = judged["outcome_reviews"]
    assert (reviews["numerator"], reviews["denominator"], reviews["value"], reviews["outcome"]) == (6, 7, 85.71, "breached")
    # 3 of 4 fields, then 1 of 1: 4 of 5 fields accurate, 80% against 95%.
    accuracy = judged["accuracy_of_submissions"]
    assert (accuracy["numerator"], accuracy["denominator"], accuracy["value"], accuracy["outcome"]) == (4, 5, 80.0, "breached")
    assert judged["timeliness_of_submissions"]["outcome"] == "met"
    assert not {"returns_by_deadline", "returns_within_three_months"} & set(judged)


def test_a_framework_naming_a_kpi_set_the_ledger_does_not_know_is_refused_and_nothing_recorded(ledger):
    establish = k.EstablishFramework(
        framework="CEC-TYPO", title="Cheshire East accommodation with care", kind="care_homes",
        lots=[k.FrameworkLot(id="ALL", name="Cheshire East")], commissioners=[k.Commissioner(org="CEC", kind="council", areas=["Devon"])],
        starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31), regime="pcr2015", escalation_ladder="cheshire_east",
        monitoring={"returns": [QUARTERLY_TEMPLATE], "kpis": ["cheshire-east-accomodation-with-care"]},
    )
    refused = ledger.handle(establish, COMMISSIONER, at=MARCH)
    assert not refused.ok and refused.error.code == "unknown_kpi_set" and refused.events == []
    assert [f.field for f in refused.error.fields] == ["monitoring.kpis"]
    assert "cheshire-east-accommodation-with-care" in refused.error.message
    assert ledger.max_position() == 0
    named = msgspec.structs.replace(establish, monitoring={"returns": [QUARTERLY_TEMPLATE], "kpis": ["cheshire-east-accommodation-with-care"]})
    assert [e.type for e in ok(ledger, named, COMMISSIONER, MARCH).events] == ["Framework.Established"]
