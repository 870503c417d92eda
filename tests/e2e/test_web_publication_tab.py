"""The "Publication" tab of the competition and contract pages, over real HTTP on both stores.

The tab is what the public feed says: the competition's tab lists the releases the feed's record
of its ocid holds, in the same order with the same ids, the same for every role that may open
the page; a tender submitted before the opening shows nowhere in it; a Procurement Act 2023
contract's tab says which notice it owes and how late, and, once published, lists the notice
with its Find a Tender code; every release links to `/ocds/releases/{id}`, a release package
that validates (an unknown id is a problem document, 404).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

import httpx
import pytest

from api.scenario import apply_lines
from domain.contracts import commands as k
from tests.e2e.http_server import ROOT, running_server, world
from tests.e2e.test_web_sign_in import press_sign_in
from tests.integration.test_notices import CONTRACT as PA_CONTRACT, MANAGER as PA_MANAGER, pa2023_contract
from tests.ocds_schemas import errors

pytestmark = pytest.mark.storage

OCID = "ocds-aqp000-AQP-CH-2026"
BIDDER = "zephyr-care-homes"
RELEASE = re.compile(r'data-release="([^"]+)"')


@pytest.fixture
def served(database_url):
    with running_server(database_url) as server:
        world(server.ledger)
        lines = (ROOT / "scenarios" / "nhse-call-off.jsonl").read_text(encoding="utf-8").splitlines()
        assert all(o.met for o in apply_lines(server.ledger, lines))
        yield server


@contextmanager
def person(server, role: str, org: str, user: str | None = None) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=120, follow_redirects=False) as client:
        link = server.app.state.sign_ins.issue(user=user or f"{role}.{org}".lower(), org=org, role=role).path()
        assert press_sign_in(client, link).status_code == 303
        yield client


def main_of(page: str) -> str:
    """The page's main content (the header names who is signed in), as text to compare."""
    return page[page.index("<main"):page.index("</main>")]


def released(page: str, table: str | None = None) -> list[str]:
    if table is not None:
        start = page.index(f'id="{table}"')
        page = page[start:page.index("</table>", start)]
    return RELEASE.findall(page)


def test_the_competition_tab_lists_the_feeds_releases_in_order_the_same_for_everyone(served):
    with httpx.Client(base_url=served.base_url) as anonymous:
        record = anonymous.get(f"/ocds/records/{OCID}").json()["records"][0]
    expected = [r["id"] for r in record["releases"]]
    assert len(expected) > 5
    shown = {}
    for role, org in (("procurement_lead", "NEL-CSU"), ("commissioner", "ICB-NCL"), ("auditor", "NAO"), ("provider", "aster-care-homes")):
        with person(served, role, org) as who:
            page = who.get("/app/competitions/AQP-CH-2026?tab=publication")
            assert page.status_code == 200, page.text[:300]
            shown[role] = main_of(page.text)
            assert released(page.text) == expected, role
            assert 'aria-current="page">Publication' in page.text
            assert f'href="/ocds/records/{OCID}"' in page.text and 'href="/ocds/releases"' in page.text
            assert "exactly what anybody reading the public OCDS feed sees" in page.text
            record_tab = who.get("/app/competitions/AQP-CH-2026")
            assert record_tab.status_code == 200 and 'href="/app/competitions/AQP-CH-2026?tab=publication"' in record_tab.text
    assert len(set(shown.values())) == 1  # the world's view, whoever asks
    text = html.unescape(shown["auditor"])
    assert "Tender published" in text and "Award published" in text and "Award updated" in text
    assert "Contract award notice" in text  # the competition's notices, in words


def test_a_competition_absent_to_the_viewer_has_no_tab_either(served):
    with person(served, "commissioner", "ICB-NOWHERE") as outsider:
        assert outsider.get("/app/competitions/AQP-CH-2026").status_code == 404
        assert outsider.get("/app/competitions/AQP-CH-2026?tab=publication").status_code == 404
    with person(served, "commissioner", "ICB-NCL") as who:
        wrong = who.get("/app/competitions/AQP-CH-2026?tab=secrets")
        assert wrong.status_code == 400 and "tab must be publication" in wrong.text and 'href="#page-tabs"' in wrong.text


