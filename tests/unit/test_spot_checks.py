"""The Council's spot checks of a return's data (seed 003 s.3.6 b), on the Return aggregate
(domain only: no store, no clock)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.kernel.errors import DomainError
from domain.kernel.metadata import Actor
from domain.monitoring.returns import Return
from domain.monitoring.templates import parse_template, shipped_template, template_sha256
from domain.monitoring.views import return_state
from tests.unit.story import as_
from tests.unit.test_kpis import QUARTERLY, at

PROVIDER = Actor(id="u-willow", org="1-000000003", role="provider")
OFFICER = Actor(id="u-cec-km", org="CEC", role="contract_manager")
HOME = "1-000000003"
QUARTER = parse_template(shipped_template("cheshire-east-quarterly"))
RECEIVED = date(2026, 7, 10)


def quarterly_return() -> Return:
    with as_(PROVIDER, at(RECEIVED)):
        ret = Return.submit_new(
            location=HOME, definition=QUARTER, sha256=template_sha256(QUARTER), period="2026-Q1",
            values=QUARTERLY, comments={}, answers={}, now=at(RECEIVED),
        )
    ret.collect_events()
    return ret


def check(ret: Return, day: date = date(2026, 8, 3), **changes):
    arguments = {
        "definition": QUARTER, "checked_on": day,
        "fields_checked": ["residents", "cec_funded_residents", "outcome_reviews_completed"],
        "fields_accurate": ["residents", "cec_funded_residents"],
        "method": "Care plans and the outcomes review matrix seen at the home.", "checker": "CEC", "now": at(date(2026, 8, 4)),
        **changes,
    }
    with as_(OFFICER, at(date(2026, 8, 4))):
        return ret.record_spot_check(**arguments)


def test_a_spot_check_records_the_fields_checked_and_those_found_accurate_once():
    ret = quarterly_return()
    assert check(ret) is True
    (event,) = ret.collect_events()
    assert type(event).__name__ == "SpotChecked"
    assert (event.fields_checked, event.fields_accurate, event.fields_inaccurate) == (
        ["cec_funded_residents", "outcome_reviews_completed", "residents"], ["cec_funded_residents", "residents"], ["outcome_reviews_completed"],
    )
    assert (event.checked_on, event.checker, event.of_version) == ("2026-08-03", "CEC", 0)
    # The same check sent again records nothing; a second check another day is its own.
    assert check(ret) is False and ret.collect_events() == []
    assert check(ret, date(2026, 8, 4), fields_accurate=["residents"]) is True
    assert [c["checked_on"] for c in return_state(ret)["spot_checks"]] == ["2026-08-03", "2026-08-04"]


def test_a_bad_spot_check_names_every_field_at_once_and_records_nothing():
    ret = quarterly_return()
    with pytest.raises(DomainError) as err:
        check(
            ret, date(2026, 8, 9),
            fields_checked=["residents", "bed_count", "residents"],
            fields_accurate=["residents", "staff_retained"],
            method=" ",
        )
    assert {(f["field"], f["rule"]) for f in err.value.fields} == {
        ("fields_checked.bed_count", "unknown_metric"),
        ("fields_checked.residents", "duplicate_field"),
        ("fields_accurate.staff_retained", "not_checked"),
        ("checked_on", "in_the_future"),
        ("method", "required"),
    }
    with pytest.raises(DomainError) as err:
        check(ret, date(2026, 7, 9), fields_checked=[], fields_accurate=[])
    assert {(f["field"], f["rule"]) for f in err.value.fields} == {("fields_checked", "required"), ("checked_on", "before_submission")}
    assert ret.collect_events() == [] and ret.spot_checks == []


def test_a_return_not_received_cannot_be_spot_checked():
    with as_(Actor(id="scheduler", org="CEC", role="system"), at(date(2026, 7, 20))):
        ret = Return.missed(location=HOME, definition=QUARTER, sha256=template_sha256(QUARTER), period="2026-Q1", now=at(date(2026, 7, 20)))
    ret.collect_events()
    with pytest.raises(DomainError) as err:
        check(ret)
    assert err.value.code == "return_not_submitted"
    assert ret.collect_events() == []
