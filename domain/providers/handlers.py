"""Handlers of the provider and location commands: one function per command, registered with `handles`.

Who may send what: the system (the daily CQC sync) and admins import CQC records; a provider
reports vacancies, suspends placements and manages contacts only for a home it runs (as the
home, or as its head office); commissioners and contract managers set a home's category and
commissioning area and share concerns. Contract managers and admins may also keep contacts
up to date (the CMS team manages providers' changes of contact details, seed 000 s.6.1.3).
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.providers import commands as pc
from domain.providers.cqc import parse_location
from domain.commissioning import require_commissions_home, require_may_place_in_area
from domain.access import COMMISSIONING, CONTACT_KEEPERS, CQC_IMPORTERS, PROVIDER
from domain.kernel.dispatch import Decision, find, handles
from domain.kernel.metadata import Actor
from domain.kernel.personal import PersonalData, personal
from domain.providers.location import Location, require_own_location
from domain.providers.provider import Provider

if TYPE_CHECKING:
    from domain.kernel.dispatch import Ledger

@handles(pc.ImportCqcLocation, CQC_IMPORTERS, "import CQC data")
def _import_cqc(ledger: Ledger, cmd: pc.ImportCqcLocation, actor: Actor, now: datetime) -> Decision:
    record = parse_location(cmd.record)
    location = find(ledger, Location, record.location_id)
    previous_provider = location.provider if location is not None else None
    if location is None:
        location = Location.import_cqc(record)
    else:
        location.sync_cqc(record)
    provider = find(ledger, Provider, record.provider_id)
    if provider is None:
        provider = Provider.import_cqc(
            reference=record.provider_id, brand_id=record.brand_id, brand_name=record.brand_name, location=record.location_id
        )
    else:
        provider.sync_cqc(brand_id=record.brand_id, brand_name=record.brand_name, location=record.location_id)
    aggregates = [location, provider]
    if previous_provider and previous_provider != record.provider_id:
        former = find(ledger, Provider, previous_provider)
        if former is not None:
            former.release_location(location=record.location_id, to_provider=record.provider_id)
            aggregates.append(former)
    events = [type(e).__qualname__ for aggregate in aggregates for e in aggregate.pending_events]
    return Decision(
        aggregates,
        {
            "location": record.location_id,
            "provider": record.provider_id,
            "outcome": "recorded" if events else "unchanged",
            "events": events,
        },
    )


def _own_location(ledger: Ledger, reference: str, actor: Actor, action: str) -> Location:
    """The named location, once a provider is shown to run it and a commissioner to commission it."""
    location = ledger.aggregate(Location, reference)
    require_own_location(location, actor, action)
    require_commissions_home(ledger, location, actor, action)
    return location


def _counts(cmd: pc.ReportVacancies | pc.CorrectVacancies) -> dict[str, int]:
    return {
        "nursing": cmd.nursing,
        "nursing_dementia": cmd.nursing_dementia,
        "residential": cmd.residential,
        "residential_dementia": cmd.residential_dementia,
    }


def _contact(cmd: pc.AddLocationContact | pc.ChangeLocationContact) -> dict[str, Any]:
    return {
        "contact": cmd.contact,
        "role": cmd.role,
        "name": PersonalData(cmd.contact, cmd.name),
        "email": personal(cmd.contact, cmd.email),
        "phone": personal(cmd.contact, cmd.phone),
    }


@handles(pc.SetLocationCategory, COMMISSIONING, "set a home's category")
def _set_category(ledger: Ledger, cmd: pc.SetLocationCategory, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "set a home's category")
    location.set_category(category=cmd.category, reason=cmd.reason)
    return Decision([location])


@handles(pc.SetCommissioningArea, COMMISSIONING, "set a home's commissioning area")
def _set_commissioning_area(ledger: Ledger, cmd: pc.SetCommissioningArea, actor: Actor, now: datetime) -> Decision:
    location = ledger.aggregate(Location, cmd.location)
    require_may_place_in_area(ledger, location, actor, cmd.area)
    location.set_commissioning_area(area=cmd.area, reason=cmd.reason)
    return Decision([location])


@handles(pc.AddLocationContact, CONTACT_KEEPERS, "add a contact")
def _add_contact(ledger: Ledger, cmd: pc.AddLocationContact, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "add a contact")
    return Decision([location], {"recorded": location.add_contact(**_contact(cmd))})


@handles(pc.ChangeLocationContact, CONTACT_KEEPERS, "change a contact")
def _change_contact(ledger: Ledger, cmd: pc.ChangeLocationContact, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "change a contact")
    return Decision([location], {"recorded": location.change_contact(**_contact(cmd))})


@handles(pc.RemoveLocationContact, CONTACT_KEEPERS, "remove a contact")
def _remove_contact(ledger: Ledger, cmd: pc.RemoveLocationContact, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "remove a contact")
    location.remove_contact(contact=cmd.contact)
    return Decision([location])


@handles(pc.ReportVacancies, PROVIDER, "report vacancies")
def _report_vacancies(ledger: Ledger, cmd: pc.ReportVacancies, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "report vacancies")
    return Decision([location], {"recorded": location.report_vacancies(day=cmd.date, counts=_counts(cmd), now=now)})


@handles(pc.CorrectVacancies, PROVIDER, "correct reported vacancies")
def _correct_vacancies(ledger: Ledger, cmd: pc.CorrectVacancies, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "correct reported vacancies")
    recorded = location.correct_vacancies(day=cmd.date, counts=_counts(cmd), reason=cmd.reason, now=now)
    return Decision([location], {"recorded": recorded})


@handles(pc.ReportAvailability, PROVIDER, "report home-care availability")
def _report_availability(ledger: Ledger, cmd: pc.ReportAvailability, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "report home-care availability")
    recorded = location.report_availability(
        day=cmd.date,
        hours={"tier_1": cmd.tier_1, "tier_2": cmd.tier_2, "tier_3": cmd.tier_3, "registered_nursing": cmd.registered_nursing},
        accepting_new_packages=cmd.accepting_new_packages,
        now=now,
    )
    return Decision([location], {"recorded": recorded})


@handles(pc.SuspendPlacements, PROVIDER, "suspend placements")
def _suspend_placements(ledger: Ledger, cmd: pc.SuspendPlacements, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "suspend placements")
    suspension = location.suspend_placements(from_date=cmd.from_date, to_date=cmd.to_date, reason=cmd.reason, now=now)
    return Decision([location], {"suspension": suspension})


@handles(pc.LiftSuspension, PROVIDER, "lift a suspension of placements")
def _lift_suspension(ledger: Ledger, cmd: pc.LiftSuspension, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "lift a suspension of placements")
    return Decision([location], {"suspension": location.lift_suspension(reason=cmd.reason, now=now)})


@handles(pc.ShareConcern, COMMISSIONING, "share a concern with commissioners")
def _share_concern(ledger: Ledger, cmd: pc.ShareConcern, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "share a concern with commissioners")
    return Decision([location], {"concern": location.share_concern(kind=cmd.kind, summary=cmd.summary, shared_by=actor.org)})


@handles(pc.ResolveConcern, COMMISSIONING, "resolve a concern")
def _resolve_concern(ledger: Ledger, cmd: pc.ResolveConcern, actor: Actor, now: datetime) -> Decision:
    location = _own_location(ledger, cmd.location, actor, "resolve a concern")
    location.resolve_concern(concern=cmd.concern, outcome=cmd.outcome)
    return Decision([location])
