"""`aqp demo` and `aqp run` as a person runs them: real processes against real stores."""

from __future__ import annotations

import json

from tests.e2e.test_cli import aqp


def test_aqp_demo_builds_a_small_ledger_prints_its_figures_and_the_ledger_verifies(database_url):
    built = aqp("demo", "--scale", "london", "--years", "1", "--homes", "12", "--seed", "2", database_url=database_url)
    assert built.returncode == 0, built.stderr
    figures = json.loads(built.stdout)
    assert figures["refused"] == 0 and figures["homes"] == 12 and figures["commands"] > 500
    assert "London 2025-2025" in built.stderr  # progress, per phase
    verified = aqp("audit", "verify", database_url=database_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK:")
    again = aqp("demo", "--scale", "london", "--years", "1", "--homes", "12", database_url=database_url)
    assert again.returncode == 2
    assert "builds only into an empty ledger" in again.stderr


def test_aqp_run_shows_the_figures_of_a_london_demo_already_built(tmp_path):
    url = f"sqlite:///{tmp_path}/var/ledger.db"
    built = aqp("demo", "--years", "1", "--homes", "10", "--quiet", database_url=url)
    assert built.returncode == 0, built.stderr
    shown = aqp("run", "--no-serve", database_url=url)
    assert shown.returncode == 0, shown.stderr
    assert "already in" in shown.stderr
    figures = json.loads(shown.stdout)
    assert figures["homes"] == 10 and figures["events"] == json.loads(built.stdout)["events"]


def test_aqp_run_refuses_a_ledger_holding_something_else(tmp_path):
    url = f"sqlite:///{tmp_path}/ledger.db"
    assert aqp("example", database_url=url).returncode == 0
    run = aqp("run", "--no-serve", database_url=url)
    assert run.returncode == 1
    assert "no London demo" in run.stderr and "aqp example" in run.stderr


def test_aqp_demo_rejects_years_the_calendar_does_not_cover(tmp_path):
    run = aqp("demo", "--years", "9", database_url=f"sqlite:///{tmp_path}/l.db")
    assert run.returncode == 2
    assert "1 to 8 years" in run.stderr


def test_aqp_run_serves_the_demo_and_prints_a_read_only_token_and_a_commissioners_sign_in_link_that_work(tmp_path):
    import os
    import re
    import signal
    import subprocess
    import sys
    import time

    import httpx

    from tests.e2e.http_server import ROOT, free_port

    url = f"sqlite:///{tmp_path}/var/ledger.db"
    built = aqp("demo", "--years", "1", "--homes", "10", "--quiet", database_url=url)
    assert built.returncode == 0, built.stderr
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "run", "--port", str(port)],
        env={**os.environ, "AQP_DATABASE_URL": url, "AQP_LOG_FORMAT": "json"},
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any(line.startswith("Try: curl") for line in lines):
            assert time.monotonic() < deadline and process.poll() is None, process.stderr.read() if process.poll() is not None else lines
            lines.append(process.stdout.readline().rstrip("\n"))
        assert f"The HTTP API: http://127.0.0.1:{port}" in "\n".join(lines)
        token = lines[lines.index(next(line for line in lines if line.startswith("A read-only token"))) + 1]
        base = f"http://127.0.0.1:{port}"
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                assert time.monotonic() < deadline
                time.sleep(0.1)
        auth = {"Authorization": f"Bearer {token}"}
        contracts = httpx.get(f"{base}/contracts", headers=auth, params={"limit": 5})
        assert contracts.status_code == 200 and contracts.json()["total"] > 0
        assert httpx.get(f"{base}/whoami", headers=auth).json()["role"] == "auditor"
        # read-only: the token may not send commands
        refused = httpx.post(f"{base}/commands", headers=auth, json={"type": "tenders.open", "competition": "X"})
        assert refused.status_code == 403, refused.text
        # The pages: the address, and a one-time link signing in a commissioner of one ICB.
        assert f"The pages: http://127.0.0.1:{port}/" in lines
        link = lines[lines.index(next(line for line in lines if line.startswith("Sign in as a commissioner"))) + 1]
        with httpx.Client(base_url=base, timeout=30) as browser:
            shown = browser.get(link)
            form_token = re.search(r'name="csrf_token" value="([^"]+)"', shown.text).group(1)
            assert browser.post(link, data={"csrf_token": form_token}).status_code == 303
            home = browser.get("/app/")
            assert home.status_code == 200 and "(commissioner, ICB-NCL)" in home.text
        # The scheduler ticks beside the server: the demo's history ends with 2025, so on today's
        # clock the returns owed since are missed, recorded by the scheduler's own principal.
        from api.bootstrap import ledger_at
        from api.processes import ProcessPosition

        watcher = ledger_at(url)
        try:
            while ProcessPosition(watcher, "scheduler").get() is None:
                assert time.monotonic() < deadline + 240 and process.poll() is None, "the scheduler beside the server never ticked"
                time.sleep(0.5)
            actors = {
                watcher.mapper.to_domain_event(n).meta["actor"]["id"]
                for n in watcher.recorder.select_notifications(start=0, limit=1_000_000, topics=["domain.returns:Return.Missed"])
            }
            assert "process:scheduler" in actors
        finally:
            watcher.close()
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn ends by raising the signal it caught again, once the server and the scheduler have stopped
        code = process.wait(timeout=60)
        said = process.stderr.read()
        assert code in (0, -signal.SIGTERM), said[-3000:]
        assert "scheduler_tick_failed" not in said
