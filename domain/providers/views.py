"""What each viewer may see of providers and their locations, and their state as plain data.

`provider_state` and `location_state` are the full state (what an auditor sees, and what
`aqp show` prints); `location_view` is what one viewer may see of a location: a provider
only its own homes (`may_view`), concerns and the people's personal data only to their
readers: the policies of `domain.access` (`may_deal_with`, `sees_concerns_of_home`, `sees_people_of_home`).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date
from typing import Any

from domain import access
from domain.kernel.errors import NotPermitted
from domain.kernel.metadata import Actor
from domain.kernel.personal import shown
from domain.providers.location import Location, organisations_of
from domain.providers.provider import Provider

WITHHELD = "[withheld]"


def provider_state(p: Provider) -> dict[str, Any]:
    return {
        "reference": p.reference,
        "id": str(p.id),
        "version": p.version,
        "brand_id": p.brand_id,
        "brand_name": p.brand_name,
        "locations": list(p.locations),
    }


def location_state(loc: Location, *, today: date | None = None) -> dict[str, Any]:
    """The full state as plain data (what an auditor sees)."""
    return {
        "reference": loc.reference,
        "id": str(loc.id),
        "version": loc.version,
        "provider": loc.provider,
        "name": loc.name,
        "address": dict(loc.address),
        "public_contact": dict(loc.public_contact),
        "area": dict(loc.area),
        "registration": dict(loc.registration),
        "beds": loc.beds,
        "services": copy.deepcopy(loc.services),
        "registered_managers": [shown(m) for m in loc.managers],
        "manager_absent_since": loc.manager_absent_since,
        "current_rating": copy.deepcopy(loc.current_rating),
        "ratings": copy.deepcopy(loc.ratings),
        "category": loc.category,
        "commissioning_area": loc.commissioning_area,
        "contacts": {
            cid: {**c, "name": shown(c["name"]), "email": shown(c["email"]), "phone": shown(c["phone"])}
            for cid, c in sorted(loc.contacts.items())
        },
        "vacancies": copy.deepcopy(dict(sorted(loc.vacancies.items()))),
        "availability": copy.deepcopy(dict(sorted(loc.availability.items()))),
        "suspensions": copy.deepcopy(loc.suspensions),
        #: whether placements are suspended on `today` (None when no day was given)
        "suspended": loc.suspended_on(today) if today else None,
        "concerns": {cid: {**c, "summary": shown(c["summary"]), "outcome": shown(c["outcome"])} for cid, c in loc.concerns.items()},
    }


def may_view(loc: Location, viewer: Actor) -> bool:
    """A provider sees only the homes it runs (a head office all of them); other roles see every home."""
    return access.may_deal_with(viewer, *organisations_of(loc))


def location_view(loc: Location, viewer: Actor, *, commissioners: Iterable[str], today: date | None = None) -> dict[str, Any]:
    """What `viewer` may see of the location: concerns and its people's personal data only to the
    home's own commissioners and contract managers (`commissioners`: the organisations that
    commission it), the provider for its people, auditors and admins (`domain.access`)."""
    if not may_view(loc, viewer):
        raise NotPermitted(
            f"{viewer.org} does not run {loc.reference}; a provider sees only its own homes.",
            code="not_your_location",
            location=loc.reference,
        )
    state = location_state(loc, today=today)
    if not access.sees_concerns_of_home(viewer, commissioners=commissioners):
        state["concerns"] = None
    if not access.sees_people_of_home(viewer, commissioners=commissioners):
        # The contacts' names, e-mails and phones, and the registered manager's name, are
        # for those who deal with the home; others learn that there are contacts, and in which roles.
        state["contacts"] = {cid: {**c, "name": WITHHELD, "email": None, "phone": None} for cid, c in state["contacts"].items()}
        state["registered_managers"] = [WITHHELD for _ in state["registered_managers"]]
    return state
