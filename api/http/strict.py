"""What every request must be before a route sees it: no query parameter the route does not
take, no value holding a NUL character, a time written as a time, and a body that is JSON,
no deeper than any command is.

An unknown query parameter is refused (400 `unknown_query_parameter`, naming it) rather than
ignored: a typo such as `/audit/index?subject=...` would otherwise silently answer with
everything. Each route's parameters are the ones its handler declares (the same ones the
OpenAPI document lists), read off the app's routes once (`declared_inputs`).

A query parameter's value may not hold a NUL character (422, rule `nul_character`): no
filter means one, and PostgreSQL refuses it in a query on a text column (a 500 there, while
SQLite answers; the commands' own rule is `command_types.check_bounds`).

A query parameter that takes a time (`as_of`) must be written as the document says, an ISO
8601 date-time (422 `validation_failed`, rule `format`, otherwise): the decoder alone would
also read a bare number as seconds since 1970, so `as_of=0.5` or a mistyped `as_of=2026`
would answer as of January 1970 (an empty list, or no such record) instead of being refused,
and `as_of=null` would answer as of now.

A JSON body nested deeper than `MAX_JSON_DEPTH` is refused (400 `json_too_deep`) before it
is decoded: the decoder would otherwise run out of stack (a 500 and a traceback per request,
which any token holder could use to flood the log), and a value only a little less deep,
once stored, could not be read back where the stack is already in use. The deepest command
(a CQC location record) is under ten levels.

A route that takes a body takes a JSON document: an empty body, or one that is not JSON, is
refused here (400 `malformed_json`, naming the body) rather than by the route's decoder, which
reads an empty body as no body (a 422 naming a `data` field no client sends), names some
broken JSON only in words, and raises on text that is not UTF-8 inside a string (a 500).
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, NamedTuple

import msgspec
import structlog
from litestar import Litestar, Request
from litestar.routes import HTTPRoute
from litestar.typing import FieldDefinition

from api.http.problems import FieldProblem, ProblemError

log = structlog.get_logger("aqp.http")

MAX_JSON_DEPTH = 32
#: how an ISO 8601 date-time begins (the decoder checks the rest; `tables.aware` the zone)
_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}", re.ASCII)
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


class Declared(NamedTuple):
    """What a route handler takes: its query parameters, those of them that take a time, and whether a body."""

    names: frozenset[str]
    times: frozenset[str]
    body: bool


def declared_inputs(app: Litestar) -> dict[int, Declared]:
    """What each route handler takes, by the handler's id."""
    declared: dict[int, Declared] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler, kwargs_model in route.route_handler_map.values():
                signature = handler.parsed_fn_signature.parameters
                params = kwargs_model.expected_query_params
                times = {p.field_alias for p in params if p.field_name in signature and _takes_a_time(signature[p.field_name])}
                declared[id(handler)] = Declared(frozenset(p.field_alias for p in params), frozenset(times), "data" in signature)
    return declared


def _takes_a_time(field: FieldDefinition) -> bool:
    return field.is_subclass_of(datetime) or field.has_inner_subclass_of(datetime)


def nested_deeper_than(body: bytes, limit: int) -> bool:
    """Whether the JSON in `body` nests arrays and objects more than `limit` deep (malformed JSON is left to the decoder)."""
    brackets = _STRINGS.sub(b"", body).translate(None, _NOT_BRACKETS)
    for _ in range(limit):
        # Each round takes away the innermost level: what is left after `limit` rounds is deeper.
        shorter = brackets.replace(b"[]", b"").replace(b"{}", b"")
        if shorter == brackets:
            return False
        brackets = shorter
    return bool(brackets)


def not_json(body: bytes) -> tuple[str, str] | None:
    """Why `body` is not a JSON document (the rule it breaks, in words), or None when it is one."""
    if not body.strip():
        return "required", "it is empty; this route takes a JSON body"
    try:
        msgspec.json.decode(body)
    except msgspec.DecodeError as err:
        return "json", str(err)
    except UnicodeDecodeError:
        return "json", "it is not UTF-8 text"
    return None


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Litestar's `before_request`: refuse unknown query parameters, a NUL in one, a time not written as one,
    and a body that is too deep or not JSON."""
    declared = request.app.state.declared_inputs.get(id(request.route_handler))
    if declared is not None:
        unknown = sorted(set(request.query_params) - declared.names)
        if unknown:
            takes = ", ".join(sorted(declared.names)) or "none"
            raise ProblemError(
                400,
                "unknown_query_parameter",
                f"This route does not take the query parameter{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(unknown)} (it takes: {takes}).",
                [FieldProblem(field=f"query:{name}", rule="unknown_parameter", message=f"{name} is not a parameter of this route.")
                 for name in unknown],
            )
        with_nul = sorted(name for name in set(request.query_params) if any("\x00" in v for v in request.query_params.getall(name)))
        if with_nul:
            raise ProblemError(
                422, "validation_failed", f"{', '.join(with_nul)} holds a NUL character (U+0000), which no value here may.",
                [FieldProblem(field=f"query:{name}", rule="nul_character", message="holds a NUL character (U+0000)") for name in with_nul],
            )
        not_times = sorted(
            name for name in declared.times if any(not _DATE_TIME.match(v) for v in request.query_params.getall(name, []))
        )
        if not_times:
            raise ProblemError(
                422, "validation_failed",
                f"{', '.join(not_times)} must be an ISO 8601 date-time with a zone, e.g. 2026-03-01T12:00:00Z.",
                [FieldProblem(field=f"query:{name}", rule="format", message="an ISO 8601 date-time with a zone, e.g. 2026-03-01T12:00:00Z")
                 for name in not_times],
            )
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()
        if nested_deeper_than(body, MAX_JSON_DEPTH):
            log.warning("json_too_deep", path=request.url.path, size=len(body), limit=MAX_JSON_DEPTH)
            raise ProblemError(
                400, "json_too_deep", f"The body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep; no command needs that.",
                [FieldProblem(field="body", rule="max_depth", message=f"at most {MAX_JSON_DEPTH} levels of nesting")],
            )
        wrong = not_json(body) if declared is not None and declared.body else None
        if wrong:
            rule, why = wrong
            raise ProblemError(400, "malformed_json", f"The body is not valid JSON: {why}.", [FieldProblem(field="body", rule=rule, message=why)])
