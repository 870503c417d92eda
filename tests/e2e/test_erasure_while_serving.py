"""An erasure made by another process reaches a server that is already running (issue 13, finding 6).

`aqp serve` runs as a process of its own over a ledger holding the example scenarios and a
home's contact. Every path that shows a person's name, the pages included, is read first (so whatever the server
keeps in memory it has kept), then `aqp gdpr erase` runs as a separate process for an
evaluator and for the contact, and the very next read of each path shows "[erased]":
the competition, the home, and the events feed. Others' names are still shown, so the
erasure took the people it named and no one else. Both stores.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import httpx
import pytest

from api.bootstrap import ledger_at
from api.tokens import TokenStore
from api.web.sessions import SignIns
from projections.runner import catch_up_all
from domain.kernel.metadata import Actor
from domain.kernel.personal import ERASED
from domain.providers import commands as pc
from tests.e2e.http_server import ROOT, serve_process, world
from tests.e2e.test_web_sign_in import press_sign_in

pytestmark = pytest.mark.storage

HOME = "1-1000000001"
CONTACT = "c-aster-deputy"
EVALUATOR = "r.hughes"
DPO = Actor(id="dpo", org="NEL-CSU", role="admin")


def erase(subject: str, database_url: str) -> None:
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json"}
    done = subprocess.run(
        [sys.executable, "-m", "api.cli", "gdpr", "erase", subject, "--reason", "Article 17 request DPO-2026-077", "--as", "admin:NEL-CSU:dpo"],
        capture_output=True, text=True, env=env, cwd=ROOT, timeout=120,
    )
    assert done.returncode == 0, done.stderr


def reads(client: httpx.Client) -> tuple[dict, dict, str]:
    """The competition's evaluator, the home's contact and the whole feed, as the server gives them now."""
    competition = client.get("/competitions/AQP-CH-2026")
    home = client.get(f"/locations/{HOME}")
    feed = client.get("/events", params={"after": 0, "limit": 1000})
    for answer in (competition, home, feed):
        assert answer.status_code == 200, answer.text
    return competition.json()["evaluators"], home.json()["contacts"], json.dumps(feed.json())


def page_reads(browser: httpx.Client) -> tuple[httpx.Response, httpx.Response]:
    """The competition's page and the home's page, as the signed-in browser gets them now."""
    answers = browser.get("/app/competitions/AQP-CH-2026"), browser.get(f"/app/homes/{HOME}")
    for answer in answers:
        assert answer.status_code == 200, answer.text[:300]
    return answers


def test_an_erasure_by_another_process_shows_on_the_running_servers_very_next_reads(database_url):
    ledger = ledger_at(database_url)
    try:
        world(ledger)
        added = pc.AddLocationContact(location=HOME, contact=CONTACT, role="deputy manager", name="Grace Adeyemi", email="grace.adeyemi@example.org")
        assert ledger.handle(added, DPO).ok
        token = TokenStore(ledger).issue(user="dpo", org="NEL-CSU", role="admin").token
        link = SignIns(ledger).issue(user="dpo", org="NEL-CSU", role="admin").path()
        catch_up_all(ledger)  # as a projections worker would: pages are kept only over read models that have followed the log
    finally:
        ledger.close()

    with serve_process(database_url) as (_process, base), httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as client, \
            httpx.Client(base_url=base, timeout=60) as browser:
        evaluators, contacts, feed = reads(client)
        assert evaluators[EVALUATOR]["name"] == "Rhian Hughes" and contacts[CONTACT]["name"] == "Grace Adeyemi"
        assert "Rhian Hughes" in feed and "grace.adeyemi@example.org" in feed
        # The pages too, read twice so that the second is the one the server keeps (`api.web.kept`).
        assert press_sign_in(browser, link).status_code == 303
        for _ in range(2):
            competition, home = page_reads(browser)
        assert "kept" in competition.headers["server-timing"] and "kept" in home.headers["server-timing"]
        assert "Grace Adeyemi" in home.text and "grace.adeyemi@example.org" in home.text  # (the competition page names no evaluator)

        erase(EVALUATOR, database_url)
        erase(CONTACT, database_url)

        evaluators, contacts, feed = reads(client)
        competition, home = page_reads(browser)
        assert "Grace Adeyemi" not in home.text and "grace.adeyemi@" not in home.text
        assert "drawn" in competition.headers["server-timing"]
        assert evaluators[EVALUATOR]["name"] == evaluators[EVALUATOR]["email"] == ERASED
        assert contacts[CONTACT]["name"] == contacts[CONTACT]["email"] == ERASED
        for erased in ("Rhian Hughes", "rhian.hughes@", "Grace Adeyemi", "grace.adeyemi@"):
            assert erased not in feed
        # The erasure took those two people and no one else.
        assert evaluators["s.mensah"]["name"] == "Samuel Mensah" and "Samuel Mensah" in feed
