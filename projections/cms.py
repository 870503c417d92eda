"""The CMS list (seed 000 s.6.1.2, seed 001 s.6.1.2): every CQC location the ledger knows, at a glance.

Two tables people read, and two lookups the list keeps for itself.

`cms_homes`: one row per CQC location (care home or home-care branch), keyed by the
location's ledger id. Columns:

- `location`: the CQC location id (1-125856395); `name`; `provider`: the CQC provider id;
  `provider_brand`: the brand CQC gives the provider (e.g. "BRAND Barchester Healthcare"),
  null when CQC gives none. CQC's location record carries no provider name, and no event
  does either, so the brand is the only name the list can show for a provider.
- `care_home`: "yes" or "no" as CQC's careHome says; null when CQC does not say.
- `address` (the first two postal lines, comma-separated), `town`, `postcode` (as CQC writes
  it) and `postcode_district`: the outward code, the part before the space ("SE15 5AB" ->
  "SE15"; written without a space, the last three characters are the inward code).
- `region`, `local_authority` (the borough or council), `icb_code` and `icb` (the ICB, or in
  records from before July 2022 the CCG, whose area the home is in), all from CQC.
- `commissioning_area`: the commissioners' area or directorate, where they have set one;
  `category`: one of Nottingham's four categories (older_people, mental_health,
  physical_disability_sensory_impairment, learning_disability), where set.
- `phone`, `website`: the home's own public contact details (not a person's).
- `registration_status` ("Registered"/"Deregistered"), `registered_on`, `deregistered_on`.
- `overall_rating`: CQC's current overall rating ("Good", "No published rating", ...) and
  `rating_date`, its report date; null when CQC has published none.
- `beds`: registered beds (a count).
- `nursing`: "yes" when CQC lists the service type "Nursing homes", "no" when it lists
  service types without it, null when it lists none. `dementia`: likewise for the
  specialism "Dementia". `service_types` and `specialisms`: CQC's lists, joined with "; ".
- Vacancies by bed type as last reported (counts of beds): `vacancies_nursing`,
  `vacancies_nursing_dementia`, `vacancies_residential`, `vacancies_residential_dementia`,
  `vacancies_total`; `vacancies_day`: the day they are for; `vacancies_reported_at`: when that
  day's report was made; `vacancies_corrected_at`: when it was last corrected (null if never).
  "Last reported" means the latest day reported: a report or correction for an earlier day
  (sent late) does not replace it. Whether a report is stale depends on today, so the list
  stores the times and the reader decides (no clock here: a rebuild must give the same rows).
- Voluntary suspension of placements: `suspended` is "yes" from the moment a suspension is
  recorded until it is lifted, else "no"; `suspension` (its id, S001...), `suspended_from`,
  `suspended_until` (null: until lifted), `suspension_reason` (the home's reason, shown on the
  list), `suspension_lifted_on`. A suspension with an end date lapses by itself on that day
  without an event, and one may start in the future, so "in force today" is `suspended` =
  "yes" and suspended_from <= today and (suspended_until is null or today <= suspended_until),
  which the reader decides with its own today.
- Framework membership, from the contracts (HomeAdded, HomeRemoved, Terminated, Expired):
  `on_framework` "yes" while the home is on at least one live contract's list, else "no";
  `framework_contracts` and `frameworks`: those contracts' and frameworks' references,
  joined with "; "; `on_framework_since`: the earliest effective date among them. A home
  added to a contract before its CQC record is imported has a row with only these columns.
- `open_concerns`: the number of concerns shared with commissioners and not yet resolved.
  Only the count: a concern's kind, text and outcome are safeguarding information and never
  reach this table.
- `manager_changed_at`: when the ledger last recorded a change of registered manager (the
  time only: managers' names are personal data); `manager_absent_since`: the date CQC gives
  for the registered manager post falling vacant, null when filled.
- `last_event_at`: the time of the latest event about the home that the list follows.

`cms_home_care`: home-care availability (seed 001: hours available for new care, by the
care tiers of its appendix 1), one row per location CQC lists as not a care home, and any
other that has reported availability. It repeats the columns people filter on from
`cms_homes` (location, name, provider, provider_brand, postcode_district, local_authority,
icb, commissioning_area, registration_status, overall_rating, suspended, on_framework,
open_concerns) and adds `tier_1_hours`, `tier_2_hours`, `tier_3_hours`,
`registered_nursing_hours` (hours of care a week it can take on), `accepting_new_packages`
("yes"/"no"), `availability_day` and `availability_reported_at`, as last reported (the
latest day; a later report of the same day replaces it).

Worked example: Lucerne House (1-125856395, EX2 8TU, Devon, NHS Devon CCG, 75 beds, "Nursing
homes", specialism "Dementia", rated Outstanding on 2019-10-31) reports on 2026-04-01 at
08:10 two nursing and one residential dementia vacancy: the row reads postcode_district
"EX2", nursing "yes", dementia "yes", vacancies_nursing 2, vacancies_residential_dementia 1,
vacancies_total 3, vacancies_day "2026-04-01", vacancies_reported_at
"2026-04-01T08:10:00+00:00". A correction of 2026-03-31 sent that afternoon leaves it as it
is; a correction of 2026-04-01 changes the counts and sets vacancies_corrected_at.

Times are ISO 8601 text in UTC and dates ISO text, so the rows read the same from both
stores and export to CSV as they are.
"""

