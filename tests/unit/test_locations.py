"""The rules of a care home on the CMS list, each tried and refused (domain only: no store, no clock)."""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta, timezone
from typing import Any

import pytest

from domain.providers.cqc import manager_subject, parse_location
from domain.kernel.errors import DomainError
from domain.kernel.metadata import Actor
from domain.kernel.personal import PersonalData
from domain.providers.location import Location, require_own_location
from domain.providers.provider import Provider
from domain.providers.views import location_view, may_view
from tests.unit.story import as_

UTC = timezone.utc
SYSTEM = Actor(id="cqc-sync", org="CSU", role="system")
HEAD_OFFICE = Actor(id="ops", org="1-900", role="provider")
HOME_ACCOUNT = Actor(id="manager", org="1-101", role="provider")
OTHER_PROVIDER = Actor(id="ops", org="1-999", role="provider")
COMMISSIONER = Actor(id="cm", org="ICB-NCL", role="commissioner")
CONTRACT_MANAGER = Actor(id="k", org="CSU", role="contract_manager")
AUDITOR = Actor(id="a", org="NAO", role="auditor")
ADMIN = Actor(id="adm", org="CSU", role="admin")
EVALUATOR = Actor(id="ev", org="ICB-NCL", role="evaluator")

IMPORTED = datetime(2026, 3, 2, 6, tzinfo=UTC)
NOW = datetime(2026, 3, 10, 9, tzinfo=UTC)
TODAY = date(2026, 3, 10)

OUTSTANDING = {
    "rating": "Outstanding",
    "reportDate": "2019-10-31",
    "keyQuestionRatings": [
        {"name": q, "rating": "Outstanding", "reportDate": "2019-10-31"}
        for q in ("Safe", "Effective", "Caring", "Responsive", "Well-led")
    ],
}


def record(**overrides: Any) -> dict[str, Any]:
    """A CQC record of a 40-bed nursing home run by provider 1-900."""
    base = {
        "locationId": "1-101",
        "providerId": "1-900",
        "name": "Birch House",
        "registrationStatus": "Registered",
        "registrationDate": "2015-04-01",
        "numberOfBeds": 40,
        "careHome": "Y",
        "postalCode": "N1 1AA",
        "localAuthority": "Islington",
        "onspdIcbCode": "E54000028",
        "onspdIcbName": "NHS North Central London ICB",
        "gacServiceTypes": [{"name": "Nursing homes"}],
        "regulatedActivities": [
            {
                "name": "Accommodation for persons who require nursing or personal care",
                "code": "RA2",
                "contacts": [{"personGivenName": "Ruth", "personFamilyName": "Adeyemi", "personRoles": ["Registered Manager"]}],
            }
        ],
        "currentRatings": {"overall": OUTSTANDING},
    }
    return copy.deepcopy(base | overrides)


def home(**overrides: Any) -> Location:
    with as_(SYSTEM, IMPORTED):
        return Location.import_cqc(parse_location(record(**overrides)))


def sync(loc: Location, at: datetime = NOW, **overrides: Any) -> list[str]:
    with as_(SYSTEM, at):
        return loc.sync_cqc(parse_location(record(**overrides)))


def rated(overall: str, report_date: str) -> dict[str, Any]:
    return {"overall": {**OUTSTANDING, "rating": overall, "reportDate": report_date}}


def counts(nursing: int = 0, nursing_dementia: int = 0, residential: int = 0, residential_dementia: int = 0) -> dict[str, int]:
    return {
        "nursing": nursing,
        "nursing_dementia": nursing_dementia,
        "residential": residential,
        "residential_dementia": residential_dementia,
    }


def refused(action, actor: Actor = HEAD_OFFICE, at: datetime = NOW, reason: str | None = None) -> DomainError:
    with as_(actor, at, reason), pytest.raises(DomainError) as err:
        action()
    return err.value


# ------------------------------------------------------------------------------ CQC sync


def test_a_home_is_created_from_its_cqc_record_with_its_rating_and_manager():
    loc = home()
    assert (loc.reference, loc.provider, loc.name, loc.beds) == ("1-101", "1-900", "Birch House", 40)
    assert loc.area["icb_kind"] == "icb" and loc.area["local_authority"] == "Islington"
    assert loc.current_rating is not None and loc.current_rating["overall"] == "Outstanding"
    assert loc.managers == [PersonalData(manager_subject("1-101", "Ruth Adeyemi"), "Ruth Adeyemi")]


