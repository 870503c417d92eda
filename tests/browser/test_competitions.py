"""Competitions and verification in a real browser, on both stores (the small London demo).

The procurement lead of NEL-CSU, who runs the round for the five ICBs, opens it and reads the
standings, the matrix and the moderation beside the original scores; an evaluator sees only
what the API lets them (never the bidder they declared a conflict with); a commissioner of an
organisation the competition does not name gets the API's 404; an auditor opens verification.
"""

from __future__ import annotations

import re

import httpx

from api.http.competitions import evaluation_for
from api.tokens import Principal
from audit.checkpoints import KeyRing
from projections.competitions import CompetitionList
from playwright.sync_api import expect

from tests.browser.conftest import accessible, shot
from tests.browser.site import CSU, NCL

AUDITOR = Principal(user="auditor.test", org="NAO", role="auditor", token_id="test")


def the_competition(site):
    service = site.server.app.state.service
    (row,) = service.view(CompetitionList).rows()
    trail = evaluation_for(service, AUDITOR, row["reference"])
    return row["reference"], trail


def test_the_procurement_lead_reads_the_standings_matrix_and_moderation(site, browser):
    reference, trail = the_competition(site)
    page = site.signed_in(browser, "procurement_lead", CSU, "lead@nelcsu.example.nhs.uk")
    page.get_by_role("link", name="Competitions", exact=True).first.click()
    page.wait_for_url(re.compile(r".*/app/competitions$"))
    expect(page.get_by_role("link", name=reference)).to_be_visible()
    accessible(page)
    shot(page, site, "competitions-procurement-lead")

    page.get_by_role("link", name=reference).click()
    page.wait_for_url(re.compile(rf".*/app/competitions/{reference}$"))
    expect(page.get_by_role("heading", name="Standings")).to_be_visible()
    standings = page.locator("#standings ~ table").first.inner_text()
    first_lot = trail.standings[0].lot
    ranked = [s for s in trail.standings if s.lot == first_lot and s.rank == 1]
    assert ranked and ranked[0].bidder in standings
    matrix = page.locator("table.aqp-matrix").inner_text()
    assert "points" in matrix
    if trail.moderations:
        # Moderation beside the original scores: each evaluator's score and the agreed one.
        moderation = page.locator("#moderation ~ table").first.inner_text()
        m = next(m for m in trail.moderations if any(s.bidder == m.bidder and s.lot == first_lot for s in trail.standings))
        assert m.individual_scores.split(", ")[0].replace("=", ": ") in moderation
    accessible(page)
    shot(page, site, "competition-procurement-lead")

    # A bidder's individual scores, with justifications.
    page.locator("#standings ~ table").first.get_by_role("link").first.click()
    page.wait_for_load_state()  # the page the click opened, drawn before it is read
    assert "justification" in page.locator("#scores ~ table").first.inner_text().lower() or page.locator("#scores ~ table td").count() > 3
    accessible(page)

    # Bad input is a page, never a 500.
    for query in ("?as_at=31-03-2025", "?lot=NOWHERE", "?bidder=%3Cscript%3E"):
        answer = page.goto(site.url(f"/app/competitions/{reference}{query}"))
        assert answer.status in (200, 400), query
    page.goto(site.url("/app/competitions?status=bogus"))
    expect(page.get_by_text("Status: choose one of the options").first).to_be_visible()
    page.context.close()


def test_an_evaluator_sees_only_what_the_api_lets_them(site, browser):
    reference, trail = the_competition(site)
    conflicted = [d for d in trail.declarations if d.conflicted == "yes"]
    evaluator = conflicted[0].evaluator if conflicted else trail.evaluators[0].evaluator
    org = next(e.organisation for e in trail.evaluators if e.evaluator == evaluator)
    page = site.signed_in(browser, "evaluator", org, evaluator)
    page.goto(site.url(f"/app/competitions/{reference}"))
    text = page.locator("main").inner_text()
    assert "Evaluation matrix" in text
    if conflicted:
        # The demo has one conflict: that bidder is in none of the evaluator's tenders and
        # evaluation sections, in any lot. (The decided outcome, letters and award name every
        # bidder: the API's record gives the decision to the panel, and so does the page.)
        for lot in {s.lot for s in trail.standings}:
            html = page.goto(site.url(f"/app/competitions/{reference}?lot={lot}")).text()
            working = html[html.index('id="tenders"'):html.index('id="clarifications"')]
            assert conflicted[0].bidder not in working
        html = page.goto(site.url(f"/app/competitions/{reference}?bidder={conflicted[0].bidder}")).text()
        assert "No score for this bidder that you may see." in html
    # The same as the API answers this evaluator.
    token = site.server.app.state.service.tokens.issue(user=evaluator, org=org, role="evaluator").token
    api = httpx.get(site.url(f"/competitions/{reference}/evaluation"), headers={"Authorization": f"Bearer {token}"}).json()
    assert all(s["weighted_score"] is None for s in api["standings"])  # no running score for an evaluator
    accessible(page)
    shot(page, site, "competition-evaluator")
    page.context.close()


