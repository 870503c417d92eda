"""Area dashboards and the RAG table, in a real browser, on both stores.

A commissioner opens Areas, an ICB, a directorate and all homes (pan-London), changes the
measure, drills down to the homes and downloads the figures (CSV and XLSX, read back); opens
placements, rate exceptions (filtered, then downloaded) and the homes off the framework; the
RAG table of a Nottingham demo shows its year-on-year change as the API's rows have it. A
provider is refused every aggregate page as the API refuses it (403), and a measure that is
not one shows an error summary (400), never a 500. Every page is checked by axe-core and
photographed (var/screenshots/<store>/).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import unquote

import httpx
import openpyxl
import pytest

from api.web.rag import change
from projections.cms import CmsList
from projections.rag import RagTables
from playwright.sync_api import expect

from tests.browser.conftest import accessible, served_demo, shot
from tests.browser.site import NCL, SMALL_NOTTINGHAM, Site


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def rag_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """Two years of Nottingham's quality visits (the London demo has none), served."""
    with served_demo(request, tmp_path_factory, "rag", world=SMALL_NOTTINGHAM) as served:
        yield served


def downloaded(page: Any, link_name: str, *, within: Any = None) -> bytes:
    with page.expect_download() as info:
        (within or page).get_by_role("link", name=link_name).first.click()
    return open(info.value.path(), "rb").read()


def csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def xlsx_rows(body: bytes) -> list[list[Any]]:
    sheet = openpyxl.load_workbook(io.BytesIO(body), read_only=True).active
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def test_a_commissioner_opens_an_icb_a_directorate_and_all_homes_changes_the_measure_and_drills_down(site, browser):
    page = site.signed_in(browser, "commissioner", NCL)
    page.locator("header").get_by_role("link", name="Areas", exact=True).click()
    page.wait_for_url(re.compile(r".*/app/areas$"))
    expect(page.get_by_role("heading", name="Areas", exact=True)).to_be_visible()
    for heading in ("ICBs", "Directorates", "All homes (pan-London overview)"):
        expect(page.get_by_role("heading", name=heading), heading).to_be_visible()
    accessible(page)
    shot(page, site, "areas")

    # An ICB: the measure over time beside all homes, the ICBs side by side.
    page.locator("h2#icb + ul a").first.click()
    page.wait_for_load_state()  # the page the click opened, drawn before it is read
    assert page.locator("h1").inner_text().endswith("quality over time")
    assert page.locator("#over-time svg").count() == 1
    assert page.locator("#side-by-side svg").count() == 1
    assert "rate per 1,000 bed-days" in page.locator("main").inner_text()
    accessible(page)
    shot(page, site, "area-icb")

    # Another measure, one that is not a count of events: a mean per home.
    page.select_option("#metric", label="Residents")
    page.get_by_role("button", name="Show").click()
    page.wait_for_url(re.compile(r".*metric=residents"))
    assert "mean per home" in page.locator("main").inner_text()
    accessible(page)
    shot(page, site, "area-icb-residents")

    # A directorate, down to its homes.
    page.goto(site.url("/app/areas"))
    page.locator("h2#directorate + ul a").first.click()
    directorate = unquote(page.url.rsplit("/", 1)[1].split("?")[0])
    assert page.locator("h1").inner_text() == f"{directorate}: quality over time"
    assert page.get_by_role("link", name=f"The homes of {directorate}").get_attribute("href").startswith("/app/homes?directorate=")
    homes = page.locator("table", has=page.locator("caption", has_text="by home")).locator("tbody a")
    assert homes.count() >= 1
    assert all(homes.nth(i).get_attribute("href").startswith("/app/homes/") for i in range(homes.count()))
    accessible(page)
    shot(page, site, "area-directorate")

    # Its figures, downloaded: the CSV and the XLSX say the same, the area's rows among them.
    body = downloaded(page, "CSV")
    rows = csv_rows(body)
    assert rows[0][:5] == ["Level", "Area", "Metric", "Unit", "Month"]
    assert any(r[0] == "directorate" and r[1] == directorate and r[2] == "Falls" for r in rows[1:])
    assert any(r[0] == "all" for r in rows[1:])
    book = xlsx_rows(downloaded(page, "Excel (XLSX)"))
    assert [str(c) for c in book[0]] == rows[0]
    assert len(book) == len(rows)
    homes_csv = csv_rows(downloaded(page, "CSV", within=page.locator("p", has_text="Download the homes")))
    assert homes_csv[0] == ["Home", "Figure", "Bed-days", "Rate per 1,000 bed-days"]
    assert len(homes_csv) - 1 == homes.count()

    # All homes, the pan-London overview.
    page.goto(site.url("/app/areas"))
    page.locator("h2#all + ul a").first.click()
    page.wait_for_load_state()  # the page the click opened, drawn before it is read
    assert page.locator("h1").inner_text() == "All homes: quality over time"
    accessible(page)
    shot(page, site, "area-all-homes")
    page.context.close()