def test_the_same_record_again_records_nothing():
    loc = home()
    before = len(loc.pending_events)
    assert sync(loc) == []
    assert len(loc.pending_events) == before


def test_a_record_of_another_location_is_refused():
    loc = home()
    err = refused(lambda: loc.sync_cqc(parse_location(record(locationId="1-102"))), SYSTEM)
    assert err.code == "wrong_location"


def test_a_rating_that_falls_to_inadequate_is_an_explicit_event():
    loc = home()
    assert sync(loc, currentRatings=rated("Inadequate", "2026-03-01")) == ["RatedInadequate"]
    assert loc.current_rating is not None and loc.current_rating["overall"] == "Inadequate"
    assert [r["report_date"] for r in loc.ratings] == ["2019-10-31", "2026-03-01"]


def test_a_home_still_inadequate_at_its_next_inspection_is_not_a_new_fall():
    loc = home()
    sync(loc, currentRatings=rated("Inadequate", "2026-03-01"))
    assert sync(loc, NOW + timedelta(days=90), currentRatings=rated("Inadequate", "2026-06-01")) == ["RatingRecorded"]


def test_an_improved_rating_is_recorded_once():
    loc = home(currentRatings=rated("Requires improvement", "2024-05-01"))
    assert sync(loc, currentRatings=rated("Good", "2026-03-01")) == ["RatingRecorded"]
    assert sync(loc, NOW + timedelta(days=1), currentRatings=rated("Good", "2026-03-01")) == []


def test_deregistration_is_an_explicit_event():
    loc = home()
    assert sync(loc, registrationStatus="Deregistered", deregistrationDate="2026-03-09") == ["Deregistered"]
    assert loc.registration["status"] == "Deregistered"


def test_a_home_first_seen_with_a_predecessor_is_recorded_as_a_reregistration():
    loc = home(relationships=[{"relatedLocationId": "1-050", "type": "HSCA Predecessor", "reason": "New Provider"}])
    assert [type(e).__name__ for e in loc.pending_events] == ["Imported", "Reregistered"]
    assert loc.registration["predecessor"] == "1-050"


def test_a_new_registered_manager_is_recorded_as_personal_data_under_a_new_subject():
    loc = home()
    old_subject = loc.managers[0].subject
    contacts = [{"personGivenName": "Tom", "personFamilyName": "Hale", "personRoles": ["Registered Manager"]}]
    assert sync(loc, regulatedActivities=[{"name": "Accommodation", "code": "RA2", "contacts": contacts}]) == [
        "ServicesChanged",
        "RegisteredManagerChanged",
    ]
    event = loc.pending_events[-1]
    assert event.previous == [old_subject]
    assert event.managers == [PersonalData(manager_subject("1-101", "Tom Hale"), "Tom Hale")]


def test_an_erased_manager_whose_name_is_unreadable_is_no_change():
    loc = home()
    loc.managers = [PersonalData(loc.managers[0].subject, None)]  # as read back after erasure
    assert sync(loc) == []


def test_a_provider_notes_each_of_its_locations_once():
    with as_(SYSTEM, IMPORTED):
        provider = Provider.import_cqc(reference="1-900", brand_id=None, brand_name=None, location="1-101")
        provider.sync_cqc(brand_id=None, brand_name=None, location="1-101")
        provider.sync_cqc(brand_id=None, brand_name=None, location="1-102")
    assert provider.locations == ["1-101", "1-102"]
    assert [type(e).__name__ for e in provider.pending_events] == ["Imported", "LocationAdded"]


# ------------------------------------------------------------------------------ vacancies


def test_vacancies_are_reported_in_the_four_bed_types():
    loc = home()
    with as_(HEAD_OFFICE, NOW):
        assert loc.report_vacancies(day=TODAY, counts=counts(2, 1, 0, 3), now=NOW) is True
    assert loc.vacancies["2026-03-10"]["counts"] == counts(2, 1, 0, 3)
    assert loc.vacancies["2026-03-10"]["total"] == 6


