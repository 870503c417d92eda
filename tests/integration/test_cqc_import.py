"""Importing CQC records into the ledger, and the CMS list's commands, on both stores."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from api.cqc_import import import_records
from domain.kernel import data_subjects as c
from domain.providers import commands as pc
from api.bootstrap import ledger_at
from domain.application import Ledger
from domain.providers.cqc import manager_subject
from domain.kernel.errors import NotFound
from domain.kernel.metadata import Actor
from domain.contracts import commands as k
from domain.providers.location import Location
from domain.providers.provider import Provider
from domain.providers.views import location_view
from tests.integration.store_access import events_table, raw_connection
from tests.unit.test_cqc_records import AGENCY, CARE_HOME, shipped_records, with_current_rating

UTC = timezone.utc
SYNC = Actor(id="cqc-sync", org="CSU", role="system")
ADMIN = Actor(id="dpo", org="CSU", role="admin")
COMMISSIONER = Actor(id="cm", org="ICB-DEVON", role="commissioner")
CONTRACT_MANAGER = Actor(id="km", org="ICB-DEVON", role="contract_manager")
HEAD_OFFICE = Actor(id="ops", org="1-102642955", role="provider")  # Lucerne House's provider
OTHER_PROVIDER = Actor(id="ops", org="1-102643096", role="provider")
FIRST_SYNC = datetime(2026, 3, 2, 6, tzinfo=UTC)
NEXT_SYNC = datetime(2026, 3, 3, 6, tzinfo=UTC)
LATER = datetime(2026, 3, 3, 10, tzinfo=UTC)


def imported(ledger: Ledger) -> None:
    """The shipped records imported, and a Devon framework naming ICB-DEVON as the commissioner of Devon's homes."""
    outcomes = import_records(ledger, list(shipped_records().values()), SYNC, FIRST_SYNC)
    assert [o.outcome for o in outcomes] == ["recorded", "recorded"], outcomes
    devon = k.EstablishFramework(
        framework="DEVON-CARE-HOMES", title="Devon care homes", kind="care_homes", lots=[k.FrameworkLot(id="DEVON", name="Devon")],
        commissioners=[k.Commissioner(org="ICB-DEVON", kind="icb", areas=["Devon"])], starts_on=date(2026, 4, 1),
        ends_on=date(2029, 3, 31), regime="pcr2015", escalation_ladder="nottingham",
    )
    assert ledger.handle(devon, COMMISSIONER, at=FIRST_SYNC).ok


def test_importing_the_shipped_records_creates_providers_and_locations_with_their_rating_history(ledger):
    outcomes = import_records(ledger, list(shipped_records().values()), SYNC, FIRST_SYNC)
    assert [(o.location, o.outcome, o.events) for o in outcomes] == [
        (CARE_HOME, "recorded", ["Location.Imported", "Provider.Imported"]),
        (AGENCY, "recorded", ["Location.Imported", "Provider.Imported"]),
    ]
    home = ledger.aggregate(Location, CARE_HOME)
    assert (home.name, home.provider, home.beds, home.area["icb_code"]) == ("Lucerne House", "1-102642955", 75, "E38000230")
    assert [(r["report_date"], r["overall"]) for r in home.ratings] == [
        ("2015-01-23", "Good"),
        ("2017-02-08", "Outstanding"),
        ("2019-10-31", "Outstanding"),
    ]
    assert home.current_rating is not None and home.current_rating["safe"]["rating"] == "Good"
    assert ledger.aggregate(Provider, "1-102642955").locations == [CARE_HOME]
    agency = ledger.aggregate(Location, AGENCY)
    assert agency.registration["status"] == "Deregistered" and agency.ratings == []
    assert ledger.aggregate(Provider, "1-102643096").locations == [AGENCY]


def test_importing_the_same_records_again_records_nothing_even_in_a_fresh_process(ledger, database_url):
    imported(ledger)
    position = ledger.max_position()
    fresh = ledger_at(database_url)  # state read back from the store, not memory
    try:
        outcomes = import_records(fresh, list(shipped_records().values()), SYNC, NEXT_SYNC)
        assert [o.outcome for o in outcomes] == ["unchanged", "unchanged"]
        assert fresh.max_position() == position
    finally:
        fresh.close()