def test_placements_rate_exceptions_and_homes_off_the_framework_are_shown_filtered_and_downloaded(site, browser):
    page = site.signed_in(browser, "commissioner", NCL)
    page.goto(site.url("/app/areas/placements"))
    expect(page.get_by_role("heading", name="Placements: usage and spend")).to_be_visible()
    assert page.locator("#usage-1 svg").count() == 1
    accessible(page)
    shot(page, site, "area-placements")
    usage = csv_rows(downloaded(page, "CSV"))
    assert usage[0][:3] == ["Framework", "Commissioner", "Month"] and len(usage) > 1

    page.goto(site.url("/app/areas/rate-exceptions"))
    page.select_option("#home_on_framework", "yes")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*home_on_framework=yes"))
    accessible(page)
    shot(page, site, "area-rate-exceptions")
    book = xlsx_rows(downloaded(page, "Excel (XLSX)"))
    column = book[0].index("Home on the framework")
    assert len(book) > 1 and {r[column] for r in book[1:]} == {"yes"}

    page.goto(site.url("/app/areas/non-framework-homes"))
    expect(page.get_by_role("heading", name="Homes off the framework at the framework rate")).to_be_visible()
    accessible(page)
    shot(page, site, "area-non-framework-homes")
    page.context.close()


def test_a_measure_that_is_not_one_or_a_bad_day_is_named_in_an_error_summary_never_a_500(site, browser):
    page = site.signed_in(browser, "commissioner", NCL)
    page.goto(site.url("/app/areas"))
    area = page.locator("h2#directorate + ul a").first.get_attribute("href")
    answer = page.goto(site.url(area + "?metric=%3Cscript%3E"))
    assert answer.status == 400
    summary = page.locator(".nhsuk-error-summary")
    assert "Choose a measure from the list" in summary.inner_text()
    assert summary.get_by_role("link").get_attribute("href") == "#metric"
    accessible(page)
    shot(page, site, "area-bad-measure")
    assert page.goto(site.url(area + "?as_at=yesterday")).status == 400
    assert "year-month-day" in page.locator(".nhsuk-error-summary").inner_text()
    for bad in ("/app/areas/region/London", "/app/areas/directorate/Atlantis", "/app/areas/icb/" + "x" * 300):
        assert page.goto(site.url(bad)).status == 404, bad
    assert page.goto(site.url("/app/areas/rate-exceptions?explained=maybe")).status == 400
    assert page.goto(site.url("/app/rag?category=martians")).status == 400
    page.context.close()


def test_a_provider_is_refused_the_aggregate_pages_as_the_api_refuses_it(site, browser):
    provider = site.server.app.state.service.view(CmsList).select("cms_homes", columns=("provider",), limit=1)[0]["provider"]
    page = site.signed_in(browser, "provider", provider)
    assert page.locator("header").get_by_role("link", name="Areas").count() == 0
    token = site.server.app.state.service.tokens.issue(user="p", org=provider, role="provider").token
    api = {"/app/areas": "/dashboards/quality/areas", "/app/areas/placements": "/placements/usage",
           "/app/areas/non-framework-homes": "/placements/non-framework-homes", "/app/rag": "/rag/"}
    for path, route in api.items():
        answer = page.goto(site.url(path))
        refused = httpx.get(site.url(route), headers={"Authorization": f"Bearer {token}"})
        assert answer.status == refused.status_code == 403, (path, answer.status, refused.status_code)
        expect(page.get_by_role("heading", name="You cannot do this")).to_be_visible()
    page.goto(site.url("/app/areas/directorate/Barnet"))
    assert page.locator("h1").inner_text() == "You cannot do this"
    accessible(page)
    shot(page, site, "area-refused-provider")
    # Rate exceptions are the API's monitoring list: a provider sees its own homes' rows, as there.
    assert page.goto(site.url("/app/areas/rate-exceptions")).status == 200
    page.context.close()


def test_the_rag_table_shows_each_years_outcomes_and_the_change_since_the_year_before(rag_site, browser):
    rows = rag_site.server.app.state.service.view(RagTables).select("rag_table")
    compared = [r for r in rows if r["category"] == "total" and r["red_change"] is not None]
    assert compared, "the demo has two years of visits"
    latest = max(compared, key=lambda r: r["year"])
    page = rag_site.signed_in(browser, "commissioner", "NCC")
    page.goto(rag_site.url("/app/rag"))
    expect(page.get_by_role("heading", name="RAG table: outcomes of quality visits")).to_be_visible()
    table = page.locator("table.aqp-rag", has=page.locator("caption", has_text=latest["year"])).first
    assert f"Change since {latest['previous_year']}" in table.inner_text()
    total = table.locator("tr", has_text="All categories")
    cells = [c.strip() for c in total.locator("td").all_inner_texts()]
    assert cells[:4] == [str(latest["red"]), str(latest["amber"]), str(latest["green"]), str(latest["homes"])]
    assert cells[4:7] == [change(latest["red_change"]), change(latest["amber_change"]), change(latest["green_change"])]
    # RAG in words beside its colour, in the headings and the charts' legends
    assert table.locator("thead .nhsuk-tag--red", has_text="Red").count() == 2
    assert page.locator("#rag-1 svg").count() == 1
    accessible(page)
    shot(page, rag_site, "rag-table")
    book = xlsx_rows(downloaded(page, "Excel (XLSX)"))
    assert book[0][:3] == ["Year", "Category", "Code"] and len(book) - 1 == len(rows)

    page.get_by_role("link", name="The visits behind the table").click()
    expect(page.get_by_role("heading", name="Quality visits")).to_be_visible()
    page.select_option("#rag", "red")
    page.get_by_role("button", name="Apply filters").click()
    outcomes = page.locator("table.aqp-list tbody .nhsuk-tag").all_inner_texts()
    assert outcomes and all(o in ("red", "yes", "no") for o in outcomes)
    accessible(page)
    shot(page, rag_site, "rag-visits")
    page.context.close()