@pytest.mark.parametrize("bed", ["nursing", "nursing_dementia", "residential", "residential_dementia"])
def test_negative_vacancies_are_refused(bed):
    loc = home()
    err = refused(lambda: loc.report_vacancies(day=TODAY, counts={bed: -1}, now=NOW))
    assert (err.code, err.field) == ("negative_vacancies", bed)
    assert loc.vacancies == {}


def test_more_vacancies_than_the_homes_beds_are_refused():
    loc = home()
    err = refused(lambda: loc.report_vacancies(day=TODAY, counts=counts(20, 10, 6, 5), now=NOW))
    assert err.code == "vacancies_exceed_beds"
    with as_(HEAD_OFFICE, NOW):
        assert loc.report_vacancies(day=TODAY, counts=counts(20, 10, 5, 5), now=NOW)  # exactly full: allowed


def test_vacancies_for_a_future_day_are_refused_and_today_is_the_london_day():
    loc = home()
    late_evening = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)  # 00:30 on 1 July in London (BST)
    with as_(HEAD_OFFICE, late_evening):
        assert loc.report_vacancies(day=date(2026, 7, 1), counts=counts(1), now=late_evening)
    err = refused(lambda: loc.report_vacancies(day=date(2026, 7, 2), counts=counts(1), now=late_evening), at=late_evening)
    assert (err.code, err.field) == ("vacancy_date_in_future", "date")


def test_a_second_different_report_for_the_same_day_is_refused_and_an_identical_one_records_nothing():
    loc = home()
    with as_(HEAD_OFFICE, NOW):
        loc.report_vacancies(day=TODAY, counts=counts(2), now=NOW)
        before = len(loc.pending_events)
        assert loc.report_vacancies(day=TODAY, counts=counts(2), now=NOW) is False
    assert len(loc.pending_events) == before
    err = refused(lambda: loc.report_vacancies(day=TODAY, counts=counts(3), now=NOW))
    assert err.code == "vacancies_already_reported"


def test_a_days_vacancies_are_corrected_only_with_a_reason():
    loc = home()
    with as_(HEAD_OFFICE, NOW):
        loc.report_vacancies(day=TODAY, counts=counts(2), now=NOW)
    err = refused(lambda: loc.correct_vacancies(day=TODAY, counts=counts(1), reason=" ", now=NOW))
    assert (err.code, err.field) == ("reason_required", "reason")
    with as_(HEAD_OFFICE, NOW, reason="A bed was taken this morning"):
        assert loc.correct_vacancies(day=TODAY, counts=counts(1), reason="A bed was taken this morning", now=NOW)
    event = loc.pending_events[-1]
    assert (event.previous, event.counts, event.reason) == (counts(2), counts(1), "A bed was taken this morning")
    assert loc.vacancies["2026-03-10"]["corrections"] == 1


def test_a_correction_needs_a_report_to_correct_and_obeys_the_same_rules():
    loc = home()
    err = refused(lambda: loc.correct_vacancies(day=TODAY, counts=counts(1), reason="typo", now=NOW))
    assert err.code == "no_vacancy_report"
    with as_(HEAD_OFFICE, NOW):
        loc.report_vacancies(day=TODAY, counts=counts(2), now=NOW)
    err = refused(lambda: loc.correct_vacancies(day=TODAY, counts=counts(41), reason="typo", now=NOW))
    assert err.code == "vacancies_exceed_beds"


def test_nursing_vacancies_are_refused_at_a_home_not_registered_for_nursing():
    loc = home(gacServiceTypes=[{"name": "Residential homes"}])
    err = refused(lambda: loc.report_vacancies(day=TODAY, counts=counts(nursing_dementia=1), now=NOW))
    assert (err.code, err.field) == ("not_registered_for_nursing", "nursing_dementia")


def test_a_home_care_agency_has_no_beds_to_report():
    loc = home(careHome="N", numberOfBeds=None)
    assert refused(lambda: loc.report_vacancies(day=TODAY, counts=counts(1), now=NOW)).code == "not_a_care_home"


def test_vacancies_cannot_be_checked_where_cqc_lists_no_beds():
    loc = home(numberOfBeds=None)
    assert refused(lambda: loc.report_vacancies(day=TODAY, counts=counts(1), now=NOW)).code == "beds_unknown"


