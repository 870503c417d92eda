"""The pages in a real browser: Debian's Chromium driven by Playwright, on both stores.

- `site`: a small London demo (one year, 20 homes: the same world `make run` builds, smaller)
  built once per store and per test worker, served by a real server on a loopback port.
- `browser`: Chromium from Debian (`/usr/bin/chromium`, or `AQP_CHROMIUM`); Playwright never
  downloads one. Missing, it skips these tests with one loud line; with CI=true it fails them.
- `site.signed_in(browser, role, org)`: a browser context signed in the way a person is:
  a one-time link from the ledger, the button pressed.
- `accessible(page)`: axe-core (axe-playwright-python) on the page as shown; a serious or
  critical violation fails the test, naming the rule and the elements.
- `shot(page, name)`: a full-page screenshot into `var/screenshots/<store>/` (looked at by
  people; the README's come from there).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.browser.site import CHROMIUM_ARGS, Site, demo_site
from tests.conftest import IN_CI, postgres_schema, require_postgres

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
SERIOUS = ("serious", "critical")


def chromium() -> str | None:
    given = os.environ.get("AQP_CHROMIUM")
    if given:
        return given if Path(given).exists() else None
    return shutil.which("chromium") or (("/usr/bin/chromium") if Path("/usr/bin/chromium").exists() else None)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    path = chromium()
    if path is None:
        message = "!!! Chromium not found (apt-get install chromium, or set AQP_CHROMIUM): the browser tests did not run !!!"
        if IN_CI:
            pytest.fail(message + " (CI=true: they must)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@contextmanager
def served_demo(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, name: str, **options: Any) -> Iterator[Site]:
    """A demo site on the store the fixture's parameter names (`demo_site`'s options: world, scenarios)."""
    if request.param == "postgres":
        require_postgres()
        with postgres_schema() as url, demo_site(url, store="postgres", **options) as served:
            yield served
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp(name)}/ledger.db"
        with demo_site(url, store="sqlite", **options) as served:
            yield served


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with served_demo(request, tmp_path_factory, "browser") as served:
        yield served


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def site_with_contracts(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The small London demo with the contract scenarios applied (an escalation, a service contract, a variation)."""
    with served_demo(request, tmp_path_factory, "contracts", scenarios=True) as served:
        yield served


def accessible(page: Any) -> None:
    """No serious or critical axe-core violation on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    bad = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    assert not bad, f"{page.url}: " + "; ".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes'][:3]]}" for v in bad
    )


def shot(page: Any, site: Site, name: str) -> Path:
    folder = SCREENSHOTS / site.store
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (re.sub(r"[^a-z0-9_-]+", "-", name.lower()) + ".png")
    page.screenshot(path=str(path), full_page=True)
    return path
