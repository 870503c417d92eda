"""Past notices through a real running server, in the API and in a real browser, on both stores.

A server on an empty ledger takes the Contracts Finder samples in through its own ledger (so its
read-model followers keep the list current), then: the API lists and searches them and answers a
process with its compiled record; a commissioner searches the page for a care notice by a word of
its title, opens it and reads its record, releases and licence; both pages pass axe-core.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import httpx
import pytest

from api.ocds_import import import_file
from domain.kernel.metadata import Actor
from playwright.sync_api import expect

from tests.browser.conftest import accessible, shot
from tests.browser.site import Site
from tests.conftest import postgres_schema, require_postgres
from tests.e2e.http_server import running_server
from tests.shared import shared_file

SAMPLES = ("uk-contracts-finder_release-package_2022-10-20_100releases.json", "uk-contracts-finder_release-package_2022-10-18_1release.json")


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def notices_site(request, tmp_path_factory):
    def serve(url: str, store: str):
        with running_server(url) as server:
            for name in SAMPLES:
                import_file(server.ledger, shared_file("ocds", "samples", name), Actor(id="ocds-import", org="aqp-ledger", role="system"),
                            datetime.now(timezone.utc))
            yield Site(base_url=server.base_url, store=store, server=server)

    if request.param == "postgres":
        require_postgres()
        with postgres_schema() as url:
            yield from serve(url, "postgres")
    else:
        yield from serve(f"sqlite:///{tmp_path_factory.mktemp('past-notices')}/ledger.db", "sqlite")


def the_ocid(title_word: str) -> str:
    package = json.loads(shared_file("ocds", "samples", SAMPLES[0]).read_bytes())
    (ocid,) = {r["ocid"] for r in package["releases"] if title_word.lower() in r.get("tender", {}).get("title", "").lower()}
    return ocid


def test_the_api_lists_searches_and_answers_a_process_with_its_compiled_record(notices_site):
    server = notices_site.server
    headers = {"Authorization": f"Bearer {server.token('commissioner', 'ICB-NCL')}"}
    with httpx.Client(base_url=notices_site.base_url, headers=headers, timeout=30) as client:
        everything = client.get("/past-notices", params={"limit": 500}).json()
        assert everything["total"] == 87
        found = client.get("/past-notices", params={"q": "crisis beds"}).json()
        assert [r["ocid"] for r in found["items"]] == [the_ocid("crisis beds")]
        ranged = client.get("/past-notices", params={"from_date": "2022-10-20", "to_date": "2022-10-20", "limit": 500}).json()
        assert 0 < ranged["total"] < everything["total"]
        assert all(r["last_date"] >= "2022-10-20" and r["first_date"] < "2022-10-21" for r in ranged["items"])
        assert client.get("/past-notices", params={"from_date": "20/10/2022"}).status_code == 422
        chained = next(r for r in everything["items"] if r["releases"] > 1)
        process = client.get(f"/past-notices/{chained['ocid']}").json()
        assert [r["date"] for r in process["releases"]] == sorted(r["date"] for r in process["releases"])
        assert process["compiled_release"]["ocid"] == chained["ocid"]
        assert process["sources"][0]["license"].endswith("open-government-licence/version/3/")
        missing = client.get("/past-notices/ocds-b5fd17-not-there")
        assert missing.status_code == 404 and missing.headers["content-type"].startswith("application/problem+json")


def test_a_commissioner_finds_a_care_notice_by_a_word_of_its_title_and_reads_it(notices_site, browser):
    page = notices_site.signed_in(browser, "commissioner", "ICB-NCL")
    page.get_by_role("link", name="Past notices", exact=True).first.click()
    page.wait_for_url(re.compile(r".*/app/past-notices$"))
    accessible(page)
    page.get_by_label("Words in the title, buyer or description").fill("crisis beds")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*/app/past-notices\?.*q=crisis"))
    link = page.get_by_role("link", name=re.compile("Safe Haven and Crisis Beds"))
    assert link.count() == 1
    accessible(page)
    shot(page, notices_site, "past-notices-search")

    link.click()
    page.wait_for_url(re.compile(rf".*/app/past-notices/{the_ocid('crisis beds')}$"))
    expect(page.get_by_role("heading", name="The record")).to_be_visible()
    body = page.locator("main").inner_text()
    assert "NHS Arden and GEM CSU" in body and "planning" in body
    assert page.get_by_role("link", name="Open Government Licence v3.0").count() >= 1
    assert "contractsfinder.service.gov.uk" in body
    accessible(page)
    shot(page, notices_site, "past-notice")

    # An award with its suppliers and values, on a process that has one.
    page.goto(notices_site.url("/app/past-notices?q=RStudio"))
    page.get_by_role("link", name=re.compile("RStudio")).first.click()
    page.wait_for_load_state()  # the page the click opened, drawn before it is read
    awards = page.locator("#awards ~ table").first.inner_text()
    assert "£" in awards
    accessible(page)
    shot(page, notices_site, "past-notice-awarded")

    # Bad input is a page that says what is wrong, never a 500; an unknown ocid is the 404 page.
    answer = page.goto(notices_site.url("/app/past-notices?from_date=20%2F10%2F2022"))
    assert answer.status == 400
    expect(page.get_by_text("Released from: enter a day as year-month-day").first).to_be_visible()
    assert page.goto(notices_site.url("/app/past-notices?status=bogus")).status == 400
    assert page.goto(notices_site.url("/app/past-notices/ocds-b5fd17-not-there")).status == 404
    page.context.close()
