"""Monitoring returns over HTTP: submitting, one return, placement returns, and compliance.

    POST /returns                                                the command `return.submit`
    GET  /returns/{location}/{template}/{version}/{period}       one home's return for one period
    GET  /returns/compliance, /returns/compliance/summary,
         /returns/missed-runs                                    return compliance (read model)
    GET  /placement-returns/{location}/{period}                  one home's placements for a month

For those who read monitoring (`access.MONITORING_READERS`); a provider only its own homes'
(`may_view` of the home): another home's return is answered 404, as if absent.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response
from litestar.params import FromPath, JSONBody

from api.http.auth import principal_of
from api.http.commands import IdempotencyKey, body_of, command_from, command_route, run
from api.http.problems import not_found
from api.http.read_models import COMPLIANCE_SUMMARY, MISSED_RUNS, RETURN_COMPLIANCE
from api.http.reads import AsOf, find, load, read
from api.http.tables import table_route
from api.tokens import Principal
from domain import access
from domain.kernel.command_types import CommandResult
from domain.monitoring.commands import SubmitReturn
from domain.monitoring.placement_returns import PlacementReturn, placement_return_reference
from domain.monitoring.returns import Return, return_reference
from domain.monitoring.views import placement_return_state, return_state
from domain.providers.location import Location
from domain.providers.views import may_view

ReturnSubmission = body_of(SubmitReturn, "ReturnSubmission", without=())


def _location_ok(request: Request[Any, Any, Any], principal: Principal, location: str) -> bool:
    """Whether the principal may see the returns of this home (a provider: only a home it runs)."""
    viewer = principal.actor()
    if not access.sees_only_its_own(viewer):
        return True
    home = find(request, Location, location)
    return home is not None and may_view(home, viewer)


class ReturnsController(Controller):
    path = "/returns"

    @command_route("/", SubmitReturn, "Submit a monitoring return",
                   "The command `return.submit`: every failure of the template's rules is reported at once, field by field.")
    def submit_return(self, request: Request[Any, Any, Any], data: JSONBody[ReturnSubmission], idempotency_key: IdempotencyKey = None) -> Response[CommandResult]:  # type: ignore[valid-type]
        return run(request, command_from(SubmitReturn, data), idempotency_key)

    @read("/{location:str}/{template:str}/{version:int}/{period:str}", access.MONITORING_READERS, "A monitoring return",
          "One home's return against one template version for one period, with its lateness, amendments and reviews.")
    def get_return(
        self, request: Request[Any, Any, Any], location: FromPath[str], template: FromPath[str], version: FromPath[int], period: FromPath[str],
        as_of: AsOf = None,
    ) -> dict[str, Any]:
        reference = return_reference(location, template, version, period)
        if not _location_ok(request, principal_of(request), location):
            raise not_found(f"return {reference}")
        return return_state(load(request, Return, reference, as_of))

    list_compliance = table_route(
        "/compliance", RETURN_COMPLIANCE, roles=access.MONITORING_READERS,
        summary="Return compliance: every expected return and whether it came in time",
        description="One row per home, template and period expected (projections/compliance.py): on_time, late, missed, overdue. "
        "A provider sees its own homes only.",
    )
    list_compliance_summary = table_route(
        "/compliance/summary", COMPLIANCE_SUMMARY, roles=access.MONITORING_READERS,
        summary="Return compliance counted per home, provider, ICB/CCG, area, directorate and framework",
        description="Expected, received, on time, within three months, per period and year to date. A provider sees its own and its homes' rows.",
    )
    list_missed_runs = table_route(
        "/missed-runs", MISSED_RUNS, roles=access.MONITORING_READERS,
        summary="Consecutive periods not returned in time, per home and template",
        description="service_failure is \"yes\" from three in a row (seed 003 s.3.6). A provider sees its own homes only.",
    )


class PlacementReturnsController(Controller):
    path = "/placement-returns"

    @read("/{location:str}/{period:str}", access.MONITORING_READERS, "A placement return",
          "One home's placements for one month (pseudonymous references only), with rates flagged against the framework.")
    def get_placement_return(
        self, request: Request[Any, Any, Any], location: FromPath[str], period: FromPath[str], as_of: AsOf = None
    ) -> dict[str, Any]:
        reference = placement_return_reference(location, period)
        if not _location_ok(request, principal_of(request), location):
            raise not_found(f"placement return {reference}")
        return placement_return_state(load(request, PlacementReturn, reference, as_of))
