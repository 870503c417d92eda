"""Handlers of the provider and location commands (registered with `domain.dispatch.handles`).

Who may send what: the system (the daily CQC sync) and admins import CQC records; a provider
reports vacancies, suspends placements and manages contacts only for a home it runs (as the
home, or as its head office); commissioners and contract managers set a home's category and
commissioning area and share concerns. Contract managers and admins may also keep contacts
up to date (the CMS team manages providers' changes of contact details, seed 000 s.6.1.3).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.providers import commands as pc
from domain.providers.cqc import parse_location
from domain.kernel.dispatch import Decision, handles, handles_one
from domain.kernel.errors import NotFound
from domain.kernel.metadata import Actor, LedgerAggregate
from domain.kernel.personal import PersonalData, personal
from domain.providers.location import Location, Provider, require_own_location

if TYPE_CHECKING:
    from domain.kernel.dispatch import Ledger

CQC_IMPORTERS = ("system", "admin")
PROVIDER = ("provider",)
COMMISSIONING = ("commissioner", "contract_manager")
CONTACT_KEEPERS = ("provider", "contract_manager", "admin")


def _find(ledger: Ledger, cls: type[LedgerAggregate], reference: str) -> Any | None:
    try:
        return ledger.aggregate(cls, reference)
    except NotFound:
        return None


@handles(pc.ImportCqcLocation, CQC_IMPORTERS, "import CQC data")
def _import_cqc(ledger: Ledger, cmd: pc.ImportCqcLocation, actor: Actor, now: datetime) -> Decision:
    record = parse_location(cmd.record)
    location = _find(ledger, Location, record.location_id)
    previous_provider = location.provider if location is not None else None
    if location is None:
        location = Location.import_cqc(record)
    else:
        location.sync_cqc(record)
    provider = _find(ledger, Provider, record.provider_id)
    if provider is None:
        provider = Provider.import_cqc(
            reference=record.provider_id, brand_id=record.brand_id, brand_name=record.brand_name, location=record.location_id
        )
    else:
        provider.sync_cqc(brand_id=record.brand_id, brand_name=record.brand_name, location=record.location_id)
    aggregates = [location, provider]
    if previous_provider and previous_provider != record.provider_id:
        former = _find(ledger, Provider, previous_provider)
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


def _on_location(
    command_type: type[pc.Command],
    roles: tuple[str, ...],
    action: str,
    decide: Callable[[Location, Any, Actor, datetime], Any],
) -> None:
    """Load the named location, check the provider runs it, decide, save."""
    handles_one(
        command_type,
        roles,
        action,
        load=lambda ledger, cmd: ledger.aggregate(Location, cmd.location),
        check=lambda location, actor, action: require_own_location(location, actor, action),
        decide=lambda location, cmd, actor, now, _ledger: decide(location, cmd, actor, now),
    )


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


_on_location(
    pc.SetLocationCategory,
    COMMISSIONING,
    "set a home's category",
    lambda loc, cmd, actor, now: loc.set_category(category=cmd.category, reason=cmd.reason),
)
_on_location(
    pc.SetCommissioningArea,
    COMMISSIONING,
    "set a home's commissioning area",
    lambda loc, cmd, actor, now: loc.set_commissioning_area(area=cmd.area, reason=cmd.reason),
)
_on_location(
    pc.AddLocationContact,
    CONTACT_KEEPERS,
    "add a contact",
    lambda loc, cmd, actor, now: {"recorded": loc.add_contact(**_contact(cmd))},
)
_on_location(
    pc.ChangeLocationContact,
    CONTACT_KEEPERS,
    "change a contact",
    lambda loc, cmd, actor, now: {"recorded": loc.change_contact(**_contact(cmd))},
)
_on_location(
    pc.RemoveLocationContact,
    CONTACT_KEEPERS,
    "remove a contact",
    lambda loc, cmd, actor, now: loc.remove_contact(contact=cmd.contact),
)
_on_location(
    pc.ReportVacancies,
    PROVIDER,
    "report vacancies",
    lambda loc, cmd, actor, now: {"recorded": loc.report_vacancies(day=cmd.date, counts=_counts(cmd), now=now)},
)
_on_location(
    pc.CorrectVacancies,
    PROVIDER,
    "correct reported vacancies",
    lambda loc, cmd, actor, now: {
        "recorded": loc.correct_vacancies(day=cmd.date, counts=_counts(cmd), reason=cmd.reason, now=now)
    },
)
_on_location(
    pc.ReportAvailability,
    PROVIDER,
    "report home-care availability",
    lambda loc, cmd, actor, now: {
        "recorded": loc.report_availability(
            day=cmd.date,
            hours={"tier_1": cmd.tier_1, "tier_2": cmd.tier_2, "tier_3": cmd.tier_3, "registered_nursing": cmd.registered_nursing},
            accepting_new_packages=cmd.accepting_new_packages,
            now=now,
        )
    },
)
_on_location(
    pc.SuspendPlacements,
    PROVIDER,
    "suspend placements",
    lambda loc, cmd, actor, now: {
        "suspension": loc.suspend_placements(from_date=cmd.from_date, to_date=cmd.to_date, reason=cmd.reason, now=now)
    },
)
_on_location(
    pc.LiftSuspension,
    PROVIDER,
    "lift a suspension of placements",
    lambda loc, cmd, actor, now: {"suspension": loc.lift_suspension(reason=cmd.reason, now=now)},
)
_on_location(
    pc.ShareConcern,
    COMMISSIONING,
    "share a concern with commissioners",
    lambda loc, cmd, actor, now: {"concern": loc.share_concern(kind=cmd.kind, summary=cmd.summary, shared_by=actor.org)},
)
_on_location(
    pc.ResolveConcern,
    COMMISSIONING,
    "resolve a concern",
    lambda loc, cmd, actor, now: loc.resolve_concern(concern=cmd.concern, outcome=cmd.outcome),
)