def test_a_deregistered_home_cannot_report_vacancies_or_suspend():
    loc = home(registrationStatus="Deregistered", deregistrationDate="2026-01-31")
    assert refused(lambda: loc.report_vacancies(day=TODAY, counts=counts(1), now=NOW)).code == "location_deregistered"
    err = refused(lambda: loc.suspend_placements(from_date=TODAY, to_date=None, reason="x", now=NOW))
    assert err.code == "location_deregistered"


# ----------------------------------------------------------------------------- suspension


def test_a_voluntary_suspension_needs_a_reason():
    loc = home()
    err = refused(lambda: loc.suspend_placements(from_date=TODAY, to_date=None, reason=None, now=NOW))
    assert (err.code, err.field) == ("reason_required", "reason")


def test_a_suspension_cannot_end_before_it_starts_or_start_before_today():
    loc = home()
    err = refused(lambda: loc.suspend_placements(from_date=TODAY, to_date=TODAY - timedelta(days=1), reason="x", now=NOW))
    assert (err.code, err.field) == ("suspension_dates_reversed", "to_date")
    err = refused(lambda: loc.suspend_placements(from_date=TODAY - timedelta(days=1), to_date=None, reason="x", now=NOW))
    assert (err.code, err.field) == ("suspension_backdated", "from_date")


def test_a_home_already_suspended_cannot_be_suspended_again_but_a_retry_records_nothing():
    loc = home()
    with as_(HEAD_OFFICE, NOW, reason="Outbreak of norovirus"):
        assert loc.suspend_placements(from_date=TODAY, to_date=TODAY + timedelta(days=14), reason="Outbreak of norovirus", now=NOW) == "S001"
        before = len(loc.pending_events)
        assert loc.suspend_placements(from_date=TODAY, to_date=TODAY + timedelta(days=14), reason="Outbreak of norovirus", now=NOW) is None
    assert len(loc.pending_events) == before
    err = refused(lambda: loc.suspend_placements(from_date=TODAY + timedelta(days=3), to_date=None, reason="Refurbishment", now=NOW))
    assert err.code == "already_suspended"
    assert loc.suspended_on(TODAY + timedelta(days=14)) and not loc.suspended_on(TODAY + timedelta(days=15))


def test_a_suspension_retried_the_next_day_records_nothing():
    loc = home()
    with as_(HEAD_OFFICE, NOW, reason="Outbreak"):
        loc.suspend_placements(from_date=TODAY, to_date=None, reason="Outbreak", now=NOW)
    before = len(loc.pending_events)
    tomorrow = NOW + timedelta(days=1)
    with as_(HEAD_OFFICE, tomorrow, reason="Outbreak"):
        assert loc.suspend_placements(from_date=TODAY, to_date=None, reason="Outbreak", now=tomorrow) is None
    assert len(loc.pending_events) == before


def test_only_a_suspension_in_force_can_be_lifted_and_then_placements_resume():
    loc = home()
    assert refused(lambda: loc.lift_suspension(reason=None, now=NOW)).code == "not_suspended"
    with as_(HEAD_OFFICE, NOW, reason="Outbreak"):
        loc.suspend_placements(from_date=TODAY, to_date=None, reason="Outbreak", now=NOW)
    later = NOW + timedelta(days=5)
    with as_(HEAD_OFFICE, later):
        assert loc.lift_suspension(reason="Outbreak over", now=later) == "S001"
    assert loc.suspended_on(TODAY + timedelta(days=4)) and not loc.suspended_on(TODAY + timedelta(days=5))
    assert refused(lambda: loc.lift_suspension(reason=None, now=later), at=later).code == "not_suspended"
    with as_(HEAD_OFFICE, later, reason="Refurbishment"):
        assert loc.suspend_placements(from_date=TODAY + timedelta(days=6), to_date=None, reason="Refurbishment", now=later) == "S002"


def test_a_suspension_past_its_end_date_is_over_without_being_lifted():
    loc = home()
    with as_(HEAD_OFFICE, NOW, reason="Outbreak"):
        loc.suspend_placements(from_date=TODAY, to_date=TODAY + timedelta(days=2), reason="Outbreak", now=NOW)
    later = NOW + timedelta(days=3)
    assert refused(lambda: loc.lift_suspension(reason=None, now=later), at=later).code == "not_suspended"


