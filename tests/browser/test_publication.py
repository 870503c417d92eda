"""The "Publication" tabs in a real browser, on both stores (the small London demo with the contract scenarios).

A procurement lead opens the demo's competition, follows the "Publication" tab and reads every
release the public record holds, oldest first; a contract manager of a Procurement Act 2023
contract (varied, with its change notice published, its details notice not) reads what the
world has been told of it and the notice it owes, with JavaScript off as on. axe-core on both.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest
from playwright.sync_api import expect

from domain.contracts import commands as k
from projections.competitions import CompetitionList
from tests.browser.conftest import accessible, shot
from tests.browser.site import CSU
from tests.integration.test_notices import CONTRACT, MANAGER, pa2023_contract

UTC = timezone.utc


@pytest.fixture(scope="module")
def site(site_with_contracts):
    return site_with_contracts


@pytest.fixture(scope="module")
def noticed(site):
    """A Procurement Act 2023 contract in the site's ledger: varied after its change notice, its details notice never published."""
    ledger = site.ledger
    pa2023_contract(ledger)
    at = datetime(2026, 5, 1, 9, tzinfo=UTC)
    notice = k.PublishContractNotice(contract=CONTRACT, notice_type="contract_change_notice", notice_reference="FTS-UK10-0042",
                                     published_on=date(2026, 5, 1), modification="dementia-unit", payload_sha256="ab" * 32)
    assert ledger.handle(notice, MANAGER, at=at).ok
    vary = k.VaryContract(contract=CONTRACT, kind="scope", ground="pa2023_sch8_1", value_change=15_000_000,
                          effective_from=date(2026, 6, 1), rationale="A dementia unit as the contract provides.",
                          change_notice="FTS-UK10-0042")
    assert ledger.handle(vary, MANAGER, at=at + timedelta(hours=1)).ok
    return CONTRACT


def test_the_competitions_publication_tab_lists_the_public_record(site, browser):
    service = site.server.app.state.service
    (row,) = service.view(CompetitionList).rows()
    reference = row["reference"]
    ocid = f"ocds-aqp000-{reference}"
    feed = httpx.get(site.url(f"/ocds/records/{ocid}")).json()["records"][0]["releases"]
    page = site.signed_in(browser, "procurement_lead", CSU, "lead@nelcsu.example.nhs.uk")
    page.goto(site.url(f"/app/competitions/{reference}"))
    with page.expect_navigation():
        page.get_by_role("navigation", name="Views of this competition").get_by_role("link", name="Publication").click()
    page.wait_for_url(re.compile(r".*\?tab=publication$"))
    expect(page.get_by_role("link", name="Publication")).to_have_attribute("aria-current", "page")
    rows = page.locator("#releases-table tbody tr")
    assert rows.count() == len(feed) > 5
    assert [rows.nth(i).get_attribute("data-release") for i in range(rows.count())] == [r["id"] for r in feed]
    assert "Tender published" in rows.first.inner_text()
    assert page.get_by_role("link", name=f"The record of {ocid} (JSON)").get_attribute("href") == f"/ocds/records/{ocid}"
    accessible(page)
    shot(page, site, "competition-publication")

    with page.expect_navigation():
        page.get_by_role("link", name="Competition", exact=True).click()
    expect(page.get_by_role("heading", name="Summary and timetable")).to_be_visible()
    expect(page.get_by_role("link", name="Competition", exact=True)).to_have_attribute("aria-current", "page")
    page.set_viewport_size({"width": 1280, "height": 700})
    page.screenshot(path=str(shot(page, site, "competition-record-tab").with_name("competition-record-tab-top.png")))


@pytest.mark.parametrize("script", [True, False], ids=["with-javascript", "without-javascript"])
def test_a_contracts_publication_tab_shows_its_releases_notices_and_what_it_owes(site, browser, noticed, script):
    page = site.signed_in(browser, "contract_manager", "NCC", java_script_enabled=script)
    page.goto(site.url(f"/app/contracts/{noticed}"))
    page.get_by_role("navigation", name="Views of this contract").get_by_role("link", name="Publication").click()
    page.wait_for_url(re.compile(r".*\?tab=publication$"))
    owed = page.locator(".aqp-owed").inner_text()
    assert "Overdue" in owed and "Contract details notice (UK7) due by 14 April 2026" in owed
    notices = page.locator("table.aqp-notices").inner_text()
    assert "Contract change notice" in notices and "UK10" in notices and "FTS-UK10-0042" in notices and "1 May 2026" in notices
    own = page.locator("#contract-releases-table").inner_text()
    assert "Contract amended" in own and "Contract updated" in own
    if script:  # axe-core runs as a script in the page: the same markup is checked with them on
        accessible(page)
        shot(page, site, "contract-publication")
