"""Returns and KPIs in a real browser, on both stores.

A contract manager reads the KPI outcomes (met or breached, in words) and compliance by ICB,
opens an ICB's targets, filters the returns list (received no, a period range) and the missed
runs, downloads CSV and XLSX as filtered; a provider sees only its own homes' returns; bad
values are an error summary (400), never a 500.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import openpyxl
from playwright.sync_api import expect

from api.http.read_models import own_locations
from api.tokens import Principal
from projections.compliance import ReturnCompliance
from tests.browser.conftest import accessible, shot
from tests.browser.site import NCL


def test_a_contract_manager_reads_the_kpis_and_compliance_by_icb(site, browser):
    page = site.signed_in(browser, "contract_manager", NCL)
    with page.expect_navigation():
        page.locator("header").get_by_role("link", name="Returns and KPIs", exact=True).click()
    expect(page.get_by_role("heading", name="Returns and KPIs")).to_be_visible()
    tiles = page.locator(".aqp-tile")
    assert tiles.count() == 2
    words = tiles.locator(".nhsuk-tag").all_inner_texts()
    assert all(w in ("Target met", "Target breached") for w in words), words
    assert "Returns by the deadline" in tiles.first.inner_text() and "at least 75%" in tiles.first.inner_text()
    assert "above 95%" in tiles.nth(1).inner_text()
    assert page.locator("figure.aqp-chart svg").count() == 2
    compliance = page.locator("table.aqp-list").inner_text()
    assert "Integrated Care Board" in compliance
    accessible(page)
    shot(page, site, "returns-kpis")

    icb = page.locator("table.aqp-list tbody tr a").first
    name = icb.inner_text()
    icb.click()
    expect(page.get_by_role("heading", name=f"Targets for ICB {name}")).to_be_visible()

    with page.expect_download() as got:
        page.get_by_role("link", name="CSV").click()
    rows = list(csv.reader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows[0][:2] == ["Area", "Home"] and all("Integrated Care Board" in r[0] for r in rows[1:])

    page.goto(site.url("/app/returns?scope=directorate&span=year_to_date"))
    assert page.locator("table.aqp-list tbody tr").count() > 1
    accessible(page)


def test_the_returns_list_and_missed_runs_filter_and_download(site, browser):
    page = site.signed_in(browser, "contract_manager", NCL)
    page.goto(site.url("/app/returns/list"))
    page.get_by_label("Received", exact=True).select_option("no")
    page.get_by_role("button", name="Apply filters").click()
    statuses = set(page.locator("table.aqp-list tbody .nhsuk-tag").all_inner_texts())
    assert statuses <= {"missed", "overdue"}
    accessible(page)
    shot(page, site, "returns-list-not-received")
    with page.expect_download() as got:
        page.get_by_role("link", name="Excel (XLSX)").click()
    sheet = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes())).active
    values = list(sheet.values)
    status = values[0].index("Status")
    assert values[0][0] == "Home" and {v[status] for v in values[1:]} <= {"missed", "overdue"}

    view = site.server.app.state.service.view(ReturnCompliance)
    periods = sorted({r["period"] for r in view.rows("return_compliance")})
    first, last = periods[0], periods[min(2, len(periods) - 1)]
    page.goto(site.url(f"/app/returns/list?period_from={first}&period_to={last}&sort=period"))
    shown = set(page.locator("table.aqp-list tbody td:nth-child(2)").all_inner_texts())
    assert shown and all(first <= p <= last for p in shown)

    page.goto(site.url("/app/returns/missed-runs"))
    expect(page.get_by_role("heading", name="Missed returns in a row")).to_be_visible()
    accessible(page)
    shot(page, site, "returns-missed-runs")
    with page.expect_download() as got:
        page.get_by_role("link", name="CSV").click()
    lines = Path(got.value.path()).read_text(encoding="utf-8-sig").strip().splitlines()
    assert lines[0].startswith("Home,CQC location,Provider,Return")

    for bad in ("/app/returns?scope=planet", "/app/returns?kpi_scope=moon", "/app/returns/list?received=maybe",
                "/app/returns/list?as_at=2026-13-45", "/app/returns/missed-runs?sort=nope", "/app/returns/list?page=-1"):
        answer = page.goto(site.url(bad))
        assert answer.status == 400, bad
        expect(page.get_by_role("heading", name="There is a problem").first).to_be_visible()
    accessible(page)
    shot(page, site, "returns-error")
    for odd in ("/app/returns?kpi_scope=icb&kpi_area=" + "z" * 300, "/app/returns?template=%27%3B--", "/app/returns/list?period_from=zzz"):
        assert page.goto(site.url(odd)).status < 500, odd


def test_a_provider_sees_only_its_own_homes_returns(site, browser):
    view = site.server.app.state.service.view(ReturnCompliance)
    every = view.rows("return_compliance")
    provider = every[0]["provider"]
    homes = set(own_locations(site.server.app.state.service, Principal(user="p", org=provider, role="provider", token_id="t")))
    page = site.signed_in(browser, "provider", provider)
    page.goto(site.url("/app/returns/list"))
    with page.expect_download() as got:
        page.get_by_role("link", name="CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(got.value.path()).read_text(encoding="utf-8-sig"))))
    assert rows and {r["CQC location"] for r in rows} <= homes
    assert len(rows) == sum(1 for r in every if r["location"] in homes)
    page.reload()  # the page as it is, not with the focus style of the link just used
    accessible(page)
    shot(page, site, "returns-provider")
    page.goto(site.url("/app/returns"))
    assert "Targets for provider" in page.locator("main").inner_text()
    listed = page.locator("table.aqp-list tbody").inner_text()
    others = {r["location"] for r in every} - homes
    assert not any(o in listed for o in others)
    accessible(page)
    shot(page, site, "returns-kpis-provider")
