"""Pages kept (`api.web.kept`): sent again only to the same person, for the same address, while nothing has changed.

Over real HTTP on both stores, as a browser gets them. A page's second answer is the kept one
(its `Server-Timing` says `kept`), with a script nonce of its own that its CSP names; anything
recorded, a checkpoint signed, another person, another session's form token, another query,
or a hard reload gives a page drawn afresh, showing what is true now. And the rule that makes
keeping safe: a page is not kept while a read model is behind the log.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone

import httpx
import pytest

from api.bootstrap import ledger_at
from api.http.service import LedgerService
from audit.checkpoints import KeyRing
from api.web.kept import ledger_state, state_for_keeping
from projections.catalogue import READ_MODELS
from projections import follow
from tests.e2e.http_server import HOME, running_server, with_a_home, world
from tests.e2e.test_web_sign_in import FORM_TOKEN, press_sign_in

pytestmark = pytest.mark.storage

NONCE = re.compile(r'<script nonce="([^"]+)"')


@pytest.fixture
def served(database_url):
    with running_server(database_url) as s:
        yield with_a_home(s)


@contextmanager
def person(served, role: str = "admin", org: str = "AQP-ADMIN", user: str = "ada.admin") -> Iterator[httpx.Client]:
    """A browser signed in as this person."""
    with httpx.Client(base_url=served.base_url, timeout=30, follow_redirects=False) as client:
        link = served.app.state.sign_ins.issue(user=user, org=org, role=role).path()
        assert press_sign_in(client, link).status_code == 303
        yield client


def made(answer: httpx.Response) -> str:
    """How the server made the answer: `kept` or `drawn`."""
    assert answer.status_code == 200, answer.text[:300]
    return answer.headers["server-timing"].partition(";")[0]


def without_nonce(answer: httpx.Response) -> str:
    return answer.text.replace(NONCE.search(answer.text).group(1), "")


def test_a_page_is_sent_again_with_a_new_nonce_until_something_is_recorded(served):
    address = f"/app/homes/{HOME}"
    with person(served) as admin, served.client("provider", HOME, "aster-manager") as home:
        first, second = admin.get(address), admin.get(address)
        assert (made(first), made(second)) == ("drawn", "kept")
        assert without_nonce(first) == without_nonce(second)
        nonces = [NONCE.search(a.text).group(1) for a in (first, second)]
        assert nonces[0] != nonces[1]
        for answer, nonce in zip((first, second), nonces):
            assert f"'nonce-{nonce}'" in answer.headers["content-security-policy"]
            assert "\x00" not in answer.text

        today = datetime.now(timezone.utc).date().isoformat()
        assert home.post(f"/locations/{HOME}/vacancies", json={"date": today, "nursing": 7, "residential": 2}).status_code == 200
        after = admin.get(address)
        assert made(after) == "drawn", "a page kept from before the report was sent after it"
        assert without_nonce(after) != without_nonce(second)
        assert made(admin.get(address)) == "kept"
        # Another query is another page; a hard reload draws it afresh (and keeps that).
        assert made(admin.get(address, params={"metric": "falls"})) == "drawn"
        assert made(admin.get(address, headers={"Cache-Control": "no-cache"})) == "drawn"
        assert made(admin.get(address)) == "kept"


def test_a_kept_page_is_never_another_persons_and_carries_this_sessions_form_token(served):
    address = "/app/"
    with person(served) as ada, person(served) as ada_again, \
            person(served, "commissioner", "ICB-NCL", "a.khan@ncl.example.nhs.uk") as commissioner, \
            person(served, "admin", "AQP-ADMIN", "ben.admin") as ben:
        ada_page = ada.get(address)
        assert made(ada_page) == "drawn"
        # The same person in a second session: the page is the same one, with that session's own form token.
        again = ada_again.get(address)
        assert made(again) == "kept"
        tokens = [FORM_TOKEN.search(a.text).group(1) for a in (ada_page, again)]
        assert tokens[0] != tokens[1]
        out = ada_again.post("/app/sign-out", data={"csrf_token": tokens[1]})
        assert out.status_code == 200 and "You have signed out" in out.text
        assert ada_again.get(address).status_code == 401
        assert made(ada.get(address)) == "kept", "signing out one session touched the other"
        # Another person (another role and organisation, or another user of the same): their own page.
        for other, name in ((commissioner, "a.khan@ncl.example.nhs.uk"), (ben, "ben.admin")):
            theirs = other.get(address)
            assert made(theirs) == "drawn"
            assert name in theirs.text and "ada.admin" not in theirs.text


def test_a_new_checkpoint_is_a_new_auditors_home_page(served, tmp_path):
    service = served.app.state.service
    ring = KeyRing(tmp_path / "keys")
    ring.init("aqp-ledger.test/log")
    with person(served, "auditor", "NAO", "auditor@nao.example.gov.uk") as auditor:
        assert made(auditor.get("/app/")) == "drawn"
        before = auditor.get("/app/")
        assert made(before) == "kept"
        log = service.checkpoints().log
        log.catch_up()
        service.checkpoints().write(ring.signer())  # records no event: the checkpoint count is in the key
        after = auditor.get("/app/")
        assert made(after) == "drawn"
        assert without_nonce(after) != without_nonce(before)
        # Verification shows the Merkle log's tip, which its follower moves without an event: that is in its key.
        assert [made(auditor.get("/app/verification")) for _ in range(2)] == ["drawn", "kept"]


def test_no_page_is_kept_while_a_read_model_is_behind_the_log(database_url):
    # A ledger opened as the CLI opens one follows no read model: what it records, the read models have not seen.
    ledger = ledger_at(database_url)
    try:
        service = LedgerService(ledger)
        for model in READ_MODELS.values():
            follow.catch_up(ledger, model(service.view(model)))
        assert state_for_keeping(service, ledger_state(service))
        world(ledger)
        assert not state_for_keeping(service, ledger_state(service)), "a page drawn now would be older than its key"
        for model in READ_MODELS.values():
            follow.catch_up(ledger, model(service.view(model)))
        assert state_for_keeping(service, ledger_state(service))
    finally:
        ledger.close()
