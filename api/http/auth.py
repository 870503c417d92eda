"""Authentication (bearer tokens) and authorisation (guards by role).

Every route except health, readiness, the OpenAPI document and the public OCDS feed needs
`Authorization: Bearer <token>`, once (two Authorization headers are a 400: which one is
meant?). The token is looked up by its SHA-256 in a worker thread (the store is synchronous);
a missing, malformed, unknown or revoked token is a 401 problem with `WWW-Authenticate:
Bearer`, the same answer for an unknown token as for a revoked one (it does not tell a token
holder which tokens once were live); the failure is logged with its reason, the path and the
client address, never the token (a revoked token is named by its public id).

The principal is bound into every log line of the request (`user`, `org`, `role`), becomes
the `Actor` of every command the request sends (so into every event's metadata), and is what
the data scoping of each read looks at. Guards are plain functions, `requires_*`, given the
roles of a route where the route is declared (a group of `domain.access`, or the roles that
may send a command); each keeps its roles, so the authorisation matrix is read off the
routes (`access.ROUTE_ROLES`) and the table-driven test checks it route by route and role
by role.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anyio
import structlog
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

import domain.application  # noqa: F401 - registers every command handler (and its roles)
from api.http.problems import FieldProblem, ProblemError
from api.tokens import Principal
from domain.kernel.command_types import Command
from domain.kernel.dispatch import HANDLERS

log = structlog.get_logger("aqp.http.auth")

#: what anybody may read without a token: the probes, the OpenAPI document and the OCDS feed (public data)
PUBLIC_PATHS = ["^/health$", "^/ready$", "^/schema", "^/ocds/"]
#: what an unknown and a revoked token are both told
NOT_LIVE = "The token is not known or no longer valid: ask for a new one (`aqp tokens issue`)."


class BearerTokenAuth(AbstractAuthenticationMiddleware):
    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        headers = connection.headers.getall("authorization", [])
        client = connection.client.host if connection.client else None
        if len(headers) > 1:
            log.warning("authentication_failed", reason="several_authorization_headers", path=connection.url.path, client=client)
            raise ProblemError(400, "several_authorization_headers",
                               f"Send one Authorization header, not {len(headers)}.",
                               [FieldProblem(field="header:Authorization", rule="once", message="sent more than once")])
        header = headers[0] if headers else ""
        scheme, _, token = header.partition(" ")
        token = token.strip()
        if not header:
            self._refuse("no_token", connection, client)
        if scheme.lower() != "bearer" or not token or len(token) > 200:
            self._refuse("malformed_authorization", connection, client)
        service = connection.app.state.service
        principal = await anyio.to_thread.run_sync(service.tokens.principal, token)
        if principal is None:
            record = await anyio.to_thread.run_sync(service.tokens.describe, token)
            self._refuse("revoked_token" if record else "unknown_token", connection, client, token_id=record.token_id if record else None)
        structlog.contextvars.bind_contextvars(user=principal.user, org=principal.org, role=principal.role, token_id=principal.token_id)
        return AuthenticationResult(user=principal, auth=principal.token_id)

    @staticmethod
    def _refuse(reason: str, connection: ASGIConnection[Any, Any, Any, Any], client: str | None, **extra: Any) -> None:
        log.warning("authentication_failed", reason=reason, path=connection.url.path, client=client, **extra)
        messages = {
            "no_token": "This needs a bearer token: send Authorization: Bearer <token> (see `aqp tokens issue`).",
            "malformed_authorization": "The Authorization header must be `Bearer <token>`.",
            "unknown_token": NOT_LIVE,
            "revoked_token": NOT_LIVE,
        }
        raise NotAuthorizedException(messages[reason], headers={"WWW-Authenticate": 'Bearer realm="aqp-ledger"'})


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    return connection.user  # type: ignore[no-any-return]


Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def requires_role(*roles: str) -> Guard:
    """A guard letting through only the given roles (403 for the others); `guard.roles` says which."""
    allowed = tuple(roles)

    def requires_one_of_roles(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if principal.role not in allowed:
            raise PermissionDeniedException(
                f"A {principal.role.replace('_', ' ')} may not use this; it needs one of: {', '.join(allowed)}."
            )

    requires_one_of_roles.roles = allowed  # type: ignore[attr-defined]
    return requires_one_of_roles


def requires_roles_to_send(command_type: type[Command]) -> Guard:
    """A guard letting through the roles the dispatcher lets send `command_type`, so the two cannot disagree."""
    return requires_role(*HANDLERS[command_type][0])
