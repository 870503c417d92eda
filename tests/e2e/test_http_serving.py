"""`aqp serve` as a person runs it: a process, probes, tokens from the CLI, graceful shutdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from tests.e2e.http_server import ROOT, serve_process

pytestmark = pytest.mark.storage


def aqp(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json"}
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120)


def test_serve_answers_probes_and_a_token_issued_by_the_cli_until_it_is_revoked(database_url):
    issued = aqp("tokens", "issue", "--user", "j.okafor", "--org", "NEL-CSU", "--role", "procurement_lead", database_url=database_url)
    assert issued.returncode == 0, issued.stderr
    token = issued.stdout.strip()
    token_id = issued.stderr.split()[1]
    assert token_id.startswith("tok_") and token not in issued.stderr
    listed = aqp("tokens", "list", database_url=database_url)
    assert token_id in listed.stdout and token not in listed.stdout
    with serve_process(database_url) as (_process, base):
        assert httpx.get(f"{base}/ready").json()["status"] == "ready"
        me = httpx.get(f"{base}/whoami", headers={"Authorization": f"Bearer {token}"})
        assert me.json() == {"user": "j.okafor", "org": "NEL-CSU", "role": "procurement_lead", "token_id": token_id}
        revoked = aqp("tokens", "revoke", token_id, "--reason", "left the CSU", database_url=database_url)
        assert revoked.returncode == 0, revoked.stderr
        assert httpx.get(f"{base}/whoami", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    bad = aqp("tokens", "issue", "--user", "x y", "--org", "O", "--role", "admin", database_url=database_url)
    assert bad.returncode == 2 and "user 'x y' is not valid" in bad.stderr


def test_shutdown_lets_an_in_flight_command_finish_and_logs_every_request(database_url):
    issued = aqp("tokens", "issue", "--user", "j.okafor", "--org", "NEL-CSU", "--role", "procurement_lead", database_url=database_url)
    token = issued.stdout.strip()
    now = datetime.now(timezone.utc)
    body = json.dumps({
        "type": "competition.open", "competition": "SHUTDOWN-1", "title": "Care at home", "procedure": "open",
        "standstill_regime": "pcr2015", "lots": [{"id": "L1", "name": "Lot 1"}],
        "clarification_deadline": (now + timedelta(days=5)).isoformat(), "tender_deadline": (now + timedelta(days=10)).isoformat(),
    }).encode()
    with serve_process(database_url) as (process, base):
        started = threading.Event()

        def slow_body():
            # The request is in flight (headers and half the body sent) when the signal arrives.
            yield body[: len(body) // 2]
            started.set()
            time.sleep(1.0)
            yield body[len(body) // 2 :]

        answers: list[httpx.Response] = []
        sender = threading.Thread(
            target=lambda: answers.append(
                httpx.post(f"{base}/commands", content=slow_body(), timeout=30,
                           headers={"Authorization": f"Bearer {token}", "content-type": "application/json"})
            )
        )
        sender.start()
        assert started.wait(10)
        process.send_signal(signal.SIGTERM)
        sender.join(30)
        # uvicorn re-raises the signal once it has shut down cleanly, so supervisors see it.
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
        logs = process.stderr.read()
    assert answers and answers[0].status_code == 200, answers[0].text if answers else "no answer"
    assert answers[0].json()["events"][0]["type"] == "Competition.Opened"
    access = [json.loads(line) for line in logs.splitlines() if line.startswith("{") and '"event": "request"' in line]
    command_line = next(a for a in access if a["path"] == "/commands")
    assert command_line["status"] == 200 and command_line["user"] == "j.okafor" and command_line["role"] == "procurement_lead"
    assert command_line["duration_ms"] >= 900
    lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    order = [(entry["event"], entry.get("path")) for entry in lines]
    assert order.index(("api_stopped", None)) > order.index(("request", "/commands"))  # the ledger closed after it
