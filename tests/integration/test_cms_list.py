"""The CMS list in the ledger's own database, from real commands (each test runs on SQLite and PostgreSQL).

The scenario: two real CQC records (a Devon nursing home rated Outstanding, a deregistered
Bournemouth home-care agency) and two made-up London ones (a Peckham care home and an
Islington home-care branch) are imported; commissioners set a category and an area; homes
report and correct vacancies, suspend and lift placements; concerns are shared and one
resolved; the next CQC sync brings a new registered manager and an Inadequate rating; and
contracts put homes on frameworks, take one off and end another.
"""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from audit.replay import replay_projection
from domain.application import Ledger
from domain.contracts.contract import EXPIRED, TERMINATED, Contract
from domain.contracts.views import contract_state
from domain.providers.location import Location
from domain.providers.views import location_state
from projections import follow, runner
from projections.cms import HOME_CARE, HOMES, CmsList, catch_up, open_view, postcode_district
from tests.integration.machinery import apply, contents
from tests.unit.test_cqc_records import shipped_records

UTC = timezone.utc
LUCERNE, ALLIED, PECKHAM, RIVERSIDE = "1-125856395", "1-134558905", "1-555000002", "1-555000001"
CQC_SYNC = {"id": "cqc-sync", "org": "NEL-CSU", "role": "system"}
COMMISSIONER = {"id": "u-sel-commissioner", "org": "ICB-SEL", "role": "commissioner"}
MANAGER = {"id": "u-sel-contract-manager", "org": "ICB-SEL", "role": "contract_manager"}
LEAD = {"id": "u-procurement", "org": "SEL-CSU", "role": "procurement_lead"}


def provider(location: str) -> dict[str, str]:
    return {"id": f"manager-{location}", "org": location, "role": "provider"}


def made_up(location: str, name: str, **fields: Any) -> dict[str, Any]:
    return {
        "locationId": location, "providerId": "1-555000900", "name": name, "brandName": "BRAND Thames Care",
        "registrationStatus": "Registered", "registrationDate": "2018-06-01", "region": "London", **fields,
    }


def line(at: str, actor: dict[str, str], command: dict[str, Any]) -> str:
    return json.dumps({"actor": actor, "at": at, "command": command})


