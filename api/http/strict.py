"""What every request must be before a route sees it: no query parameter the route does not
take, and a body no deeper than any command is.

An unknown query parameter is refused (400 `unknown_query_parameter`, naming it) rather than
ignored: a typo such as `/audit/index?subject=...` would otherwise silently answer with
everything. Each route's parameters are the ones its handler declares (the same ones the
OpenAPI document lists), read off the app's routes once (`declared_query_parameters`).

A JSON body nested deeper than `MAX_JSON_DEPTH` is refused (400 `json_too_deep`) before it
is decoded: the decoder would otherwise run out of stack (a 500 and a traceback per request,
which any token holder could use to flood the log), and a value only a little less deep,
once stored, could not be read back where the stack is already in use. The deepest command
(a CQC location record) is under ten levels.
"""

from __future__ import annotations

import re
from typing import Any

import structlog
from litestar import Litestar, Request
from litestar.routes import HTTPRoute

from api.http.problems import FieldProblem, ProblemError

log = structlog.get_logger("aqp.http")

MAX_JSON_DEPTH = 32
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def declared_query_parameters(app: Litestar) -> dict[int, frozenset[str]]:
    """The query parameters each route handler takes, by the handler's id."""
    declared: dict[int, frozenset[str]] = {}
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler, kwargs_model in route.route_handler_map.values():
                declared[id(handler)] = frozenset(p.field_alias for p in kwargs_model.expected_query_params)
    return declared


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


async def check_request(request: Request[Any, Any, Any]) -> None:
    """Litestar's `before_request`: refuse unknown query parameters and too deep a body."""
    declared = request.app.state.query_parameters.get(id(request.route_handler))
    if declared is not None:
        unknown = sorted(set(request.query_params) - declared)
        if unknown:
            takes = ", ".join(sorted(declared)) or "none"
            raise ProblemError(
                400,
                "unknown_query_parameter",
                f"This route does not take the query parameter{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(unknown)} (it takes: {takes}).",
                [FieldProblem(field=f"query:{name}", rule="unknown_parameter", message=f"{name} is not a parameter of this route.")
                 for name in unknown],
            )
    if request.method in ("POST", "PUT", "PATCH"):
        body = await request.body()
        if nested_deeper_than(body, MAX_JSON_DEPTH):
            log.warning("json_too_deep", path=request.url.path, size=len(body), limit=MAX_JSON_DEPTH)
            raise ProblemError(
                400, "json_too_deep", f"The body nests arrays or objects more than {MAX_JSON_DEPTH} levels deep; no command needs that.",
                [FieldProblem(field="body", rule="max_depth", message=f"at most {MAX_JSON_DEPTH} levels of nesting")],
            )
