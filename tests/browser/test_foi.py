"""The FOI officer's story in a real browser, on both stores.

ICB-NCL's FOI officer opens the home page, sees what is overdue and due soon, goes to the FOI
requests (overdue in red, due soon orange, paused grey, answered green), opens the overdue
one and reads how its due date was worked out, opens the answered one (its exemption and
public interest test), then the disclosure log, and downloads it as CSV. Another authority's
FOI officer finds none of it; a commissioner has no FOI page. Every FOI page is checked by
axe-core and photographed (var/screenshots/<store>/).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import accessible, shot
from tests.browser.site import FOI_AUTHORITY, with_foi_requests
from tests.e2e.foi_world import RELEASED, REQUESTER, S43_GROUNDS


def downloaded(page: Any, link_name: str) -> bytes:
    with page.expect_download() as info:
        page.get_by_role("link", name=link_name).first.click()
    return open(info.value.path(), "rb").read()


def tag_in(page: Any, reference: str) -> Any:
    return page.locator("table.aqp-list tr", has=page.get_by_role("link", name=reference, exact=True)).locator(".nhsuk-tag")


def test_the_foi_officer_goes_from_home_to_an_overdue_request_and_the_disclosure_log(site, browser):
    refs = with_foi_requests(site)
    page = site.signed_in(browser, "foi_officer", FOI_AUTHORITY, "foi.officer@ncl.example.nhs.uk")
    home = page.locator("section", has=page.get_by_role("heading", name="FOI requests"))
    expect(home).to_contain_text(refs["overdue"])
    expect(home).to_contain_text(refs["due_soon"])
    accessible(page)
    shot(page, site, "foi-home")

    with page.expect_navigation():
        home.get_by_role("link", name="All FOI requests by due date").click()
    expect(page.get_by_role("heading", name="FOI requests", level=1)).to_be_visible()
    for key, words, colour in (("overdue", "Overdue", "red"), ("due_soon", "Due soon", "orange"),
                               ("paused", "Paused: clarification", "grey"), ("answered", "Answered", "green"), ("open", "Open", "blue")):
        tag = tag_in(page, refs[key])
        expect(tag).to_have_text(words)
        expect(tag).to_have_class(f"nhsuk-tag nhsuk-tag--{colour}")
    accessible(page)
    shot(page, site, "foi-requests")

    page.get_by_role("link", name=refs["overdue"], exact=True).click()
    expect(page.get_by_role("heading", name=refs["overdue"])).to_be_visible()
    main = page.locator("main")
    expect(main).to_contain_text("working days late")
    expect(main).to_contain_text("How the due date was worked out")
    expect(main).to_contain_text(REQUESTER)
    accessible(page)
    shot(page, site, "foi-request-overdue")

    page.goto(site.url(f"/app/foi/{refs['answered']}"))
    expect(main).to_contain_text(S43_GROUNDS)
    expect(main).to_contain_text("The public interest test: maintain the exemption")
    accessible(page)
    shot(page, site, "foi-request-answered")
    page.goto(site.url(f"/app/foi/{refs['paused']}"))
    expect(main).to_contain_text("No due date while the clock is stopped")
    accessible(page)
    shot(page, site, "foi-request-paused")

    page.get_by_role("link", name="FOI requests").first.click()
    page.get_by_role("link", name="The disclosure log: what each response released").click()
    expect(page.get_by_role("heading", name="FOI disclosure log")).to_be_visible()
    expect(page.locator("table.aqp-list")).to_contain_text(RELEASED)
    accessible(page)
    shot(page, site, "foi-disclosure-log")
    rows = list(csv.DictReader(io.StringIO(downloaded(page, "CSV").decode("utf-8-sig"))))
    assert [(r["Request"], r["Part"], r["Outcome"], r["Exemptions"]) for r in rows] == [
        (refs["answered"], "1", "released_in_full", ""), (refs["answered"], "2", "withheld", "s43")]
    assert rows[0]["Released"] == RELEASED

    # A value that is not one of the choices: an error summary, never a 500.
    answer = page.goto(site.url("/app/foi?stage=late"))
    assert answer.status == 400
    expect(page.locator(".nhsuk-error-summary")).to_be_visible()
    accessible(page)


def test_another_authoritys_foi_officer_sees_none_of_it_and_a_commissioner_no_foi_page(site, browser):
    refs = with_foi_requests(site)
    page = site.signed_in(browser, "foi_officer", "ICB-NEL", "foi.officer@nel.example.nhs.uk")
    page.goto(site.url("/app/foi"))
    expect(page.locator("table.aqp-list")).to_contain_text("Nothing matches.")
    accessible(page)
    answer = page.goto(site.url(f"/app/foi/{refs['overdue']}"))
    assert answer.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    accessible(page)
    shot(page, site, "foi-request-another-authority")

    commissioner = site.signed_in(browser, "commissioner", FOI_AUTHORITY)
    assert not commissioner.locator("header").get_by_role("link", name="FOI requests").count()
    assert commissioner.goto(site.url("/app/foi")).status == 403