def test_a_sealed_tender_never_shows_before_the_opening(served):
    now = datetime.now(timezone.utc)
    with served.client("procurement_lead", "NEL-CSU", "j.okafor") as lead:
        opened = lead.post("/commands", json={
            "type": "competition.open", "competition": "SEALED-PUB", "title": "Residential care", "procedure": "open",
            "standstill_regime": "pcr2015", "lots": [{"id": "NEL", "name": "North East London"}], "acting_for": ["ICB-NEL"],
            "clarification_deadline": (now + timedelta(days=20)).isoformat(),
            "tender_deadline": (now + timedelta(days=30)).isoformat(),
        })
        assert opened.status_code == 200, opened.text
        criteria = {"type": "criteria.publish", "competition": "SEALED-PUB", "financial_thresholds": {},
                    "criteria": [{"id": "Q1", "title": "Quality", "panel": "technical", "weight": 100, "max_score": 5}]}
        assert lead.post("/commands", json=criteria).status_code == 200
    with served.client("provider", BIDDER, "bm-zephyr") as bidder:
        tendered = bidder.post("/commands", json={
            "type": "tender.submit", "competition": "SEALED-PUB", "lots": ["NEL"], "content_sha256": "e" * 64,
            "size_bytes": 4096, "reason": f"the tender of {BIDDER}"})
        assert tendered.status_code == 200, tendered.text
    with person(served, "procurement_lead", "NEL-CSU") as lead:
        page = lead.get("/app/competitions/SEALED-PUB?tab=publication")
    assert page.status_code == 200, page.text[:300]
    with httpx.Client(base_url=served.base_url) as anonymous:
        feed = anonymous.get("/ocds/records/ocds-aqp000-SEALED-PUB").json()["records"][0]["releases"]
        assert released(page.text) == [r["id"] for r in feed]
        assert [r["tag"] for r in feed] == [["tender"], ["tenderUpdate"]]  # the opening and the criteria: nothing of the tender
        bodies = [page.text] + [anonymous.get(f"/ocds/releases/{r['id']}").text for r in feed]
    for body in bodies:
        assert "zephyr" not in body.lower() and "e" * 64 not in body and "4096" not in body


def test_a_contracts_tab_shows_its_overdue_notice_and_then_the_notice_with_its_code(served):
    ledger = served.ledger
    pa2023_contract(ledger)  # signed 16 March 2026: its contract details notice was due by 14 April 2026
    vary = k.VaryContract(contract=PA_CONTRACT, kind="scope", ground="pa2023_sch8_1", value_change=5_000_000,
                          effective_from=date(2026, 6, 1), rationale="More nursing beds, as the contract provides.")
    assert ledger.handle(vary, PA_MANAGER, at=datetime(2026, 5, 1, 9, tzinfo=timezone.utc)).ok
    address = f"/app/contracts/{PA_CONTRACT}?tab=publication"
    with person(served, "contract_manager", "NCC") as manager:
        before = manager.get(address)
        assert before.status_code == 200, before.text[:300]
        text = html.unescape(before.text)
        assert "Contract details notice (UK7) due by 14 April 2026" in text
        assert '<strong class="nhsuk-tag nhsuk-tag--red">Overdue</strong>' in before.text
        assert "No notice is recorded as published." in text
        own = released(before.text, "contract-releases-table")
        assert len(own) == 3 and "Contract amended" in text  # awarded, signed, varied
        assert released(before.text).count(own[0]) == 1

        # The owed notice's payload, to send to Find a Tender: the page gives it and its SHA-256, the same every time.
        (href,) = re.findall(r'<a href="([^"]+notice_payload=contract_details_notice)" download>', before.text)
        shown = re.search(r"SHA-256 <span class=\"aqp-hash\">([0-9a-f]{64})</span>", before.text).group(1)
        payload = manager.get(html.unescape(href))
        assert payload.status_code == 200 and payload.headers["content-type"].startswith("application/json")
        assert payload.headers["x-payload-sha256"] == hashlib.sha256(payload.content).hexdigest() == shown
        assert manager.get(html.unescape(href)).content == payload.content
        release = payload.json()
        assert release["tag"] == ["contract"] and release["contracts"][0]["documents"][-1]["noticeType"] == "UK7"
        assert "attachment" in payload.headers["content-disposition"]
        wrong = manager.get(address + "&notice_payload=award_notice")
        assert wrong.status_code == 400 and "notice_payload must be" in html.unescape(wrong.text)
        with person(served, "provider", "another-provider") as stranger:
            assert stranger.get(html.unescape(href)).status_code == 404  # a provider not holding it: no tab, no payload

        notice = k.PublishContractNotice(contract=PA_CONTRACT, notice_type="contract_details_notice",
                                         notice_reference="FTS-UK7-77", published_on=date(2026, 4, 20), payload_sha256=shown)
        assert ledger.handle(notice, PA_MANAGER, at=datetime(2026, 5, 2, 9, tzinfo=timezone.utc)).ok
        after = html.unescape(manager.get(address).text)
    assert "due by 14 April 2026" not in after and "Overdue" not in after
    assert "Contract details notice" in after and ">UK7<" in after and "FTS-UK7-77" in after and shown in after
    assert "20 April 2026" in after


