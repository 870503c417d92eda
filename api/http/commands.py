"""Commands over HTTP: `POST /commands` (the whole tagged union), and what the resources'
command routes share.

`POST /commands` takes any command of `domain.commands.AnyCommand`, exactly as scenario files
and the CLI do (`{"type": "score.record", ...}`). Where a route reads better, a resource-shaped
one, declared with its resource's Controller (`command_route`), builds the same command from
the path and a body without the `type` tag (`body_of`, `command_from`):

    POST /locations/{location}/vacancies     location.report_vacancies   (api/http/homes.py)
    POST /returns                            return.submit               (api/http/returns.py)
    POST /competitions/{reference}/tenders   tender.submit               (api/http/competitions.py)

Each is guarded by the roles the dispatcher lets send its command (`requires_roles_to_send`);
`POST /commands` lets every role through, and the dispatcher refuses a role that may not send
the command (403). All of them go through `LedgerService.run`: the principal is the actor, the
request id the correlation and causation id of every event, an `Idempotency-Key` makes a retry
return the first answer. A command the domain refuses is a problem (422 validation, 409
conflict, 404 not found, 403 forbidden) carrying the domain error's code and fields; a
success is 200 with the `CommandResult` (events recorded, with their positions in the
notification log).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, post
from litestar.params import HeaderParameter, JSONBody

from api.http.auth import principal_of, requires_role, requires_roles_to_send
from api.http.problems import PROBLEM_JSON, FieldProblem, ProblemError, problems
from api.http.service import Answer
from domain import commands as c
from domain.access import ALL_ROLES
from domain.kernel.command_types import Command, CommandResult

IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        pattern=r"^[\x21-\x7e]{1,200}$",
        description="Send the same key when retrying: the first answer is returned and nothing new is recorded.",
    ),
]
COMMAND_PROBLEMS = problems(400, 401, 403, 404, 406, 409, 413, 422)


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


def command_route(path: str, command_type: type[Command], summary: str, description: str) -> Any:
    """A resource-shaped `POST` sending one command, for the roles that may send it."""
    return post(path, sync_to_thread=True, status_code=200, guards=[requires_roles_to_send(command_type)],
                responses=COMMAND_PROBLEMS, summary=summary, description=description, tags=["commands"])


class CommandsController(Controller):
    path = "/commands"

    @post(
        sync_to_thread=True,
        status_code=200,
        guards=[requires_role(*ALL_ROLES)],
        responses=COMMAND_PROBLEMS,
        summary="Send a command",
        description="Any command of the ledger's command union, tagged by `type` (e.g. `score.record`).",
        tags=["commands"],
    )
    def send_command(self, request: Request[Any, Any, Any], data: JSONBody[c.AnyCommand], idempotency_key: IdempotencyKey = None) -> Response[CommandResult]:  # type: ignore[valid-type]
        return run(request, data, idempotency_key)