from __future__ import annotations

import json
from typing import Any

from domain.contracts.contract import Contract
from domain.contracts.framework import CARE_TIERS
from domain.providers.cqc import NURSING_SERVICE
from domain.kernel.metadata import LedgerAggregate
from domain.providers.location import BED_TYPES, Location
from domain.providers.provider import Provider
from projections import follow
from projections.handlers import handles
from projections.memo import utc
from projections.read_model import TableReadModel
from projections.tables import INTEGER, Column, Page, Table
from projections.views import TableView

DEMENTIA_SPECIALISM = "Dementia"

HOMES = Table(
    "cms_homes",
    (
        Column("location"),
        Column("name"),
        Column("provider"),
        Column("provider_brand"),
        Column("care_home"),
        Column("address"),
        Column("town"),
        Column("postcode"),
        Column("postcode_district"),
        Column("region"),
        Column("local_authority"),
        Column("icb_code"),
        Column("icb"),
        Column("commissioning_area"),
        Column("category"),
        Column("phone"),
        Column("website"),
        Column("registration_status"),
        Column("registered_on"),
        Column("deregistered_on"),
        Column("overall_rating"),
        Column("rating_date"),
        Column("beds", INTEGER),
        Column("nursing"),
        Column("dementia"),
        Column("service_types"),
        Column("specialisms"),
        *(Column(f"vacancies_{bed}", INTEGER) for bed in BED_TYPES),
        Column("vacancies_total", INTEGER),
        Column("vacancies_day"),
        Column("vacancies_reported_at"),
        Column("vacancies_corrected_at"),
        Column("suspended"),
        Column("suspension"),
        Column("suspended_from"),
        Column("suspended_until"),
        Column("suspension_reason"),
        Column("suspension_lifted_on"),
        Column("on_framework"),
        Column("framework_contracts"),
        Column("frameworks"),
        Column("on_framework_since"),
        Column("open_concerns", INTEGER),
        Column("manager_changed_at"),
        Column("manager_absent_since"),
        Column("last_event_at"),
        #: contract reference -> {"framework", "from"}: the live contracts listing the home
        Column("memberships", hidden=True),
    ),
    order_by=("name", "location"),
    indexes=(
        ("location",),
        ("postcode_district",),
        ("local_authority",),
        ("icb",),
        ("commissioning_area",),
        ("category",),
        ("overall_rating",),
        ("suspended",),
        ("on_framework",),
        ("care_home",),
        ("provider",),
    ),
)

#: the columns of `cms_homes` repeated on `cms_home_care`, so its list filters the same way
SHARED = (
    "location",
    "name",
    "provider",
    "provider_brand",
    "postcode_district",
    "local_authority",
    "icb",
    "commissioning_area",
    "registration_status",
    "overall_rating",
    "suspended",
    "on_framework",
    "open_concerns",
)
_SHARED_TYPES = {c.name: c.type for c in HOMES.columns}

