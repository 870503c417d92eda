"""The CMS list and a care home, in a real browser, on both stores.

The small London demo has 20 homes in four ICBs (none in North Central London); the homes
used here: Elm Grange (Richmond upon Thames, South West London) had a concern shared by
ICB-SWL and resolved; provider 1-676168666 runs three homes in City and Hackney. What the
list should hold is read from the API's own table for the same person, so the test checks
that the page shows exactly the API's rows.
"""

from __future__ import annotations

import csv
import io
import re

import pytest
from openpyxl import load_workbook

import api.web.homes as homes_page
from api.http.read_models import LOCATIONS
from api.http.tables import Query, read_table, today
from api.tokens import Principal
from playwright.sync_api import expect

from tests.browser.conftest import accessible, shot
from tests.browser.site import NCL

SWL = "ICB-SWL"
ELM_GRANGE = "1-4662012810"
PROVIDER = "1-676168666"
ANOTHERS_HOME = ELM_GRANGE


def api_rows(site, role: str, org: str, **chosen: str) -> list[dict]:
    """The rows the API's /locations gives this person for these filters and parameters, by name."""
    principal = Principal(user="t", org=org, role=role, token_id="test")
    query = Query(
        table=LOCATIONS, principal=principal,
        filters={k: v for k, v in chosen.items() if k in LOCATIONS.filters},
        params={k: v for k, v in chosen.items() if k not in LOCATIONS.filters}, q=None, sort="name", day=today(),
    )
    rows, _ = read_table(site.server.app.state.service, query, as_of=None, limit=None, offset=0)
    return rows


def names_on(page) -> list[str]:
    return [c.inner_text().strip() for c in page.locator("table.aqp-list tbody tr td:first-child").all()]


def test_a_commissioner_filters_sorts_pages_downloads_the_cms_list_and_opens_a_home(site, browser, monkeypatch):
    page = site.signed_in(browser, "commissioner", SWL)
    page.get_by_role("link", name="Care homes", exact=True).first.click()
    page.wait_for_url(re.compile(r".*/app/homes$"))
    expect(page.get_by_role("heading", name="Care homes", level=1)).to_be_visible()
    everything = api_rows(site, "commissioner", SWL)
    assert len(names_on(page)) == len(everything) == 20
    accessible(page)
    shot(page, site, "homes-list")

    # Homes with nursing dementia vacancies rated Good: the API's rows, no more, no fewer.
    page.get_by_label("With vacancies of").select_option("nursing_dementia")
    page.get_by_label("CQC rating").select_option("Good")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*vacancies=nursing_dementia.*"))
    expected = api_rows(site, "commissioner", SWL, vacancies="nursing_dementia", rating="Good")
    assert expected and all(r["vacancies_nursing_dementia"] > 0 and r["overall_rating"] == "Good" for r in expected)
    assert names_on(page) == [r["name"] for r in expected]
    assert f"{len(expected)} in all" in page.locator("table.aqp-list caption").inner_text()
    assert page.get_by_label("CQC rating").input_value() == "Good"
    accessible(page)
    shot(page, site, "homes-list-filtered")

    # Sorted by all vacancies, then the other way: the headings are links, and say how it is sorted.
    page.get_by_role("link", name=re.compile(r"^All")).click()
    page.wait_for_url(re.compile(r".*sort=vacancies_total.*"))
    totals = [int(t) for t in page.locator("table.aqp-list tbody tr td:nth-child(12)").all_inner_texts()]
    assert totals == sorted(totals) and len(totals) == len(expected)
    page.get_by_role("link", name=re.compile(r"^All.*sorted ascending")).click()
    page.wait_for_url(re.compile(r".*sort=-vacancies_total.*"))
    totals = [int(t) for t in page.locator("table.aqp-list tbody tr td:nth-child(12)").all_inner_texts()]
    assert totals == sorted(totals, reverse=True)
    assert page.locator("th[aria-sort=descending]").inner_text().startswith("All")

    # The downloads are the whole list as filtered, with the page's headings.
    with page.expect_download() as got:
        page.get_by_role("link", name="CSV").click()
    assert got.value.suggested_filename.startswith("care-homes-") and got.value.suggested_filename.endswith(".csv")
    with open(got.value.path(), encoding="utf-8-sig") as file:
        text = file.read()
    table = list(csv.DictReader(io.StringIO(text)))
    assert [r["Home"] for r in table] == [r["name"] for r in sorted(expected, key=lambda r: -r["vacancies_total"])]
    assert "Nursing dementia vacancies" in table[0] and "Open concerns" in table[0]
    with page.expect_download() as got:
        page.get_by_role("link", name="Excel (XLSX)").click()
    assert got.value.suggested_filename.endswith(".xlsx")
    with open(got.value.path(), "rb") as file:
        sheet = load_workbook(file).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][1] == "Home" and len(rows) == len(expected) + 1
    assert {r[1] for r in rows[1:]} == {r["name"] for r in expected}
    assert all(isinstance(r[rows[0].index("All vacancies")], int) for r in rows[1:])

    # Pages (the demo has 20 homes: pages of 8 here).
    monkeypatch.setattr(homes_page, "PAGE_SIZE", 8)
    # The list was drawn (and kept, `api.web.kept`) with pages of 20; nothing recorded since says
    # otherwise, so ask for it as a hard reload does.
    page.set_extra_http_headers({"Cache-Control": "no-cache"})
    page.goto(site.url("/app/homes"))
    page.set_extra_http_headers({})
    first = names_on(page)
    assert len(first) == 8 and "Page 1 of 3" in page.locator("main").inner_text()
    page.get_by_role("link", name=re.compile("Next")).click()
    page.wait_for_url(re.compile(r".*page=2.*"))
    assert names_on(page) == [r["name"] for r in everything[8:16]]
    accessible(page)
    shot(page, site, "homes-list-page-2")

    # A home: its facts, vacancies, quality figures beside its areas', returns, contracts.
    page.goto(site.url("/app/homes"))
    page.get_by_role("link", name="Elm Grange", exact=True).click()
    page.wait_for_url(re.compile(rf".*/app/homes/{ELM_GRANGE}$"))
    main = page.locator("main").inner_text()
    expect(page.get_by_role("heading", name="Elm Grange", level=1)).to_be_visible()
    for words in ("CQC facts", "CQC ratings", "Vacancies", "Quality over time", "Returns and punctuality", "Contracts",
                  "South West London ICB", "per 1,000 bed-days", "AQP-CH-2025/SWL/1-473006684"):
        assert words in main, words
    # Two charts: vacancies, and one quality figure beside its areas; the chooser charts another.
    assert page.locator("figure.aqp-chart svg").count() == 2
    accessible(page)
    shot(page, site, "care-home-commissioner")
    chooser = page.locator("select#metric")
    first = chooser.input_value()
    other = [o for o in chooser.locator("option").evaluate_all("els => els.map(e => e.value)") if o != first][0]
    chooser.select_option(other)
    page.get_by_role("button", name="Chart this figure").click()
    assert f"metric={other}" in page.url
    assert page.locator("select#metric").input_value() == other
    assert "this home beside its areas" in page.locator("#quality-chart figcaption").inner_text()

    # As at a date (the small demo's history is short enough to replay).
    page.goto(site.url(f"/app/homes/{ELM_GRANGE}?as_at=2025-05-31"))
    assert "as the ledger recorded it at the end of 31 May 2025" in page.locator("main").inner_text()
    accessible(page)
    shot(page, site, "care-home-as-at")
    page.context.close()