# ------------------------------------------------------------------ commissioners' settings


def test_a_category_must_be_one_of_the_four_and_changing_it_needs_a_reason():
    loc = home()
    assert refused(lambda: loc.set_category(category="children", reason=None), COMMISSIONER).code == "unknown_category"
    with as_(COMMISSIONER, NOW):
        loc.set_category(category="older_people", reason=None)
        before = len(loc.pending_events)
        loc.set_category(category="older_people", reason=None)
    assert len(loc.pending_events) == before
    err = refused(lambda: loc.set_category(category="mental_health", reason=None), COMMISSIONER)
    assert (err.code, err.field) == ("reason_required", "reason")
    with as_(COMMISSIONER, NOW, reason="Re-registered for mental health"):
        loc.set_category(category="mental_health", reason="Re-registered for mental health")
    assert (loc.category, loc.pending_events[-1].previous) == ("mental_health", "older_people")


def test_moving_a_home_to_another_commissioning_area_needs_a_reason():
    loc = home()
    with as_(COMMISSIONER, NOW):
        loc.set_commissioning_area(area="NCL", reason=None)
    err = refused(lambda: loc.set_commissioning_area(area="NEL", reason=""), COMMISSIONER)
    assert err.code == "reason_required"
    assert loc.commissioning_area == "NCL"


# ------------------------------------------------------------------------------- contacts


def contact(subject: str = "p-1", name: str = "Ama Boateng", email: str | None = "ama@birch.example") -> dict[str, Any]:
    return {
        "contact": subject,
        "role": "Home manager",
        "name": PersonalData(subject, name),
        "email": PersonalData(subject, email) if email else None,
        "phone": None,
    }


def test_a_contact_added_twice_is_recorded_once_and_a_different_one_under_the_same_id_is_refused():
    loc = home()
    with as_(HEAD_OFFICE, NOW):
        assert loc.add_contact(**contact()) is True
        assert loc.add_contact(**contact()) is False
    assert refused(lambda: loc.add_contact(**contact(name="A. Boateng"))).code == "contact_exists"
    with as_(HEAD_OFFICE, NOW):
        assert loc.change_contact(**contact(name="A. Boateng")) is True
    assert loc.contacts["p-1"]["name"].value == "A. Boateng"


def test_an_unknown_contact_cannot_be_changed_or_removed():
    loc = home()
    assert refused(lambda: loc.change_contact(**contact())).code == "unknown_contact"
    assert refused(lambda: loc.remove_contact(contact="p-1")).code == "unknown_contact"


def test_a_contacts_personal_data_must_belong_to_that_contact():
    loc = home()
    wrong = contact() | {"email": PersonalData("p-2", "someone@else.example")}
    err = refused(lambda: loc.add_contact(**wrong))
    assert (err.code, err.field) == ("wrong_subject", "email")


def test_a_contact_needs_a_role_and_a_name():
    loc = home()
    assert refused(lambda: loc.add_contact(**(contact() | {"role": " "}))).code == "role_required"
    assert refused(lambda: loc.add_contact(**contact(name=" "))).code == "name_required"


# ------------------------------------------------------------------------------- concerns


def test_a_concern_needs_a_known_kind_and_a_summary_and_a_repeat_records_nothing():
    loc = home()
    assert refused(lambda: loc.share_concern(kind="gossip", summary="x", shared_by="ICB-NCL"), COMMISSIONER).code == "unknown_concern_kind"
    assert refused(lambda: loc.share_concern(kind="staffing", summary=" ", shared_by="ICB-NCL"), COMMISSIONER).code == "summary_required"
    with as_(COMMISSIONER, NOW):
        assert loc.share_concern(kind="staffing", summary="Night staffing below plan", shared_by="ICB-NCL") == "C001"
        assert loc.share_concern(kind="staffing", summary="Night staffing below plan", shared_by="ICB-NCL") is None
    summary = loc.concerns["C001"]["summary"]
    assert summary == PersonalData("concern:1-101:C001", "Night staffing below plan")


