"""Sealed means sealed, and one redaction for every read of events (issue 13, findings 3, 4, 7).

Over real HTTP against a real server on both stores, with the example scenarios applied (an
awarded competition whose evaluators scored, declared and assessed) and a signing key:

- a bidder tenders for a competition whose deadline is a month away, naming itself in the
  request id (`X-Request-ID`) and in the reason; until the tenders are opened, no body any
  reader can get (the feed, the event index and its subjects, JSON and CSV and as of now, a
  proof bundle, the competition, its list, trail and procurement report, the public OCDS feed and record) holds the bidder's organisation, its
  account or the request id; once opened, the tender shows on every path;
- an FOI officer gets no evaluator's account from the event index or its subjects (evaluators'
  identities are personal data, as the feed already withholds them); an auditor does;
- a proof read is a read: it answers while another holds the write lock (the process's, or the
  database's), and records nothing (no checkpoint signed, no leaf appended).
"""

from __future__ import annotations

import base64
import json
import re
import sqlite3
import threading
import time
from datetime import datetime, timedelta, timezone
from contextlib import closing
from typing import Any
from urllib.parse import parse_qs, urlparse

import httpx
import psycopg
import pytest

from audit.checkpoints import Checkpoints, KeyRing
from audit.log import AuditLog
from audit.verifier.__main__ import check
from domain.kernel.metadata import Actor
from domain.procurement.commands import OpenTenders
from tests.conftest import postgres_schema, require_postgres
from tests.e2e.http_server import running_server, world

pytestmark = pytest.mark.storage

LEAD = Actor(id="j.okafor", org="NEL-CSU", role="procurement_lead")
BIDDER = "zephyr-care-homes"
BIDDER_ACCOUNT = "bm-zephyr"
EVALUATORS = ("dr.a.patel", "m.owusu", "r.hughes", "s.mensah")
#: every role that reads anything about events (the oversight roles and the authority's)
READERS = (("auditor", "NAO"), ("admin", "AQP-OPS"), ("foi_officer", "ICO"), ("procurement_lead", "NEL-CSU"),
           ("commissioner", "ICB-NEL"), ("contract_manager", "ICB-NEL"), ("system", "aqp-ledger"))


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request, tmp_path_factory):
    """One server per store over the example scenarios, with a signing key (AQP_KEY_DIR)."""
    keys = tmp_path_factory.mktemp("keys")
    ring = KeyRing(keys, origin="aqp-ledger.test/log")
    signer = ring.init("aqp-ledger.test/log")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("AQP_KEY_DIR", str(keys))
        env.setenv("AQP_LOG_ORIGIN", "aqp-ledger.test/log")
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('sealed')}/ledger.db"
            with running_server(url) as server:
                world(server.ledger)
                yield server, url, ring, signer
            return
        require_postgres()
        with postgres_schema() as url, running_server(url) as server:
            world(server.ledger)
            yield server, url, ring, signer


def _open_competition(server: Any, reference: str) -> datetime:
    """A competition NEL-CSU runs for ICB-NEL, taking tenders for a month; its tender deadline.

    ICB-NEL is named so that its commissioner and contract manager (two of the readers) are
    parties to the round: the round is there for them, and the test asks what they see of it.
    """
    now = datetime.now(timezone.utc)
    deadline = now + timedelta(days=30)
    with server.client("procurement_lead", "NEL-CSU", "j.okafor") as lead:
        opened = lead.post("/commands", json={
            "type": "competition.open", "competition": reference, "title": "Residential care", "procedure": "open",
            "standstill_regime": "pcr2015", "lots": [{"id": "NEL", "name": "North East London"}],
            "acting_for": ["ICB-NEL"],
            "clarification_deadline": (now + timedelta(days=20)).isoformat(), "tender_deadline": deadline.isoformat(),
        })
        assert opened.status_code == 200, opened.text
        criteria = {"type": "criteria.publish", "competition": reference, "financial_thresholds": {},
                    "criteria": [{"id": "Q1", "title": "Quality", "panel": "technical", "weight": 100, "max_score": 5}]}
        assert lead.post("/commands", json=criteria).status_code == 200
    return deadline


