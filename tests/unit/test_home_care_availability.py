"""Home-care branches share their availability (seed 001 6.1.2), by care tier (appendix 1)."""

from __future__ import annotations

from datetime import date

import pytest

from domain.kernel.errors import DomainError
from domain.providers.views import location_state
from tests.unit.story import as_
from tests.unit.test_locations import HOME_ACCOUNT, NOW, TODAY, home

BRANCH = dict(
    careHome="N",
    numberOfBeds=0,
    name="Riverside Home Care",
    gacServiceTypes=[{"name": "Domiciliary care service"}],
)


def report(loc, **overrides):
    args = dict(day=TODAY, hours={"tier_1": 120, "tier_2": 60, "tier_3": 10}, accepting_new_packages=True, now=NOW) | overrides
    with as_(HOME_ACCOUNT, NOW):
        return loc.report_availability(**args)


def test_a_home_care_branch_reports_hours_available_by_care_tier():
    branch = home(**BRANCH)
    assert report(branch) is True
    assert location_state(branch)["availability"][TODAY.isoformat()]["hours"] == {
        "tier_1": 120, "tier_2": 60, "tier_3": 10, "registered_nursing": 0
    }
    assert report(branch) is False  # the same report again records nothing


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"hours": {"tier_1": -5}}, "negative_availability", "tier_1"),
        ({"hours": {"tier_9": 5}}, "unknown_care_tier", "tier_9"),
        ({"day": date(2026, 3, 11)}, "availability_date_in_future", "date"),
    ],
)
def test_bad_availability_is_refused_naming_the_field(overrides, code, field):
    branch = home(**BRANCH)
    with pytest.raises(DomainError) as err:
        report(branch, **overrides)
    assert (err.value.code, err.value.field) == (code, field)


def test_a_care_home_reports_vacancies_not_availability():
    with pytest.raises(DomainError) as err:
        report(home())
    assert err.value.code == "not_home_care"
