"""Commands about providers and their locations (CMS list: CQC sync, vacancies, suspension...).

Part of the one tagged union: `domain.commands.AnyCommand` includes `PROVIDER_COMMANDS`.
Counts are plain integers on purpose: a negative vacancy is refused by the domain's rule
(`negative_vacancies`), with the field named, whichever way the command came in.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta

from domain.kernel.command_types import Beds, Command, Day, HoursAWeek, JsonKey, RecentDay, Reference, ShortText, Text, entries

CqcId = Annotated[str, Meta(pattern=r"^1-[0-9]{1,20}$")]
Email = Annotated[str, Meta(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)]
Phone = Annotated[str, Meta(pattern=r"^[0-9+() -]{3,40}$")]
Category = Literal["older_people", "mental_health", "physical_disability_sensory_impairment", "learning_disability"]
ConcernKind = Literal["safeguarding", "quality_of_care", "staffing", "financial", "environment", "other"]


class ImportCqcLocation(Command, tag="location.import_cqc"):
    """One location record as the CQC API returns it; importing it again records nothing."""

    #: (CQC's location records have about 60 keys)
    record: Annotated[dict[JsonKey, Any], entries(max_length=300)]


class SetLocationCategory(Command, tag="location.set_category"):
    location: CqcId
    category: Category


class SetCommissioningArea(Command, tag="location.set_commissioning_area"):
    location: CqcId
    #: the commissioning area or directorate, e.g. "NCL" or "Nottingham City"
    area: ShortText


class AddLocationContact(Command, tag="location.add_contact"):
    location: CqcId
    #: the contact's opaque person id: their name, e-mail and phone are erasable under it
    contact: Reference
    role: ShortText
    name: ShortText
    email: Email | None = None
    phone: Phone | None = None


class ChangeLocationContact(AddLocationContact, tag="location.change_contact"):
    """The contact's details as they now are (the same fields as adding one)."""


class RemoveLocationContact(Command, tag="location.remove_contact"):
    location: CqcId
    contact: Reference


class ReportVacancies(Command, tag="location.report_vacancies"):
    location: CqcId
    #: the day the vacancies are for
    date: RecentDay
    nursing: Beds = 0
    nursing_dementia: Beds = 0
    residential: Beds = 0
    residential_dementia: Beds = 0


class CorrectVacancies(ReportVacancies, tag="location.correct_vacancies"):
    """Replace a day's reported vacancies; `reason` is required."""


class ReportAvailability(Command, tag="location.report_availability"):
    """A home-care branch's capacity for new packages: hours a week by care tier."""

    location: CqcId
    date: RecentDay
    tier_1: HoursAWeek = 0
    tier_2: HoursAWeek = 0
    tier_3: HoursAWeek = 0
    registered_nursing: HoursAWeek = 0
    accepting_new_packages: bool = True


class SuspendPlacements(Command, tag="location.suspend_placements"):
    """A home's voluntary suspension of placements; `reason` is required and shown on the list."""

    location: CqcId
    from_date: Day
    to_date: Day | None = None


class LiftSuspension(Command, tag="location.lift_suspension"):
    location: CqcId


class ShareConcern(Command, tag="location.share_concern"):
    location: CqcId
    kind: ConcernKind
    summary: Text


class ResolveConcern(Command, tag="location.resolve_concern"):
    location: CqcId
    concern: Reference
    outcome: Text


PROVIDER_COMMANDS = (
    ImportCqcLocation,
    SetLocationCategory,
    SetCommissioningArea,
    AddLocationContact,
    ChangeLocationContact,
    RemoveLocationContact,
    ReportVacancies,
    CorrectVacancies,
    ReportAvailability,
    SuspendPlacements,
    LiftSuspension,
    ShareConcern,
    ResolveConcern,
)