def _sign(server: Any, ring: KeyRing) -> None:
    """A checkpoint covering the log as it stands, as `aqp audit checkpoint` signs one."""
    Checkpoints(AuditLog(server.ledger)).write(ring.signer(), origin=ring.origin)


def _bodies(server: Any, reference: str, request_id: str, position: int) -> dict[str, str]:
    """Every body each reader gets from every path that returns events or a competition."""
    now = datetime.now(timezone.utc).isoformat()
    paths = [
        ("/events", {"after": max(position - 20, 0), "limit": 1000}),
        ("/audit/index", {"reference": reference, "limit": 500}),
        ("/audit/index", {"correlation_id": request_id}),
        ("/audit/index", {"actor_org": BIDDER}),
        ("/audit/index", {"reference": reference, "as_of": now, "limit": 500}),
        ("/audit/subjects", {"subject": BIDDER}),
        ("/audit/subjects", {"reference": reference, "limit": 500}),
        ("/audit/subjects", {"reference": reference, "as_of": now, "limit": 500}),
        (f"/audit/proofs/{position}", {}),
        (f"/competitions/{reference}", {}),
        (f"/competitions/{reference}", {"as_of": now}),
        ("/competitions", {}),
        (f"/competitions/{reference}/evaluation", {}),
        (f"/competitions/{reference}/defence-pack", {}),
    ]
    csv_paths = [("/audit/index", {"reference": reference}), ("/audit/subjects", {"reference": reference}),
                 ("/audit/index", {"as_of": now, "kind": "competition"}), ("/competitions", {})]
    found: dict[str, str] = {}
    for role, org in READERS:
        with server.client(role, org) as reader:
            for path, params in paths:
                answer = reader.get(path, params=params)
                found[f"{role} GET {path} {params}"] = _readable(answer.text)
            for path, params in csv_paths:
                answer = reader.get(path, params=params, headers={"Accept": "text/csv"})
                found[f"{role} GET {path} {params} as CSV"] = answer.text
    # What the world is told (OCDS, no token): the releases after the tender's and the process's record.
    with httpx.Client(base_url=server.base_url, timeout=30) as world:
        for path, params in (("/ocds/releases", {"after": max(position - 20, 0), "limit": 1000}),
                             (f"/ocds/records/ocds-aqp000-{reference}", {})):
            answer = world.get(path, params=params)
            assert answer.status_code == 200, f"{path}: {answer.status_code}"
            found[f"the public GET {path} {params}"] = answer.text
    # The pages, signed in as each reader: the competition, its list (and its downloads), the home page.
    pages = [f"/app/competitions/{reference}", f"/app/competitions/{reference}?as_at={now[:10]}",
             f"/app/competitions/{reference}?tab=publication", "/app/competitions",
             "/app/competitions?download=csv", "/app/", "/app/verification"]
    for role, org in READERS:
        with closing(_signed_in_pages(server, role, org)) as person:
            for path in pages:
                answer = person.get(path)
                # Each reader may open each of these: a sign-in gone wrong would leave nothing to look in.
                assert answer.status_code == 200, f"{role} {path}: {answer.status_code}"
                found[f"{role} page {path}"] = answer.text
    # The CLI's `aqp show competition REF --as-of T --viewer ROLE:ORG:ID`, as it asks the ledger.
    for role, org in READERS:
        view = server.ledger.show_competition(reference, as_of=datetime.now(timezone.utc), viewer=Actor(id="x", org=org, role=role))
        found[f"aqp show competition {reference} --as-of now --viewer {role}"] = json.dumps(view, default=str)
    return found


def _signed_in_pages(server: Any, role: str, org: str) -> httpx.Client:
    """A browser's session on the pages, signed in with a one-time link as a person is."""
    client = httpx.Client(base_url=server.base_url, timeout=30)
    link = server.app.state.sign_ins.issue(user=f"{role}.pages", org=org, role=role).path()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(link).text).group(1)
    assert client.post(link, data={"csrf_token": token}, follow_redirects=False).status_code == 303
    return client


