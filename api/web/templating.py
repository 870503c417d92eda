"""Rendering a page: the Jinja environment, the NHS.UK design system's macros, and the answer.

Templates are ours (`api/web/templates/`) built from the NHS.UK frontend's components: the
Jinja port of its macros (`nhsuk-frontend-jinja`, pinned to the `nhsuk-frontend` release
whose CSS and JavaScript `make` installs from npm, `package.json`). Every page extends
`layout.html`, which shows who is signed in and what they may see.

A page is rendered in the worker thread that read its data (`render`), not on the event loop,
and is sent as `api.web.answers` says (a script nonce new on every answer).
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import ChainableUndefined, ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from litestar import Request, Response
from markupsafe import Markup

from api.web.formats import day, number, percent, pounds, tag_colour, words
from api.web.answers import page_response
from api.web.lists import table_body

TEMPLATES = Path(__file__).parent / "templates"
#: where the design system's built files are, once `make` has run `npm ci`
ASSETS = Path(__file__).resolve().parents[2] / "node_modules" / "nhsuk-frontend" / "dist" / "nhsuk"
OUR_ASSETS = Path(__file__).parent / "static"
#: the version in the design system's file names (`nhsuk-frontend-<version>.min.css`), read once
NHSUK_VERSION = "10.6.1"


def query(params: dict[str, Any], **changes: Any) -> str:
    """The query string of `params` with `changes` (a None removes one): for sort links and pages."""
    merged = {k: v for k, v in {**params, **changes}.items() if v not in (None, "")}
    return "?" + urlencode(merged) if merged else "?"


def groupby_run(items: Any, attribute: str) -> list[tuple[Any, list[Any]]]:
    """Neighbours with the same `attribute`, in order (Jinja's groupby sorts, which a row of headings must not)."""
    runs: list[tuple[Any, list[Any]]] = []
    for item in items:
        key = getattr(item, attribute, None)
        if runs and runs[-1][0] == key:
            runs[-1][1].append(item)
        else:
            runs.append((key, [item]))
    return runs


def environment() -> Environment:
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(TEMPLATES), PackageLoader("nhsuk_frontend_jinja")]),
        # The design system's macros read optional parameters in chains (`params.logo.href`).
        undefined=ChainableUndefined,
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )
    env.filters.update(pounds=pounds, number=number, percent=percent, day=day, words=words, tag_colour=tag_colour, groupby_run=groupby_run)
    env.globals.update(query=query, nhsuk_version=NHSUK_VERSION, asset_path="/app/assets", table_body=table_body)
    return env


ENVIRONMENT = environment()


@lru_cache(maxsize=4096)
def _header(who: Any, navigation: tuple[tuple[str, str, bool, bool], ...], csrf_token: str) -> Markup:
    items = [{"text": t, "href": h, "current": c, "active": a} for t, h, c, a in navigation]
    return Markup(ENVIRONMENT.get_template("_chrome.html").module.page_header(who, items, csrf_token))


def chrome_header(who: Any, navigation: list[dict[str, Any]], csrf_token: str) -> Markup:
    """The header (who is signed in, signing out, the navigation). The design system's header
    macro is the dearest part of a page to draw and is the same on every page of one kind for
    one person, so it is drawn once for each (the person, the navigation as marked, the form token)."""
    return _header(who, tuple((n["text"], n["href"], n["current"], n["active"]) for n in navigation), csrf_token)


@lru_cache(maxsize=1)
def chrome_footer() -> Markup:
    return Markup(ENVIRONMENT.get_template("_chrome.html").module.page_footer())


ENVIRONMENT.globals.update(chrome_header=chrome_header, chrome_footer=chrome_footer)


def render(request: Request[Any, Any, Any], template: str, *, status: int = 200, **context: Any) -> Response[str]:
    """The page `template` for the person signed in (if anybody is), with its context; a 200 is
    kept to send again if `api.web.kept` marked the request."""
    from api.web.auth import page_context  # who is signed in and the navigation: the auth module's
    from api.web.kept import keep_drawn

    nonce = secrets.token_urlsafe(16)
    shared = page_context(request)
    html = ENVIRONMENT.get_template(template).render(cspNonce=nonce, **shared, **context)
    if status == 200:
        keep_drawn(request, html, nonce=nonce, form_token=shared["csrf_token"])
    return page_response(request, html, nonce, status=status, made="drawn")
