"""Errors on a page are pages: the API's own problem, said in the design system's words.

Every error handler of the API (`api.http.problems.EXCEPTION_HANDLERS`) is wrapped once: for
a page's address (`/` and `/app/...`) the problem it gives (status, code, sentence) is shown
as a page with the same status, so a page someone may not see answers exactly as the API
does (404, "There is no ..., or you may not see it."), and a 500 still says only that it was
logged. Without a session the answer is the sign-in page, 401.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response

from api.web.templating import render

TITLES = {
    400: "There is a problem with the address",
    401: "Sign in to AQP Ledger",
    403: "You cannot do this",
    404: "Page not found",
    405: "You cannot do this here",
    422: "There is a problem",
    500: "Sorry, there is a problem with the service",
    503: "Sorry, the service is unavailable",
}


def is_page(path: str) -> bool:
    return path == "/" or path == "/app" or path.startswith("/app/")


def pages_or_problems(handler: Callable[[Request[Any, Any, Any], Any], Response[Any]]) -> Callable[[Request[Any, Any, Any], Any], Response[Any]]:
    """The API's handler, answering a page's address with a page."""

    def either(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
        answer = handler(request, exc)
        if not is_page(request.url.path):
            return answer
        status = answer.status_code
        problem = answer.content
        if status == 401:
            return render(request, "sign_in_needed.html", status=401)
        return render(
            request,
            "error.html",
            status=status,
            title=TITLES.get(status, "There is a problem"),
            detail=getattr(problem, "detail", ""),
            fields=getattr(problem, "fields", None) or [],
        )

    return either


def for_pages(handlers: dict[Any, Any]) -> dict[Any, Any]:
    return {kind: pages_or_problems(handler) for kind, handler in handlers.items()}
