"""Signing in and out of the pages (see `api.web.sessions` for the links and sessions).

    GET  /app/sign-in             how to get a sign-in link
    GET  /app/sign-in/{link}      who the link signs in, and a button to do it (the link is not used yet)
    POST /app/sign-in/{link}      use the link: a session starts, and the home page follows
    POST /app/sign-out            end the session
"""

from __future__ import annotations

import secrets
from typing import Any

import structlog
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromPath
from litestar.response import Redirect

from api.web.auth import SESSION_COOKIE, SIGN_IN_COOKIE, session_of
from api.web.templating import render

log = structlog.get_logger("aqp.web.auth")

#: a sign-in link's secret is 43 URL-safe characters; anything much longer is not one
MAX_LINK = 100


def _secure(request: Request[Any, Any, Any]) -> bool:
    return request.url.scheme == "https" or request.app.state.web_settings.web_secure_cookies


class SigningInController(Controller):
    path = "/app"
    include_in_schema = False

    @get("/sign-in", sync_to_thread=False)
    def how_to_sign_in(self, request: Request[Any, Any, Any]) -> Response[str]:
        return render(request, "sign_in_needed.html")

    @get("/sign-in/{link:str}", sync_to_thread=True)
    def confirm(self, request: Request[Any, Any, Any], link: FromPath[str]) -> Response[str]:
        principal = request.app.state.sign_ins.waiting(link) if len(link) <= MAX_LINK else None
        if principal is None:
            return render(request, "sign_in_spent.html", status=404)
        # Opened twice (two tabs, or a scanner first), the link's pages share one form token.
        kept = request.cookies.get(SIGN_IN_COOKIE, "")
        form_token = kept if 40 <= len(kept) <= 64 else secrets.token_urlsafe(32)
        answer = render(request, "sign_in_confirm.html", person=principal, form_token=form_token, action=f"/app/sign-in/{link}")
        answer.cookies.append(
            Cookie(key=SIGN_IN_COOKIE, value=form_token, path="/app/sign-in", max_age=15 * 60, httponly=True,
                   samesite="strict", secure=_secure(request))
        )
        return answer

    @post("/sign-in/{link:str}", sync_to_thread=True, status_code=303)
    def sign_in(self, request: Request[Any, Any, Any], link: FromPath[str]) -> Response[Any]:
        started = request.app.state.sign_ins.use(link) if len(link) <= MAX_LINK else None
        if started is None:
            log.info("sign_in_refused", reason="link_unknown_used_or_expired")
            return render(request, "sign_in_spent.html", status=404)
        who = started.session.principal
        log.info("signed_in", user=who.user, org=who.org, role=who.role, session_id=started.session.session_id)
        lifetime = int(request.app.state.sign_ins.session_lifetime.total_seconds())
        return Redirect(
            "/app/",
            status_code=303,
            cookies=[
                Cookie(key=SESSION_COOKIE, value=started.secret, path="/", max_age=lifetime, httponly=True,
                       samesite="lax", secure=_secure(request)),
                Cookie(key=SIGN_IN_COOKIE, value="", path="/app/sign-in", max_age=0, httponly=True, samesite="strict",
                       secure=_secure(request)),
            ],
        )

    @post("/sign-out", sync_to_thread=True, status_code=200)
    def sign_out(self, request: Request[Any, Any, Any]) -> Response[str]:
        session = session_of(request)
        if session is not None:
            request.app.state.sign_ins.end(session.session_id)
            log.info("signed_out", session_id=session.session_id)
        # The page after signing out is nobody's: it shows no name and no navigation.
        request.scope["user"] = None
        request.scope["auth"] = None
        answer = render(request, "signed_out.html")
        answer.cookies.append(Cookie(key=SESSION_COOKIE, value="", path="/", max_age=0, httponly=True, samesite="lax",
                                     secure=_secure(request)))
        return answer
