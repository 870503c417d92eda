"""The home page per role, in a real browser on both stores (the small London demo).

Each role's home shows its sections with the demo's own figures (read here from the same
read models the page reads), a commissioner sees only the exceptions of the areas its
organisation commissions, and every home page passes axe-core and is photographed.
"""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from tests.browser.conftest import accessible, shot
from tests.browser.site import CSU, NCL, NEL

from projections import evaluation_tables as ev
from projections.cms import CmsList
from projections.evaluation import EvaluationTrail
from projections.exceptions import ExceptionReports


def service(site: Any) -> Any:
    return site.server.app.state.service


def areas_of(site: Any, org: str) -> list[str]:
    return sorted({a for c in site.ledger.commissioning.commissioned_by(org).values() for a in c.area_names})


def open_exceptions(site: Any) -> list[dict[str, Any]]:
    return service(site).view(ExceptionReports).select("exceptions", where={"status": "open"})


def section(page: Any, heading: str) -> Any:
    return page.locator("section", has=page.get_by_role("heading", name=heading, exact=False))


def test_a_commissioner_sees_the_exceptions_kpis_returns_escalations_and_vacancies_of_their_areas_only(site, browser):
    areas = areas_of(site, NEL)
    ours = [e for e in open_exceptions(site) if e["directorate"] in areas]
    theirs = [e for e in open_exceptions(site) if e["directorate"] not in areas]
    assert ours and theirs, "the demo has open exceptions in NEL and elsewhere"
    page = site.signed_in(browser, "commissioner", NEL)
    exceptions = section(page, "Exceptions in your areas")
    text = exceptions.inner_text()
    assert f"of {len(ours)} open exceptions" in text
    sharp_rises = sum(1 for e in ours if e["kind"] == "sharp_rise")
    assert f"{sharp_rises}\nsharp rises" in text or f"{sharp_rises} sharp rises" in text
    downgrades = sum(1 for e in ours if e["kind"] == "cqc_downgrade")
    assert f"{downgrades}\nCQC downgrades" in text or f"{downgrades} CQC downgrades" in text
    shown = {e["home_name"] for e in ours}
    elsewhere = {e["home_name"] for e in theirs} - shown
    assert elsewhere and not any(name in text for name in elsewhere), "no home of another ICB's areas"
    kpis = section(page, "Returns KPIs for your areas").inner_text()
    assert "Provider data returns by the deadline" in kpis and "Target: at least 75%" in kpis
    assert "Target: above 95%" in kpis
    assert "The latest month with returns due: December 2025." in section(page, "Returns due").inner_text()
    vacancies = section(page, "Vacancies today by bed type").inner_text()
    homes = service(site).view(CmsList).select("cms_homes", columns=("commissioning_area", "vacancies_nursing"))
    nursing = sum(h["vacancies_nursing"] or 0 for h in homes if h["commissioning_area"] in areas)
    assert f"{nursing:,}\nnursing" in vacancies or f"{nursing:,} nursing" in vacancies
    assert "Out of date" in vacancies  # the demo's reports end in December 2025
    accessible(page)
    shot(page, site, "home-commissioner-nel")
    page.context.close()


def test_a_commissioner_of_icb_ncl_sees_no_other_icbs_exceptions(site, browser):
    areas = areas_of(site, NCL)
    page = site.signed_in(browser, "commissioner", NCL)
    text = section(page, "Exceptions in your areas").inner_text()
    for e in open_exceptions(site):
        if e["directorate"] not in areas:
            assert e["home_name"] not in text
    assert "Barnet" in page.locator(".nhsuk-lede-text").inner_text()
    accessible(page)
    shot(page, site, "home-commissioner-ncl")
    page.context.close()


def test_a_contract_manager_sees_the_contracts_of_their_lots_under_escalation_with_the_dates_due(site, browser):
    page = site.signed_in(browser, "contract_manager", "ICB-SEL")
    escalations = section(page, "Contracts under escalation")
    text = escalations.inner_text()
    assert "AQP-CH-2025/SEL/" in text and "final notice 90 day" in text
    assert "2026" in text or "2025" in text  # the stage's due date, as a date
    assert escalations.get_by_role("link", name="AQP-CH-2025/SEL/", exact=False).first.get_attribute("href").startswith("/app/contracts/")
    accessible(page)
    shot(page, site, "home-contract-manager")
    page.context.close()


def test_a_procurement_lead_sees_its_competitions_and_where_each_stands(site, browser):
    page = site.signed_in(browser, "procurement_lead", CSU)
    text = section(page, "Your competitions").inner_text()
    assert "AQP-CH-2025" in text and "awarded" in text
    assert page.get_by_role("link", name="All competitions you may see").get_attribute("href") == "/app/competitions"
    accessible(page)
    shot(page, site, "home-procurement-lead")
    page.context.close()


def test_an_evaluator_sees_the_competitions_on_whose_panels_they_sit(site, browser):
    seat, = service(site).view(EvaluationTrail).select(ev.EVALUATORS.name, where={"panels": "financial"})
    page = site.signed_in(browser, "evaluator", seat["organisation"], seat["evaluator"])
    text = section(page, "Competitions on whose panels you sit").inner_text()
    assert "AQP-CH-2025" in text and "your panel: financial" in text
    accessible(page)
    shot(page, site, "home-evaluator")
    page.context.close()
    other = site.signed_in(browser, "evaluator", "ICB-NWL", "not.on.a.panel@nwl.example.nhs.uk")
    assert "You sit on no competition's panel." in section(other, "Competitions on whose panels you sit").inner_text()
    other.context.close()


def test_an_auditor_sees_the_state_of_verification(site, browser):
    page = site.signed_in(browser, "auditor", "NAO")
    text = section(page, "Verification").inner_text()
    assert f"{site.ledger.max_position():,}" in text
    assert page.get_by_role("link", name="Verify the ledger").first.get_attribute("href") == "/app/verification"
    accessible(page)
    shot(page, site, "home-auditor")
    page.context.close()


def test_a_provider_sees_its_homes_and_their_returns_and_nobody_elses(site, browser):
    homes = service(site).view(CmsList).select("cms_homes", columns=("location", "name", "provider"))
    provider = next(h["provider"] for h in homes if sum(1 for o in homes if o["provider"] == h["provider"]) >= 1 and h["provider"])
    own = {h["name"] for h in homes if h["provider"] == provider}
    page = site.signed_in(browser, "provider", provider)
    text = section(page, "Your homes").inner_text()
    assert all(name in text for name in own)
    assert not any(h["name"] in text for h in homes if h["provider"] != provider and h["name"] not in own)
    assert "Returns due" in page.locator("main").inner_text()
    assert "Exceptions in your areas" not in page.locator("main").inner_text()
    accessible(page)
    shot(page, site, "home-provider")
    page.context.close()


def test_other_roles_get_the_cards(site, browser):
    page = site.signed_in(browser, "foi_officer", NCL)
    expect(page.get_by_role("heading", name="Pages")).to_be_visible()
    expect(page.get_by_role("link", name="Care homes").first).to_be_visible()
    accessible(page)
    shot(page, site, "home-foi-officer")
    page.context.close()
