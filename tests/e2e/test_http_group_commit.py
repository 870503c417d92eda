"""Group commit behind the real server: concurrent requests over HTTP, each answered for itself."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from audit.checkpoints import KeyRing
from audit.log import AuditLog
from audit.verify import verify
from tests.e2e.http_server import running_server

pytestmark = pytest.mark.storage


def test_concurrent_requests_through_the_grouping_server_are_each_recorded_once_and_answered_their_own(database_url, tmp_path):
    ring = KeyRing(tmp_path / "keys")
    ring.init("aqp-ledger.test/log")
    with running_server(database_url, key_dir=tmp_path / "keys", group_commit=True) as server:
        base_url, service = server.base_url, server.app.state.service
        assert service.group_commit
        token = service.tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").token
        headers = {"Authorization": f"Bearer {token}"}
        now = datetime.now(timezone.utc)
        opened = httpx.post(f"{base_url}/commands", headers=headers, timeout=30, json={
            "type": "competition.open", "competition": "HTTP-G", "title": "Residential care", "procedure": "open",
            "standstill_regime": "pcr2015", "lots": [{"id": "L1", "name": "Lot 1"}],
            "clarification_deadline": (now + timedelta(days=5)).isoformat(), "tender_deadline": (now + timedelta(days=10)).isoformat(),
        })
        assert opened.status_code == 200, opened.text
        commits: list[int] = []
        service.ledger.after_save.insert(0, lambda recordings: commits.append(len(recordings)))
        answers: dict[tuple[int, int], httpx.Response] = {}

        def publish(n: int, attempt: int) -> None:
            body = {"type": "document.publish", "competition": "HTTP-G", "document": f"D{n}", "title": f"Document {n}",
                    "sha256": f"{n:064x}", "size_bytes": 10 + n}
            answers[(n, attempt)] = httpx.post(
                f"{base_url}/commands", headers={**headers, "Idempotency-Key": f"doc-{n}"}, json=body, timeout=60
            )

        # Sixteen documents, each sent twice at once with the same key (a client retrying early).
        threads = [threading.Thread(target=publish, args=(n, a)) for n in range(16) for a in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        ledger = service.ledger
        assert all(r.status_code == 200 for r in answers.values()), [r.text for r in answers.values() if r.status_code != 200]
        for n in range(16):
            first, second = answers[(n, 0)].json(), answers[(n, 1)].json()
            assert first == second  # one recorded, the other replayed: the same answer
            (event,) = first["events"]
            stored = ledger.mapper.to_domain_event(ledger.recorder.select_notifications(start=event["position"], limit=1)[0])
            assert stored.document == f"D{n}"
        assert sorted(ledger.competition("HTTP-G").documents) == sorted(f"D{n}" for n in range(16))
        assert ledger.competition("HTTP-G").version == 17  # opened, then each document once
        print(f"{sum(commits)} events in {len(commits)} commits")
        assert AuditLog(ledger).size() == len(ledger.recorder.select_notifications(start=1, limit=10_000))  # a leaf for every event
        assert verify(ledger, ring.verifier_keys()).ok