HOME_CARE = Table(
    "cms_home_care",
    (
        *(Column(name, _SHARED_TYPES[name]) for name in SHARED),
        *(Column(f"{tier}_hours", INTEGER) for tier in CARE_TIERS),
        Column("accepting_new_packages"),
        Column("availability_day"),
        Column("availability_reported_at"),
    ),
    order_by=("name", "location"),
    indexes=(("postcode_district",), ("local_authority",), ("icb",), ("commissioning_area",), ("accepting_new_packages",)),
)

#: the list's own lookups (every column hidden): a contract's reference, framework and homes;
#: a provider's brand and homes (keyed by ledger id), so a rebrand or a contract's end reaches
#: every home it names
CONTRACTS = Table(
    "cms_contracts",
    (Column("reference", hidden=True), Column("framework", hidden=True), Column("homes", hidden=True)),
)
PROVIDERS = Table("cms_providers", (Column("brand", hidden=True), Column("homes", hidden=True)))


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def postcode_district(postcode: str | None) -> str | None:
    """The outward code of a UK postcode ("SE15 5AB" -> "SE15", "SE155AB" -> "SE15")."""
    if not postcode or not postcode.strip():
        return None
    text = postcode.strip().upper()
    if " " in text:
        return text.split()[0]
    compact = text.replace(" ", "")
    # The inward code is always a digit and two letters; anything shorter is not a full postcode.
    return compact[:-3] if len(compact) > 4 else compact


def _address(address: dict[str, Any]) -> dict[str, Any]:
    lines = [address.get("line1"), address.get("line2")]
    postcode = address.get("postcode")
    return {
        "address": ", ".join(line for line in lines if line) or None,
        "town": address.get("town"),
        "postcode": postcode,
        "postcode_district": postcode_district(postcode),
    }


def _area(area: dict[str, Any]) -> dict[str, Any]:
    return {
        "region": area.get("region"),
        "local_authority": area.get("local_authority"),
        "icb_code": area.get("icb_code"),
        "icb": area.get("icb_name"),
    }


def _registration(registration: dict[str, Any]) -> dict[str, Any]:
    return {
        "registration_status": registration.get("status"),
        "registered_on": registration.get("registration_date"),
        "deregistered_on": registration.get("deregistration_date"),
    }


def _services(services: dict[str, Any]) -> dict[str, Any]:
    service_types = list(services.get("service_types") or [])
    specialisms = list(services.get("specialisms") or [])
    return {
        "care_home": _yes_no(services.get("care_home")),
        "nursing": _yes_no(NURSING_SERVICE in service_types) if service_types else None,
        "dementia": _yes_no(DEMENTIA_SPECIALISM in specialisms) if specialisms else None,
        "service_types": "; ".join(service_types) or None,
        "specialisms": "; ".join(specialisms) or None,
    }


def _rating(rating: dict[str, Any] | None) -> dict[str, Any]:
    if rating is None:
        return {"overall_rating": None, "rating_date": None}
    return {"overall_rating": rating.get("overall"), "rating_date": rating.get("report_date")}


def _public_contact(contact: dict[str, Any]) -> dict[str, Any]:
    return {"phone": contact.get("phone"), "website": contact.get("website")}


def _membership_columns(memberships: dict[str, dict[str, str]]) -> dict[str, Any]:
    live = dict(sorted(memberships.items()))
    return {
        "memberships": json.dumps(live, sort_keys=True),
        "on_framework": "yes" if live else "no",
        "framework_contracts": "; ".join(live) or None,
        "frameworks": "; ".join(sorted({m["framework"] for m in live.values()})) or None,
        "on_framework_since": min((m["from"] for m in live.values()), default=None),
    }


def _blank_home() -> dict[str, Any]:
    """The columns a row has before anything is known of the home (counts start at zero)."""
    return {"open_concerns": 0, "suspended": "no", **_membership_columns({})}


def location_events() -> list[type]:
    return [v for v in vars(Location).values() if isinstance(v, type) and issubclass(v, LedgerAggregate.Event)]


def location_key(reference: str) -> str:
    """The row key of a location named by its CQC id (its ledger id, as its own events carry)."""
    return str(Location.id_for(reference))


def provider_key(reference: str) -> str:
    """The lookup key of a provider named by its CQC id (its ledger id: a rebrand carries only that)."""
    return str(Provider.id_for(reference))