def test_a_commissioner_of_an_organisation_not_named_gets_404(site, browser):
    reference, _ = the_competition(site)
    page = site.signed_in(browser, "commissioner", "ICB-KENT", "someone@kent.example.nhs.uk")
    answer = page.goto(site.url(f"/app/competitions/{reference}"))
    assert answer.status == 404
    assert reference not in page.locator("main").inner_text().split("competition")[0]
    accessible(page)
    shot(page, site, "competition-not-found")
    page.goto(site.url("/app/competitions"))
    assert reference not in page.locator("main").inner_text()
    page.context.close()

    # A commissioner of an ICB it is run for sees the decision, not the working.
    page = site.signed_in(browser, "commissioner", NCL, "a.khan@ncl.example.nhs.uk")
    answer = page.goto(site.url(f"/app/competitions/{reference}"))
    assert answer.status == 200
    expect(page.get_by_role("heading", name="Outcome")).to_be_visible()
    assert page.locator("table.aqp-matrix").count() == 0
    accessible(page)
    shot(page, site, "competition-commissioner")
    page.context.close()


def test_an_auditor_opens_verification_and_gets_a_proof(site, browser, tmp_path, monkeypatch):
    service = site.server.app.state.service
    ring = KeyRing(tmp_path / "keys")
    signer = ring.init("aqp-ledger.test/log")
    checkpoint = service.checkpoints().write(signer, origin="aqp-ledger.test/log")
    monkeypatch.setattr(service, "keys", ring)  # the server trusts this test's key, as it would var/keys
    page = site.signed_in(browser, "auditor", "NAO", "auditor@nao.example.gov.uk")
    page.get_by_role("link", name="Verification", exact=True).first.click()
    page.wait_for_url(re.compile(r".*/app/verification$"))
    text = page.locator("main").inner_text()
    assert checkpoint.root_hash.hex() in text
    assert "it verifies under a key this server trusts" in text
    assert "the stored Merkle tree gives the signed root" in text
    assert "aqp audit verify" in text and "python -m audit.verifier" in text
    accessible(page)
    shot(page, site, "verification-auditor")
    with page.expect_download() as download:
        page.get_by_label("Event position (notification id)").fill("1")
        page.get_by_role("button", name="Download the proof bundle").click()
    assert download.value.suggested_filename == "proof-1.json"
    page.context.close()

    # Anybody may see the checkpoints; a proof bundle only a proof reader.
    page = site.signed_in(browser, "commissioner", NCL)
    page.goto(site.url("/app/verification"))
    assert page.get_by_role("button", name="Download the proof bundle").count() == 0
    assert page.goto(site.url("/app/verification/proof?position=1")).status == 403
    page.context.close()


def test_the_procurement_lead_opens_the_procurement_report_and_downloads_its_pdf(site, browser, tmp_path, monkeypatch):
    reference, _ = the_competition(site)
    service = site.server.app.state.service
    ring = KeyRing(tmp_path / "keys")
    signer = ring.init("aqp-ledger.test/log")
    service.checkpoints().log.catch_up()
    service.checkpoints().write(signer, origin="aqp-ledger.test/log")
    monkeypatch.setattr(service, "keys", ring)  # the pack's facts are signed with this test's key
    page = site.signed_in(browser, "procurement_lead", CSU, "lead@nelcsu.example.nhs.uk")
    page.goto(site.url(f"/app/competitions/{reference}"))
    page.get_by_role("link", name="read the procurement report").click()
    page.wait_for_url(re.compile(rf".*/app/competitions/{reference}/defence-pack$"))
    expect(page.get_by_role("heading", name=f"Procurement report: {reference}", level=1)).to_be_visible()
    expect(page.get_by_role("heading", name="How to verify this report without trusting us")).to_be_visible()
    accessible(page)
    shot(page, site, "procurement-report")
    with page.expect_download(timeout=120_000) as download:
        page.get_by_role("link", name="the report as PDF").click()
    assert download.value.suggested_filename == f"procurement-report-{reference}.pdf"
    with open(download.value.path(), "rb") as file:
        assert file.read(5) == b"%PDF-"
    page.context.close()
