"""Who commissions what: the facts the access policy is asked about (`domain.access` decides).

A framework names its commissioners (ICBs, councils, NHS England) when it is established;
each may name the lots it commissions (none named: every lot) and the areas whose homes it
commissions, as CQC names a home's local authority (none named: its directorates, which in
the London framework are the 32 boroughs). An area one organisation commissions is not named
for another by a later framework (`require_areas_not_taken`). From those:

- a **contract** is commissioned by its framework's commissioners of the contract's lot (the
  London lot SEL by ICB-SEL alone);
- a **home** by every commissioner whose areas hold its local authority or the commissioning
  area a commissioner gave it (a home placed with out of its own area: a Hertfordshire home
  Camden commissions);
- a **framework** by all its commissioners.

The directory reads the frameworks' `Established` events from the notification log, only
those recorded since it last looked, so a framework established by another process is known
to this one at its next question; a framework's commissioners never change once established.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from domain import access
from domain.contracts.framework import Framework
from domain.kernel.errors import NotPermitted
from domain.kernel.metadata import Actor


@dataclass(frozen=True)
class FrameworkCommissioner:
    """One commissioner as its framework names it."""

    org: str
    #: the lots it commissions (empty: every lot)
    lots: frozenset[str]
    #: the areas whose homes it commissions (its `areas`, else its directorates), compared without case
    areas: frozenset[str]
    #: the same areas as the framework spells them, for people to read
    area_names: tuple[str, ...] = ()

    @classmethod
    def of(cls, entry: dict[str, Any]) -> FrameworkCommissioner:
        named = areas_named(entry)
        return cls(org=entry["org"], lots=frozenset(entry.get("lots") or ()), areas=frozenset(_folded(named)), area_names=tuple(named))

    def commissions_lot(self, lot: str) -> bool:
        return not self.lots or lot in self.lots

    def commissions_home(self, *, local_authority: str | None, commissioning_area: str | None) -> bool:
        return any(name is not None and name.strip().casefold() in self.areas for name in (local_authority, commissioning_area))


def areas_named(entry: dict[str, Any]) -> list[str]:
    """The areas a framework's entry names for its commissioner: `areas`, else its directorates."""
    return list(entry.get("areas") or entry.get("directorates") or ())


def _folded(names: Iterable[str]) -> Iterable[str]:
    return (name.strip().casefold() for name in names)


class Commissioning:
    """The frameworks' commissioners, as the ledger has recorded them; safe to share between threads."""

    def __init__(self, ledger: Any) -> None:
        self._ledger = ledger
        self._lock = threading.Lock()
        self._seen = 0
        #: framework reference -> its commissioners
        self._frameworks: dict[str, tuple[FrameworkCommissioner, ...]] = {}

    def _catch_up(self) -> dict[str, tuple[FrameworkCommissioner, ...]]:
        """The frameworks as of now. The dict returned is never changed afterwards (a newer one
        replaces it), so a reader may iterate it while another thread catches up."""
        with self._lock:
            recorder = self._ledger.recorder
            # Up to the last position now, and no further next time: a search by topic past the
            # last framework would otherwise read every later event on every question.
            last = recorder.max_notification_id() or 0
            while self._seen < last:
                found = recorder.select_notifications(
                    start=self._seen, limit=500, stop=last, topics=[Framework.Established.TOPIC], inclusive_of_start=False
                )
                if found:
                    frameworks = dict(self._frameworks)
                    for notification in found:
                        event = self._ledger.mapper.to_domain_event(notification)
                        frameworks[event.reference] = tuple(FrameworkCommissioner.of(c) for c in event.commissioners)
                    self._frameworks = frameworks
                self._seen = found[-1].id if len(found) == 500 else last
            return self._frameworks

    def of_framework(self, framework: str) -> frozenset[str]:
        return frozenset(c.org for c in self._catch_up().get(framework, ()))

    def of_contract(self, *, framework: str, lot: str) -> frozenset[str]:
        return frozenset(c.org for c in self._catch_up().get(framework, ()) if c.commissions_lot(lot))

    def of_home(self, *, local_authority: str | None, commissioning_area: str | None) -> frozenset[str]:
        return frozenset(
            c.org
            for commissioners in self._catch_up().values()
            for c in commissioners
            if c.commissions_home(local_authority=local_authority, commissioning_area=commissioning_area)
        )

    def commissioned_by(self, org: str) -> dict[str, FrameworkCommissioner]:
        """What the organisation commissions, by framework: its lots and areas on each."""
        return {framework: c for framework, commissioners in self._catch_up().items() for c in commissioners if c.org == org}

    def has_area(self, org: str, area: str) -> bool:
        """Whether the organisation commissions this area on any framework."""
        return org in self.holders_of(area)

    def holders_of(self, area: str) -> frozenset[str]:
        """The organisations that commission the homes of this area, on any framework."""
        folded = area.strip().casefold()
        return frozenset(c.org for commissioners in self._catch_up().values() for c in commissioners if folded in c.areas)


def home_named(location: Any) -> str:
    return f"{location.name} ({location.reference})"


def require_commissions_home(ledger: Any, location: Any, actor: Actor, action: str) -> None:
    """Commissioners and contract managers change only the homes their organisation commissions."""
    access.require_commissioner(actor, ledger.commissioners_of_home(location), record=home_named(location), action=action)


def require_may_place_in_area(ledger: Any, location: Any, actor: Actor, area: str) -> None:
    """A home's commissioning area is set by its commissioners; a home no commissioner's area holds
    may be taken on by a commissioner naming one of its own areas."""
    commissioners = ledger.commissioners_of_home(location)
    if not commissioners and ledger.commissioning.has_area(actor.org, area):
        return
    access.require_commissioner(actor, commissioners, record=home_named(location), action="set its commissioning area")


def require_commissions_contract(ledger: Any, contract: Any, actor: Actor, action: str) -> None:
    """Commissioners and contract managers act only on the contracts of the lots their organisation commissions."""
    access.require_commissioner(
        actor,
        ledger.commissioners_of_contract(contract),
        record=f"contract {contract.reference} (lot {contract.lot} of {contract.framework})",
        action=action,
    )


def require_commissions_framework(ledger: Any, framework: str, actor: Actor, action: str) -> None:
    """A framework's own decisions (its prices) are for its commissioners."""
    access.require_commissioner(actor, ledger.commissioning.of_framework(framework), record=f"framework {framework}", action=action)


def require_commissions_lot(ledger: Any, framework: str, lot: str, actor: Actor, action: str) -> None:
    """A contract called off a lot (awarded by hand) is for the lot's commissioners."""
    commissioners = ledger.commissioning.of_contract(framework=framework, lot=lot)
    access.require_commissioner(actor, commissioners, record=f"the {lot} lot of framework {framework}", action=action)


def require_areas_not_taken(ledger: Any, commissioners: list[dict[str, Any]]) -> None:
    """A new framework names an organisation for an area only where no other organisation already
    commissions it, or that organisation already does: otherwise a framework anybody could
    establish would hand another ICB's homes to whoever it names."""
    for entry in commissioners:
        for area in areas_named(entry):
            holders = ledger.commissioning.holders_of(area)
            if holders and entry["org"] not in holders:
                raise NotPermitted(
                    f"{area}'s homes are commissioned by {', '.join(sorted(holders))}: a new framework may not name "
                    f"{entry['org']} for them.",
                    code="area_commissioned_by_another",
                )
