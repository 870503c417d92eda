"""A page's answer: its headers, the same for a page drawn now and one kept (`api.web.kept`).

The Content-Security-Policy names a script nonce new on every answer: no script runs but the
design system's own file and the one line its template writes. Styles may be inline because
the server-drawn SVG charts carry theirs (`api.web.charts`). `Server-Timing` says how the
answer was made (`kept` or `drawn`) and how long it took since the pages' `before_request`.
"""

from __future__ import annotations

import time
from typing import Any

from litestar import Request, Response


def csp(nonce: str) -> str:
    return (
        "default-src 'self'; "
        f"script-src 'self' 'nonce-{nonce}'; "
        "style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )


def page_response(request: Request[Any, Any, Any], html: str, nonce: str, *, status: int = 200, made: str) -> Response[str]:
    headers = {
        "Content-Security-Policy": csp(nonce),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        # Pages show what only the person signed in may see: never kept by a shared cache.
        "Cache-Control": "no-store",
    }
    started = request.state.get("page_started")
    if started is not None:
        headers["Server-Timing"] = f"{made};dur={(time.perf_counter() - started) * 1000:.1f}"
    return Response(html, status_code=status, media_type="text/html; charset=utf-8", headers=headers)
