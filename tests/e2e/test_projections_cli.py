"""The read models from the command line: status, run, rebuild and replay, in real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

from projections.catalogue import READ_MODELS
from projections.evaluation_tables import MATRIX
from tests.e2e.test_cli import AQP, ROOT

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def aqp(*args: str, database_url: str, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json", **env}
    return subprocess.run([*AQP, *args], capture_output=True, text=True, env=full, cwd=ROOT, timeout=300, check=False)


def status(database_url: str) -> dict[str, tuple[int, int]]:
    shown = aqp("projections", "status", database_url=database_url)
    assert shown.returncode == 0, shown.stderr
    header, *lines = shown.stdout.splitlines()
    assert header.split() == ["name", "position", "lag"]
    return {name: (int(position), int(lag)) for name, position, lag in (line.split() for line in lines)}


def test_projections_status_run_rebuild_and_replay_from_the_command_line(database_url):
    # Applied without the in-process follower, the read models lag behind the log...
    applied = aqp("apply", str(SCENARIOS / "nottingham-escalation.jsonl"), database_url=database_url, AQP_PROJECTIONS_FOLLOW="no")
    assert applied.returncode == 0, applied.stderr
    before = status(database_url)
    assert set(before) == set(READ_MODELS)
    assert before["contracts"][0] == 0 and before["contracts"][1] > 0

    # ...until `run` catches every one up once.
    ran = aqp("projections", "run", database_url=database_url)
    assert ran.returncode == 0, ran.stderr
    assert "contracts:" in ran.stdout and "competitions:" in ran.stdout
    after = status(database_url)
    assert all(lag == 0 for _position, lag in after.values())
    assert after["contracts"][0] == before["contracts"][1]

    replayed = aqp("replay", "--as-of", "2100-01-01T00:00:00Z", "--projection", "contracts", database_url=database_url)
    assert replayed.returncode == 0, replayed.stderr
    rows = json.loads(replayed.stdout)["rows"]
    meadowview = next(r for r in rows if r["reference"] == "NCC-RES-2026/CITY/meadowview-care")
    assert meadowview["status"] == "terminated" and meadowview["referrals_suspended"] == "yes"
    # Any of a read model's tables, with its own columns.
    cells = aqp(
        "replay", "--as-of", "2100-01-01T00:00:00Z", "--projection", "evaluation", "--table", MATRIX.name,
        "--format", "csv", database_url=database_url,
    )
    assert cells.returncode == 0, cells.stderr
    assert cells.stdout.splitlines() == [",".join(MATRIX.shown)]  # no competition in this scenario

    for args in (("contracts",), ()):
        rebuilt = aqp("projections", "rebuild", *args, database_url=database_url)
        assert rebuilt.returncode == 0, rebuilt.stderr
        assert f"contracts: rebuilt to position {after['contracts'][0]}" in rebuilt.stdout
    assert status(database_url) == after

    unknown = aqp("projections", "rebuild", "nosuch", database_url=database_url)
    assert unknown.returncode == 2 and "no read model nosuch" in unknown.stderr

    # With the follower attached (the default), commands keep the read models current.
    more = aqp("apply", str(SCENARIOS / "april-price-variation.jsonl"), database_url=database_url)
    assert more.returncode == 0, more.stderr
    assert all(lag == 0 for _position, lag in status(database_url).values())


def test_projections_run_follow_keeps_up_until_interrupted(database_url, tmp_path):
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json"}
    log = tmp_path / "follower.log"
    with log.open("wb") as err:
        follower = subprocess.Popen(
            [*AQP, "projections", "run", "--follow", "--poll-interval", "0.1"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=err
        )
    try:
        # The follower has opened the store (and created its tables) before the commands arrive.
        started = time.monotonic() + 30
        while b"projections_following" not in log.read_bytes():
            assert follower.poll() is None and time.monotonic() < started, log.read_text()
            time.sleep(0.05)
        applied = aqp("apply", str(SCENARIOS / "nottingham-escalation.jsonl"), database_url=database_url, AQP_PROJECTIONS_FOLLOW="no")
        assert applied.returncode == 0, applied.stderr
        deadline = time.monotonic() + 30
        while any(lag for _position, lag in status(database_url).values()):
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        follower.send_signal(signal.SIGINT)
        assert follower.wait(timeout=30) == 0, log.read_text()
    finally:
        if follower.poll() is None:
            follower.kill()
            follower.wait()
    events = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["event"] for e in events][0] == "projections_following"
    assert events[-1]["event"] == "projections_stopped" and events[-1]["applied"]["contracts"] > 0
    assert any(e["event"] == "projections_caught_up" for e in events)
    assert follower.stdout is not None and follower.stdout.read() == b""
