"""Providers and their homes over HTTP: the CQC records, the CMS list, home-care availability, vacancies.

    GET  /providers/{reference}            a CQC-registered provider and its locations
    GET  /locations                        the CMS list (read model; `read_models.LOCATIONS`)
    GET  /locations/{reference}            a care home or home-care branch, through `location_view`
    POST /locations/{location}/vacancies   the command `location.report_vacancies`
    GET  /home-care                        home-care availability (read model)

A provider sees only itself, its own homes and their rows (`access.may_deal_with`); another's
record is answered 404, as if absent.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Controller, Request, Response
from litestar.params import FromPath, JSONBody

from api.http.auth import principal_of
from api.http.commands import IdempotencyKey, body_of, command_from, command_route, run
from api.http.problems import not_found
from api.http.read_models import HOME_CARE, LOCATIONS, STALE_AFTER_DAYS
from api.http.reads import AsOf, load, read
from api.http.tables import table_route
from domain import access
from domain.kernel.command_types import CommandResult
from domain.providers.commands import ReportVacancies
from domain.providers.location import Location
from domain.providers.provider import Provider
from domain.providers.views import location_view, may_view, provider_state

VacancyReport = body_of(ReportVacancies, "VacancyReport", without=("location",))


class ProvidersController(Controller):
    path = "/providers"

    @read("/{reference:str}", access.ALL_ROLES, "A provider", "A CQC-registered provider and its locations. A provider sees only itself.")
    def get_provider(self, request: Request[Any, Any, Any], reference: FromPath[str], as_of: AsOf = None) -> dict[str, Any]:
        provider = load(request, Provider, reference, as_of)
        if not access.may_deal_with(principal_of(request).actor(), provider.reference, *provider.locations):
            raise not_found(f"provider {reference}")
        return provider_state(provider)


class LocationsController(Controller):
    path = "/locations"

    list_locations = table_route(
        "/", LOCATIONS, roles=access.ALL_ROLES,
        summary="The CMS list: every CQC location with its vacancies, suspension and framework membership",
        description="One row per care home or home-care branch (projections/cms.py). Filters: CQC and commissioning facts by equality; "
        "?name (contains), ?directorate, ?rating, ?vacancies=<bed type>, ?suspended=yes|no (in force on the day asked: today "
        f"in England, or as_of's day), ?stale=yes|no (the vacancy report more than {STALE_AFTER_DAYS} days old). Computed on "
        "the day asked: suspension_in_force, vacancy_report_age_days, vacancies_stale. open_concerns (a count of safeguarding "
        "concerns) only for commissioners, contract managers, auditors and admins. A provider sees its own homes only.",
    )

    @read("/{reference:str}", access.ALL_ROLES, "A care home or home-care branch",
          "CQC facts, ratings, vacancies, suspensions; concerns, and the personal data of its contacts and registered "
          "managers, only to the home's own commissioners and contract managers (by its local authority and commissioning "
          "area), auditors and admins (the provider: its own people). A provider sees only its own homes.")
    def get_location(self, request: Request[Any, Any, Any], reference: FromPath[str], as_of: AsOf = None) -> dict[str, Any]:
        return location_for(request, reference, as_of)

    @command_route("/{location:str}/vacancies", ReportVacancies, "Report a home's vacancies for a day",
                   "The command `location.report_vacancies` for the home in the path; a repeated report records nothing.")
    def report_vacancies(
        self, request: Request[Any, Any, Any], location: FromPath[str], data: JSONBody[VacancyReport], idempotency_key: IdempotencyKey = None  # type: ignore[valid-type]
    ) -> Response[CommandResult]:
        return run(request, command_from(ReportVacancies, data, location=location), idempotency_key)


def location_for(request: Request[Any, Any, Any], reference: str, as_of: datetime | None, *, today: date | None = None) -> dict[str, Any]:
    """The home as the signed-in viewer may see it, now or as of a time (404 when they may not):
    the API's `GET /locations/{reference}` and the page of a home (`api.web.homes`) both answer with this.

    A home's record is a long history (a vacancy report most days), so the record now is kept
    per viewer (`LedgerService.answer`), keyed by everything that decides it: the home's
    version, the organisations commissioning it, the day, and the viewer's role, organisation
    and user. Never mutate what this returns.
    """
    service = request.app.state.service
    ledger = service.ledger
    viewer = principal_of(request).actor()
    day = today or date.today()
    # Read before the record: a view made from it is kept under this count (an erasure since is a new key).
    erasures = service.erasures()
    version = service.version_of(Location, reference)
    if version is None:
        raise not_found(f"location {reference}")
    # Who commissions the home is decided on the record as it stands now, also for a read as of a past time.
    now = service.aggregate(Location, reference, version, erasures=erasures)
    location = now if as_of is None else load(request, Location, reference, as_of)
    if not may_view(location, viewer):
        raise not_found(f"location {reference}")
    commissioners = ledger.commissioners_of_home(now)
    if as_of is not None:
        return location_view(location, viewer, commissioners=commissioners, today=day)
    key = ("location", reference, now.version, commissioners, day, viewer.role, viewer.org, viewer.id)
    return service.answer(key, lambda: location_view(now, viewer, commissioners=commissioners, today=day),  # type: ignore[no-any-return]
                          erasures=erasures)


class HomeCareController(Controller):
    path = "/home-care"

    list_home_care = table_route(
        "/", HOME_CARE, roles=access.ALL_ROLES, summary="Home-care availability",
        description="One row per home-care branch: hours of care a week it can take on, by tier, as last reported (projections/cms.py). "
        "`suspended` is \"yes\" from a suspension's recording until it is lifted. A provider sees its own branches only.",
    )
