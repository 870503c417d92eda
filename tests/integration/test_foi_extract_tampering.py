"""The FOI extract verifier against an extract changed after it left the ledger, on SQLite and
PostgreSQL. The manifest's file hashes are not signed, so whoever passes the extract on can
rewrite a released value or drop a record and restate them; the ledger's signed note over each
released record's digest, the counts and the schedule's digest (`extract_note_text`) is what the
verifier holds them to, and an extract with that note stripped fails too."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

from audit.foi_extract import extract
from tests.integration.test_foi_extract import FOI_OFFICER, keys, verifier, world

pytestmark = pytest.mark.storage


def restated(directory: Path) -> None:
    """The manifest's SHA-256 of each file made to match the files as they now are."""
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    for name in manifest["files"]:
        manifest["files"][name] = hashlib.sha256((directory / name).read_bytes()).hexdigest()
    (directory / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


@pytest.fixture
def extracted(ledger, tmp_path):
    world(ledger)
    signer, key_file = keys(tmp_path)
    out = tmp_path / "extract"
    extract(ledger, FOI_OFFICER, about="competition:AQP-CH-2026", signer=signer, request="FOI-2026-0042").write(out)
    assert verifier(out, key_file).returncode == 0
    return out, key_file


def copy_of(out: Path, name: str) -> Path:
    tampered = out.parent / name
    shutil.copytree(out, tampered)
    return tampered


def test_a_released_value_rewritten_fails_the_verifier(extracted):
    out, key_file = extracted
    tampered = copy_of(out, "rewritten")
    records = json.loads((tampered / "records.json").read_text(encoding="utf-8"))
    awarded = next(r for r in records if r["type"] == "Competition.AwardConcluded")
    awarded["fields"]["awards"] = {lot: ["juniper-court-nursing"] for lot in awarded["fields"]["awards"]}
    (tampered / "records.json").write_text(json.dumps(records), encoding="utf-8")
    restated(tampered)
    checked = verifier(tampered, key_file)
    assert checked.returncode == 1, checked.stdout
    assert "FAILED: " in checked.stderr


def test_a_released_record_dropped_fails_the_verifier(extracted):
    out, key_file = extracted
    tampered = copy_of(out, "dropped")
    records = json.loads((tampered / "records.json").read_text(encoding="utf-8"))
    dropped = next(r for r in records if r["type"] == "Competition.ChallengeReceived")
    (tampered / "records.json").write_text(json.dumps([r for r in records if r is not dropped]), encoding="utf-8")
    manifest = json.loads((tampered / "manifest.json").read_text(encoding="utf-8"))
    manifest["records"] = [e for e in manifest["records"] if e["position"] != dropped["position"]]
    manifest["counts"]["records"] -= 1
    (tampered / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    restated(tampered)
    checked = verifier(tampered, key_file)
    assert checked.returncode == 1, checked.stdout
    assert "FAILED: " in checked.stderr


def test_a_schedule_changed_or_the_signature_stripped_fails_the_verifier(extracted):
    out, key_file = extracted
    tampered = copy_of(out, "unscheduled")
    schedule = json.loads((tampered / "schedule.json").read_text(encoding="utf-8"))
    schedule[0]["exemption"] = "FOIA s.21"
    (tampered / "schedule.json").write_text(json.dumps(schedule), encoding="utf-8")
    restated(tampered)
    checked = verifier(tampered, key_file)
    assert checked.returncode == 1 and "schedule is not the one the ledger signed" in checked.stderr

    stripped = copy_of(out, "stripped")
    manifest = json.loads((stripped / "manifest.json").read_text(encoding="utf-8"))
    manifest["signature"] = None
    (stripped / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    checked = verifier(stripped, key_file)
    assert checked.returncode == 1 and "not signed by the ledger" in checked.stderr