def scenario() -> list[list[str]]:
    """The commands in four parts (so catch-up can be interleaved with them)."""
    records = shipped_records()
    lucerne_later = copy.deepcopy(records[LUCERNE])
    lucerne_later["regulatedActivities"][0]["contacts"] = [
        {"personGivenName": "Amara", "personFamilyName": "Osei", "personRoles": ["Registered Manager"]}
    ]
    lucerne_later["currentRatings"]["overall"]["rating"] = "Inadequate"
    lucerne_later["currentRatings"]["overall"]["reportDate"] = "2026-03-09"
    peckham = made_up(
        PECKHAM, "Peckham Rye Care Home", postalCode="SE15 4QN", localAuthority="Southwark", careHome="Y", numberOfBeds=30,
        onspdIcbCode="E54000030", onspdIcbName="NHS South East London ICB",
        gacServiceTypes=[{"name": "Residential homes"}], specialisms=[{"name": "Dementia"}],
    )
    riverside = made_up(
        RIVERSIDE, "Riverside Home Care", postalCode="N7 6PA", localAuthority="Islington", careHome="N",
        onspdIcbCode="E54000028", onspdIcbName="NHS North Central London ICB", gacServiceTypes=[{"name": "Homecare agencies"}],
    )
    imports = [
        line("2026-03-02T06:00:00Z", CQC_SYNC, {"type": "location.import_cqc", "record": record})
        for record in (records[LUCERNE], records[ALLIED], peckham, riverside)
    ]
    settings = [
        line("2026-03-02T08:59:00Z", COMMISSIONER, {
            "type": "framework.establish", "framework": "AQP-CH-SEL", "title": "SEL AQP care homes", "kind": "care_homes",
            "lots": [{"id": "SEL", "name": "South East London"}],
            "commissioners": [{"org": "ICB-SEL", "kind": "icb", "directorates": ["SEL Southwark"], "areas": ["Southwark"]}],
            "starts_on": "2026-01-01", "ends_on": "2029-12-31", "regime": "pcr2015", "escalation_ladder": "nottingham",
        }),
        line("2026-03-02T09:00:00Z", COMMISSIONER, {"type": "location.set_category", "location": PECKHAM, "category": "older_people"}),
        line("2026-03-02T09:01:00Z", COMMISSIONER, {"type": "location.set_commissioning_area", "location": PECKHAM, "area": "SEL Southwark"}),
        line("2026-03-02T09:40:00Z", LEAD, {
            "type": "contract.award", "contract": "AQP-CH-SEL/SEL/barchester", "framework": "AQP-CH-SEL", "competition": "AQP-SEL",
            "lot": "SEL", "provider": "1-102642955", "value": 50_000_000, "starts_on": "2026-03-01", "ends_on": "2028-02-29",
        }),
        line("2026-03-02T09:41:00Z", LEAD, {
            "type": "contract.award", "contract": "AQP-CH-SEL/SEL/thames", "framework": "AQP-CH-SEL", "competition": "AQP-SEL",
            "lot": "SEL", "provider": "1-555000900", "value": 30_000_000, "starts_on": "2026-03-01", "ends_on": "2028-02-29",
        }),
        line("2026-03-02T10:00:00Z", MANAGER, {"type": "contract.add_home", "contract": "AQP-CH-SEL/SEL/barchester", "location": LUCERNE, "effective_from": "2026-03-02"}),
        line("2026-03-02T10:01:00Z", MANAGER, {"type": "contract.add_home", "contract": "AQP-CH-SEL/SEL/thames", "location": PECKHAM, "effective_from": "2026-03-02"}),
        line("2026-03-02T10:02:00Z", MANAGER, {"type": "contract.add_home", "contract": "AQP-CH-SEL/SEL/thames", "location": RIVERSIDE, "effective_from": "2026-03-02"}),
    ]
    daily = [
        line("2026-03-03T08:10:00Z", provider(LUCERNE), {"type": "location.report_vacancies", "location": LUCERNE, "date": "2026-03-03", "nursing": 2, "residential_dementia": 1}),
        line("2026-03-03T15:00:00Z", provider(LUCERNE), {"type": "location.correct_vacancies", "location": LUCERNE, "date": "2026-03-03", "nursing": 1, "residential_dementia": 1, "reason": "A bed was filled this morning."}),
        line("2026-03-04T08:00:00Z", provider(PECKHAM), {"type": "location.report_vacancies", "location": PECKHAM, "date": "2026-03-04", "residential": 3}),
        line("2026-03-04T09:00:00Z", provider(PECKHAM), {"type": "location.suspend_placements", "location": PECKHAM, "from_date": "2026-03-04", "reason": "Norovirus outbreak"}),
        line("2026-03-05T09:00:00Z", COMMISSIONER, {"type": "location.share_concern", "location": PECKHAM, "kind": "safeguarding", "summary": "Unexplained injury to a resident"}),
        line("2026-03-05T09:05:00Z", COMMISSIONER, {"type": "location.share_concern", "location": PECKHAM, "kind": "staffing", "summary": "Night staffing below plan"}),
        line("2026-03-06T10:00:00Z", provider(RIVERSIDE), {"type": "location.report_availability", "location": RIVERSIDE, "date": "2026-03-06", "tier_1": 120, "tier_2": 40, "accepting_new_packages": True}),
    ]
    later = [
        line("2026-03-10T09:00:00Z", provider(PECKHAM), {"type": "location.lift_suspension", "location": PECKHAM, "reason": "Outbreak declared over"}),
        line("2026-03-10T10:00:00Z", COMMISSIONER, {"type": "location.resolve_concern", "location": PECKHAM, "concern": "C001", "outcome": "Investigated: no harm"}),
        line("2026-03-11T06:00:00Z", CQC_SYNC, {"type": "location.import_cqc", "record": lucerne_later}),
        line("2026-03-12T09:00:00Z", MANAGER, {"type": "contract.remove_home", "contract": "AQP-CH-SEL/SEL/thames", "location": PECKHAM, "effective_from": "2026-03-31", "reason": "Home leaving the framework"}),
        line("2026-03-20T09:00:00Z", MANAGER, {"type": "contract.terminate", "contract": "AQP-CH-SEL/SEL/thames", "reason_kind": "mutual_agreement", "effective_on": "2026-04-30", "reason": "Provider exit"}),
    ]
    return [imports, settings, daily, later]


def expected_home(ledger: Ledger, reference: str) -> dict[str, Any]:
    """What the domain's own state says the row should show."""
    state = location_state(ledger.aggregate(Location, reference))
    latest_day = max(state["vacancies"], default=None)
    vacancies = state["vacancies"][latest_day]["counts"] if latest_day else {}
    latest_suspension = state["suspensions"][-1] if state["suspensions"] else None
    contracts = []
    for k in ("AQP-CH-SEL/SEL/barchester", "AQP-CH-SEL/SEL/thames"):
        ks = contract_state(ledger.aggregate(Contract, k))
        home = ks["homes"].get(reference)
        if ks["status"] not in (TERMINATED, EXPIRED) and home and home["removed_on"] is None:
            contracts.append(k)
    rating = state["current_rating"] or {}
    return {
        "location": state["reference"],
        "name": state["name"],
        "provider": state["provider"],
        "postcode_district": postcode_district(state["address"].get("postcode")),
        "local_authority": state["area"]["local_authority"],
        "icb": state["area"]["icb_name"],
        "category": state["category"],
        "commissioning_area": state["commissioning_area"],
        "registration_status": state["registration"]["status"],
        "overall_rating": rating.get("overall"),
        "rating_date": rating.get("report_date"),
        "beds": state["beds"],
        "vacancies_total": sum(vacancies.values()) if latest_day else None,
        "vacancies_day": latest_day,
        "suspended": "yes" if latest_suspension and latest_suspension["lifted_on"] is None else "no",
        "open_concerns": sum(1 for c in state["concerns"].values() if c["resolved_at"] is None),
        "on_framework": "yes" if contracts else "no",
        "framework_contracts": "; ".join(contracts) or None,
    }