def test_a_contracts_tab_lists_its_own_releases_below_the_process_ones(served):
    from projections.contract_register import ContractRegister

    rows = served.app.state.service.view(ContractRegister).rows("contract_register")
    ours, other = sorted(r["reference"] for r in rows if r["reference"].startswith("AQP-CH-2026/"))[:2]
    with httpx.Client(base_url=served.base_url) as anonymous:
        feed = anonymous.get(f"/ocds/records/{OCID}").json()["records"][0]["releases"]
    ours_id, other_id = f"{OCID}-contract-{ours}", f"{OCID}-contract-{other}"
    carrying = [r["id"] for r in feed if ours_id in {c["id"] for c in r.get("contracts", [])}]
    of_process = [r["id"] for r in feed if not r.get("contracts")]
    with person(served, "contract_manager", "ICB-NCL") as manager:
        page = manager.get(f"/app/contracts/{ours}?tab=publication")
    assert page.status_code == 200, page.text[:300]
    assert released(page.text, "process-releases-table") == of_process and of_process
    assert released(page.text, "contract-releases-table") == carrying and carrying
    others_only = {r["id"] for r in feed if other_id in {c["id"] for c in r.get("contracts", [])}} - set(carrying)
    assert others_only and not set(released(page.text)) & others_only  # another contract's releases are not its own
    assert page.text.index('id="process-releases-table"') < page.text.index('id="contract-releases-table"')


def test_a_release_by_id_is_a_package_that_validates_and_an_unknown_one_a_404(served):
    with httpx.Client(base_url=served.base_url) as anonymous:
        ids = [r["id"] for r in anonymous.get(f"/ocds/records/{OCID}").json()["records"][0]["releases"]]
        for release_id in (ids[0], ids[len(ids) // 2], ids[-1]):
            answer = anonymous.get(f"/ocds/releases/{release_id}")
            assert answer.status_code == 200, answer.text
            package = answer.json()
            assert errors(package, "release-package-schema.json") == []
            assert [r["id"] for r in package["releases"]] == [release_id]
        for bad in (f"{OCID}-999999999", "nothing", "x" * 400, "%00"):
            answer = anonymous.get(f"/ocds/releases/{bad}")
            assert 400 <= answer.status_code < 500, (bad, answer.status_code)
            assert answer.headers["content-type"] == "application/problem+json"
        missing = anonymous.get(f"/ocds/releases/{OCID}-999999999")
        assert missing.status_code == 404 and "no release" in missing.json()["detail"]