def _readable(text: str) -> str:
    """A body with every stored record's state decoded (a proof bundle carries it in base64)."""
    try:
        body = json.loads(text)
    except ValueError:
        return text
    record = body.get("record") if isinstance(body, dict) else None
    if isinstance(record, dict) and record.get("state"):
        return text + base64.b64decode(record["state"]).decode("utf-8", "replace")
    return text


def test_a_sealed_tender_names_neither_its_bidder_nor_its_request_id_anywhere_until_the_opening(served):
    server, _url, ring, signer = served
    deadline = _open_competition(server, "SEALED-1")
    request_id = f"{BIDDER}-tender-1"
    with server.client("provider", BIDDER, BIDDER_ACCOUNT) as bidder:
        tendered = bidder.post("/commands", headers={"X-Request-ID": request_id}, json={
            "type": "tender.submit", "competition": "SEALED-1", "lots": ["NEL"], "content_sha256": "e" * 64,
            "size_bytes": 4096, "reason": f"the tender of {BIDDER}"})
        assert tendered.status_code == 200, tendered.text
    position = tendered.json()["events"][0]["position"]
    _sign(server, ring)

    bodies = _bodies(server, "SEALED-1", request_id, position)
    for secret in (BIDDER, BIDDER_ACCOUNT, request_id, "zephyr"):
        leaks = [where for where, body in bodies.items() if secret in body.lower()]
        assert not leaks, f"{secret!r} before the opening in: {leaks}"
    with server.client("auditor", "NAO") as auditor:
        proof = auditor.get(f"/audit/proofs/{position}")
    # The proof of a sealed tender keeps only what says nothing of the bidder: its leaf's place and hash.
    assert proof.status_code == 200, proof.text
    assert proof.json()["record"] is None and proof.json()["withheld"] == "sealed_until_tenders_opened"
    assert "withheld until" in check(proof.json(), [signer.verifier_key()])

    opened = server.ledger.handle(OpenTenders(competition="SEALED-1"), LEAD, at=deadline + timedelta(minutes=1))
    assert opened.ok, opened.error
    _sign(server, ring)
    with server.client("auditor", "NAO") as auditor, server.client("foi_officer", "ICO") as foi:
        (event,) = auditor.get("/events", params={"after": position - 1, "limit": 1}).json()["items"]
        assert event["data"]["bidder"] == BIDDER and event["correlation_id"] == request_id and event["withheld"] is None
        assert event["actor"]["org"] == BIDDER and event["reason"] == f"the tender of {BIDDER}"
        for reader in (auditor, foi):
            (row,) = reader.get("/audit/index", params={"correlation_id": request_id}).json()["items"]
            assert row["actor_org"] == BIDDER and row["actor"] == BIDDER_ACCOUNT and row["event"] == "TenderSubmitted"
            subjects = reader.get("/audit/subjects", params={"subject": BIDDER, "reference": "SEALED-1"}).json()["items"]
            assert {s["event"] for s in subjects} == {"TenderSubmitted", "TendersOpened"}
        bundle = auditor.get(f"/audit/proofs/{position}").json()
        assert bundle["record"] is not None and BIDDER in base64.b64decode(bundle["record"]["state"]).decode()
        assert check(bundle, [signer.verifier_key()]).startswith(f"OK: notification {position} ")
        assert list(auditor.get("/competitions/SEALED-1").json()["tenders"]) == [BIDDER]