#: what the list needs of a contract: which homes it lists, and when it ends
CONTRACT_EVENTS = (Contract.Awarded, Contract.HomeAdded, Contract.HomeRemoved, Contract.Terminated, Contract.Expired)


_VACANCY_COLUMNS = tuple((f"vacancies_{bed}", bed) for bed in BED_TYPES)


def _vacancies(counts: dict[str, int]) -> dict[str, int]:
    values = {column: int(counts.get(bed, 0)) for column, bed in _VACANCY_COLUMNS}
    values["vacancies_total"] = sum(values.values())
    return values


class CmsList(TableReadModel):
    name = "cms"
    tables = (HOMES, HOME_CARE, CONTRACTS, PROVIDERS)
    followed = (
        *location_events(),
        Provider.Imported,
        Provider.Rebranded,
        *CONTRACT_EVENTS,
    )

    # ------------------------------------------------------------------ locations

    @staticmethod
    def _home(event: Any, page: Page) -> tuple[str, dict[str, Any], dict[str, Any] | None, str]:
        """The home's key, rows (its home-care row, if any) and the event's time, which the row now shows."""
        key = str(event.originator_id)
        row = page.get(HOMES.name, key) or _blank_home()
        care = page.get(HOME_CARE.name, key)
        at = row["last_event_at"] = utc(event.timestamp)
        return key, row, care, at

    def _change(self, event: Any, page: Page, **values: Any) -> None:
        """The home's row with `values` changed and the time of its latest event."""
        key, row, care, _at = self._home(event, page)
        row.update(values)
        self._save(page, key, row, care)

    @handles(Location.Event)
    def location_moved(self, event: Any, page: Page) -> None:
        # Contacts (ContactAdded/Changed/Removed) are people's details: the list shows none of them.
        self._change(event, page)

    @handles(Location.Imported)
    def imported(self, event: Location.Imported, page: Page) -> None:
        key, row, care, _at = self._home(event, page)
        row.update(
            location=event.reference,
            name=event.name,
            **_address(event.address),
            **_area(event.area),
            **_registration(event.registration),
            **_services(event.services),
            **_rating(event.current_rating),
            **_public_contact(event.public_contact),
            beds=event.beds,
            manager_absent_since=event.manager_absent_since,
        )
        self._move_provider(page, key, row, event.provider)
        self._save(page, key, row, care)

    @handles(Location.ProviderChanged)
    def provider_changed(self, event: Location.ProviderChanged, page: Page) -> None:
        key, row, care, _at = self._home(event, page)
        self._move_provider(page, key, row, event.provider)
        self._save(page, key, row, care)

    @handles(Location.Renamed)
    def renamed(self, event: Location.Renamed, page: Page) -> None:
        self._change(event, page, name=event.name)

    @handles(Location.AddressChanged)
    def address_changed(self, event: Location.AddressChanged, page: Page) -> None:
        self._change(event, page, **_address(event.address))

    @handles(Location.PublicContactChanged)
    def public_contact_changed(self, event: Location.PublicContactChanged, page: Page) -> None:
        self._change(event, page, **_public_contact(event.public_contact))

    @handles(Location.AreaChanged)
    def area_changed(self, event: Location.AreaChanged, page: Page) -> None:
        self._change(event, page, **_area(event.area))

    @handles(Location.BedsChanged)
    def beds_changed(self, event: Location.BedsChanged, page: Page) -> None:
        self._change(event, page, beds=event.beds)

    @handles(Location.ServicesChanged)
    def services_changed(self, event: Location.ServicesChanged, page: Page) -> None:
        self._change(event, page, **_services(event.services))

    @handles(Location.Deregistered, Location.Reregistered, Location.RegistrationDetailsChanged)
    def registration_changed(self, event: Any, page: Page) -> None:
        self._change(event, page, **_registration(event.registration))

    @handles(Location.RegisteredManagerChanged)
    def manager_changed(self, event: Location.RegisteredManagerChanged, page: Page) -> None:
        self._change(event, page, manager_changed_at=utc(event.timestamp), manager_absent_since=event.absent_since)

    @handles(Location.RatingRecorded)  # and RatedInadequate
    def rating_recorded(self, event: Location.RatingRecorded, page: Page) -> None:
        self._change(event, page, **(_rating(event.rating) if event.current else {}))

    @handles(Location.CategorySet)
    def category_set(self, event: Location.CategorySet, page: Page) -> None:
        self._change(event, page, category=event.category)

    @handles(Location.CommissioningAreaSet)
    def commissioning_area_set(self, event: Location.CommissioningAreaSet, page: Page) -> None:
        self._change(event, page, commissioning_area=event.area)

    @handles(Location.VacanciesReported)
    def vacancies_reported(self, event: Location.VacanciesReported, page: Page) -> None:
        key = str(event.originator_id)
        row = page.get(HOMES.name, key)
        if row is not None and row.get("care_home") != "no" and page.get(HOME_CARE.name, key) is None:
            # The commonest event, about a home already listed and no home-care branch: only its
            # own columns change (what `_save` would write, without the rest of the row again).
            at = utc(event.timestamp)
            if row.get("vacancies_day") is None or event.day >= row["vacancies_day"]:
                page.update(
                    HOMES.name,
                    key,
                    **_vacancies(event.counts),
                    vacancies_day=event.day,
                    vacancies_reported_at=at,
                    vacancies_corrected_at=None,
                    last_event_at=at,
                )
            else:
                page.update(HOMES.name, key, last_event_at=at)
            return
        key, row, care, at = self._home(event, page)
        if row.get("vacancies_day") is None or event.day >= row["vacancies_day"]:
            row.update(_vacancies(event.counts), vacancies_day=event.day, vacancies_reported_at=at, vacancies_corrected_at=None)
        self._save(page, key, row, care)

    @handles(Location.VacanciesCorrected)
    def vacancies_corrected(self, event: Location.VacanciesCorrected, page: Page) -> None:
        key, row, care, at = self._home(event, page)
        if event.day == row.get("vacancies_day"):
            row.update(_vacancies(event.counts), vacancies_corrected_at=at)
        self._save(page, key, row, care)

    @handles(Location.AvailabilityReported)
    def availability_reported(self, event: Location.AvailabilityReported, page: Page) -> None:
        key, row, care, at = self._home(event, page)
        care = care or {}
        if care.get("availability_day") is None or event.day >= care["availability_day"]:
            care.update(
                {f"{tier}_hours": event.hours.get(tier, 0) for tier in CARE_TIERS},
                accepting_new_packages=_yes_no(event.accepting_new_packages),
                availability_day=event.day,
                availability_reported_at=at,
            )
        self._save(page, key, row, care)

    @handles(Location.PlacementsSuspended)
    def placements_suspended(self, event: Location.PlacementsSuspended, page: Page) -> None:
        self._change(
            event,
            page,
            suspended="yes",
            suspension=event.suspension,
            suspended_from=event.from_date,
            suspended_until=event.to_date,
            suspension_reason=event.reason,
            suspension_lifted_on=None,
        )

    @handles(Location.SuspensionLifted)
    def suspension_lifted(self, event: Location.SuspensionLifted, page: Page) -> None:
        key, row, care, _at = self._home(event, page)
        if event.suspension == row.get("suspension"):
            row.update(suspended="no", suspension_lifted_on=event.lifted_on)
        self._save(page, key, row, care)

    @handles(Location.ConcernShared)
    def concern_shared(self, event: Location.ConcernShared, page: Page) -> None:
        key, row, care, _at = self._home(event, page)
        row["open_concerns"] = (row.get("open_concerns") or 0) + 1
        self._save(page, key, row, care)

    @handles(Location.ConcernResolved)
    def concern_resolved(self, event: Location.ConcernResolved, page: Page) -> None:
        key, row, care, _at = self._home(event, page)
        row["open_concerns"] = max((row.get("open_concerns") or 0) - 1, 0)
        self._save(page, key, row, care)

    @staticmethod
    def _save(page: Page, key: str, row: dict[str, Any], care: dict[str, Any] | None) -> None:
        page.put(HOMES.name, key, row)
        if care is None and row.get("care_home") == "no":
            care = {}
        if care is None:
            return
        if row.get("care_home") != "no" and care.get("availability_reported_at") is None:
            # CQC now says it is a care home, and it never reported availability: not a home-care branch.
            page.delete(HOME_CARE.name, key)
            return
        care.update({name: row.get(name) for name in SHARED})
        page.put(HOME_CARE.name, key, care)

    # ------------------------------------------------------------------ providers

    def _move_provider(self, page: Page, key: str, row: dict[str, Any], provider: str) -> None:
        before = row.get("provider")
        if before and before != provider:
            former_key = provider_key(before)
            former = page.get(PROVIDERS.name, former_key) or {}
            homes = [h for h in json.loads(former.get("homes") or "[]") if h != key]
            page.update(PROVIDERS.name, former_key, homes=json.dumps(homes))
        record = page.get(PROVIDERS.name, provider_key(provider)) or {}
        homes = sorted({*json.loads(record.get("homes") or "[]"), key})
        page.update(PROVIDERS.name, provider_key(provider), homes=json.dumps(homes))
        row.update(provider=provider, provider_brand=record.get("brand"))

    @handles(Provider.Imported, Provider.Rebranded)
    def branded(self, event: Any, page: Page) -> None:
        record = page.update(PROVIDERS.name, str(event.originator_id), brand=event.brand_name)
        for key in json.loads(record.get("homes") or "[]"):
            row = page.get(HOMES.name, key)
            if row is not None:
                row["provider_brand"] = event.brand_name
                self._save(page, key, row, page.get(HOME_CARE.name, key))

    # ------------------------------------------------------------------ contracts

    @handles(Contract.Awarded)
    def contract_awarded(self, event: Contract.Awarded, page: Page) -> None:
        page.put(CONTRACTS.name, str(event.originator_id), {"reference": event.reference, "framework": event.framework, "homes": "[]"})

    @handles(Contract.HomeAdded)
    def home_added(self, event: Contract.HomeAdded, page: Page) -> None:
        contract = page.get(CONTRACTS.name, str(event.originator_id))
        if contract is None:  # pragma: no cover - every contract event follows its award
            return
        self._membership(page, event, contract, add={"framework": contract["framework"], "from": event.effective_from})
        page.update(CONTRACTS.name, str(event.originator_id), homes=json.dumps(sorted({*json.loads(contract["homes"]), event.location})))

    @handles(Contract.HomeRemoved)
    def home_removed(self, event: Contract.HomeRemoved, page: Page) -> None:
        contract = page.get(CONTRACTS.name, str(event.originator_id))
        if contract is None:  # pragma: no cover - every contract event follows its award
            return
        self._membership(page, event, contract, add=None, location=event.location)
        homes = [h for h in json.loads(contract["homes"]) if h != event.location]
        page.update(CONTRACTS.name, str(event.originator_id), homes=json.dumps(homes))

    @handles(Contract.Terminated, Contract.Expired)
    def contract_ended(self, event: Any, page: Page) -> None:
        contract = page.get(CONTRACTS.name, str(event.originator_id))
        if contract is None:  # pragma: no cover - every contract event follows its award
            return
        # Every home on it leaves the framework with it.
        for location in json.loads(contract["homes"]):
            self._membership(page, event, contract, add=None, location=location)
        page.update(CONTRACTS.name, str(event.originator_id), homes=json.dumps([]))

    def _membership(
        self, page: Page, event: Any, contract: dict[str, Any], *, add: dict[str, str] | None, location: str | None = None
    ) -> None:
        location = location or event.location
        key = location_key(location)
        row = page.get(HOMES.name, key) or {**_blank_home(), "location": location}
        memberships = json.loads(row.get("memberships") or "{}")
        if add is None:
            memberships.pop(contract["reference"], None)
        else:
            memberships[contract["reference"]] = add
        row.update(_membership_columns(memberships), last_event_at=utc(event.timestamp))
        self._save(page, key, row, page.get(HOME_CARE.name, key))


def open_view(ledger: Any) -> TableView:
    """The CMS list in the ledger's own database."""
    return follow.live_view(ledger, CmsList)


def catch_up(ledger: Any, view: TableView | None = None, *, page_size: int | None = None) -> int:
    """Bring the list up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, CmsList(view or open_view(ledger)), page_size=page_size)