def test_concerns_show_for_the_homes_own_commissioner_and_not_another_icbs(site, browser):
    own = site.signed_in(browser, "commissioner", SWL)
    own.goto(site.url(f"/app/homes/{ELM_GRANGE}"))
    concerns = own.locator("#concerns + *").inner_text()
    assert "call bell response times" in concerns and "Resolved" in concerns
    assert "Not shown to you" not in own.locator("main").inner_text()
    own.context.close()

    other = site.signed_in(browser, "commissioner", NCL)
    other.goto(site.url(f"/app/homes/{ELM_GRANGE}"))
    main = other.locator("main").inner_text()
    assert "call bell" not in main and "Night staffing" not in main
    assert "Concerns are shown only to the home's own commissioners" in main
    assert "Not shown to you" in main  # its people's names too
    accessible(other)
    shot(other, site, "care-home-another-icb")
    # The list's count of open concerns is the API's (every commissioner sees the count).
    other.goto(site.url("/app/homes"))
    assert other.get_by_role("columnheader", name="Open concerns").count() == 1
    other.context.close()


def test_a_provider_sees_only_its_own_homes_and_not_anothers(site, browser):
    page = site.signed_in(browser, "provider", PROVIDER)
    page.goto(site.url("/app/homes"))
    own = api_rows(site, "provider", PROVIDER)
    assert sorted(names_on(page)) == sorted(r["name"] for r in own) and len(own) == 3
    # The count of concerns is not for providers: no column, not a 0.
    assert page.get_by_role("columnheader", name="Open concerns").count() == 0
    accessible(page)
    shot(page, site, "homes-list-provider")

    page.get_by_role("link", name=own[0]["name"], exact=True).click()
    page.wait_for_load_state()  # the page the click opened, drawn before it is read
    main = page.locator("main").inner_text()
    assert "Quality over time" in main and "Returns and punctuality" in main
    assert "Area figures are for commissioners" in main  # a provider sees its own, not its areas' (the API's rule)
    accessible(page)
    shot(page, site, "care-home-provider")

    answer = page.goto(site.url(f"/app/homes/{ANOTHERS_HOME}"))
    assert answer.status == 404
    assert f"There is no location {ANOTHERS_HOME}, or you may not see it." in page.locator("main").inner_text()
    accessible(page)
    shot(page, site, "care-home-not-found")
    page.context.close()


@pytest.mark.parametrize("address, field, sentence", [
    ("/app/homes?rating=Splendid", "rating", "CQC rating: choose one of the options"),
    ("/app/homes?vacancies=attic", "vacancies", "With vacancies of: choose one of the options"),
    ("/app/homes?as_at=31%2F03%2F2025", "as_at", "Enter the date as year-month-day"),
    ("/app/homes?sort=memberships", "sort", "The list cannot be sorted by that column"),
])
def test_a_bad_filter_is_named_in_the_error_summary_with_status_400(site, browser, address, field, sentence):
    page = site.signed_in(browser, "commissioner", NCL)
    answer = page.goto(site.url(address))
    assert answer.status == 400
    summary = page.locator(".nhsuk-error-summary")
    assert summary.is_visible() and sentence in summary.inner_text()
    if field != "sort":
        assert summary.get_by_role("link").first.get_attribute("href") == f"#{field}"
    accessible(page)
    if field == "rating":
        shot(page, site, "homes-list-error")
    answer = page.goto(site.url(f"/app/homes/{ELM_GRANGE}?as_at=yesterday"))
    assert answer.status == 400
    page.context.close()
