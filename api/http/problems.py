"""Errors as RFC 9457 problem details (`application/problem+json`), from one place.

Every refusal the API gives has the same shape: `type` (a URI naming the problem: the domain
error's code under `PROBLEM_BASE`), `title`, `status`, `detail` (a sentence for people),
`instance` (the request path) and two extensions: `code` (the domain's stable code, the
contract with clients) and `fields` (each invalid field with the rule it broke).

Statuses: 400 a body that is not JSON at all or nested too deep, a query parameter the route
does not take, two Authorization headers; 401 no or a bad token; 403 a role that may not
use the route or send the command; 404 nothing there, or nothing this principal may see
(the same answer, so a sealed or scoped record's existence does not leak); 405 a method the
route does not take; 406 a representation we cannot give; 409 a conflict with the state
(including two concurrent edits of one aggregate); 413 a body over 1 MiB; 415 a media type
the route does not take; 422 a well-formed request that breaks a rule about its own values.
A refusal of the request's own content (400, 413, 415, 422) names in `fields` what is at
fault and the rule it breaks. Anything unexpected is a 500 problem that says nothing of the
internals (they are in the log, under the request id).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.exceptions import ClientException, HTTPException, NotFoundException, ValidationException
from litestar.openapi.datastructures import ResponseSpec

from domain.kernel import command_types as c

log = structlog.get_logger("aqp.http")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://aqp-ledger.local/problems/"

STATUS_OF_KIND = {"validation": 422, "conflict": 409, "not_found": 404, "forbidden": 403}
TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not permitted",
    404: "Not found",
    405: "Method not allowed",
    406: "Not acceptable",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Not ready",
}


class FieldProblem(msgspec.Struct):
    field: str
    rule: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem, with the domain's `code` and the `fields` at fault."""

    type: str
    title: str
    status: int
    code: str
    detail: str
    instance: str | None = None
    fields: list[FieldProblem] = []


