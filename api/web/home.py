"""The home page: what each role comes here for, first.

    GET /app/            the signed-in person's home page

A commissioner or contract manager: exceptions in their area, the KPI tiles with their trend,
returns due and missed, contracts under escalation, vacancies today. A procurement lead or
evaluator: their competitions and where each stands. An auditor: the state of verification.
Every section links to its page; nothing here is shown that the page it links to would not show.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get

from api.http.auth import principal_of, requires_role
from api.web.auth import NAVIGATION, may_open
from api.web.templating import render
from domain import access


class HomeController(Controller):
    path = "/app"
    include_in_schema = False

    @get("/", sync_to_thread=True, guards=[requires_role(*access.ALL_ROLES)])
    def home(self, request: Request[Any, Any, Any]) -> Response[str]:
        principal = principal_of(request)
        pages = [p for p in NAVIGATION[1:] if may_open(principal, p)]
        return render(request, "home.html", title="Home", pages=pages)
