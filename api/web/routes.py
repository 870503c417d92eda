"""Every page under `/app`, with what every page shares (see `api/web/__init__.py`)."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import Controller, Request, Router, get
from litestar.middleware import DefineMiddleware
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

from api.web.areas import AreasController
from api.web.auth import OPEN_PATHS, SessionAuth, check_page_request
from api.web.contracts import ContractPagesController
from api.web.foi import FoiPages
from api.web.competitions import CompetitionsPages
from api.web.home import HomeController
from api.web.homes import HomesController
from api.web.past_notices import PastNoticesPages
from api.web.rag import RagController
from api.web.returns import ReturnPagesController
from api.web.signing_in import SigningInController
from api.web.templating import ASSETS, OUR_ASSETS
from api.web.verification import VerificationPages

log = structlog.get_logger("aqp.web")

#: every page's Controller (each page's module says what it shows and to whom)
PAGES: list[type[Controller]] = [
    SigningInController,
    HomeController,
    AreasController,
    RagController,
    HomesController,
    ContractPagesController,
    ReturnPagesController,
    CompetitionsPages,
    PastNoticesPages,
    FoiPages,
    VerificationPages,
]


@get("/", include_in_schema=False, exclude_from_auth=True, security=[{}], sync_to_thread=False)
def front_door(request: Request[Any, Any, Any]) -> Redirect:
    """A browser opening the address `make run` prints lands on the home page (or signing in)."""
    return Redirect("/app/", status_code=303)


def page_router() -> Router:
    if not ASSETS.is_dir():
        log.warning("design_system_missing", path=str(ASSETS), fix="run `make` (it installs nhsuk-frontend from npm)")
    assets = create_static_files_router(
        path="/app/assets", directories=[ASSETS], include_in_schema=False, name="nhsuk_assets",
        cache_control=None, send_as_attachment=False,
    )
    ours = create_static_files_router(path="/app/static", directories=[OUR_ASSETS], include_in_schema=False, name="our_assets")
    return Router(
        path="/",
        route_handlers=[*PAGES, assets, ours],
        middleware=[DefineMiddleware(SessionAuth, exclude=OPEN_PATHS)],
        before_request=check_page_request,
        include_in_schema=False,
    )