def test_a_changed_rating_records_exactly_one_event(ledger):
    imported(ledger)
    position = ledger.max_position()
    changed = with_current_rating(shipped_records()[CARE_HOME], "Requires improvement", "2026-02-20")
    (outcome,) = import_records(ledger, [changed], SYNC, NEXT_SYNC)
    assert (outcome.outcome, outcome.events) == ("recorded", ["Location.RatingRecorded"])
    assert ledger.max_position() == position + 1
    home = ledger.aggregate(Location, CARE_HOME)
    assert home.current_rating is not None and home.current_rating["overall"] == "Requires improvement"
    assert len(home.ratings) == 4
    before = ledger.aggregate(Location, CARE_HOME, as_of=FIRST_SYNC)  # an auditor's view of the day before
    assert before.current_rating is not None and before.current_rating["overall"] == "Outstanding"


def test_a_fall_to_inadequate_is_its_own_event(ledger):
    imported(ledger)
    changed = with_current_rating(shipped_records()[CARE_HOME], "Inadequate", "2026-02-20")
    (outcome,) = import_records(ledger, [changed], SYNC, NEXT_SYNC)
    assert outcome.events == ["Location.RatedInadequate"]


def test_a_malformed_record_in_a_batch_is_reported_and_the_others_are_applied(ledger):
    records = shipped_records()
    malformed = records[CARE_HOME] | {"locationId": "1-555", "numberOfBeds": "seventy-five"}
    outcomes = import_records(ledger, [records[CARE_HOME], malformed, "not a record", records[AGENCY]], SYNC, FIRST_SYNC)
    assert [o.outcome for o in outcomes] == ["recorded", "refused", "refused", "recorded"]
    bad = outcomes[1]
    assert (bad.index, bad.location, bad.code, bad.field) == (1, "1-555", "cqc_record_invalid", "numberOfBeds")
    assert "numberOfBeds" in (bad.message or "")
    assert outcomes[2].field == "(record)"
    try:
        ledger.aggregate(Location, "1-555")
    except NotFound:
        pass
    else:
        raise AssertionError("a refused record must record nothing")
    assert ledger.aggregate(Location, AGENCY).name == "Allied Healthcare Bournemouth"


def test_a_batch_shares_one_correlation_id(ledger):
    import_records(ledger, list(shipped_records().values()), SYNC, FIRST_SYNC, correlation_id="cqc-sync-2026-03-02")
    for reference in (CARE_HOME, AGENCY):
        (event,) = ledger.events.get(Location.id_for(reference))
        assert event.meta["correlation_id"] == "cqc-sync-2026-03-02"
        assert event.meta["actor"] == {"id": "cqc-sync", "org": "CSU", "role": "system"}


def test_the_registered_managers_name_is_not_in_the_stored_bytes(ledger, database_url):
    imported(ledger)
    home = ledger.aggregate(Location, CARE_HOME)
    assert location_view(home, COMMISSIONER, commissioners=ledger.commissioners_of_home(home))["registered_managers"] == ["John Surel Bayliss"]
    with raw_connection(database_url) as conn:
        stored = b"".join(bytes(row[0]) for row in conn.execute(f"SELECT state FROM {events_table(database_url)}").fetchall())
    assert b"Lucerne House" in stored  # the rows were read
    for secret in (b"Bayliss", b"John Surel"):
        assert secret not in stored


def test_contacts_and_concerns_on_the_list_are_stored_only_as_ciphertext(ledger, database_url):
    imported(ledger)
    contact = pc.AddLocationContact(
        location=CARE_HOME, contact="u-4410", role="Home manager", name="Priya Shah", email="priya@lucerne.example", phone="01392 000111"
    )
    concern = pc.ShareConcern(location=CARE_HOME, kind="safeguarding", summary="Unexplained bruising reported by family")
    assert ledger.handle(contact, HEAD_OFFICE, at=LATER).ok
    assert ledger.handle(concern, COMMISSIONER, at=LATER).ok
    with raw_connection(database_url) as conn:
        stored = b"".join(bytes(row[0]) for row in conn.execute(f"SELECT state FROM {events_table(database_url)}").fetchall())
    assert b"Home manager" in stored and b"safeguarding" in stored
    for secret in (b"Priya", b"lucerne.example", b"000111", b"bruising"):
        assert secret not in stored


def test_a_location_listed_under_another_provider_moves_between_providers_in_one_write(ledger):
    imported(ledger)
    moved = shipped_records()[CARE_HOME] | {"providerId": "1-777"}
    (outcome,) = import_records(ledger, [moved], SYNC, NEXT_SYNC)
    assert outcome.events == ["Location.ProviderChanged", "Provider.Imported", "Provider.LocationReleased"]
    assert ledger.aggregate(Location, CARE_HOME).provider == "1-777"
    assert ledger.aggregate(Provider, "1-777").locations == [CARE_HOME]
    assert ledger.aggregate(Provider, "1-102642955").locations == []
    # The former head office no longer acts for the home.
    report = pc.ReportVacancies(location=CARE_HOME, date=date(2026, 3, 3), nursing=1)
    assert ledger.handle(report, HEAD_OFFICE, at=LATER).error.code == "not_your_location"


