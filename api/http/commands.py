"""Commands over HTTP: `POST /commands` (the whole tagged union) and resource-shaped routes.

`POST /commands` takes any command of `domain.commands.AnyCommand`, exactly as scenario files
and the CLI do (`{"type": "score.record", ...}`). Where a route reads better, a resource-shaped
one builds the same command from the path and a body without the `type` tag:

    POST /locations/{location}/vacancies     location.report_vacancies
    POST /returns                            return.submit
    POST /competitions/{reference}/tenders   tender.submit

All of them go through `LedgerService.run`: the principal is the actor, the request id the
correlation and causation id of every event, an `Idempotency-Key` makes a retry return the
first answer. A command the domain refuses is a problem (422 validation, 409 conflict, 404 not
found, 403 forbidden) carrying the domain error's code and fields; a success is 200 with the
`CommandResult` (events recorded, with their positions in the notification log).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Request, Response, post
from litestar.params import FromPath, HeaderParameter, JSONBody

from api.http.access import ROUTE_ROLES
from api.http.auth import principal_of, requires_role
from api.http.problems import PROBLEM_JSON, FieldProblem, ProblemError, problems
from api.http.service import Answer
from domain import commands as c
from domain.providers import commands as pc
from domain.monitoring import commands as rc
from domain.kernel.command_types import Command, CommandResult
from domain.procurement.commands import SubmitTender

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        pattern=r"^[\x21-\x7e]{1,200}$",
        description="Send the same key when retrying: the first answer is returned and nothing new is recorded.",
    ),
]
COMMAND_PROBLEMS = problems(400, 401, 403, 404, 406, 409, 422)


def body_of(command: type[Command], name: str, *, without: tuple[str, ...]) -> type[msgspec.Struct]:
    """A request body with the command's fields (and rules) minus those the path gives."""
    fields: list[Any] = []
    for f in msgspec.structs.fields(command):
        if f.name in without:
            continue
        if f.default is not msgspec.NODEFAULT:
            fields.append((f.name, f.type, f.default))
        elif f.default_factory is not msgspec.NODEFAULT:
            fields.append((f.name, f.type, msgspec.field(default_factory=f.default_factory)))
        else:
            fields.append((f.name, f.type))
    return msgspec.defstruct(name, fields, kw_only=True, forbid_unknown_fields=True)


def command_from(command: type[Command], body: msgspec.Struct, **from_path: Any) -> Command:
    """The command, with every rule checked (path values included: a bad one is a 422)."""
    try:
        return msgspec.convert({**msgspec.to_builtins(body), **from_path}, type=command)
    except msgspec.ValidationError as err:
        message = str(err)
        field = message.rsplit("`$.", 1)[-1].rstrip("`") if "`$." in message else "body"
        where = f"path:{field}" if field in from_path else field
        raise ProblemError(422, "validation_failed", f"{where}: {message}", [FieldProblem(field=where, rule="invalid", message=message)]) from None


def respond(answer: Answer) -> Response[Any]:
    media_type = "application/json" if answer.status < 400 else PROBLEM_JSON
    return Response(answer.body, status_code=answer.status, media_type=media_type, headers=answer.headers or None)


def run(request: Request[Any, Any, Any], command: Command, key: str | None) -> Response[Any]:
    service = request.app.state.service
    answer = service.run(
        principal_of(request),
        command,
        method=request.method,
        path=request.url.path,
        request_id=request.state.request_id,
        idempotency_key=key,
    )
    return respond(answer)


@post(
    "/commands",
    sync_to_thread=True,
    status_code=200,
    guards=[requires_role(*ROUTE_ROLES["POST /commands"])],
    responses=COMMAND_PROBLEMS,
    summary="Send a command",
    description="Any command of the ledger's command union, tagged by `type` (e.g. `score.record`).",
    tags=["commands"],
)
def send_command(request: Request[Any, Any, Any], data: JSONBody[c.AnyCommand], idempotency_key: IdempotencyKey = None) -> Response[CommandResult]:  # type: ignore[valid-type]
    return run(request, data, idempotency_key)


VacancyReport = body_of(pc.ReportVacancies, "VacancyReport", without=("location",))
ReturnSubmission = body_of(rc.SubmitReturn, "ReturnSubmission", without=())
TenderSubmission = body_of(SubmitTender, "TenderSubmission", without=("competition",))


@post(
    "/locations/{location:str}/vacancies",
    sync_to_thread=True,
    status_code=200,
    guards=[requires_role(*ROUTE_ROLES["POST /locations/{location:str}/vacancies"])],
    responses=COMMAND_PROBLEMS,
    summary="Report a home's vacancies for a day",
    description="The command `location.report_vacancies` for the home in the path; a repeated report records nothing.",
    tags=["commands"],
)
def report_vacancies(
    request: Request[Any, Any, Any], location: FromPath[str], data: JSONBody[VacancyReport], idempotency_key: IdempotencyKey = None  # type: ignore[valid-type]
) -> Response[CommandResult]:
    return run(request, command_from(pc.ReportVacancies, data, location=location), idempotency_key)


@post(
    "/returns",
    sync_to_thread=True,
    status_code=200,
    guards=[requires_role(*ROUTE_ROLES["POST /returns"])],
    responses=COMMAND_PROBLEMS,
    summary="Submit a monitoring return",
    description="The command `return.submit`: every failure of the template's rules is reported at once, field by field.",
    tags=["commands"],
)
def submit_return(request: Request[Any, Any, Any], data: JSONBody[ReturnSubmission], idempotency_key: IdempotencyKey = None) -> Response[CommandResult]:  # type: ignore[valid-type]
    return run(request, command_from(rc.SubmitReturn, data), idempotency_key)


@post(
    "/competitions/{reference:str}/tenders",
    sync_to_thread=True,
    status_code=200,
    guards=[requires_role(*ROUTE_ROLES["POST /competitions/{reference:str}/tenders"])],
    responses=COMMAND_PROBLEMS,
    summary="Submit a sealed tender",
    description="The command `tender.submit` for the competition in the path, as the principal's organisation.",
    tags=["commands"],
)
def submit_tender(
    request: Request[Any, Any, Any], reference: FromPath[str], data: JSONBody[TenderSubmission], idempotency_key: IdempotencyKey = None  # type: ignore[valid-type]
) -> Response[CommandResult]:
    return run(request, command_from(SubmitTender, data, competition=reference), idempotency_key)


ROUTES = [send_command, report_vacancies, submit_return, submit_tender]
