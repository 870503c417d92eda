"""A location (a care home or home-care branch), as the CMS list needs it.

A `Location` is created from its CQC record and kept in step with it (`sync_cqc`): each real
change in CQC's data records one event, and deregistration, re-registration with a
predecessor and a rating that falls to Inadequate are events of their own, so a contract
manager following the home sees them. On top of CQC's facts, commissioners set the home's
category and commissioning area and share concerns (seen only by commissioning roles), and
the provider reports daily bed vacancies in the four CMS bed types, suspends placements
voluntarily and keeps its contacts up to date (seed 000, s.6.1.2). The record keeps the last
`KEPT_DAYS` of vacancies and availability, all a command can name, so its state does not grow
with the years it reports (the events keep every day). A provider acts only for
the homes it runs (`require_own_location`); what each viewer sees is in `views.py`.

People's names, e-mail addresses and phone numbers (the registered manager, contacts) and
the text of concerns are `PersonalData`: encrypted per subject when stored, and erasable.

Public methods decide (check rules, compute values); the nested events' `apply` only assign
state, so replay never re-runs a decision.

Why this module is over 600 lines: it is one aggregate, and its event classes (26) stay nested
in it (their qualnames, `Location.VacanciesReported`, are in every stored topic), each beside
the method that decides it.
"""

from __future__ import annotations

import copy
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from domain.providers.cqc import (
    DEREGISTERED,
    INADEQUATE,
    NURSING_SERVICE,
    CqcLocation,
    changes,
    facts_of,
    rating_key,
    rating_order,
)
from domain import access
from domain.kernel.errors import NotPermitted, RuleBroken, ValidationFailed
from domain.contracts.framework import CARE_TIERS
from domain.kernel.metadata import Actor, LedgerAggregate
from domain.kernel.personal import PersonalData
from domain.kernel.topics import stored_as
from domain.providers.vacancies import suspension_in_force

LONDON = ZoneInfo("Europe/London")

#: the four categories of care home (seed 004, Nottingham)
CATEGORIES = ("older_people", "mental_health", "physical_disability_sensory_impairment", "learning_disability")
#: the four CMS bed types (seed 000, s.6.1.2)
BED_TYPES = ("nursing", "nursing_dementia", "residential", "residential_dementia")
NURSING_BEDS = ("nursing", "nursing_dementia")
CONCERN_KINDS = ("safeguarding", "quality_of_care", "staffing", "financial", "environment", "other")


def _refuse(code: str, message: str, **context: Any) -> RuleBroken:
    return RuleBroken(message, code=code, **context)


def _invalid(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, code=code, field=field)


def _check_reason(reason: str | None, what: str) -> str:
    if not reason or not reason.strip():
        raise _invalid("reason", "reason_required", f"{what} needs a reason.")
    return reason.strip()


def london_day(now: datetime) -> date:
    return now.astimezone(LONDON).date()



#: how many days of vacancies and availability a home's record keeps: a report or correction
#: names a day at most a year back (`RecentDay`), so no command can ask about an older one;
#: older days stay in the events, the read models and a read as of their time
KEPT_DAYS = 400


def _forget_old_days(days: dict[str, Any], today: datetime) -> None:
    """Drop the oldest days while they are older than `KEPT_DAYS` before `today` (days arrive
    nearly in order, so this looks at a day or two; one reported late goes when it comes first)."""
    cutoff = (today.date() - timedelta(days=KEPT_DAYS)).isoformat()
    while days:
        first = next(iter(days))
        if first >= cutoff:
            return
        del days[first]


