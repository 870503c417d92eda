"""The `aqp` command as a person runs it: real processes against real stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "london-aqp-care-homes-2026.jsonl"
AQP = [sys.executable, "-m", "api.cli"]


def aqp(*args: str, database_url: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json"}
    return subprocess.run([*AQP, *args], capture_output=True, text=True, env=env, cwd=cwd, timeout=300)



@pytest.fixture(scope="module")
def sqlite_show(tmp_path_factory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/ledger.db"
    applied = aqp("apply", str(SCENARIO), database_url=url)
    assert applied.returncode == 0, applied.stderr
    shown = aqp("show", "competition", "AQP-CH-2026", database_url=url)
    assert shown.returncode == 0, shown.stderr
    return shown.stdout


def test_applying_the_example_scenario_gives_the_same_final_state_on_every_store(database_url, sqlite_show):
    applied = aqp("apply", str(SCENARIO), database_url=database_url)
    assert applied.returncode == 0, applied.stderr
    results = [json.loads(line) for line in applied.stdout.splitlines()]
    assert len(results) == len(SCENARIO.read_text().splitlines())
    assert all(r["met"] for r in results)
    shown = aqp("show", "competition", "AQP-CH-2026", database_url=database_url)
    assert shown.returncode == 0, shown.stderr
    # Ids are derived from references, so the whole state is identical across stores.
    assert shown.stdout == sqlite_show
    state = json.loads(shown.stdout)
    assert state["status"] == "awarded"
    assert state["award"]["awards"]["SWL"][0] == "kingsmead-care-homes"


def test_show_as_of_a_moment_replays_history(database_url):
    assert aqp("apply", str(SCENARIO), database_url=database_url).returncode == 0
    before_opening = aqp("show", "competition", "AQP-CH-2026", "--as-of", "2026-02-20T13:00:00Z", database_url=database_url)
    state = json.loads(before_opening.stdout)
    assert state["status"] == "open"
    assert state["timetable"]["opened_at"] is None
    sealed = aqp(
        "show", "competition", "AQP-CH-2026", "--as-of", "2026-02-20T13:00:00Z",
        "--viewer", "procurement_lead:NEL-CSU:j.okafor", database_url=database_url,
    )
    assert json.loads(sealed.stdout)["tenders"] == {"sealed": True, "count": 13}


def test_bad_lines_are_reported_with_line_and_field_and_record_nothing(database_url, tmp_path):
    lead = {"id": "lead", "org": "CSU", "role": "procurement_lead"}
    good = {
        "actor": lead, "at": "2026-01-05T09:00:00Z",
        "command": {
            "type": "competition.open", "competition": "AQP-BAD", "title": "t", "procedure": "open",
            "standstill_regime": "pa2023", "lots": [{"id": "L1", "name": "London"}],
            "clarification_deadline": "2026-02-01T12:00:00Z", "tender_deadline": "2026-02-20T12:00:00Z",
        },
    }
    wrong_type = {"actor": lead, "at": "2026-01-06T09:00:00Z",
                  "command": {"type": "tenders.open", "competition": 42}}
    unknown = {"actor": lead, "at": "2026-01-06T09:00:00Z", "command": {"type": "tender.teleport", "competition": "AQP-BAD"}}
    missing = {"actor": lead, "at": "2026-01-06T09:00:00Z",
               "command": {"type": "document.publish", "competition": "AQP-BAD", "title": "x", "sha256": "a" * 64, "size_bytes": 1}}
    scenario = tmp_path / "bad.jsonl"
    scenario.write_text("\n".join([
        json.dumps(good), "{not json", json.dumps(wrong_type), json.dumps(unknown), json.dumps(missing),
    ]) + "\n")
    run = aqp("apply", str(scenario), database_url=database_url)
    assert run.returncode == 1
    results = {r["line"]: r for r in map(json.loads, run.stdout.splitlines())}
    assert results[1]["met"] is True
    assert results[2]["result"]["error"]["code"] == "invalid_line" and "malformed JSON" in results[2]["result"]["error"]["message"]
    assert results[3]["result"]["error"]["fields"][0]["field"] == "command.competition"
    assert results[4]["result"]["error"]["fields"][0]["field"] == "command.type"
    assert "document" in results[5]["result"]["error"]["message"]
    for line in (2, 3, 4, 5):
        assert f"line {line}" in run.stderr
    shown = json.loads(aqp("show", "competition", "AQP-BAD", database_url=database_url).stdout)
    assert shown["version"] == 1 and shown["documents"] == {}


def test_a_line_can_expect_a_refusal_and_then_the_run_succeeds(database_url, tmp_path):
    bidder = {"id": "bm", "org": "aster", "role": "provider"}
    line = {"actor": bidder, "at": "2026-01-05T09:00:00Z", "expect": {"error": "competition_not_found"},
            "command": {"type": "tender.withdraw", "competition": "NOPE"}}
    scenario = tmp_path / "refusal.jsonl"
    scenario.write_text(json.dumps(line) + "\n")
    run = aqp("apply", str(scenario), database_url=database_url)
    assert run.returncode == 0, run.stderr


def test_example_applies_the_example_once_and_prints_the_outcome(tmp_path):
    url = f"sqlite:///{tmp_path}/var/ledger.db"
    first = aqp("example", database_url=url)
    assert first.returncode == 0, first.stderr
    assert "status: awarded" in first.stdout
    assert "Lot SWL" in first.stdout and "greville-house-care" in first.stdout
    second = aqp("example", database_url=url)
    assert second.returncode == 0
    assert "already in this ledger" in second.stderr
    assert second.stdout == first.stdout


def test_an_unknown_competition_is_a_sentence_not_a_traceback(tmp_path):
    run = aqp("show", "competition", "NOPE", database_url=f"sqlite:///{tmp_path}/l.db")
    assert run.returncode == 1
    assert run.stderr.strip() == "aqp show: There is no competition NOPE."