@pytest.fixture
def cms_ledger(ledger: Ledger) -> Ledger:
    for part in scenario():
        apply(ledger, part)
    return ledger


def test_the_list_shows_each_home_as_the_domain_has_it(cms_ledger):
    ledger = cms_ledger
    assert catch_up(ledger) > 0
    view = open_view(ledger)
    rows = {r["location"]: r for r in view.rows()}
    assert sorted(rows) == sorted([LUCERNE, ALLIED, PECKHAM, RIVERSIDE])
    for reference, row in rows.items():
        assert {k: row[k] for k in expected_home(ledger, reference)} == expected_home(ledger, reference)

    lucerne = rows[LUCERNE]
    assert (lucerne["postcode_district"], lucerne["icb"], lucerne["provider_brand"]) == ("EX2", "NHS Devon CCG", "BRAND Barchester Healthcare")
    assert (lucerne["nursing"], lucerne["dementia"], lucerne["beds"]) == ("yes", "yes", 75)
    assert (lucerne["vacancies_nursing"], lucerne["vacancies_residential_dementia"], lucerne["vacancies_total"]) == (1, 1, 2)
    assert (lucerne["vacancies_reported_at"], lucerne["vacancies_corrected_at"]) == ("2026-03-03T08:10:00+00:00", "2026-03-03T15:00:00+00:00")
    assert (lucerne["overall_rating"], lucerne["rating_date"]) == ("Inadequate", "2026-03-09")
    assert lucerne["manager_changed_at"] == "2026-03-11T06:00:00+00:00"
    peckham = rows[PECKHAM]
    assert (peckham["suspended"], peckham["suspension"], peckham["suspension_lifted_on"]) == ("no", "S001", "2026-03-10")
    assert (peckham["open_concerns"], peckham["on_framework"], peckham["nursing"]) == (1, "no", "no")
    assert (rows[ALLIED]["registration_status"], rows[ALLIED]["care_home"]) == ("Deregistered", "no")
    # Nothing personal or about safeguarding reaches the list.
    text = json.dumps(contents(view, CmsList))
    for secret in ("Bayliss", "Osei", "Unexplained injury", "Night staffing", "no harm"):
        assert secret not in text

    home_care = {r["location"]: r for r in view.rows(HOME_CARE.name)}
    assert sorted(home_care) == sorted([ALLIED, RIVERSIDE])
    assert (home_care[RIVERSIDE]["tier_1_hours"], home_care[RIVERSIDE]["tier_2_hours"], home_care[RIVERSIDE]["accepting_new_packages"]) == (120, 40, "yes")
    assert home_care[RIVERSIDE]["on_framework"] == "no"  # its contract was terminated
    assert home_care[ALLIED]["availability_day"] is None
    # The columns people filter on answer through select, as the API will ask.
    assert [r["location"] for r in view.select(HOMES.name, where={"postcode_district": "SE15"})] == [PECKHAM]
    assert [r["location"] for r in view.select(HOMES.name, where={"on_framework": "yes"})] == [LUCERNE]
    assert view.count(HOMES.name, where={"care_home": "no"}) == 2


def test_catching_up_in_small_pages_between_commands_equals_a_rebuild(ledger):
    view = open_view(ledger)
    for part in scenario():
        apply(ledger, part)
        catch_up(ledger, view, page_size=3)
    incremental = contents(view, CmsList)
    assert incremental[HOMES.name] and incremental["cms_contracts"] and incremental["cms_providers"]
    assert runner.rebuild(ledger, "cms") == {"cms": ledger.max_position()}
    assert contents(view, CmsList) == incremental
    assert catch_up(ledger, view) == 0
    # The lookups are the list's own: read by default, they refuse with a reason rather than bad SQL.
    with pytest.raises(KeyError, match="lookup of hidden columns"):
        view.rows("cms_contracts")


def test_replaying_the_list_as_of_a_past_time_shows_the_past(cms_ledger):
    ledger = cms_ledger
    before = {r["location"]: r for r in replay_projection(ledger, "cms", datetime(2026, 3, 5, 12, tzinfo=UTC))}
    assert (before[PECKHAM]["suspended"], before[PECKHAM]["open_concerns"], before[PECKHAM]["on_framework"]) == ("yes", 2, "yes")
    assert (before[LUCERNE]["overall_rating"], before[LUCERNE]["manager_changed_at"]) == ("Outstanding", None)
    at_first = {r["location"]: r for r in replay_projection(ledger, "cms", datetime(2026, 3, 3, 12, tzinfo=UTC))}
    assert (at_first[LUCERNE]["vacancies_nursing"], at_first[LUCERNE]["vacancies_corrected_at"]) == (2, None)
    assert replay_projection(ledger, "cms", datetime(2026, 3, 1, tzinfo=UTC)) == []
    # Replays never touch the live tables.
    assert (follow.live_view(ledger, CmsList).max_tracking_id(ledger.name) or 0) == 0
