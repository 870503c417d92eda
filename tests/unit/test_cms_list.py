"""The CMS list's rules, event by event (pure: no store, no clock)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from domain.contracts.contract import Contract
from domain.providers.cqc import parse_location
from domain.providers.location import Location
from domain.providers.provider import Provider
from domain.providers.views import location_state
from projections.cms import HOME_CARE, HOMES, CmsList, location_key, postcode_district
from projections.read_model import Replayed
from tests.unit.story import as_
from tests.unit.test_contract_rules import AT, MANAGER, contract, framework
from tests.unit.test_home_care_availability import BRANCH
from tests.unit.test_locations import (
    COMMISSIONER,
    HOME_ACCOUNT,
    IMPORTED,
    NOW,
    SYSTEM,
    TODAY,
    counts,
    home,
    rated,
    record,
    sync,
)

LATER = NOW + timedelta(hours=3)


def listed(*aggregates: Any, table: str = HOMES.name) -> list[dict[str, Any]]:
    """The rows the list makes of every event the aggregates have pending, in the order given."""
    events = [e for aggregate in aggregates for e in aggregate.collect_events()]
    return Replayed(CmsList).feed(events).rows(table)


def only(rows: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(rows) == 1, rows
    return rows[0]


@pytest.mark.parametrize(
    ("postcode", "district"),
    [("SE15 5AB", "SE15"), ("se155ab", "SE15"), ("N1 1AA", "N1"), ("EC1A 1BB", "EC1A"), ("W1A0AX", "W1A"), ("  ", None), (None, None)],
)
def test_the_postcode_district_is_the_outward_code(postcode, district):
    assert postcode_district(postcode) == district


def test_an_imported_home_is_a_row_of_what_cqc_says():
    loc = home(specialisms=[{"name": "Dementia"}, {"name": "Caring for adults over 65 yrs"}])
    row = only(listed(loc))
    state = location_state(loc)
    assert row["location"] == "1-101" and row["name"] == state["name"] == "Birch House"
    assert (row["provider"], row["provider_brand"], row["care_home"]) == ("1-900", None, "yes")
    assert (row["postcode"], row["postcode_district"], row["local_authority"]) == ("N1 1AA", "N1", "Islington")
    assert (row["icb_code"], row["icb"]) == ("E54000028", "NHS North Central London ICB")
    assert (row["registration_status"], row["registered_on"], row["deregistered_on"]) == ("Registered", "2015-04-01", None)
    assert (row["overall_rating"], row["rating_date"]) == ("Outstanding", "2019-10-31")
    assert (row["beds"], row["nursing"], row["dementia"]) == (40, "yes", "yes")
    assert row["specialisms"] == "Caring for adults over 65 yrs; Dementia"
    assert (row["suspended"], row["on_framework"], row["open_concerns"]) == ("no", "no", 0)
    assert row["vacancies_total"] is None and row["manager_changed_at"] is None
    assert row["last_event_at"] == IMPORTED.isoformat()
    assert "memberships" not in row  # a hidden column
    # The registered manager's name is personal data: nowhere in the row.
    assert not any("Adeyemi" in str(v) for v in row.values())


def test_nursing_and_dementia_are_unknown_when_cqc_lists_no_services():
    row = only(listed(home(gacServiceTypes=[], specialisms=[])))
    assert (row["nursing"], row["dementia"], row["service_types"]) == (None, None, None)
    assert only(listed(home(gacServiceTypes=[{"name": "Care home service without nursing"}])))["nursing"] == "no"


def test_vacancies_show_the_latest_day_reported_and_its_corrections():
    loc = home()
    yesterday = TODAY - timedelta(days=1)
    with as_(HOME_ACCOUNT, NOW):
        loc.report_vacancies(day=TODAY, counts=counts(nursing=2, residential_dementia=1), now=NOW)
    with as_(HOME_ACCOUNT, LATER):
        # Yesterday's report, sent late, and a correction of it: the list still shows today.
        loc.report_vacancies(day=yesterday, counts=counts(nursing=5), now=LATER)
        loc.correct_vacancies(day=yesterday, counts=counts(nursing=4), reason="miscounted", now=LATER)
    replayed = Replayed(CmsList).feed(loc.collect_events())
    row = only(replayed.rows())
    assert {k: row[k] for k in row if k.startswith("vacancies_")} == {
        "vacancies_nursing": 2, "vacancies_nursing_dementia": 0, "vacancies_residential": 0, "vacancies_residential_dementia": 1,
        "vacancies_total": 3, "vacancies_day": TODAY.isoformat(), "vacancies_reported_at": NOW.isoformat(),
        "vacancies_corrected_at": None,
    }
    with as_(HOME_ACCOUNT, LATER):
        loc.correct_vacancies(day=TODAY, counts=counts(nursing=1, residential_dementia=1), reason="one bed filled", now=LATER)
    rows = replayed.feed(loc.collect_events()).rows()
    assert only(rows)["vacancies_nursing"] == 1 and only(rows)["vacancies_total"] == 2
    assert (only(rows)["vacancies_reported_at"], only(rows)["vacancies_corrected_at"]) == (NOW.isoformat(), LATER.isoformat())
    assert location_state(loc)["vacancies"][TODAY.isoformat()]["total"] == only(rows)["vacancies_total"]


def test_a_voluntary_suspension_shows_until_it_is_lifted():
    loc = home()
    with as_(HOME_ACCOUNT, NOW):
        loc.suspend_placements(from_date=TODAY, to_date=None, reason="Norovirus outbreak", now=NOW)
    events = loc.collect_events()
    row = only(Replayed(CmsList).feed(events).rows())
    assert (row["suspended"], row["suspension"], row["suspended_from"], row["suspended_until"]) == ("yes", "S001", TODAY.isoformat(), None)
    assert row["suspension_reason"] == "Norovirus outbreak"
    with as_(HOME_ACCOUNT, LATER):
        loc.lift_suspension(reason="Outbreak over", now=LATER)
    row = only(Replayed(CmsList).feed(events + loc.collect_events()).rows())
    assert (row["suspended"], row["suspension"], row["suspension_lifted_on"]) == ("no", "S001", TODAY.isoformat())


def test_concerns_are_counted_and_never_described():
    loc = home()
    with as_(COMMISSIONER, NOW):
        first = loc.share_concern(kind="safeguarding", summary="Unexplained bruising on resident R7", shared_by="ICB-NCL")
        loc.share_concern(kind="staffing", summary="Night shift below safe staffing twice", shared_by="ICB-NCL")
        loc.resolve_concern(concern=first, outcome="Investigated with the borough: no harm found")
    rows = listed(loc)
    assert only(rows)["open_concerns"] == 1
    text = " ".join(str(v) for v in only(rows).values())
    for secret in ("bruising", "R7", "Night shift", "safeguarding", "staffing", "Investigated"):
        assert secret not in text


def test_a_change_of_registered_manager_is_a_time_without_a_name():
    loc = home()
    manager = {"personGivenName": "Tomas", "personFamilyName": "Novak", "personRoles": ["Registered Manager"]}
    activities = [{"name": "Accommodation for persons who require nursing or personal care", "code": "RA2", "contacts": [manager]}]
    assert sync(loc, regulatedActivities=activities, registeredManagerAbsentDate=None) == ["RegisteredManagerChanged"]
    row = only(listed(loc))
    assert row["manager_changed_at"] == NOW.isoformat() and row["manager_absent_since"] is None
    assert not any("Novak" in str(v) or "Tomas" in str(v) for v in row.values())


def test_the_rating_shown_is_cqcs_current_one():
    loc = home()
    assert sync(loc, currentRatings=rated("Inadequate", "2026-02-20")) == ["RatedInadequate"]
    # A historic rating CQC lists for the first time is kept by the home, but is not the current one.
    historic = [{"reportDate": "2017-05-01", "overall": {"rating": "Good"}}]
    assert sync(loc, LATER, currentRatings=rated("Inadequate", "2026-02-20"), historicRatings=historic) == ["RatingRecorded"]
    row = only(listed(loc))
    assert (row["overall_rating"], row["rating_date"]) == ("Inadequate", "2026-02-20")
    assert location_state(loc)["current_rating"]["overall"] == row["overall_rating"]


def test_cqc_changes_and_commissioners_settings_reach_the_row():
    loc = home()
    sync(
        loc,
        name="Birch House Nursing Home",
        postalCode="SE15 5AB",
        localAuthority="Southwark",
        onspdIcbName="NHS South East London ICB",
        numberOfBeds=44,
        registrationStatus="Deregistered",
        deregistrationDate="2026-03-09",
        mainPhoneNumber="020 7946 0000",
    )
    with as_(COMMISSIONER, LATER):
        loc.set_category(category="older_people", reason=None)
        loc.set_commissioning_area(area="SEL Southwark directorate", reason=None)
    row = only(listed(loc))
    assert (row["name"], row["postcode_district"], row["local_authority"], row["icb"]) == (
        "Birch House Nursing Home", "SE15", "Southwark", "NHS South East London ICB",
    )
    assert (row["beds"], row["registration_status"], row["deregistered_on"], row["phone"]) == (44, "Deregistered", "2026-03-09", "020 7946 0000")
    assert (row["category"], row["commissioning_area"]) == ("older_people", "SEL Southwark directorate")


def test_framework_membership_follows_the_contracts_listing_the_home():
    loc = home()
    f = framework()
    first = contract(f)
    with as_(MANAGER, AT):
        second = Contract.award(
            reference="AQP-NH/NCL/aster-2", framework=f, competition="AQP-CH-2026", lot="NCL", provider="aster",
            value=1, starts_on=date(2026, 4, 15), ends_on=date(2028, 3, 31),
        )
        first.add_home(location="1-101", effective_from=date(2026, 5, 1))
        second.add_home(location="1-101", effective_from=date(2026, 4, 20))
    row = only(listed(loc, first, second))
    assert (row["on_framework"], row["framework_contracts"], row["frameworks"], row["on_framework_since"]) == (
        "yes", "AQP-NH/NCL/aster; AQP-NH/NCL/aster-2", "AQP-NH", "2026-04-20",
    )
    loc, first = home(), contract(f)
    with as_(MANAGER, AT):
        first.add_home(location="1-101", effective_from=date(2026, 5, 1))
        first.add_home(location="1-202", effective_from=date(2026, 5, 1))
        first.remove_home(location="1-101", effective_from=date(2026, 6, 1), reason="Home closing")
    replayed = Replayed(CmsList).feed([*loc.collect_events(), *first.collect_events()])
    rows = {r["location"]: r for r in replayed.rows()}
    assert (rows["1-101"]["on_framework"], rows["1-101"]["framework_contracts"]) == ("no", None)
    # A home put on a contract before its CQC record arrives has a row of its contract columns only.
    assert (rows["1-202"]["on_framework"], rows["1-202"]["name"]) == ("yes", None)
    with as_(MANAGER, AT):
        first.terminate(reason_kind="mutual_agreement", effective_on=date(2026, 9, 30), reason="Provider exit")
    rows = {r["location"]: r for r in replayed.feed(first.collect_events()).rows()}
    assert (rows["1-202"]["on_framework"], rows["1-202"]["framework_contracts"]) == ("no", None)


def test_a_home_imported_after_it_was_put_on_a_contract_keeps_its_membership():
    f = framework()
    k = contract(f)
    with as_(MANAGER, AT):
        k.add_home(location="1-101", effective_from=date(2026, 5, 1))
    row = only(listed(k, home()))
    assert (row["name"], row["on_framework"], row["framework_contracts"]) == ("Birch House", "yes", "AQP-NH/NCL/aster")


def test_a_home_care_branch_lists_its_availability_by_care_tier():
    branch = home(**BRANCH)
    care_home = home(locationId="1-303", name="Aster Court")
    replayed = Replayed(CmsList).feed([*branch.collect_events(), *care_home.collect_events()])
    assert [r["location"] for r in replayed.rows(HOME_CARE.name)] == ["1-101"]
    assert replayed.rows(HOME_CARE.name)[0]["tier_1_hours"] is None  # listed, nothing reported yet
    with as_(HOME_ACCOUNT, NOW):
        branch.report_availability(day=TODAY, hours={"tier_1": 120, "tier_2": 60}, accepting_new_packages=True, now=NOW)
    with as_(HOME_ACCOUNT, LATER):
        branch.report_availability(day=TODAY, hours={"tier_1": 100, "tier_3": 8}, accepting_new_packages=False, now=LATER)
        branch.report_availability(day=TODAY - timedelta(days=1), hours={"tier_1": 1}, accepting_new_packages=True, now=LATER)
    sync(branch, LATER, **{**BRANCH, "name": "Riverside Home Care (Islington)"})
    row = only(replayed.feed(branch.collect_events()).rows(HOME_CARE.name))
    assert row == {
        "location": "1-101", "name": "Riverside Home Care (Islington)", "provider": "1-900", "provider_brand": None,
        "postcode_district": "N1", "local_authority": "Islington", "icb": "NHS North Central London ICB",
        "commissioning_area": None, "registration_status": "Registered", "overall_rating": "Outstanding",
        "suspended": "no", "on_framework": "no", "open_concerns": 0,
        "tier_1_hours": 100, "tier_2_hours": 0, "tier_3_hours": 8, "registered_nursing_hours": 0,
        "accepting_new_packages": "no", "availability_day": TODAY.isoformat(), "availability_reported_at": LATER.isoformat(),
    }
    assert {r["location"]: r["care_home"] for r in replayed.rows(HOMES.name)} == {"1-101": "no", "1-303": "yes"}


def test_a_location_cqc_calls_a_care_home_again_leaves_the_home_care_list_unless_it_reported():
    branch = home(**BRANCH)
    sync(branch, LATER, **{**BRANCH, "careHome": "Y"})
    replayed = Replayed(CmsList).feed(branch.collect_events())
    assert replayed.rows(HOME_CARE.name) == [] and replayed.rows(HOMES.name)[0]["care_home"] == "yes"


def test_the_providers_brand_follows_rebrands_and_changes_of_provider():
    with as_(SYSTEM, IMPORTED):
        loc = Location.import_cqc(parse_location(record(brandName="BRAND Birch Care", brandId="BD1")))
        group = Provider.import_cqc(reference="1-900", brand_id="BD1", brand_name="BRAND Birch Care", location="1-101")
        other = Provider.import_cqc(reference="1-950", brand_id=None, brand_name="BRAND Cedar", location="1-999")
    events = [*loc.collect_events(), *group.collect_events(), *other.collect_events()]
    replayed = Replayed(CmsList).feed(events)
    assert only(replayed.rows())["provider_brand"] == "BRAND Birch Care"
    with as_(SYSTEM, NOW):
        group.sync_cqc(brand_id="BD2", brand_name="BRAND Birch Healthcare", location="1-101")
    assert only(replayed.feed(group.collect_events()).rows())["provider_brand"] == "BRAND Birch Healthcare"
    sync(loc, LATER, providerId="1-950")
    with as_(SYSTEM, LATER):
        group.sync_cqc(brand_id="BD3", brand_name="BRAND Birch Again", location="1-101")
    row = only(replayed.feed([*loc.collect_events(), *group.collect_events()]).rows())
    assert (row["provider"], row["provider_brand"]) == ("1-950", "BRAND Cedar")


def test_rows_are_keyed_by_the_locations_ledger_id():
    loc = home()
    replayed = Replayed(CmsList).feed(loc.collect_events())
    assert list(replayed.page.store[HOMES.name]) == [location_key("1-101")] == [str(loc.id)]


def test_every_location_event_is_followed():
    followed = set(CmsList.followed)
    assert {v for v in vars(Location).values() if isinstance(v, type) and issubclass(v, Location.Event)} <= followed
    assert not {Contract.Varied, Contract.Novated, Contract.Signed} & followed