def test_an_erased_registered_manager_reads_as_erased_and_a_reimport_records_nothing(ledger, database_url):
    imported(ledger)
    subject = manager_subject(CARE_HOME, "John Surel Bayliss")
    erase = c.ErasePersonalData(subject=subject, reason="Article 17 request DPO-2026-031")
    assert ledger.handle(erase, ADMIN, at=NEXT_SYNC).ok
    fresh = ledger_at(database_url)
    try:
        home = fresh.aggregate(Location, CARE_HOME)
        assert location_view(home, COMMISSIONER, commissioners=ledger.commissioners_of_home(home))["registered_managers"] == ["[erased]"]
        (outcome,) = import_records(fresh, [shipped_records()[CARE_HOME]], SYNC, LATER)
        assert outcome.outcome == "unchanged"
    finally:
        fresh.close()


# ------------------------------------------------------------------- who may do what


def test_only_the_system_and_admins_import_cqc_data(ledger):
    result = ledger.handle(pc.ImportCqcLocation(record=shipped_records()[CARE_HOME]), COMMISSIONER, at=FIRST_SYNC)
    assert result.error is not None and result.error.code == "not_permitted"
    assert ledger.handle(pc.ImportCqcLocation(record=shipped_records()[CARE_HOME]), ADMIN, at=FIRST_SYNC).ok


def test_a_provider_reports_vacancies_only_for_its_own_homes(ledger):
    imported(ledger)
    report = pc.ReportVacancies(location=CARE_HOME, date=date(2026, 3, 3), nursing=2, residential_dementia=1)
    refused = ledger.handle(report, OTHER_PROVIDER, at=LATER)
    assert refused.error is not None and refused.error.code == "not_your_location"
    assert ledger.handle(report, HEAD_OFFICE, at=LATER).ok
    assert ledger.aggregate(Location, CARE_HOME).vacancies["2026-03-03"]["total"] == 3
    too_many = pc.ReportVacancies(location=CARE_HOME, date=date(2026, 3, 3), nursing=76)
    assert ledger.handle(too_many, HEAD_OFFICE, at=LATER).error.code == "vacancies_exceed_beds"
    unknown = pc.ReportVacancies(location="1-999", date=date(2026, 3, 3))
    assert ledger.handle(unknown, HEAD_OFFICE, at=LATER).error.code == "location_not_found"


def test_a_home_on_the_list_through_its_week(ledger):
    """Commissioner sets category and area and shares a concern; the provider suspends and lifts."""
    imported(ledger)
    steps = [
        (pc.SetLocationCategory(location=CARE_HOME, category="older_people"), COMMISSIONER),
        (pc.SetCommissioningArea(location=CARE_HOME, area="Devon"), CONTRACT_MANAGER),
        (pc.ShareConcern(location=CARE_HOME, kind="safeguarding", summary="Unexplained bruising reported"), COMMISSIONER),
        (pc.SuspendPlacements(location=CARE_HOME, from_date=date(2026, 3, 3), reason="Norovirus outbreak"), HEAD_OFFICE),
        (
            pc.AddLocationContact(
                location=CARE_HOME, contact="u-4410", role="Home manager", name="Priya Shah", email="priya@lucerne.example"
            ),
            HEAD_OFFICE,
        ),
    ]
    for command, actor in steps:
        result = ledger.handle(command, actor, at=LATER)
        assert result.ok, (command, result.error)
    refused = ledger.handle(pc.ShareConcern(location=CARE_HOME, kind="other", summary="x"), HEAD_OFFICE, at=LATER)
    assert refused.error.code == "not_permitted"
    home = ledger.aggregate(Location, CARE_HOME)
    as_provider = location_view(home, HEAD_OFFICE, commissioners=ledger.commissioners_of_home(home), today=date(2026, 3, 3))
    assert as_provider["concerns"] is None and as_provider["suspended"] is True
    assert as_provider["contacts"]["u-4410"]["name"] == "Priya Shah"
    as_commissioner = location_view(home, COMMISSIONER, commissioners=ledger.commissioners_of_home(home))
    assert as_commissioner["concerns"]["C001"]["summary"] == "Unexplained bruising reported"
    assert (as_commissioner["category"], as_commissioner["commissioning_area"]) == ("older_people", "Devon")
    lift = ledger.handle(pc.LiftSuspension(location=CARE_HOME, reason="Outbreak over"), HEAD_OFFICE, at=LATER + timedelta(days=2))
    assert lift.ok and lift.value == {"suspension": "S001"}
