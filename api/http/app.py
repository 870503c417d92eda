"""The Litestar application: `create_app(ledger)`.

The routes are one Controller per resource (`CONTROLLERS`), each writing its paths once with
the guards saying who may use them (groups of `domain.access`); the authorisation matrix is
read off them (`access.ROUTE_ROLES`). Here: the service's own routes (the health and
readiness probes, who a token acts for), the request context (request id,
structured access log), authentication, what every request must be (`strict`: no unknown
query parameter, a time written as one, a body that is JSON and not nested too deep, none
over `MAX_BODY_BYTES`), problem details for every error, the OpenAPI
document at `/schema` (`/schema/openapi.json`), and the lifespan (the ledger is closed only
after in-flight requests have finished: uvicorn drains them on SIGTERM/SIGINT first).

Every handler that touches the ledger is synchronous and declared `sync_to_thread=True`: the
eventsourcing application blocks on its database, so it runs in worker threads (at most
`service.THREADS` at once) and never on the event loop.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import msgspec
import structlog
from litestar import Controller, Litestar, Request, get
from litestar.datastructures import MutableScopeHeaders
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from api.bootstrap import key_ring
from api.http.audit_routes import AuditController, EventsController
from api.http.auth import PUBLIC_PATHS, BearerTokenAuth, principal_of, requires_role
from api.http.commands import CommandsController
from api.http.competitions import CompetitionsController
from api.http.contracts import ContractsController, FrameworksController, PerformanceRecordsController
from api.http.foi import FoiRequestsController
from api.http.homes import HomeCareController, LocationsController, ProvidersController
from api.http.ocds import OcdsController
from api.http.past_notices import PastNoticesController
from api.http.problems import AUTHENTICATED, EXCEPTION_HANDLERS, ProblemError, problems
from api.http.read_models import (
    ExceptionsController,
    KpisController,
    PlacementsController,
    QualityDashboardsController,
    RagController,
)
from api.http.returns import PlacementReturnsController, ReturnsController
from api.http.service import THREADS, LedgerService
from api.http.strict import check_request, declared_inputs
from api.settings import Settings
from api.web.errors import for_pages
from api.web.routes import front_door, page_router
from api.web.sessions import SignIns
from domain.access import ALL_ROLES
from domain.application import Ledger

log = structlog.get_logger("aqp.http")
access_log = structlog.get_logger("aqp.http.access")

#: the largest request body taken (413 above it)
MAX_BODY_BYTES = 1_048_576
#: the pages' addresses (`api.web`): the front door and everything under /app
PAGE_PATHS = ["^/$", "^/app$", "^/app/"]
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,100}$")


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    #: the last position in the notification log
    position: int


class WhoAmI(msgspec.Struct):
    user: str
    org: str
    role: str
    token_id: str


class ServiceController(Controller):
    """The service itself: whether it is up and ready, and who a token acts for."""

    path = "/"
    tags = ["service"]

    @get("/health", exclude_from_auth=True, security=[{}], summary="Liveness", responses=problems(400))
    async def health(self) -> Health:
        """The process is up and answering (it does not touch the database)."""
        return Health(status="ok")

    @get("/ready", exclude_from_auth=True, security=[{}], summary="Readiness", sync_to_thread=True, responses=problems(400, 503))
    def ready(self, request: Request[Any, Any, Any]) -> Readiness:
        """The ledger's database answers: ready to serve."""
        try:
            position = request.app.state.service.ledger.max_position()
        except Exception as err:  # noqa: BLE001 - any database failure means "not ready", said as a problem
            log.warning("not_ready", error=type(err).__name__)
            raise ProblemError(503, "not_ready", "The ledger's database cannot be reached.") from None
        return Readiness(status="ready", position=position)

    @get("/whoami", guards=[requires_role(*ALL_ROLES)], responses=problems(*AUTHENTICATED), summary="Who this token acts for")
    async def whoami(self, request: Request[Any, Any, Any]) -> WhoAmI:
        p = principal_of(request)
        return WhoAmI(user=p.user, org=p.org, role=p.role, token_id=p.token_id)


