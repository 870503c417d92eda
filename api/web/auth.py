"""Who is signed in to the pages, what each form must carry, and what every page says of both.

- **Sessions.** Every page but signing in and the design system's files needs a live session
  cookie (`aqp_session`, see `api.web.sessions`); without one the answer is the sign-in page
  with 401. The session's principal is the request's `user`, exactly as a bearer token's is
  for the API, so the pages answer through the same guards (`requires_role` with the groups
  of `domain.access`) and the same reads.
- **CSRF.** Every POST must carry the session's form token (`csrf_token`, a hidden field
  every form writes), and, when the browser says where it comes from (`Origin`), come from
  this server; signing in, before there is a session, carries a token that is also in a
  short-lived cookie (a form posted from elsewhere cannot know it). A POST without them is
  a 403 page, and nothing is done.
- **What every page says.** `page_context`: the person, their organisation and role, the
  sentence of what that role and organisation may see, and the pages they may open (the
  navigation is read off the same role groups as the pages' guards).
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

import anyio
import structlog
from litestar import Request, Response
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from api.http.auth import principal_of
from api.tokens import Principal
from api.web.sessions import Session
from domain import access

log = structlog.get_logger("aqp.web.auth")

SESSION_COOKIE = "aqp_session"
SIGN_IN_COOKIE = "aqp_sign_in_form"
#: pages anybody may open: signing in, and the design system's and our own static files
OPEN_PATHS = ["^/app/sign-in", "^/app/assets/", "^/app/static/"]


@dataclass(frozen=True)
class Page:
    """A page in the navigation, and the roles that may open it (a group of `domain.access`)."""

    label: str
    href: str
    roles: tuple[str, ...]


#: the navigation, each entry with the role group its page's guard uses
NAVIGATION = (
    Page("Home", "/app/", access.ALL_ROLES),
    Page("Care homes", "/app/homes", access.ALL_ROLES),
    Page("Areas", "/app/areas", access.AGGREGATE_READERS),
    Page("Contracts", "/app/contracts", access.NOT_EVALUATORS),
    Page("Returns and KPIs", "/app/returns", access.MONITORING_READERS),
    Page("RAG table", "/app/rag", access.AGGREGATE_READERS),
    Page("Competitions", "/app/competitions", access.ALL_ROLES),
    Page("Past notices", "/app/past-notices", access.PAST_NOTICE_READERS),
    Page("FOI requests", "/app/foi", access.FOI_OFFICERS),
    Page("Verification", "/app/verification", access.ALL_ROLES),
)


class SessionAuth(AbstractAuthenticationMiddleware):
    """The session a page request's cookie names (in a worker thread: the store is synchronous)."""

    async def authenticate_request(self, connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
        secret = connection.cookies.get(SESSION_COOKIE, "")
        session = None
        if secret and len(secret) <= 200:
            sign_ins = connection.app.state.sign_ins
            session = await anyio.to_thread.run_sync(sign_ins.session, secret)
        if session is None:
            if secret:
                log.info("session_not_live", path=connection.url.path)
            raise NotAuthorizedException("Sign in to see this page.")
        principal = session.principal
        structlog.contextvars.bind_contextvars(user=principal.user, org=principal.org, role=principal.role, session_id=session.session_id)
        return AuthenticationResult(user=principal, auth=session)


def session_of(request: Request[Any, Any, Any]) -> Session | None:
    auth = request.scope.get("auth")
    return auth if isinstance(auth, Session) else None


async def check_page_request(request: Request[Any, Any, Any]) -> Response[str] | None:
    """The pages' `before_request`: no NUL in a query value; every POST from here, with its form
    token; a GET answered with the page kept for it, if there is one (`api.web.kept`)."""
    request.state.page_started = time.perf_counter()
    if any("\x00" in v for name in request.query_params for v in request.query_params.getall(name)):
        from api.http.problems import ProblemError

        raise ProblemError(400, "nul_character", "A value in the address holds a NUL character, which no value here may.")
    if request.method == "GET":
        return await kept_page(request)
    if request.method != "POST":
        return None
    origin = request.headers.get("origin")
    if origin and origin != f"{request.url.scheme}://{request.url.netloc}":
        log.warning("csrf_refused", reason="cross_origin", path=request.url.path, origin=origin)
        raise PermissionDeniedException("This form was sent from another site; nothing was done.")
    form = await request.form()
    sent = form.get("csrf_token")
    session = session_of(request)
    if session is not None:
        if not session.csrf_matches(sent):
            log.warning("csrf_refused", reason="form_token", path=request.url.path)
            raise PermissionDeniedException("This form has expired or was not sent from this site; nothing was done. Go back, reload the page and try again.")
        return
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    if not expected or not sent or not secrets.compare_digest(str(expected), str(sent)):
        log.warning("csrf_refused", reason="sign_in_form_token", path=request.url.path)
        raise PermissionDeniedException("This sign-in form has expired or was not sent from this site. Open your sign-in link again.")
    return None


async def kept_page(request: Request[Any, Any, Any]) -> Response[str] | None:
    """The page kept for this GET (see `api.web.kept`), with a new script nonce; None: draw it."""
    from api.web.kept import NONCE_MARK, kept_or_marked
    from api.web.answers import page_response

    principal = request.scope.get("user")
    session = session_of(request)
    if not isinstance(principal, Principal) or session is None:
        return None
    page = await anyio.to_thread.run_sync(kept_or_marked, request, principal, session.csrf_token)
    if page is None:
        return None
    nonce = secrets.token_urlsafe(16)
    return page_response(request, page.replace(NONCE_MARK, nonce), nonce, made="kept")


def may_open(principal: Principal, page: Page) -> bool:
    return principal.role in page.roles


def navigation(principal: Principal | None, path: str) -> list[dict[str, Any]]:
    if principal is None:
        return []
    here = "/app/" if path in ("/app", "/app/") else path
    return [
        {"text": p.label, "href": p.href, "current": here == p.href, "active": p.href != "/app/" and here.startswith(p.href + "/")}
        for p in NAVIGATION
        if may_open(principal, p)
    ]


def what_you_see(request: Request[Any, Any, Any], principal: Principal) -> str:
    """One sentence of what this role of this organisation may see (the policies of `domain.access`)."""
    role, org = principal.role, principal.org
    if role in ("commissioner", "contract_manager"):
        ledger = request.app.state.service.ledger
        mine = ledger.commissioning.commissioned_by(org)
        areas = sorted({a for c in mine.values() for a in c.area_names})
        lots = sorted({lot for c in mine.values() for lot in c.lots})
        where = f"the homes of {', '.join(areas)}" if areas else "no area's homes (your organisation is not a commissioner of any framework)"
        return (
            f"Every home's public CQC facts and pan-framework figures; concerns and people's details only for {where}; "
            f"the contracts of {('lots ' + ', '.join(lots)) if lots else 'the lots you commission'}; "
            f"competitions run by or for {org}."
        )
    return {
        "procurement_lead": f"Competitions run by or for {org}, with their evaluation; the contract register; every home's public CQC facts.",
        "evaluator": "The competitions on whose panels you sit, as the evaluation rules let you see them; never a bidder you declared a conflict with.",
        "provider": f"Only what is {org}'s own: its homes, their returns and figures, its contracts.",
        "auditor": "Everything recorded, sealed tenders only once opened, and the proofs that nothing was altered.",
        "foi_officer": f"Everything recorded, sealed tenders only once opened; people's personal data is withheld, but for {org}'s own FOI requests, which you see in full.",
        "admin": "Everything recorded, sealed tenders only once opened.",
        "system": "Everything recorded, sealed tenders only once opened.",
    }.get(role, "")


def page_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What the layout shows on every page: who is signed in, what they may see, where they may go."""
    principal = request.scope.get("user")
    if not isinstance(principal, Principal):
        return {"who": None, "navigation": [], "sees": "", "csrf_token": "", "path": request.url.path}
    session = session_of(request)
    return {
        "who": principal,
        "sees": what_you_see(request, principal),
        "navigation": navigation(principal, request.url.path),
        "csrf_token": session.csrf_token if session else "",
        "path": request.url.path,
    }


def signed_in(request: Request[Any, Any, Any]) -> Principal:
    return principal_of(request)
