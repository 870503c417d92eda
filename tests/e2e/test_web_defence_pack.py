"""The procurement report from the web app: the page, its PDF and its data file, over real HTTP on both stores.

A procurement lead of the authority opens the competition, follows the link to the report,
reads it as a page, downloads the PDF (drawn to PNG and read back: the facts, the checkpoint
and how to verify are on its pages) and the data file, which the standalone verifier, run as
its own process with only the public key, checks offline. A bidder gets its own report and
not another's; another authority's lead and a commissioner get nothing of it.
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pypdfium2 as pdfium
import pytest

from audit.checkpoints import KeyRing
from domain import access
from tests.e2e.http_server import ROOT, running_server, world
from tests.e2e.test_web_sign_in import press_sign_in

pytestmark = pytest.mark.storage

ORIGIN = "aqp-ledger.test/log"
REPORT = "/app/competitions/AQP-CH-2026/defence-pack"


@pytest.fixture
def served(database_url, tmp_path, monkeypatch):
    ring = KeyRing(tmp_path / "keys", origin=ORIGIN)
    ring.init(ORIGIN)
    monkeypatch.setenv("AQP_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("AQP_LOG_ORIGIN", ORIGIN)
    with running_server(database_url) as server:
        world(server.ledger)
        checkpoints = server.app.state.service.checkpoints()
        checkpoints.log.catch_up()
        checkpoints.write(ring.signer(), origin=ORIGIN)
        yield server, ring


@contextmanager
def person(server, role: str, org: str, user: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=120, follow_redirects=False) as client:
        assert press_sign_in(client, server.app.state.sign_ins.issue(user=user, org=org, role=role).path()).status_code == 303
        yield client


def pdf_text(pdf: bytes) -> tuple[int, list[str]]:
    """The PDF's page count and each page's text, read back after drawing every page (as a reader would see it)."""
    document = pdfium.PdfDocument(pdf)
    pages = []
    for page in document:
        image = page.render(scale=0.5).to_pil()
        assert image.size[0] > 200 and image.getbbox() is not None, "a page drew nothing"
        pages.append(page.get_textpage().get_text_range())
    return len(document), pages


def test_a_lead_reads_the_report_downloads_its_pdf_and_data_and_the_verifier_checks_it(served, tmp_path):
    server, ring = served
    with person(server, "procurement_lead", "NEL-CSU", "j.okafor") as lead:
        competition = lead.get("/app/competitions/AQP-CH-2026")
        assert competition.status_code == 200 and f'href="{REPORT}"' in competition.text
        page = lead.get(REPORT)
        assert page.status_code == 200, page.text[:300]
        root = server.app.state.service.checkpoints().latest().root_hash
        for text in ("Procurement report: AQP-CH-2026", "How to verify this report", "Annex A: the events cited",
                     "The standstill day by day", "aster-care-homes"):
            assert text in page.text

        pdf = lead.get(REPORT + ".pdf")
        assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
        assert 'filename="procurement-report-AQP-CH-2026.pdf"' in pdf.headers["content-disposition"]
        count, pages = pdf_text(pdf.content)
        assert count >= 10
        whole = "\n".join(pages)
        assert "Procurement report: AQP-CH-2026" in pages[0] and "How to verify this report" in pages[0]
        assert "python -m audit.verifier pack" in pages[0]
        assert f"Page 1 of {count}" in pages[0]
        assert "Annex B: the signed checkpoint" in whole and "aster-care-homes" in whole
        assert base64.b64encode(root).decode()[:20] in whole.replace("\n", "")

        data = lead.get(REPORT + ".json")
        assert data.status_code == 200
        (tmp_path / "pack.json").write_bytes(data.content)
        checked = subprocess.run(
            [sys.executable, "-m", "audit.verifier", "pack", str(tmp_path / "pack.json"), "--key", str(ring.verifier_keys_file)],
            capture_output=True, text=True, cwd=ROOT, timeout=300,
        )
        assert checked.returncode == 0, checked.stderr
        assert checked.stdout.splitlines()[-1].startswith("OK: ")
        # The data file's facts are the page's: one fact's statement and values, as drawn.
        pack = json.loads(data.content)
        assert sum(len(s["facts"]) for s in pack["sections"]) == page.text.count('<li id="fact-')


def test_a_bidder_gets_its_own_report_and_nobody_else_any(served):
    server, _ring = served
    competition = server.ledger.competition("AQP-CH-2026")
    successful = {b for lot in competition.outcome["lots"].values() for b in lot["successful"]}
    others_unsuccessful = set(competition.tenders) - successful - {"ivydene-care"}
    assert others_unsuccessful, "the example must have another unsuccessful bidder for this to mean anything"
    with person(server, "provider", "ivydene-care", "bm-ivydene-care") as bidder:
        own = bidder.get(REPORT)
        assert own.status_code == 200 and "ivydene-care" in own.text
        for other in others_unsuccessful:  # the winners may be named (reg 86); no other loser is
            assert other not in own.text
        assert bidder.get(REPORT, params={"bidder": "damson-healthcare"}).status_code == 404
        assert bidder.get(REPORT + ".pdf", params={"bidder": "damson-healthcare"}).status_code == 404
    with person(server, "procurement_lead", "SWL-CSU", "lead@swl") as stranger:
        for suffix in ("", ".pdf", ".json"):
            assert stranger.get(REPORT + suffix).status_code == 404
    with person(server, "commissioner", "ICB-NCL", "a.khan@ncl.example.nhs.uk") as commissioner:
        assert commissioner.get(REPORT).status_code == 403
        assert f'href="{REPORT}"' not in commissioner.get("/app/competitions/AQP-CH-2026").text


def test_every_role_of_the_authority_and_of_another_gets_from_the_pages_what_the_api_gives(served):
    """The report's page, PDF and data file answer every role of the running authority (NEL-CSU),
    of another (SWL-CSU) and a bidder exactly as `GET /competitions/{ref}/defence-pack` does."""
    server, _ring = served
    who = [(role, org) for role in access.ROLES for org in ("NEL-CSU", "SWL-CSU")] + [("provider", "ivydene-care")]
    seen = set()
    for role, org in who:
        user = f"{role}@{org}".lower()
        with server.client(role, org, user) as api, person(server, role, org, user) as pages:
            expected = api.get("/competitions/AQP-CH-2026/defence-pack").status_code
            for suffix in ("", ".pdf", ".json"):
                answered = pages.get(REPORT + suffix).status_code
                assert answered == expected, f"{role} of {org}: the page{suffix} answers {answered}, the API {expected}"
            seen.add(expected)
    assert seen == {200, 403, 404}, f"the matrix must hold each answer at least once, not {seen}"
