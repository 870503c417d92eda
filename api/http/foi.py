"""FOI requests over HTTP, for the FOI officers and admins of the authority that received them.

    POST /foi-requests                          the command `foi.receive`
    POST /foi-requests/{reference}/response     the command `foi.send_response`
    GET  /foi-requests                          requests by due date, with status and working days left today
    GET  /foi-requests/disclosure-log           what was released, part by part, and when
    GET  /foi-requests/{reference}              one request, the requester's details included

Every other FOI command goes through `POST /commands`. Only `access.FOI_OFFICERS` pass the
guards, and each sees its own organisation's requests alone (`access.handles_foi_request`):
another authority's request is answered 404, as one that does not exist.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from litestar import Controller, Request, Response
from litestar.params import FromPath, JSONBody

from api.http.auth import principal_of
from api.http.commands import IdempotencyKey, body_of, command_from, command_route, run
from api.http.problems import not_found
from api.http.reads import AsOf, read
from api.http.tables import Table, aware, day_of, row_struct, table_route, today
from api.tokens import Principal
from domain import access
from domain.foi.commands import ReceiveFoiRequest, SendResponse
from domain.foi.request import FoiRequest
from domain.foi.views import foi_request_view, status_on
from domain.kernel.command_types import CommandResult
from domain.kernel.errors import DomainError
from projections.foi import DISCLOSURE_LOG, REQUESTS, FoiRequests

FoiRequestReceipt = body_of(ReceiveFoiRequest, "FoiRequestReceipt", without=())
FoiResponse = body_of(SendResponse, "FoiResponse", without=("request",))
FoiRequestRow = row_struct("FoiRequestRow", REQUESTS, extra=(("status", str | None), ("working_days_left", int | None)))
DisclosureLogRow = row_struct("DisclosureLogRow", DISCLOSURE_LOG)


def _own(principal: Principal, row: dict[str, Any]) -> bool:
    return access.handles_foi_request(principal.actor(), received_by=row["received_by"])


def _with_status(_principal: Principal, row: dict[str, Any], day: date) -> dict[str, Any]:
    return {**row, **status_on(row["stage"], row["due_on"], day)}


FOI_REQUESTS = Table(
    row=FoiRequestRow, read_model=FoiRequests, table=REQUESTS.name, scope=_own, shape=_with_status,
    filters=("stage", "channel", "responded_late"), search=("reference",),
)
FOI_DISCLOSURE_LOG = Table(
    row=DisclosureLogRow, read_model=FoiRequests, table=DISCLOSURE_LOG.name, scope=_own,
    filters=("reference", "outcome", "sent_on"), search=("reference", "asked", "released"),
)


class FoiRequestsController(Controller):
    path = "/foi-requests"

    @command_route("/", ReceiveFoiRequest, "Record an FOI request received",
                   "The command `foi.receive`: when and how it arrived, the requester (personal data, erasable) and what is "
                   "asked, part by part. Answers the due date (the twentieth working day following receipt, FOIA s.10).")
    def receive_request(self, request: Request[Any, Any, Any], data: JSONBody[FoiRequestReceipt], idempotency_key: IdempotencyKey = None) -> Response[CommandResult]:  # type: ignore[valid-type]
        return run(request, command_from(ReceiveFoiRequest, data), idempotency_key)

    @command_route("/{reference:str}/response", SendResponse, "Send the response to an FOI request",
                   "The command `foi.send_response`: a decision on every part; a part withheld names the exemptions "
                   "considered for it. A missing part is refused, naming it.")
    def send_response(self, request: Request[Any, Any, Any], reference: FromPath[str], data: JSONBody[FoiResponse], idempotency_key: IdempotencyKey = None) -> Response[CommandResult]:  # type: ignore[valid-type]
        return run(request, command_from(SendResponse, data, request=reference), idempotency_key)

    list_requests = table_route(
        "/", FOI_REQUESTS, roles=access.FOI_OFFICERS, summary="FOI requests by due date",
        description="One row per request your organisation received (projections/foi.py), in the order they fall due (stopped "
        "clocks last); `status` is the stage as of today (an open request past its due date is `overdue`) and `working_days_left` "
        "the working days to the due date (negative: late).",
    )
    list_disclosure_log = table_route(
        "/disclosure-log", FOI_DISCLOSURE_LOG, roles=access.FOI_OFFICERS, summary="The disclosure log",
        description="What your organisation's responses released, withheld or did not hold, part by part, with the exemptions and the day sent.",
    )

    @read("/{reference:str}", access.FOI_OFFICERS, "An FOI request",
          "The whole case: the requester, the parts asked, clarifications, fees, exemptions with their public interest tests, "
          "extensions, the response, internal review and the ICO; with its status and working days left today (or as of the day asked).")
    def get_request(self, request: Request[Any, Any, Any], reference: FromPath[str], as_of: AsOf = None) -> dict[str, Any]:
        return foi_request_answer(request, reference, aware(as_of))


def foi_request_answer(request: Request[Any, Any, Any], reference: str, moment: datetime | None) -> dict[str, Any]:
    """The request as the API answers it to the principal of `request` (its status as of `moment`'s day, or
    today): the pages show exactly this. Another authority's request, or none, is the same 404."""
    viewer = principal_of(request).actor()
    try:
        record = request.app.state.service.ledger.aggregate(FoiRequest, FoiRequest.key(viewer.org, reference), as_of=moment)
        return foi_request_view(record, viewer, today=day_of(moment) if moment else today())
    except DomainError:
        raise not_found(f"FOI request {reference}") from None