def test_an_foi_officer_gets_no_evaluators_account_from_the_event_index_and_an_auditor_does(served):
    server, *_ = served
    with server.client("foi_officer", "ICO") as foi, server.client("auditor", "NAO") as auditor:
        whole = {path: foi.get(path, headers={"Accept": "text/csv"}).text for path in ("/audit/index", "/audit/subjects")}
        for evaluator in EVALUATORS:
            assert not [p for p, body in whole.items() if evaluator in body], f"{evaluator} reaches an FOI officer"
            assert foi.get("/audit/index", params={"actor": evaluator}).json()["total"] == 0
            assert foi.get("/audit/subjects", params={"subject": evaluator}).json()["total"] == 0
            assert auditor.get("/audit/index", params={"actor": evaluator}).json()["total"] > 0
            assert auditor.get("/audit/subjects", params={"subject": evaluator}).json()["total"] > 0
        assert foi.get("/audit/index", params={"actor_role": "evaluator"}).json()["total"] == 0
        # The scores are there, as in the feed: what happened and when, not who.
        scores = foi.get("/audit/index", params={"event": "ScoreRecorded", "limit": 500}).json()["items"]
        assert scores and all(s["actor"] is s["actor_org"] is s["actor_role"] is s["correlation_id"] is None for s in scores)
        by_auditor = auditor.get("/audit/index", params={"event": "ScoreRecorded", "limit": 500}).json()["items"]
        assert {s["actor"] for s in by_auditor} <= set(EVALUATORS) and len(by_auditor) == len(scores)
        # Sorting by the account does not place the withheld rows among the accounts either.
        ordered = foi.get("/audit/index", params={"sort": "actor", "kind": "competition", "limit": 500}).json()["items"]
        actors = [r["actor"] for r in ordered]
        assert None in actors and all(a is None for a in actors[actors.index(None):])
        assert "r.hughes" not in foi.get("/events", params={"limit": 1000}).text


def _hold_database_write_lock(url: str, held: threading.Event, release: threading.Event) -> None:
    """Another connection holding the database's write lock until `release` (what a long command would)."""
    if url.startswith("sqlite"):
        connection = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        held.set()
        release.wait(30)
        connection.execute("ROLLBACK")
        connection.close()
        return
    parsed = urlparse(url)
    schema = parse_qs(parsed.query)["schema"][0]
    with psycopg.connect(url.split("?")[0]) as connection:
        connection.execute(f'LOCK TABLE "{schema}".audit_checkpoints, "{schema}".audit_leaves, "{schema}".audit_nodes IN EXCLUSIVE MODE')
        held.set()
        release.wait(30)
        connection.rollback()


def test_a_proof_read_does_not_wait_behind_the_write_lock_and_records_nothing(served):
    server, url, ring, signer = served
    _open_competition(server, "PROOF-READ-1")
    _sign(server, ring)
    covered = server.ledger.max_position()
    service = server.app.state.service
    with server.client("auditor", "NAO", headers={}) as auditor:
        auditor.timeout = 5
        with service.write_lock:  # a command in progress in this process
            started = time.monotonic()
            answer = auditor.get(f"/audit/proofs/{covered}")
            assert answer.status_code == 200, answer.text
            assert time.monotonic() - started < 5
        held, release = threading.Event(), threading.Event()
        holder = threading.Thread(target=_hold_database_write_lock, args=(url, held, release), daemon=True)
        holder.start()
        try:
            assert held.wait(10)
            assert auditor.get(f"/audit/proofs/{covered}").status_code == 200
        finally:
            release.set()
            holder.join(30)
        assert check(answer.json(), [signer.verifier_key()]).startswith(f"OK: notification {covered} ")

        # An event no signed checkpoint covers yet: the read says so, and signs nothing.
        with server.client("procurement_lead", "NEL-CSU", "j.okafor") as lead:
            notice = {"type": "notice.publish", "competition": "PROOF-READ-1", "notice_type": "contract_notice",
                      "notice_reference": "CF-2026-0001", "published_on": datetime.now(timezone.utc).date().isoformat()}
            sent = lead.post("/commands", json=notice)
            assert sent.status_code == 200, sent.text
        latest = sent.json()["events"][-1]["position"]
        checkpoints, leaves = len(Checkpoints(AuditLog(server.ledger)).all()), AuditLog(server.ledger).size()
        uncovered = auditor.get(f"/audit/proofs/{latest}")
        assert uncovered.status_code == 409, uncovered.text
        assert uncovered.json()["code"] == "not_yet_checkpointed"
        assert len(Checkpoints(AuditLog(server.ledger)).all()) == checkpoints and AuditLog(server.ledger).size() == leaves
        assert server.ledger.max_position() == latest