@stored_as("domain.providers")
class Location(LedgerAggregate):
    """A CQC location: a care home or home-care branch (CQC location id, e.g. 1-125856395)."""

    KIND = "location"
    #: the shape of its state, for snapshots (`audit.snapshots`): change it when the state's shape changes
    SNAPSHOT_SHAPE = 1

    def __init__(self) -> None:
        self.reference = ""
        # Facts from CQC (compared as groups by domain/providers/cqc.py).
        self.provider = ""
        self.name = ""
        self.address: dict[str, Any] = {}
        self.public_contact: dict[str, Any] = {}
        self.area: dict[str, Any] = {}
        self.registration: dict[str, Any] = {}
        self.beds: int | None = None
        self.services: dict[str, Any] = {}
        self.managers: list[PersonalData] = []
        self.manager_absent_since: str | None = None
        #: every distinct dated rating set, oldest first
        self.ratings: list[dict[str, Any]] = []
        self.current_rating: dict[str, Any] | None = None
        # Facts from commissioners and the provider.
        self.category: str | None = None
        self.commissioning_area: str | None = None
        self.contacts: dict[str, dict[str, Any]] = {}
        #: ISO date -> the day's vacancies as last reported or corrected
        self.vacancies: dict[str, dict[str, Any]] = {}
        #: home-care branches: day -> hours available per week by care tier (seed 001 appendix 1)
        self.availability: dict[str, dict[str, Any]] = {}
        self.suspensions: list[dict[str, Any]] = []
        self.concerns: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ CQC data

    @classmethod
    def import_cqc(cls, record: CqcLocation) -> Location:
        """A location seen for the first time; one with a predecessor is also re-registered."""
        facts = facts_of(record)
        location = cls._create(
            cls.Imported,
            id=cls.id_for(record.location_id),
            reference=record.location_id,
            provider=facts["provider"],
            name=facts["name"],
            address=facts["address"],
            public_contact=facts["public_contact"],
            area=facts["area"],
            registration=facts["registration"],
            beds=facts["beds"],
            services=facts["services"],
            managers=[PersonalData(m.subject, m.name) for m in record.registered_managers],
            manager_absent_since=record.manager_absent_since,
            ratings=[_plain(r) for r in record.ratings],
            current_rating=_plain(record.current_rating) if record.current_rating else None,
        )
        if record.predecessor:
            location.trigger_event(cls.Reregistered, registration=facts["registration"])
        return location

    class Imported(LedgerAggregate.Created):
        reference: str
        provider: str
        name: str
        address: dict
        public_contact: dict
        area: dict
        registration: dict
        beds: int | None
        services: dict
        #: the registered manager(s): personal data, erasable
        managers: list
        manager_absent_since: str | None
        ratings: list
        current_rating: dict | None

        def apply(self, loc: Location) -> None:
            loc.reference = self.reference
            loc.provider = self.provider
            loc.name = self.name
            loc.address = dict(self.address)
            loc.public_contact = dict(self.public_contact)
            loc.area = dict(self.area)
            loc.registration = dict(self.registration)
            loc.beds = self.beds
            loc.services = copy.deepcopy(self.services)
            loc.managers = list(self.managers)
            loc.manager_absent_since = self.manager_absent_since
            loc.ratings = copy.deepcopy(self.ratings)
            loc.current_rating = copy.deepcopy(self.current_rating)

    def cqc_facts(self) -> dict[str, Any]:
        """What this location holds from CQC, in the shape `cqc.facts_of` gives a record."""
        return {
            "provider": self.provider,
            "name": self.name,
            "address": self.address,
            "public_contact": self.public_contact,
            "area": self.area,
            "registration": self.registration,
            "beds": self.beds,
            "services": self.services,
            "managers": {"subjects": [m.subject for m in self.managers], "absent_since": self.manager_absent_since},
        }

    def sync_cqc(self, record: CqcLocation) -> list[str]:
        """Record what `record` changes, one event per change; the names of the events recorded."""
        if record.location_id != self.reference:
            raise _invalid("locationId", "wrong_location", f"A record of {record.location_id} cannot update {self.reference}.")
        recorded = []
        for change in changes(self.cqc_facts(), self.ratings, self.current_rating, record):
            event_class, kwargs = self._event_for(change.kind, change.values)
            self.trigger_event(event_class, **kwargs)
            recorded.append(event_class.__name__)
        return recorded

    def _event_for(self, kind: str, values: dict[str, Any]) -> tuple[type, dict[str, Any]]:
        simple = {
            "name": self.Renamed,
            "address": self.AddressChanged,
            "public_contact": self.PublicContactChanged,
            "area": self.AreaChanged,
            "services": self.ServicesChanged,
            "deregistered": self.Deregistered,
            "reregistered": self.Reregistered,
            "registration": self.RegistrationDetailsChanged,
        }
        if kind in ("deregistered", "reregistered", "registration"):
            return simple[kind], {"registration": values}
        if kind in simple:
            return simple[kind], dict(values)
        if kind == "provider":
            return self.ProviderChanged, {"provider": values["provider"], "previous": self.provider}
        if kind == "beds":
            return self.BedsChanged, {"beds": values["beds"], "previous": self.beds}
        if kind == "managers":
            return self.RegisteredManagerChanged, {
                "managers": [PersonalData(m["subject"], m["name"]) for m in values["managers"]],
                "absent_since": values["absent_since"],
                "previous": [m.subject for m in self.managers],
            }
        if kind == "rating":
            rating, current = values["rating"], values["current"]
            was = (self.current_rating or {}).get("overall")
            falls = current and rating["overall"] == INADEQUATE and was != INADEQUATE
            return (self.RatedInadequate if falls else self.RatingRecorded), {
                "rating": rating,
                "current": current,
                "previous_overall": was,
            }
        raise AssertionError(f"unknown CQC change {kind}")  # pragma: no cover - cqc.changes names them

    class ProviderChanged(LedgerAggregate.Event):
        provider: str
        previous: str

        def apply(self, loc: Location) -> None:
            loc.provider = self.provider

    class Renamed(LedgerAggregate.Event):
        name: str

        def apply(self, loc: Location) -> None:
            loc.name = self.name

    class AddressChanged(LedgerAggregate.Event):
        address: dict

        def apply(self, loc: Location) -> None:
            loc.address = dict(self.address)

    class PublicContactChanged(LedgerAggregate.Event):
        """The home's own telephone number or website (not a person's)."""

        public_contact: dict

        def apply(self, loc: Location) -> None:
            loc.public_contact = dict(self.public_contact)

    class AreaChanged(LedgerAggregate.Event):
        """Region, local authority or ICB/CCG area."""

        area: dict

        def apply(self, loc: Location) -> None:
            loc.area = dict(self.area)

    class BedsChanged(LedgerAggregate.Event):
        beds: int | None
        previous: int | None

        def apply(self, loc: Location) -> None:
            loc.beds = self.beds

    class ServicesChanged(LedgerAggregate.Event):
        """Care home or not, service types, regulated activities, specialisms."""

        services: dict

        def apply(self, loc: Location) -> None:
            loc.services = copy.deepcopy(self.services)

    class Deregistered(LedgerAggregate.Event):
        registration: dict

        def apply(self, loc: Location) -> None:
            loc.registration = dict(self.registration)

    class Reregistered(LedgerAggregate.Event):
        """Registered again, or first seen as the successor of a predecessor location."""

        registration: dict

        def apply(self, loc: Location) -> None:
            loc.registration = dict(self.registration)

    class RegistrationDetailsChanged(LedgerAggregate.Event):
        """Registration dates or the successor changed, the status did not."""

        registration: dict

        def apply(self, loc: Location) -> None:
            loc.registration = dict(self.registration)

    class RegisteredManagerChanged(LedgerAggregate.Event):
        #: the registered manager(s) now: personal data, erasable
        managers: list
        absent_since: str | None
        #: the subjects of the managers before
        previous: list

        def apply(self, loc: Location) -> None:
            loc.managers = list(self.managers)
            loc.manager_absent_since = self.absent_since

    class RatingRecorded(LedgerAggregate.Event):
        """A rating set not seen before, or CQC's current rating moving to a known set."""

        rating: dict
        current: bool
        previous_overall: str | None

        def apply(self, loc: Location) -> None:
            key = rating_key(self.rating)
            if self.rating.get("report_date") and all(rating_key(r) != key for r in loc.ratings):
                loc.ratings = sorted([*loc.ratings, copy.deepcopy(self.rating)], key=rating_order)
            if self.current:
                loc.current_rating = copy.deepcopy(self.rating)

    class RatedInadequate(RatingRecorded):
        """The current rating fell to Inadequate: a critical performance failure (seed 003)."""

    # ----------------------------------------------------- commissioners' settings

    def set_category(self, *, category: str, reason: str | None) -> None:
        if category not in CATEGORIES:
            raise _invalid("category", "unknown_category", f"Category must be one of {', '.join(CATEGORIES)}.")
        if category == self.category:
            return
        if self.category is not None:
            _check_reason(reason, f"Changing {self.name}'s category from {self.category}")
        self.trigger_event(self.CategorySet, category=category, previous=self.category)

    class CategorySet(LedgerAggregate.Event):
        category: str
        previous: str | None

        def apply(self, loc: Location) -> None:
            loc.category = self.category

    def set_commissioning_area(self, *, area: str, reason: str | None) -> None:
        if not area.strip():
            raise _invalid("area", "area_required", "Name the commissioning area (directorate).")
        if area == self.commissioning_area:
            return
        if self.commissioning_area is not None:
            _check_reason(reason, f"Moving {self.name} from {self.commissioning_area} to another area")
        self.trigger_event(self.CommissioningAreaSet, area=area, previous=self.commissioning_area)

    class CommissioningAreaSet(LedgerAggregate.Event):
        area: str
        previous: str | None

        def apply(self, loc: Location) -> None:
            loc.commissioning_area = self.area

    # -------------------------------------------------------------------- contacts

    def add_contact(
        self, *, contact: str, role: str, name: PersonalData, email: PersonalData | None, phone: PersonalData | None
    ) -> bool:
        """Add a contact; False when the same contact is already there with the same details."""
        details = self._contact_details(contact, role, name, email, phone)
        existing = self.contacts.get(contact)
        if existing is not None:
            if _same_contact(existing, details):
                return False
            raise _refuse("contact_exists", f"{contact} is already a contact of {self.name}; change it instead.", contact=contact)
        self.trigger_event(self.ContactAdded, **details)
        return True

    def change_contact(
        self, *, contact: str, role: str, name: PersonalData, email: PersonalData | None, phone: PersonalData | None
    ) -> bool:
        details = self._contact_details(contact, role, name, email, phone)
        existing = self.contacts.get(contact)
        if existing is None:
            raise _refuse("unknown_contact", f"{contact} is not a contact of {self.name}.", contact=contact)
        if _same_contact(existing, details):
            return False
        self.trigger_event(self.ContactChanged, **details)
        return True

    def remove_contact(self, *, contact: str) -> None:
        if contact not in self.contacts:
            raise _refuse("unknown_contact", f"{contact} is not a contact of {self.name}.", contact=contact)
        self.trigger_event(self.ContactRemoved, contact=contact)

    @staticmethod
    def _contact_details(
        contact: str, role: str, name: PersonalData, email: PersonalData | None, phone: PersonalData | None
    ) -> dict[str, Any]:
        if not role.strip():
            raise _invalid("role", "role_required", "Say what the contact is for (e.g. home manager, head office).")
        if not (name.value or "").strip():
            raise _invalid("name", "name_required", "A contact needs a name.")
        for field, value in (("name", name), ("email", email), ("phone", phone)):
            if value is not None and value.subject != contact:
                # Each contact's personal data is erasable as one subject: theirs.
                raise _invalid(field, "wrong_subject", f"The contact's {field} must belong to {contact}.")
        return {"contact": contact, "role": role.strip(), "name": name, "email": email, "phone": phone}

    class ContactAdded(LedgerAggregate.Event):
        contact: str
        role: str
        #: personal data of the contact, erasable
        name: PersonalData
        email: PersonalData | None
        phone: PersonalData | None

        def apply(self, loc: Location) -> None:
            loc.contacts[self.contact] = {
                "role": self.role,
                "name": self.name,
                "email": self.email,
                "phone": self.phone,
                "since": self.timestamp.isoformat(),
            }

    class ContactChanged(ContactAdded):
        def apply(self, loc: Location) -> None:
            since = loc.contacts[self.contact]["since"]
            super().apply(loc)
            loc.contacts[self.contact]["since"] = since
            loc.contacts[self.contact]["changed_at"] = self.timestamp.isoformat()

    class ContactRemoved(LedgerAggregate.Event):
        contact: str

        def apply(self, loc: Location) -> None:
            loc.contacts.pop(self.contact, None)

    # ------------------------------------------------------------------- vacancies

    def _check_registered(self, what: str) -> None:
        if self.registration.get("status") == DEREGISTERED:
            raise _refuse("location_deregistered", f"{self.name} is no longer registered with CQC: {what} is closed.")

    def _check_vacancies(self, day: date, counts: dict[str, int], now: datetime) -> dict[str, int]:
        self._check_registered("vacancy reporting")
        if self.services.get("care_home") is False:
            raise _refuse("not_a_care_home", f"{self.name} is not a care home; it has no beds to report.")
        if day > london_day(now):
            raise _invalid("date", "vacancy_date_in_future", f"Vacancies cannot be reported for a future day ({day}).")
        unknown = sorted(set(counts) - set(BED_TYPES))
        if unknown:
            raise _invalid(unknown[0], "unknown_bed_type", f"Bed types are {', '.join(BED_TYPES)}.")
        counts = {bed: counts.get(bed, 0) for bed in BED_TYPES}
        for bed, count in counts.items():
            if count < 0:
                raise _invalid(bed, "negative_vacancies", f"Vacancies cannot be negative ({bed}: {count}).")
        service_types = self.services.get("service_types") or []
        if service_types and NURSING_SERVICE not in service_types:
            for bed in NURSING_BEDS:
                if counts[bed]:
                    raise _invalid(
                        bed, "not_registered_for_nursing", f"{self.name} is not registered by CQC to provide nursing care."
                    )
        if self.beds is None:
            raise _refuse("beds_unknown", f"CQC lists no number of beds for {self.name}, so vacancies cannot be checked.")
        total = sum(counts.values())
        if total > self.beds:
            raise _invalid(
                "vacancies",
                "vacancies_exceed_beds",
                f"{total} vacancies is more than {self.name}'s {self.beds} registered beds.",
            )
        return counts

    def report_vacancies(self, *, day: date, counts: dict[str, int], now: datetime) -> bool:
        """One report per day; False when it repeats that day's report exactly."""
        counts = self._check_vacancies(day, counts, now)
        existing = self.vacancies.get(day.isoformat())
        if existing is not None:
            if existing["counts"] == counts:
                return False
            raise _refuse(
                "vacancies_already_reported",
                f"Vacancies for {day} were already reported; send a correction with a reason.",
                date=day.isoformat(),
            )
        self.trigger_event(self.VacanciesReported, day=day.isoformat(), counts=counts)
        return True

    def correct_vacancies(self, *, day: date, counts: dict[str, int], reason: str | None, now: datetime) -> bool:
        existing = self.vacancies.get(day.isoformat())
        if existing is None:
            raise _refuse("no_vacancy_report", f"No vacancies were reported for {day}: report them instead.")
        reason = _check_reason(reason, "A correction of reported vacancies")
        counts = self._check_vacancies(day, counts, now)
        if existing["counts"] == counts:
            return False
        self.trigger_event(
            self.VacanciesCorrected, day=day.isoformat(), counts=counts, previous=dict(existing["counts"]), reason=reason
        )
        return True

    class VacanciesReported(LedgerAggregate.Event):
        day: str
        counts: dict

        def apply(self, loc: Location) -> None:
            loc.vacancies[self.day] = {
                "counts": dict(self.counts),
                "total": sum(self.counts.values()),
                "reported_at": self.timestamp.isoformat(),
                "corrections": 0,
            }
            _forget_old_days(loc.vacancies, self.timestamp)

    class VacanciesCorrected(LedgerAggregate.Event):
        day: str
        counts: dict
        previous: dict
        reason: str

        def apply(self, loc: Location) -> None:
            record = loc.vacancies[self.day]
            record["counts"] = dict(self.counts)
            record["total"] = sum(self.counts.values())
            record["corrections"] += 1
            record["corrected_at"] = self.timestamp.isoformat()
            record["correction_reason"] = self.reason

    def report_availability(
        self, *, day: date, hours: dict[str, int], accepting_new_packages: bool, now: datetime
    ) -> bool:
        """A home-care branch's capacity for new care: hours a week by tier. False when unchanged."""
        self._check_registered("availability reporting")
        if self.services.get("care_home") is True:
            raise _refuse("not_home_care", f"{self.name} is a care home: it reports bed vacancies, not availability.")
        if day > london_day(now):
            raise _invalid("date", "availability_date_in_future", f"Availability cannot be reported for a future day ({day}).")
        unknown = sorted(set(hours) - set(CARE_TIERS))
        if unknown:
            raise _invalid(unknown[0], "unknown_care_tier", f"Care tiers are {', '.join(CARE_TIERS)}.")
        hours = {tier: hours.get(tier, 0) for tier in CARE_TIERS}
        for tier, value in hours.items():
            if value < 0:
                raise _invalid(tier, "negative_availability", f"Available hours cannot be negative ({tier}: {value}).")
        current = self.availability.get(day.isoformat())
        if current is not None and current["hours"] == hours and current["accepting_new_packages"] == accepting_new_packages:
            return False
        self.trigger_event(
            self.AvailabilityReported, day=day.isoformat(), hours=hours, accepting_new_packages=accepting_new_packages
        )
        return True

    class AvailabilityReported(LedgerAggregate.Event):
        day: str
        hours: dict
        accepting_new_packages: bool

        def apply(self, loc: Location) -> None:
            # The latest report of a day stands; earlier ones stay in history.
            loc.availability[self.day] = {
                "hours": dict(self.hours),
                "accepting_new_packages": self.accepting_new_packages,
                "reported_at": self.timestamp.isoformat(),
            }
            _forget_old_days(loc.availability, self.timestamp)

    # ------------------------------------------------------------------ suspension

    def active_suspension(self, today: date) -> dict[str, Any] | None:
        """The suspension not lifted that is in force on `today` or starts later."""
        for s in reversed(self.suspensions):
            if s["lifted_on"] is None and (s["to_date"] is None or s["to_date"] >= today.isoformat()):
                return s
        return None

    def suspended_on(self, day: date) -> bool:
        iso = day.isoformat()
        return any(
            suspension_in_force(
                day, first_day=s["from_date"], last_day=s["to_date"], lifted=s["lifted_on"] is not None and s["lifted_on"] <= iso
            )
            for s in self.suspensions
        )

    def suspend_placements(self, *, from_date: date, to_date: date | None, reason: str | None, now: datetime) -> str | None:
        """A voluntary suspension; its id, or None when it repeats the one in force."""
        self._check_registered("suspending placements")
        reason = _check_reason(reason, "A voluntary suspension of placements")
        if to_date is not None and to_date < from_date:
            raise _invalid("to_date", "suspension_dates_reversed", "A suspension cannot end before it starts.")
        today = london_day(now)
        current = self.active_suspension(today)
        wanted = (from_date.isoformat(), to_date.isoformat() if to_date else None, reason)
        if current is not None and (current["from_date"], current["to_date"], current["reason"]) == wanted:
            return None  # a retry, perhaps a day later
        if from_date < today:
            raise _invalid(
                "from_date", "suspension_backdated", f"A suspension cannot start before today ({today}): the CMS list showed otherwise."
            )
        if current is not None:
            raise _refuse(
                "already_suspended",
                f"Placements into {self.name} are already suspended ({current['suspension']}); lift that first.",
                suspension=current["suspension"],
            )
        suspension = f"S{len(self.suspensions) + 1:03d}"
        self.trigger_event(
            self.PlacementsSuspended,
            suspension=suspension,
            from_date=from_date.isoformat(),
            to_date=to_date.isoformat() if to_date else None,
            reason=reason,
        )
        return suspension

    class PlacementsSuspended(LedgerAggregate.Event):
        suspension: str
        from_date: str
        to_date: str | None
        reason: str

        def apply(self, loc: Location) -> None:
            loc.suspensions.append(
                {
                    "suspension": self.suspension,
                    "from_date": self.from_date,
                    "to_date": self.to_date,
                    "reason": self.reason,
                    "lifted_on": None,
                    "lift_reason": None,
                }
            )

    def lift_suspension(self, *, reason: str | None, now: datetime) -> str:
        today = london_day(now)
        current = self.active_suspension(today)
        if current is None:
            raise _refuse("not_suspended", f"Placements into {self.name} are not suspended.")
        self.trigger_event(self.SuspensionLifted, suspension=current["suspension"], lifted_on=today.isoformat(), reason=reason)
        return current["suspension"]

    class SuspensionLifted(LedgerAggregate.Event):
        suspension: str
        lifted_on: str
        reason: str | None

        def apply(self, loc: Location) -> None:
            for s in loc.suspensions:
                if s["suspension"] == self.suspension:
                    s["lifted_on"] = self.lifted_on
                    s["lift_reason"] = self.reason

    # -------------------------------------------------------------------- concerns

    def concern_subject(self, concern: str) -> str:
        """A concern's text may name people: it is erasable as a subject of its own."""
        return f"concern:{self.reference}:{concern}"

    def share_concern(self, *, kind: str, summary: str, shared_by: str) -> str | None:
        """Share a concern with commissioners; its id, or None when it repeats an open concern."""
        if kind not in CONCERN_KINDS:
            raise _invalid("kind", "unknown_concern_kind", f"Kind must be one of {', '.join(CONCERN_KINDS)}.")
        if not summary.strip():
            raise _invalid("summary", "summary_required", "Say what the concern is.")
        for record in self.concerns.values():
            if record["resolved_at"] is None and record["kind"] == kind and record["summary"].value == summary:
                return None
        concern = f"C{len(self.concerns) + 1:03d}"
        self.trigger_event(
            self.ConcernShared,
            concern=concern,
            kind=kind,
            summary=PersonalData(self.concern_subject(concern), summary),
            shared_by=shared_by,
        )
        return concern

    class ConcernShared(LedgerAggregate.Event):
        concern: str
        kind: str
        #: erasable (see `concern_subject`)
        summary: PersonalData
        #: the organisation that shared it
        shared_by: str

        def apply(self, loc: Location) -> None:
            loc.concerns[self.concern] = {
                "kind": self.kind,
                "summary": self.summary,
                "shared_at": self.timestamp.isoformat(),
                "shared_by": self.shared_by,
                "resolved_at": None,
                "outcome": None,
            }

    def resolve_concern(self, *, concern: str, outcome: str) -> None:
        record = self.concerns.get(concern)
        if record is None:
            raise _refuse("unknown_concern", f"There is no concern {concern} about {self.name}.")
        if record["resolved_at"] is not None:
            raise _refuse("concern_already_resolved", f"Concern {concern} was resolved on {record['resolved_at']}.")
        if not outcome.strip():
            raise _invalid("outcome", "outcome_required", "Say how the concern was resolved.")
        self.trigger_event(self.ConcernResolved, concern=concern, outcome=PersonalData(self.concern_subject(concern), outcome))

    class ConcernResolved(LedgerAggregate.Event):
        concern: str
        outcome: PersonalData

        def apply(self, loc: Location) -> None:
            loc.concerns[self.concern]["resolved_at"] = self.timestamp.isoformat()
            loc.concerns[self.concern]["outcome"] = self.outcome


def _plain(rating_set: Any) -> dict[str, Any]:
    return msgspec.to_builtins(rating_set)


def _same_contact(existing: dict[str, Any], details: dict[str, Any]) -> bool:
    return all(existing[k] == details[k] for k in ("role", "name", "email", "phone"))


# ------------------------------------------------------------------------- who may act


def organisations_of(location: Location) -> tuple[str, str]:
    """A provider acts for a home as the home itself (its CQC location id) or its head office (provider id)."""
    return (location.reference, location.provider)


def require_own_location(location: Location, actor: Actor, action: str) -> None:
    if not access.may_deal_with(actor, *organisations_of(location)):
        raise NotPermitted(
            f"{actor.org} may not {action} for {location.name} ({location.reference}), which it does not run.",
            code="not_your_location",
            location=location.reference,
        )