def test_a_concern_is_resolved_once_with_an_outcome():
    loc = home()
    assert refused(lambda: loc.resolve_concern(concern="C001", outcome="x"), COMMISSIONER).code == "unknown_concern"
    with as_(COMMISSIONER, NOW):
        loc.share_concern(kind="safeguarding", summary="Referral made", shared_by="ICB-NCL")
    assert refused(lambda: loc.resolve_concern(concern="C001", outcome=" "), COMMISSIONER).code == "outcome_required"
    with as_(COMMISSIONER, NOW):
        loc.resolve_concern(concern="C001", outcome="Section 42 enquiry closed")
    assert refused(lambda: loc.resolve_concern(concern="C001", outcome="again"), COMMISSIONER).code == "concern_already_resolved"


@pytest.mark.parametrize("viewer", [COMMISSIONER, CONTRACT_MANAGER, AUDITOR, ADMIN])
def test_concerns_are_shown_to_commissioning_roles_auditors_and_admins(viewer):
    loc = home()
    with as_(COMMISSIONER, NOW):
        loc.share_concern(kind="quality_of_care", summary="Pressure ulcers reported", shared_by="ICB-NCL")
    assert location_view(loc, viewer, commissioners={"ICB-NCL", "CSU"})["concerns"]["C001"]["summary"] == "Pressure ulcers reported"


@pytest.mark.parametrize("viewer", [Actor(id="c2", org="ICB-NEL", role="commissioner"), Actor(id="k2", org="ICB-NEL", role="contract_manager")])
def test_concerns_and_the_homes_people_are_hidden_from_commissioners_of_another_area(viewer):
    loc = home()
    with as_(COMMISSIONER, NOW):
        loc.share_concern(kind="quality_of_care", summary="Pressure ulcers reported", shared_by="ICB-NCL")
    view = location_view(loc, viewer, commissioners={"ICB-NCL"})
    assert view["concerns"] is None and "Pressure ulcers" not in repr(view)
    assert all(name == "[withheld]" for name in view["registered_managers"])


@pytest.mark.parametrize("viewer", [HEAD_OFFICE, HOME_ACCOUNT, EVALUATOR, Actor(id="f", org="ICB", role="foi_officer")])
def test_concerns_are_hidden_from_everyone_else_even_the_homes_own_provider(viewer):
    loc = home()
    with as_(COMMISSIONER, NOW):
        loc.share_concern(kind="quality_of_care", summary="Pressure ulcers reported", shared_by="ICB-NCL")
    view = location_view(loc, viewer, commissioners={"ICB-NCL", "CSU"})
    assert view["concerns"] is None
    assert "Pressure ulcers" not in repr(view)


# ---------------------------------------------------------------------------- who may act


def test_a_provider_sees_and_acts_only_for_homes_it_runs():
    loc = home()
    with pytest.raises(DomainError) as err:
        location_view(loc, OTHER_PROVIDER, commissioners={"ICB-NCL"})
    assert err.value.code == "not_your_location"
    with pytest.raises(DomainError) as err:
        require_own_location(loc, OTHER_PROVIDER, "report vacancies")
    assert err.value.code == "not_your_location"


def test_a_head_office_sees_all_its_homes_and_a_homes_own_account_only_that_home():
    birch, cedar = home(), home(locationId="1-102", name="Cedar Lodge")
    assert may_view(birch, HEAD_OFFICE) and may_view(cedar, HEAD_OFFICE)
    assert may_view(birch, HOME_ACCOUNT) and not may_view(cedar, HOME_ACCOUNT)
    require_own_location(cedar, HEAD_OFFICE, "report vacancies")
    require_own_location(cedar, CONTRACT_MANAGER, "change a contact")


def test_the_view_shows_whether_placements_are_suspended_today():
    loc = home()
    with as_(HEAD_OFFICE, NOW, reason="Outbreak"):
        loc.suspend_placements(from_date=TODAY + timedelta(days=1), to_date=None, reason="Outbreak", now=NOW)
    assert location_view(loc, COMMISSIONER, commissioners={"ICB-NCL"}, today=TODAY)["suspended"] is False
    assert location_view(loc, COMMISSIONER, commissioners={"ICB-NCL"}, today=TODAY + timedelta(days=1))["suspended"] is True
