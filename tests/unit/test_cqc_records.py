"""Reading CQC API location records, and what a record changes (pure: no store, no clock).

The two real records ship in the shared fixtures, cqc/location_examples.json (tests/shared.py
finds them); tests that need them fail with a clear message if they are missing.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.providers.cqc import (
    CqcRecordInvalid,
    changes,
    facts_of,
    manager_subject,
    parse_location,
    rating_key,
)
from tests.shared import shared_file

CARE_HOME, AGENCY = "1-125856395", "1-134558905"


def shipped_records() -> dict[str, dict[str, Any]]:
    """The shipped CQC records by location id (a fresh copy each time)."""
    examples = json.loads(shared_file("cqc", "location_examples.json").read_text(encoding="utf-8"))["examples"]
    return {e["record"]["locationId"]: copy.deepcopy(e["record"]) for e in examples}


def care_home() -> dict[str, Any]:
    return shipped_records()[CARE_HOME]


def with_current_rating(record: dict[str, Any], overall: str, report_date: str) -> dict[str, Any]:
    record = copy.deepcopy(record)
    record["currentRatings"]["overall"]["rating"] = overall
    record["currentRatings"]["overall"]["reportDate"] = report_date
    record["currentRatings"]["reportDate"] = report_date
    return record


def held(record: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]], dict[str, Any] | None]:
    """What a Location imported from `record` holds: its facts, rating history and current rating."""
    parsed = parse_location(record)
    current = msgspec.to_builtins(parsed.current_rating) if parsed.current_rating else None
    return facts_of(parsed), [msgspec.to_builtins(r) for r in parsed.ratings], current


def kinds(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [c.kind for c in changes(*held(before), parse_location(after))]


# ----------------------------------------------------------------------------- reading


def test_the_shipped_care_home_is_read_with_its_address_area_beds_and_services():
    home = parse_location(care_home())
    assert (home.location_id, home.provider_id, home.name) == (CARE_HOME, "1-102642955", "Lucerne House")
    assert home.address.postcode == "EX2 8TU" and home.address.town == "Exeter"
    assert home.area.local_authority == "Devon"
    assert (home.area.icb_code, home.area.icb_name, home.area.icb_kind) == ("E38000230", "NHS Devon CCG", "ccg")
    assert (home.registration_status, home.registration_date) == ("Registered", "2011-02-15")
    assert home.beds == 75 and home.care_home is True
    assert home.service_types == ["Nursing homes"]
    assert [a.code for a in home.regulated_activities] == ["RA2", "RA5"]


def test_every_distinct_rating_set_is_kept_with_its_date_and_the_current_one_is_marked():
    home = parse_location(care_home())
    assert [(r.report_date, r.overall) for r in home.ratings] == [
        ("2015-01-23", "Good"),
        ("2017-02-08", "Outstanding"),
        ("2019-10-31", "Outstanding"),
    ]
    first = home.ratings[0]
    assert first.responsive is not None and first.responsive.rating == "Requires improvement"
    assert first.well_led is not None and first.well_led.report_date == "2015-01-23"
    assert home.current_rating is not None
    assert (home.current_rating.report_date, home.current_rating.overall) == ("2019-10-31", "Outstanding")
    assert home.current_rating.safe is not None
    assert (home.current_rating.safe.rating, home.current_rating.safe.report_date) == ("Good", "2019-10-31")


def test_a_historic_rating_repeating_the_current_one_is_kept_once():
    record = care_home()
    record["historicRatings"].append(
        {"reportDate": "2019-10-31", "overall": copy.deepcopy(record["currentRatings"]["overall"])}
    )
    assert [r.report_date for r in parse_location(record).ratings] == ["2015-01-23", "2017-02-08", "2019-10-31"]


def test_two_different_ratings_of_the_same_date_are_both_kept_even_with_questions_missing():
    record = care_home()
    record["historicRatings"].append({"reportDate": "2015-01-23", "overall": {"rating": "Requires improvement"}})
    dated = [(r.report_date, r.overall) for r in parse_location(record).ratings]
    assert dated[:2] == [("2015-01-23", "Good"), ("2015-01-23", "Requires improvement")]


def test_a_deregistered_agency_without_a_published_rating_has_no_rating_history():
    agency = parse_location(shipped_records()[AGENCY])
    assert (agency.registration_status, agency.deregistration_date) == ("Deregistered", "2016-11-28")
    assert agency.care_home is False and agency.beds is None
    assert agency.ratings == []
    assert agency.current_rating is not None and agency.current_rating.report_date is None
    assert agency.current_rating.overall == "No published rating"


def test_the_icb_fields_are_preferred_to_the_older_ccg_fields():
    record = care_home() | {"onspdIcbCode": "E54000037", "onspdIcbName": "NHS Devon Integrated Care Board"}
    area = parse_location(record).area
    assert (area.icb_code, area.icb_name, area.icb_kind) == ("E54000037", "NHS Devon Integrated Care Board", "icb")


def test_a_record_with_only_the_required_fields_is_read():
    minimal = {"locationId": "1-1", "providerId": "1-2", "name": "Ash House", "registrationStatus": "Registered"}
    home = parse_location(minimal)
    assert home.name == "Ash House" and home.beds is None and home.area.icb_kind is None
    assert home.ratings == [] and home.current_rating is None and home.registered_managers == []


def test_the_registered_manager_is_kept_under_an_opaque_subject_id_and_other_people_not_at_all():
    record = care_home()
    record["regulatedActivities"][0]["contacts"].append(
        {"personGivenName": "Ann", "personFamilyName": "Other", "personRoles": ["Nominated Individual"]}
    )
    (manager,) = parse_location(record).registered_managers  # the same person under two activities
    assert manager.name == "John Surel Bayliss"
    assert manager.subject == manager_subject(CARE_HOME, "John Surel Bayliss")
    assert "Bayliss" not in manager.subject


def test_a_predecessor_and_a_successor_are_read_from_the_relationships():
    record = care_home() | {
        "relationships": [
            {"relatedLocationId": "1-111", "relatedLocationName": "Old Lucerne", "type": "HSCA Predecessor", "reason": "New Provider"},
            {"relatedLocationId": "1-222", "type": "HSCA Successor"},
        ]
    }
    home = parse_location(record)
    assert (home.predecessor, home.predecessor_reason, home.successor) == ("1-111", "New Provider", "1-222")


def _set(record: dict[str, Any], path: list[Any], value: Any) -> dict[str, Any]:
    target = record
    for step in path[:-1]:
        target = target[step]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return record


_DELETE = object()


@pytest.mark.parametrize(
    "path, value, field",
    [
        (["locationId"], _DELETE, "locationId"),
        (["locationId"], "LUC-1", "locationId"),
        (["providerId"], 102642955, "providerId"),
        (["name"], "  ", "name"),
        (["registrationStatus"], "Suspended", "registrationStatus"),
        (["registrationDate"], "15/02/2011", "registrationDate"),
        (["numberOfBeds"], -1, "numberOfBeds"),
        (["numberOfBeds"], "75", "numberOfBeds"),
        (["numberOfBeds"], True, "numberOfBeds"),
        (["careHome"], "Maybe", "careHome"),
        (["regulatedActivities"], {"code": "RA2"}, "regulatedActivities"),
        (["regulatedActivities", 0, "contacts", 0, "personRoles"], "Registered Manager", "regulatedActivities[0].contacts[0].personRoles"),
        (["gacServiceTypes", 0], "Nursing homes", "gacServiceTypes[0]"),
        (["currentRatings", "overall", "rating"], _DELETE, "currentRatings.overall.rating"),
        (["currentRatings", "overall", "keyQuestionRatings", 1, "rating"], 4, "currentRatings.overall.keyQuestionRatings[1].rating"),
        (["historicRatings", 0, "reportDate"], _DELETE, "historicRatings[0].reportDate"),
        (["historicRatings", 1, "overall"], None, "historicRatings[1].overall"),
    ],
)
def test_a_malformed_record_is_refused_naming_the_field(path, value, field):
    with pytest.raises(CqcRecordInvalid) as err:
        parse_location(_set(care_home(), path, value))
    assert err.value.code == "cqc_record_invalid"
    assert err.value.field == field
    assert field in err.value.message


def test_a_record_that_is_not_an_object_is_refused():
    with pytest.raises(CqcRecordInvalid) as err:
        parse_location(["1-125856395"])
    assert err.value.field == "(record)"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


#: the top-level fields of a CQC location record that the ledger reads
READ_FIELDS = [
    "locationId", "providerId", "name", "brandId", "brandName", "postalAddressLine1", "postalAddressLine2",
    "postalAddressTownCity", "postalAddressCounty", "postalCode", "mainPhoneNumber", "website", "region",
    "localAuthority", "onspdIcbCode", "onspdIcbName", "onspdCcgCode", "onspdCcgName", "registrationStatus",
    "registrationDate", "deregistrationDate", "relationships", "careHome", "numberOfBeds", "gacServiceTypes",
    "regulatedActivities", "specialisms", "registeredManagerAbsentDate", "currentRatings", "historicRatings",
]  # fmt: skip


@settings(max_examples=400)
@given(key=st.sampled_from(READ_FIELDS), value=JSON)
def test_any_value_in_any_field_is_either_read_or_refused_naming_that_field(key, value):
    try:
        parse_location(care_home() | {key: value})
    except CqcRecordInvalid as err:
        assert err.field is not None and err.field.startswith(key), (err.field, key)


# ----------------------------------------------------------------------------- changes


def test_the_same_record_changes_nothing():
    assert kinds(care_home(), care_home()) == []


def test_a_record_that_lists_fewer_past_ratings_changes_nothing():
    trimmed = care_home()
    trimmed["historicRatings"] = trimmed["historicRatings"][:1]
    assert kinds(care_home(), trimmed) == []


def test_a_new_rating_is_one_change_marked_current():
    after = with_current_rating(care_home(), "Requires improvement", "2026-02-01")
    (change,) = changes(*held(care_home()), parse_location(after))
    assert change.kind == "rating" and change.values["current"] is True
    assert change.values["rating"]["overall"] == "Requires improvement"
    assert change.values["rating"]["report_date"] == "2026-02-01"


def test_each_real_change_is_one_change_in_a_fixed_order():
    after = with_current_rating(care_home(), "Good", "2026-02-01")
    after["name"] = "Lucerne House Nursing Home"
    after["numberOfBeds"] = 80
    after["onspdIcbCode"], after["onspdIcbName"] = "E54000037", "NHS Devon ICB"
    after["regulatedActivities"][0]["contacts"][0]["personFamilyName"] = "Okafor"
    assert kinds(care_home(), after) == ["name", "area", "beds", "managers", "rating"]


def test_a_new_registered_manager_is_one_change_carrying_the_name_under_the_new_subject():
    after = care_home()
    for activity in after["regulatedActivities"]:
        activity["contacts"] = [{"personGivenName": "Grace", "personFamilyName": "Okafor", "personRoles": ["Registered Manager"]}]
    (change,) = changes(*held(care_home()), parse_location(after))
    assert change.kind == "managers"
    assert change.values["managers"] == [{"subject": manager_subject(CARE_HOME, "Grace Okafor"), "name": "Grace Okafor"}]


def test_deregistration_is_its_own_change():
    after = care_home() | {"registrationStatus": "Deregistered", "deregistrationDate": "2026-01-31"}
    assert kinds(care_home(), after) == ["deregistered"]


def test_registration_again_or_a_new_predecessor_is_a_reregistration():
    deregistered = care_home() | {"registrationStatus": "Deregistered", "deregistrationDate": "2026-01-31"}
    assert kinds(deregistered, care_home()) == ["reregistered"]
    with_predecessor = care_home() | {"relationships": [{"relatedLocationId": "1-111", "type": "HSCA Predecessor"}]}
    assert kinds(care_home(), with_predecessor) == ["reregistered"]


def test_a_successor_named_later_is_a_change_of_registration_details():
    before = care_home() | {"registrationStatus": "Deregistered", "deregistrationDate": "2026-01-31"}
    after = before | {"relationships": [{"relatedLocationId": "1-222", "type": "HSCA Successor"}]}
    assert kinds(before, after) == ["registration"]


def test_the_current_rating_moving_back_to_a_known_set_is_one_change():
    facts, history, _ = held(care_home())
    later = msgspec.to_builtins(parse_location(with_current_rating(care_home(), "Good", "2026-02-01")).current_rating)
    (change,) = changes(facts, [*history, later], later, parse_location(care_home()))
    assert change.values["current"] is True and change.values["rating"]["report_date"] == "2019-10-31"


def test_ratings_are_distinct_by_date_and_the_six_ratings_not_by_links():
    rating = msgspec.to_builtins(parse_location(care_home()).ratings[-1])
    assert rating_key(rating) == rating_key(rating | {"report_link_id": "another-link"})
    assert rating_key(rating) != rating_key(rating | {"overall": "Good"})
