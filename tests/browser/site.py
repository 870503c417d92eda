"""A demo site for the browser tests: a small London demo, served, and people signed in to it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from api.bootstrap import open_ledger
from api.scenario import apply_lines
from api.settings import Settings
from scenarios import demo
from tests.e2e.http_server import running_server

#: one year of the London world with 20 homes: every page has something to show, quickly built
SMALL_LONDON = {"scale": "london", "years": 1, "homes": 20, "seed": 7}
#: two years of Nottingham's quality visits (seed 004) with 16 homes: the RAG table and its year-on-year change
SMALL_NOTTINGHAM = {"scale": "nottingham", "years": 2, "homes": 16, "seed": 7}
#: what Chromium needs on these machines (no sandbox as root; no calls to Google's hosts)
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage",
]
#: the organisations of the demo, as the pages' users
NCL, NEL = "ICB-NCL", "ICB-NEL"
CSU = "NEL-CSU"


@dataclass
class Site:
    base_url: str
    store: str
    server: Any
    figures: dict[str, Any] = field(default_factory=dict)

    @property
    def ledger(self) -> Any:
        return self.server.ledger

    def sign_in_link(self, role: str, org: str, user: str | None = None) -> str:
        link = self.server.app.state.sign_ins.issue(user=user or f"{role}.{org}".lower(), org=org, role=role)
        return self.base_url + link.path()

    def signed_in(self, browser: Any, role: str, org: str, user: str | None = None, **context: Any) -> Any:
        """A new page in a new browser context, signed in as that person."""
        ctx = browser.new_context(**{"viewport": {"width": 1280, "height": 900}, "locale": "en-GB", **context})
        page = ctx.new_page()
        page.goto(self.sign_in_link(role, org, user))
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(r".*/app/$"))
        return page

    def url(self, path: str) -> str:
        return self.base_url + path


#: beside the London demo, what it lacks: an escalated contract, a service contract with
#: milestones and highlight reports, a price variation (`scenarios=True`: the contract pages'
#: own site, so the shared one stays the plain demo whatever order the tests run in)
SCENARIOS = ("nottingham-escalation.jsonl", "nhse-call-off.jsonl", "april-price-variation.jsonl")
SCENARIO_DIR = Path(__file__).resolve().parents[2] / "scenarios"


@contextmanager
def demo_site(url: str, *, store: str, world: dict[str, Any] | None = None, scenarios: bool = False) -> Iterator[Site]:
    ledger = open_ledger(Settings(database_url=url), "demo")
    try:
        figures = demo.build(ledger, **(world or SMALL_LONDON))
    finally:
        ledger.close()
    with running_server(url) as server:
        if scenarios:
            # Through the served ledger, whose followers keep the read models current.
            for name in SCENARIOS:
                lines = (SCENARIO_DIR / name).read_text(encoding="utf-8").splitlines()
                unmet = [o for o in apply_lines(server.ledger, lines) if not o.met]
                assert not unmet, f"{name}: {unmet[:3]}"
        yield Site(base_url=server.base_url, store=store, server=server, figures=figures)


#: the organisation whose FOI officer records the FOI requests the demo lacks (`with_foi_requests`)
FOI_AUTHORITY = NCL


def with_foi_requests(site: Site) -> dict[str, str]:
    """The FOI requests of tests/e2e/foi_world.py, recorded once into the site through the API by
    ICB-NCL's FOI officer (the demo's world ends in 2025: it has no FOI case to count working days
    from today); their references. Only that authority's FOI officers and admins see them."""
    if "foi_requests" not in site.figures:
        from tests.e2e import foi_world

        site.figures["foi_requests"] = foi_world.record(site.server, FOI_AUTHORITY)
    return site.figures["foi_requests"]
