"""The authorisation matrix: which roles may use each route, read off the routes themselves.

Each route is declared once, in its resource's Controller, with a guard naming who may use it
(`auth.requires_role(*group)`, a group of `domain.access`, or `auth.requires_roles_to_send`
for a command route: the dispatcher's roles, so the HTTP layer and the domain cannot
disagree about who may send what; `POST /commands` takes every command, and the dispatcher
refuses a role that may not send it, 403). `ROUTE_ROLES` is every route ("GET /path", as the
router writes the path) with the roles its guards let through, and the table-driven test
walks every route of the app against every role, so the matrix cannot say one thing while
the guards do another. Within a route, data scoping narrows further what a role sees (the
policies of `domain.access`: a provider only its own organisation's records; an evaluator
only the bids of the panels they sit on); what a principal may not see is answered 404, as
if absent. The public routes (health, readiness, the OpenAPI document) have no guard.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from litestar import Router
from litestar.routes import HTTPRoute

from api.http.app import CONTROLLERS


def route_roles(controllers: Iterable[Any]) -> dict[str, tuple[str, ...]]:
    """Every guarded route of `controllers` ("METHOD /path") -> the roles that may use it."""
    matrix: dict[str, tuple[str, ...]] = {}
    for route in Router(path="/", route_handlers=list(controllers)).routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            # The guards of the route and of the layers above it (its controller's), as Litestar applies them.
            guards = [guard for layer in handler.ownership_layers for guard in (layer.guards or ())]
            groups = [guard.roles for guard in guards if hasattr(guard, "roles")]
            if not groups:
                continue
            # Every guard must let the role through.
            roles = tuple(r for r in groups[0] if all(r in g for g in groups[1:]))
            for method in sorted(handler.http_methods - {"HEAD", "OPTIONS"}):
                matrix[f"{method} {route.path}"] = roles
    return matrix


ROUTE_ROLES: dict[str, tuple[str, ...]] = route_roles(CONTROLLERS)