#: every route of the API, by resource
CONTROLLERS: list[type[Controller]] = [
    ServiceController,
    CommandsController,
    CompetitionsController,
    FrameworksController,
    ContractsController,
    PerformanceRecordsController,
    ProvidersController,
    LocationsController,
    HomeCareController,
    ReturnsController,
    PlacementReturnsController,
    KpisController,
    QualityDashboardsController,
    ExceptionsController,
    PlacementsController,
    RagController,
    FoiRequestsController,
    AuditController,
    EventsController,
    OcdsController,
    PastNoticesController,
]


def request_context(app: ASGIApp) -> ASGIApp:
    """Request id (from X-Request-ID when well formed, else new) and one access-log line per request."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id  # type: ignore[typeddict-item]
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableScopeHeaders.from_message(message)["X-Request-ID"] = request_id
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            user = scope.get("user")
            access_log.info(
                "request",
                method=scope["method"],
                path=scope["path"],
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
                client=scope["client"][0] if scope.get("client") else None,
                **({"user": user.user, "org": user.org, "role": user.role} if user is not None and hasattr(user, "org") else {}),
            )
            structlog.contextvars.clear_contextvars()

    return middleware


def create_app(
    ledger: Ledger, *, settings: Settings | None = None, owns_ledger: bool = False, openapi_title: str = "AQP Ledger API"
) -> Litestar:
    """The API over a ledger (opened by the caller: `api/serve.py`); `owns_ledger`: closed when the app stops."""
    settings = settings or Settings()
    service = LedgerService(
        ledger, owns_ledger=owns_ledger, keys=key_ring(settings), replay_max_events=settings.api_replay_max_events,
        group_commit=settings.group_commit,
    )

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Fewer worker threads than pooled connections: requests queue for a thread, not a connection.
        anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
        log.info("api_started", threads=THREADS)
        try:
            yield
        finally:
            # Reached once uvicorn has drained the in-flight requests.
            service.close()
            log.info("api_stopped")

    app = Litestar(
        route_handlers=[*CONTROLLERS, front_door, page_router()],
        # The pages sign people in with a session cookie of their own (`api.web.auth`), not a bearer token.
        middleware=[DefineMiddleware(BearerTokenAuth, exclude=[*PUBLIC_PATHS, *PAGE_PATHS])],
        exception_handlers=for_pages(EXCEPTION_HANDLERS),
        before_request=check_request,
        # The largest command a user sends (a placement return for a big home, a CQC record)
        # is some tens of kilobytes; 20,000 characters of text escaped are 120 KB.
        request_max_body_size=MAX_BODY_BYTES,
        lifespan=[lifespan],
        openapi_config=OpenAPIConfig(
            title=openapi_title,
            version="1",
            description=(
                "The HTTP API of AQP Ledger. Authenticate with `Authorization: Bearer <token>` "
                "(`aqp tokens issue`). Errors are RFC 9457 problem details carrying the domain error's `code` "
                "and the `fields` at fault."
            ),
            path="/schema",
            components=Components(
                security_schemes={"BearerToken": SecurityScheme(type="http", scheme="bearer", description="a token from `aqp tokens issue`")}
            ),
            security=[{"BearerToken": []}],
        ),
        logging_config=None,
        debug=False,
    )
    app.state.service = service
    app.state.sign_ins = SignIns(ledger, link_minutes=settings.web_sign_in_minutes, session_hours=settings.web_session_hours)
    app.state.web_settings = settings
    app.state.declared_inputs = declared_inputs(app)
    # Outside Litestar's own exception handling, so the access log sees every answer,
    # including the router's 404/405 and the authentication middleware's 401.
    app.asgi_handler = request_context(app.asgi_handler)
    return app
