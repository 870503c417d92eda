"""Erasing a person and importing the regulator's records, as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.shared import shared_file

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "london-aqp-care-homes-2026.jsonl"


def aqp(*args: str, env: dict) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_erasing_an_evaluator_shows_erased_everywhere_and_the_ledger_still_verifies(database_url, tmp_path):
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_KEY_DIR": str(tmp_path / "keys"), "AQP_LOG_FORMAT": "json"}
    assert aqp("apply", "--quiet", str(SCENARIO), env=env).returncode == 0
    assert aqp("keys", "init", env=env).returncode == 0
    assert aqp("audit", "checkpoint", env=env).returncode == 0
    before = json.loads(aqp("show", "competition", "AQP-CH-2026", env=env).stdout)
    assert before["evaluators"]["r.hughes"]["name"] == "Rhian Hughes"

    refused = aqp("gdpr", "erase", "r.hughes", "--reason", "DPO-2026-031", "--as", "procurement_lead:NEL-CSU:j.okafor", env=env)
    assert refused.returncode == 1 and "may not erase personal data" in refused.stderr
    erased = aqp("gdpr", "erase", "r.hughes", "--reason", "Article 17 request DPO-2026-031", "--as", "admin:NEL-CSU:dpo", env=env)
    assert erased.returncode == 0, erased.stderr

    after = json.loads(aqp("show", "competition", "AQP-CH-2026", env=env).stdout)
    hughes = after["evaluators"]["r.hughes"]
    assert hughes["name"] == hughes["email"] == "[erased]"
    assert hughes["declarations"]["maple-grove-nursing"]["note"] == "[erased]"
    assert after["evaluators"]["s.mensah"]["name"] == "Samuel Mensah"  # others untouched
    assert after["outcome"] == before["outcome"]  # the decision and its scores stand
    verified = aqp("audit", "verify", env=env)
    assert verified.returncode == 0, verified.stdout


def test_importing_the_regulators_records_twice_records_nothing_the_second_time(database_url):
    records = shared_file("cqc", "location_examples.json")
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json"}
    first = aqp("cqc", "import", str(records), env=env)
    assert first.returncode == 0, first.stderr
    assert [json.loads(line)["outcome"] for line in first.stdout.splitlines()] == ["recorded", "recorded"]
    second = aqp("cqc", "import", str(records), env=env)
    assert [json.loads(line)["outcome"] for line in second.stdout.splitlines()] == ["unchanged", "unchanged"]
    shown = aqp("show", "location", "1-125856395", env=env)
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["name"] == "Lucerne House"


def test_publishing_the_shipped_templates_twice_records_them_once_and_a_bad_one_is_explained(database_url, tmp_path):
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json"}
    shipped = sorted(str(p) for p in (ROOT / "domain" / "monitoring" / "templates").glob("*.json"))
    assert len(shipped) >= 3
    first = aqp("templates", "publish", *shipped, env=env)
    assert first.returncode == 0, first.stderr
    assert first.stdout.count(": published") == len(shipped)
    again = aqp("templates", "publish", *shipped, env=env)
    assert again.stdout.count("already published") == len(shipped)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"id": "broken", "version": 1, "title": "Broken", "metrics": []}))
    refused = aqp("templates", "publish", str(bad), env=env)
    assert refused.returncode == 1
    assert "bad.json:" in refused.stderr