class ProblemError(Exception):
    """Raised by a handler to answer with a problem (a refusal that is not a domain error)."""

    def __init__(self, status: int, code: str, detail: str, fields: list[FieldProblem] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.fields = fields or []
        self.headers = headers or {}


def problem(status: int, code: str, detail: str, *, instance: str | None = None, fields: list[FieldProblem] | None = None) -> Problem:
    return Problem(
        type=PROBLEM_BASE + code,
        title=TITLES.get(status, "Error"),
        status=status,
        code=code,
        detail=detail,
        instance=instance,
        fields=fields or [],
    )


def problem_response(p: Problem, headers: dict[str, str] | None = None) -> Response[Problem]:
    return Response(p, status_code=p.status, media_type=PROBLEM_JSON, headers=headers)


def from_error_info(error: c.ErrorInfo, instance: str | None = None) -> Problem:
    """A refused command as a problem: the status follows the domain error's kind."""
    status = STATUS_OF_KIND.get(error.kind, 409)
    fields = [FieldProblem(field=f.field, rule=f.rule, message=f.message) for f in error.fields]
    return problem(status, error.code, error.message, instance=instance, fields=fields)


def not_found(what: str) -> ProblemError:
    return ProblemError(404, "not_found", f"There is no {what}, or you may not see it.")


# ------------------------------------------------------------------ exception handlers

_AT = re.compile(r" - at `\$\.?(?P<path>[^`]*)`$")


def _validation_fields(exc: ValidationException) -> list[FieldProblem]:
    fields = []
    for item in exc.extra if isinstance(exc.extra, list) else []:
        if not isinstance(item, dict):
            continue
        message = str(item.get("message", "invalid"))
        key = str(item.get("key") or "")
        match = _AT.search(message)
        if match:
            key, message = match["path"] or key, message[: match.start()]
        source = getattr(item.get("source"), "value", item.get("source"))
        if source in (None, "body") and key == "data" and not (match and match["path"]):
            key = "body"  # the whole body, which Litestar calls `data`: no field a client sends
        if source == "header":
            key = "-".join(part.capitalize() for part in key.split("_"))  # idempotency_key -> Idempotency-Key
        field = key if source in (None, "body") or not key else f"{source}:{key}"
        fields.append(FieldProblem(field=field or "body", rule=_rule_of(message), message=message))
    return fields


def _rule_of(message: str) -> str:
    """A short machine-readable rule name for msgspec's and Litestar's messages."""
    lowered = message.lower()
    for needle, rule in (
        ("missing required", "required"),
        ("matching regex", "pattern"),
        ("length", "length"),
        ("expected `", "type"),
        ("invalid value", "one_of"),
        (">=", "minimum"),
        ("<=", "maximum"),
        ("unknown field", "unknown_field"),
        ("timezone", "timezone"),
    ):
        if needle in lowered:
            return rule
    return "invalid"


def handle_problem_error(request: Request[Any, Any, Any], exc: ProblemError) -> Response[Problem]:
    return problem_response(problem(exc.status, exc.code, exc.detail, instance=request.url.path, fields=exc.fields), exc.headers)


def handle_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Problem]:
    path = request.url.path
    if isinstance(exc, ValidationException):
        fields = _validation_fields(exc)
        detail = "The request breaks a rule: " + "; ".join(f"{f.field}: {f.message}" for f in fields) if fields else str(exc.detail)
        return problem_response(problem(422, "validation_failed", detail, instance=path, fields=fields))
    status = exc.status_code
    if isinstance(exc, NotFoundException):
        return problem_response(problem(404, "not_found", "There is nothing at this address.", instance=path))
    if isinstance(exc, ClientException) and status == 400:
        detail = str(exc.detail)
        if "JSON is malformed" in detail or "decode" in detail.lower():
            return problem_response(problem(400, "malformed_json", f"The body is not valid JSON: {detail}", instance=path,
                                            fields=[FieldProblem(field="body", rule="json", message=detail)]))
        return problem_response(problem(400, "bad_request", detail, instance=path))
    code = {401: "not_authenticated", 403: "not_permitted", 405: "method_not_allowed", 406: "not_acceptable",
            413: "request_too_large", 415: "unsupported_media_type", 429: "too_many_requests"}.get(status, "http_error")
    if status >= 500:
        log.error("http_error", status=status, detail=str(exc.detail), path=path)
        return problem_response(problem(status, "internal_error", "Something went wrong on our side; it has been logged.", instance=path))
    headers = dict(exc.headers or {})
    return problem_response(problem(status, code, str(exc.detail), instance=path, fields=_CONTENT_AT_FAULT.get(status)), headers or None)


#: a refusal of the request's content names what is wrong with it, as a rule about its values does
_CONTENT_AT_FAULT = {
    413: [FieldProblem(field="body", rule="max_size", message="larger than the API takes (1 MiB)")],
    415: [FieldProblem(field="header:Content-Type", rule="media_type", message="not a media type this route takes")],
}


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Problem]:
    # The details are for the log (with the request id bound), never for the client.
    log.exception("unhandled_error", path=request.url.path, error=type(exc).__name__)
    return problem_response(problem(500, "internal_error", "Something went wrong on our side; it has been logged.", instance=request.url.path))


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ProblemError: handle_problem_error,
    HTTPException: handle_http_exception,
    Exception: handle_unexpected,
}


# ------------------------------------------------------------------ OpenAPI

_DESCRIPTIONS = {
    400: "The body is not JSON or is nested too deep, a query parameter is not one the route takes, or two Authorization headers were sent.",
    401: "No token, or an unknown or revoked one.",
    403: "This role may not use this route or send this command.",
    404: "Nothing there, or nothing this principal may see.",
    406: "The representation asked for in Accept is not offered.",
    409: "The request conflicts with the record's state (including a concurrent change).",
    413: "The body is larger than the API takes (1 MiB), though each value may be within its bounds.",
    422: "The request breaks a rule about its own values; `fields` says which and why.",
    503: "The ledger's database cannot be reached.",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem responses a route can give, for its OpenAPI operation."""
    return {
        s: ResponseSpec(data_container=Problem, media_type=PROBLEM_JSON, description=_DESCRIPTIONS.get(s, TITLES.get(s, "Error")))
        for s in statuses
    }


AUTHENTICATED = (400, 401, 403, 406, 422)
