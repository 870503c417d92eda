"""GET /competitions/{reference}/defence-pack over real HTTP, scoped as `aqp defend` is, verified offline (both stores)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from audit.checkpoints import Checkpoints, KeyRing
from audit.log import AuditLog
from tests.e2e.http_server import competition_copy, running_server, world

pytestmark = pytest.mark.storage
ROOT = Path(__file__).resolve().parents[2]
PACK = "/competitions/AQP-CH-2026/defence-pack"


def test_the_api_serves_the_pack_as_the_policy_allows_and_it_verifies_offline(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("AQP_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("AQP_AUDIT_FOLLOW", "no")  # the test signs, so that it knows what is signed when
    ring = KeyRing(tmp_path / "keys", origin="aqp-ledger.local/log")
    ring.init("aqp-ledger.local/log")
    with running_server(database_url) as server:
        world(server.ledger)
        competition_copy(server.ledger, "AQP-CH-2099", before="outcome.decide")
        with server.client("auditor", "NAO") as auditor:
            # Nothing is signed yet, and a read signs nothing: no proof can be given.
            early = auditor.get(PACK)
            assert early.status_code == 409 and early.json()["code"] == "not_yet_checkpointed"
            log = AuditLog(server.ledger)
            log.catch_up()
            Checkpoints(log).write(ring.signer(), origin=ring.origin)

            answer = auditor.get(PACK)
            assert answer.status_code == 200, answer.text
            pack = answer.json()
            assert pack["signature"] and pack["recomputations"]
            lacking = auditor.get("/competitions/AQP-CH-2099/defence-pack")
            assert lacking.status_code == 409 and lacking.json()["code"] == "outcome_not_decided"
            assert "It lacks:" in lacking.json()["detail"]
            assert auditor.get(PACK, params={"lot": "XX"}).status_code == 404

        with server.client("provider", "ivydene-care", "bm-ivydene-care") as bidder:
            own = bidder.get(PACK)
            assert own.status_code == 200 and own.json()["for_bidder"] == "ivydene-care"
            assert bidder.get(PACK, params={"for_bidder": "damson-healthcare"}).status_code == 404
        with server.client("procurement_lead", "WEST-CSU", "x.lead") as other_authority:
            assert other_authority.get(PACK).status_code == 404
        with server.client("commissioner", "ICB-NCL", "ncl") as partner:
            assert partner.get(PACK).status_code == 403  # not a reader of the evaluation at all

    for name, body in (("full", pack), ("ivydene", own.json())):
        (tmp_path / name).mkdir()
        (tmp_path / name / "pack.json").write_text(json.dumps(body))
        checked = subprocess.run(
            [sys.executable, "-m", "audit.verifier", "pack", str(tmp_path / name), "--key", str(ring.verifier_keys_file)],
            capture_output=True, text=True, cwd=ROOT, timeout=120,
        )
        assert checked.returncode == 0, checked.stderr
