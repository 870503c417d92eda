"""The contract register and a contract, in a real browser, on both stores.

A contract manager filters the register, opens a contract and reads its rates, variations
and escalation (Nottingham's escalation scenario applied into the site's ledger: the demo has
no escalated contract), and a service contract's milestones, highlight reports and risks (the
NHS England call-off scenario); a provider sees only its own contracts and gets the API's 404
for another's; an evaluator is refused the register as by the API; downloads are the list as
filtered; a bad value is an error summary (400), never a 500.
"""

from __future__ import annotations

import io
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import expect

from projections.contract_register import ContractRegister
from tests.browser.conftest import accessible, shot
from tests.browser.site import NCL

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
ESCALATED = "NCC-RES-2026/CITY/meadowview-care"
CALL_OFF = "NHSE-ICS-2016/LONDON/capital-care-networks"


@pytest.fixture(scope="module")
def site(site_with_contracts):
    """These tests' own site: the demo with the contract scenarios (tests/browser/site.py)."""
    return site_with_contracts


@pytest.fixture(scope="module")
def contracts(site):
    """The site's contracts (its world has the escalation and call-off scenarios: tests/browser/site.py)."""
    rows = site.server.app.state.service.view(ContractRegister).rows("contract_register")
    return {r["reference"]: r for r in rows}


def test_a_contract_manager_filters_the_register_and_reads_a_contract(site, browser, contracts):
    page = site.signed_in(browser, "contract_manager", NCL)
    with page.expect_navigation():
        page.locator("header").get_by_role("link", name="Contracts", exact=True).click()
    expect(page.get_by_role("heading", name="Contracts", exact=True)).to_be_visible()
    accessible(page)
    shot(page, site, "contracts-register")

    page.get_by_label("Escalation stage").select_option("requirement_to_improve")
    page.get_by_role("button", name="Apply filters").click()
    table = page.locator("table.aqp-list")
    assert ESCALATED not in table.inner_text()  # the scenario ends in termination: no longer at that stage
    page.goto(site.url("/app/contracts?status=terminated"))
    assert ESCALATED in page.locator("table.aqp-list").inner_text()
    page.get_by_role("link", name=ESCALATED).click()
    page.wait_for_load_state()  # the page the click opened, drawn before it is read
    text = page.locator("main").inner_text()
    assert "Escalated to requirement to improve" in text and "Escalated to contract suspension" in text
    assert "Action plan RTI-2026-01" in text and "Retrain all care staff" in text
    accessible(page)
    shot(page, site, "contract-escalated")

    # As at the day before the 90-day notice ran out: the stage then, with its due day.
    page.goto(site.url(f"/app/contracts/{ESCALATED}?as_at=2026-12-01"))
    assert "Stage:" in page.locator("#escalation ~ p").first.inner_text()

    aqp = next(r for r in contracts if r.startswith("AQP-CH-"))
    page.goto(site.url(f"/app/contracts/{aqp}"))
    text = page.locator("main").inner_text()
    assert "Rate a week" in text and "£" in page.locator("#rates ~ table").first.inner_text()
    assert "Not escalated." in text
    accessible(page)
    shot(page, site, "contract-aqp")

    varied = next(r for r in contracts if contracts[r]["variations"] and contracts[r]["status"] != "terminated")
    page.goto(site.url(f"/app/contracts/{varied}"))
    variations = page.locator("#variations ~ table").first.inner_text()
    assert "PSR 2024 reg. 13(1)(a)" in variations and "% of the original value" in page.locator("main").inner_text()
    accessible(page)
    shot(page, site, "contract-aqp")


def test_a_service_contract_shows_milestones_highlight_rag_and_risks(site, browser, contracts):
    page = site.signed_in(browser, "contract_manager", "NHSE")
    page.goto(site.url(f"/app/contracts/{CALL_OFF}"))
    expect(page.get_by_role("heading", name="Milestones")).to_be_visible()
    reports = page.locator(".nhsuk-card__heading")
    assert reports.count() > 0
    first = reports.first.inner_text()
    assert any(word in first for word in ("Green", "Amber", "Red"))  # the RAG in words, beside its colour
    assert page.locator(".nhsuk-card .nhsuk-tag").count() > 0
    expect(page.get_by_role("heading", name="Risks")).to_be_visible()
    accessible(page)
    shot(page, site, "contract-service")


def test_a_provider_sees_only_its_own_contracts_and_not_anothers(site, browser, contracts):
    mine = next(r for r in contracts.values() if r["reference"].startswith("AQP-CH-"))
    other = next(r for r in contracts.values() if r["reference"].startswith("AQP-CH-") and r["provider"] != mine["provider"])
    page = site.signed_in(browser, "provider", mine["provider"])
    page.goto(site.url("/app/contracts"))
    listed = page.locator("table.aqp-list tbody").inner_text()
    assert mine["reference"] in listed and other["reference"] not in listed
    accessible(page)
    shot(page, site, "contracts-provider")
    answer = page.goto(site.url(f"/app/contracts/{other['reference']}"))
    assert answer.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    withheld = page.locator("main").inner_text().replace(other["reference"], "REF")
    # Another's contract reads exactly as one that does not exist: its existence does not leak.
    missing = page.goto(site.url("/app/contracts/NO/SUCH/contract"))
    assert missing.status == 404 and page.locator("main").inner_text().replace("NO/SUCH/contract", "REF") == withheld


def test_an_evaluator_is_refused_the_register(site, browser):
    page = site.signed_in(browser, "evaluator", NCL)
    assert not page.get_by_role("link", name="Contracts", exact=True).count()
    answer = page.goto(site.url("/app/contracts"))
    assert answer.status == 403
    accessible(page)
    shot(page, site, "contracts-evaluator-refused")


def test_the_register_downloads_as_filtered_and_bad_values_are_an_error_summary(site, browser, contracts):
    page = site.signed_in(browser, "contract_manager", NCL)
    lot = next(r["lot"] for r in contracts.values() if r["reference"].startswith("AQP-CH-"))
    page.goto(site.url(f"/app/contracts?lot={lot}"))
    with page.expect_download() as got:
        page.get_by_role("link", name="CSV").click()
    csv_text = Path(got.value.path()).read_text(encoding="utf-8-sig")
    lines = csv_text.strip().splitlines()
    ncl = [r for r in contracts.values() if r["lot"] == lot]
    assert lines[0].startswith("Contract,Provider,Lot") and len(lines) == 1 + len(ncl)
    with page.expect_download() as got:
        page.get_by_role("link", name="Excel (XLSX)").click()
    sheet = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes())).active
    values = list(sheet.values)
    assert values[0][0] == "Contract" and len(values) == 1 + len(ncl) and {v[2] for v in values[1:]} == {lot}

    for bad in ("status=bogus", "sort=nope", "page=0", "as_at=31-03-2026", "referrals_suspended=perhaps"):
        answer = page.goto(site.url(f"/app/contracts?{bad}"))
        assert answer.status == 400, bad
        expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
    accessible(page)
    shot(page, site, "contracts-error")
    answer = page.goto(site.url(f"/app/contracts/{ESCALATED}?as_at=yesterday"))
    assert answer.status == 400 and page.get_by_role("heading", name="There is a problem").is_visible()
    accessible(page)
    for odd in ("/app/contracts/%00", "/app/contracts/" + "x/" * 300, "/app/contracts/a?as_at=9999-12-31", "/app/contracts?q=" + "%27" * 150):
        answer = page.goto(site.url(odd))
        assert answer.status < 500, odd
