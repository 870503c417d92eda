"""Reads: records as the domain shows them to this principal, now or `as_of` a time.

Each route loads one aggregate (`Ledger.aggregate(cls, reference, as_of=)`) and shows it
through the domain's own view for the viewer (`competition_view`, `location_view`), or, for
records with no per-role view, the domain's state function after a scoping check here:

- a provider sees only its own organisation's contracts, provider record, homes and returns
  (it acts as its head office, the provider id, or as one home, the CQC location id);
- whatever a principal may not see is answered 404 with the same sentence as a record that
  does not exist, so its existence does not leak.

Lists come from read models through `tables.table_route` (the competition list, the contract
register). A time in `as_of` must carry its zone (`2026-03-01T12:00:00Z`).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Request, get
from litestar.params import FromPath, QueryParameter

from api.http.access import ROUTE_ROLES
from api.http.auth import principal_of, requires_role
from api.http.problems import AUTHENTICATED, FieldProblem, ProblemError, not_found, problems
from api.http.tables import Table, day_of, table_route, today
from api.tokens import Principal
from domain import access
from domain.contracts.contract import Contract, Framework, contract_state, framework_state
from domain.kernel.errors import DomainError
from domain.kernel.metadata import LedgerAggregate
from domain.procurement.competition import Competition, competition_view
from domain.providers.location import Location, Provider, location_view, may_view, provider_state
from domain.monitoring.returns import (
    PlacementReturn,
    Return,
    placement_return_reference,
    placement_return_state,
    return_reference,
    return_state,
)
from projections.competitions import CompetitionList
from projections.contract_register import ContractRegister

AsOf = Annotated[
    datetime | None,
    QueryParameter(description="the record as it stood at this time (ISO 8601 with a zone, e.g. 2026-03-01T12:00:00Z)"),
]
READ_PROBLEMS = problems(*AUTHENTICATED, 404)


def _as_of(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise ProblemError(
            422, "validation_failed", "as_of needs a time zone, e.g. 2026-03-01T12:00:00Z.",
            [FieldProblem(field="query:as_of", rule="timezone", message="needs a time zone")],
        )
    return value


def load(request: Request[Any, Any, Any], cls: type[LedgerAggregate], reference: FromPath[str], as_of: datetime | None) -> Any:
    try:
        return request.app.state.service.ledger.aggregate(cls, reference, as_of=_as_of(as_of))
    except DomainError:
        raise not_found(f"{cls.KIND.replace('_', ' ')} {reference}") from None


def _acts_for(principal: Principal, *orgs: str) -> bool:
    return access.may_deal_with(principal.actor(), *orgs)


def _location_ok(request: Request[Any, Any, Any], principal: Principal, location: FromPath[str]) -> bool:
    if not access.sees_only_its_own(principal.actor()):
        return True
    try:
        home = request.app.state.service.ledger.aggregate(Location, location)
    except DomainError:
        return False
    return may_view(home, principal.actor())


def _guarded(path: str) -> list[Any]:
    return [requires_role(*ROUTE_ROLES[f"GET {path}"])]


def _get(path: str, summary: str, description: str) -> Any:
    return get(path, sync_to_thread=True, guards=_guarded(path), responses=READ_PROBLEMS, summary=summary,
               description=description, tags=["reads"])


# ------------------------------------------------------------------ competitions


@_get("/competitions/{reference:str}", "A competition as you may see it",
      "Sealed tenders, conflicts of interest and scores before moderation are withheld as the domain's "
      "`competition_view` decides for your role and organisation.")
def get_competition(request: Request[Any, Any, Any], reference: FromPath[str], as_of: AsOf = None) -> dict[str, Any]:
    competition = load(request, Competition, reference, as_of)
    return competition_view(competition, principal_of(request).actor())


class CompetitionRow(msgspec.Struct):
    reference: str
    title: str
    authority: str
    procedure: str
    standstill_regime: str
    status: str
    lots: int
    tender_deadline: str
    #: live tenders once opened; null before (sealed)
    tenders: int | None
    awarded_lots: int | None
    awarded_bidders: int | None
    last_event_at: str
    version: int


class ContractRow(msgspec.Struct):
    reference: str
    framework: str
    lot: str
    provider: str
    status: str
    original_value: int
    current_value: int
    cumulative_variation: int
    variations: int
    escalation_stage: str | None
    referrals_suspended: str
    term_end: str | None
    last_event_at: str
    version: int


COMPETITIONS = Table(
    row=CompetitionRow,
    read_model=CompetitionList,
    filters=("status", "authority", "procedure", "standstill_regime"),
    search=("reference", "title", "authority"),
)
CONTRACTS = Table(
    row=ContractRow,
    read_model=ContractRegister,
    filters=("framework", "lot", "provider", "status", "escalation_stage", "referrals_suspended"),
    search=("reference", "provider", "framework"),
    # A provider sees only the contracts it holds.
    scope=lambda principal, row: _acts_for(principal, row["provider"]),
)


list_competitions = table_route(
    "/competitions", COMPETITIONS, summary="The competition list",
    description="One row per competition (the competition list read model). Tender counts stay null until tenders are opened. "
    "With as_of, the list as it stood then (rebuilt from the log).",
)
list_contracts = table_route(
    "/contracts", CONTRACTS, summary="The contract register",
    description="One row per contract (the contract register read model); values in pence. A provider sees its own contracts only. "
    "With as_of, the register as it stood then (rebuilt from the log: e.g. as_of=2026-03-31T23:59:59Z for 31 March).",
)


# ------------------------------------------------------------------ frameworks and contracts


@_get("/frameworks/{reference:str}", "A framework", "Lots, commissioners, term, price schedules, escalation ladder, monitoring.")
def get_framework(request: Request[Any, Any, Any], reference: FromPath[str], as_of: AsOf = None) -> dict[str, Any]:
    return framework_state(load(request, Framework, reference, as_of))


@_get("/contracts/{reference:path}", "A contract, now or as of a time",
      "The contract's state (values in pence), its escalation stage (`escalation.stage`) and `rates`: its framework's price "
      "schedule in force on the day (today, or as_of's day). A provider sees only the contracts it holds.")
def get_contract(request: Request[Any, Any, Any], reference: FromPath[Path], as_of: AsOf = None) -> dict[str, Any]:
    # Contract references hold slashes (COMPETITION/LOT/PROVIDER), so the path takes the rest.
    reference = str(reference).lstrip("/")
    contract = load(request, Contract, reference, as_of)
    if not _acts_for(principal_of(request), contract.provider, *contract.homes):
        raise not_found(f"contract {reference}")
    return {**contract_state(contract), "rates": _rates(request, contract.framework, as_of)}


def _rates(request: Request[Any, Any, Any], framework: str, as_of: datetime | None) -> dict[str, Any] | None:
    """The framework's price schedule in force on the day (today in England, or as_of's day): what the contract pays.

    Rates are the framework's (`framework.set_prices`), the same for every contract under it:
    pence a week per bed type for care homes, pence an hour per care tier for home care.
    """
    try:
        record = request.app.state.service.ledger.aggregate(Framework, framework, as_of=as_of)
    except DomainError:
        return None
    day = (day_of(as_of) if as_of else today()).isoformat()
    effective = max((d for d in record.price_schedules if d <= day), default=None)
    if effective is None:
        return None
    unit = {"care_homes": "pence_per_week", "home_care": "pence_per_hour"}.get(record.kind)
    return {"framework": framework, "on": day, "effective_from": effective, "unit": unit, "rates": dict(record.price_schedules[effective])}


# ------------------------------------------------------------------ providers and homes


@_get("/providers/{reference:str}", "A provider", "A CQC-registered provider and its locations. A provider sees only itself.")
def get_provider(request: Request[Any, Any, Any], reference: FromPath[str], as_of: AsOf = None) -> dict[str, Any]:
    provider = load(request, Provider, reference, as_of)
    if not _acts_for(principal_of(request), provider.reference, *provider.locations):
        raise not_found(f"provider {reference}")
    return provider_state(provider)


@_get("/locations/{reference:str}", "A care home or home-care branch",
      "CQC facts, ratings, vacancies, suspensions; concerns only for commissioners, contract managers, auditors "
      "and admins; contacts' personal data only to those who deal with the home. A provider sees only its own homes.")
def get_location(request: Request[Any, Any, Any], reference: FromPath[str], as_of: AsOf = None) -> dict[str, Any]:
    location = load(request, Location, reference, as_of)
    viewer = principal_of(request).actor()
    if not may_view(location, viewer):
        raise not_found(f"location {reference}")
    return location_view(location, viewer, today=date.today())


# ------------------------------------------------------------------ returns


@_get("/returns/{location:str}/{template:str}/{version:int}/{period:str}", "A monitoring return",
      "One home's return against one template version for one period, with its lateness, amendments and reviews.")
def get_return(
    request: Request[Any, Any, Any], location: FromPath[str], template: FromPath[str], version: FromPath[int], period: FromPath[str], as_of: AsOf = None
) -> dict[str, Any]:
    reference = return_reference(location, template, version, period)
    if not _location_ok(request, principal_of(request), location):
        raise not_found(f"return {reference}")
    return return_state(load(request, Return, reference, as_of))


@_get("/placement-returns/{location:str}/{period:str}", "A placement return",
      "One home's placements for one month (pseudonymous references only), with rates flagged against the framework.")
def get_placement_return(request: Request[Any, Any, Any], location: FromPath[str], period: FromPath[str], as_of: AsOf = None) -> dict[str, Any]:
    reference = placement_return_reference(location, period)
    if not _location_ok(request, principal_of(request), location):
        raise not_found(f"placement return {reference}")
    return placement_return_state(load(request, PlacementReturn, reference, as_of))


ROUTES = [
    list_competitions,
    get_competition,
    list_contracts,
    get_contract,
    get_framework,
    get_provider,
    get_location,
    get_return,
    get_placement_return,
]
