"""An FOI officer extracts every record about the example competition, a provider or a person, on
both stores: the extract withholds what the redaction policy says, the schedule lists every
withholding, and the standalone verifier proves the released records are what the ledger holds."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest

from api.scenario import apply_lines
from audit.foi_extract import EvaluatorRelease, extract
from audit.signing import Ed25519NoteSigner
from domain.kernel import data_subjects
from domain.kernel.errors import NotFound
from domain.kernel.metadata import Actor
from tests.e2e.http_server import SCENARIOS, competition_copy

ROOT = Path(__file__).resolve().parents[2]
FOI_OFFICER = Actor(role="foi_officer", org="NEL-CSU", id="f.adeyemi")
ADMIN = Actor(role="admin", org="NEL-CSU", id="admin-1")
#: an unsuccessful bidder's price (juniper won no lot) and the successful contract prices (aster won NCL and NEL)
UNSUCCESSFUL_PRICE = 87_654_321
SUCCESSFUL_PRICES = {"NCL": 91_234_567, "NEL": 91_234_589}
PRICED = {"juniper-court-nursing": {"NCL": UNSUCCESSFUL_PRICE}, "aster-care-homes": SUCCESSFUL_PRICES}
MARKS = ('"[withheld]"', '"[erased]"')


def lines_of(path: Path) -> list[dict]:
    return [json.loads(text) for text in path.read_text(encoding="utf-8").splitlines()]


def world(ledger) -> None:
    """The e2e world's scenarios, with offered prices in two financial assessments."""
    for path in SCENARIOS:
        lines = lines_of(path)
        for line in lines:
            command = line["command"]
            if command["type"] == "financial.assess" and command["bidder"] in PRICED:
                command["offered_prices"] = PRICED[command["bidder"]]
        unmet = [o for o in apply_lines(ledger, [json.dumps(line) for line in lines]) if not o.met]
        assert not unmet, unmet[:3]


def evaluators() -> list[dict]:
    london = next(p for p in SCENARIOS if p.name.startswith("london-aqp"))
    return [line["command"] for line in lines_of(london) if line["command"]["type"] == "evaluator.appoint"]


def keys(tmp_path: Path) -> tuple[Ed25519NoteSigner, Path]:
    signer = Ed25519NoteSigner.generate("aqp-ledger.local/log")
    key_file = tmp_path / "verifier-keys.txt"
    key_file.write_text(signer.verifier_key() + "\n", encoding="utf-8")
    return signer, key_file


def verifier(directory: Path, key_file: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "audit.verifier", "extract", str(directory), "--key", str(key_file)],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )


def output_text(directory: Path) -> str:
    return "\n".join((directory / name).read_text(encoding="utf-8") for name in sorted(os.listdir(directory)))


def at(record: dict, pointer: str):
    node = record
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def assert_schedule_complete(directory: Path) -> list[dict]:
    """Every withheld value in the released records has its entry in the schedule, and no more."""
    records_text = (directory / "records.json").read_text(encoding="utf-8")
    records = {r["position"]: r for r in json.loads(records_text)}
    schedule = json.loads((directory / "schedule.json").read_text(encoding="utf-8"))
    assert sum(records_text.count(mark) for mark in MARKS) == len(schedule)
    for entry in schedule:
        assert at(records[entry["position"]], entry["path"]) in ("[withheld]", "[erased]"), entry
        assert entry["kind"] and entry["exemption"].startswith("FOIA s.") and entry["why"]
    assert len({(e["position"], e["path"]) for e in schedule}) == len(schedule)
    return schedule


def test_an_foi_officers_extract_of_the_example_competition_withholds_what_the_policy_says_and_proves_every_record(ledger, tmp_path):
    world(ledger)
    signer, key_file = keys(tmp_path)
    out = tmp_path / "extract"
    found = extract(ledger, FOI_OFFICER, about="competition:AQP-CH-2026", signer=signer, request="FOI-2026-0042")
    found.write(out)

    text = output_text(out)
    for appointed in evaluators():
        # No evaluator's name, e-mail or account anywhere: they are not released.
        for value in (appointed["name"], appointed["email"], appointed["evaluator"]):
            assert value not in text, value
    assert "j.okafor" not in text and "bm-" not in text  # the accounts of the people who acted
    assert "Laurel Bank Care asks" not in text  # who asked a clarification, in its own words
    assert str(UNSUCCESSFUL_PRICE) not in text
    assert "60000000" not in text  # the unsuccessful bidder's current assets

    records = json.loads((out / "records.json").read_text(encoding="utf-8"))
    assert [r["position"] for r in records] == sorted(r["position"] for r in records)
    assessed = {r["fields"]["bidder"]: r for r in records if r["type"] == "Competition.FinancesAssessed"}
    assert assessed["aster-care-homes"]["fields"]["offered_prices"] == SUCCESSFUL_PRICES
    assert assessed["juniper-court-nursing"]["fields"]["offered_prices"] == "[withheld]"
    assert {r["type"] for r in records} >= {"Competition.ScoreRecorded", "Competition.OutcomeDecided", "Competition.AwardConcluded"}
    scored = next(r for r in records if r["type"] == "Competition.ScoreRecorded")
    assert scored["who"] == {"role": "evaluator", "org": scored["who"]["org"], "id": "[withheld]"} and scored["who"]["org"]

    schedule = assert_schedule_complete(out)
    assert {e["exemption"] for e in schedule} == {"FOIA s.40(2)", "FOIA s.43(2)"}
    assert any(e["rule"] == "unsuccessful_tender" and e["path"] == "/fields/offered_prices" for e in schedule)

    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["request"] == "FOI-2026-0042" and manifest["evaluators"]["released"] is False
    assert [m["position"] for m in manifest["records"]] == [r["position"] for r in records]
    checked = verifier(out, key_file)
    assert checked.returncode == 0, checked.stderr
    assert f"OK: {len(records)} records of competition:AQP-CH-2026 verified" in checked.stdout

    for field in ("leaf_hash", "inclusion_proof"):
        tampered = tmp_path / f"tampered-{field}"
        tampered.mkdir()
        for name in os.listdir(out):
            (tampered / name).write_bytes((out / name).read_bytes())
        edited = json.loads((tampered / "manifest.json").read_text(encoding="utf-8"))
        entry = edited["records"][7]
        value = entry[field] if field == "leaf_hash" else entry[field][0]
        raw = bytearray(base64.b64decode(value))
        raw[0] ^= 0x01  # one byte of one record's proof
        if field == "leaf_hash":
            entry[field] = base64.b64encode(raw).decode()
        else:
            entry[field][0] = base64.b64encode(raw).decode()
        (tampered / "manifest.json").write_text(json.dumps(edited), encoding="utf-8")
        failed = verifier(tampered, key_file)
        assert failed.returncode == 1, failed.stdout
        assert failed.stderr.startswith("FAILED") and f"position {entry['position']}" in failed.stderr


@pytest.mark.parametrize("reader", [
    Actor(role="commissioner", org="ICB-NCL", id="c-1"),
    Actor(role="procurement_lead", org="NEL-CSU", id="j.okafor"),
    Actor(role="provider", org="aster-care-homes", id="bm-aster-care-homes"),
    Actor(role="evaluator", org="ICB-NCL", id="dr.a.patel"),
])
def test_a_reader_not_entitled_to_extract_finds_no_such_record(ledger, reader):
    world(ledger)
    with pytest.raises(NotFound) as refused:
        extract(ledger, reader, about="competition:AQP-CH-2026")
    assert refused.value.message == "There is no competition AQP-CH-2026."
    with pytest.raises(NotFound) as unknown:
        extract(ledger, FOI_OFFICER, about="competition:AQP-XX-1999")
    assert unknown.value.message == "There is no competition AQP-XX-1999."


def test_evaluators_are_named_only_once_released_and_an_erased_evaluators_name_reads_erased_still_scheduled_and_proven(ledger, tmp_path):
    world(ledger)
    signer, key_file = keys(tmp_path)
    patel = next(e for e in evaluators() if e["evaluator"] == "dr.a.patel")

    release = EvaluatorRelease(decided_by=FOI_OFFICER, why="The panel's membership was published with the award notice.")
    released = extract(ledger, FOI_OFFICER, about="competition:AQP-CH-2026", release_evaluators=release, signer=signer)
    released.write(tmp_path / "released")
    text = output_text(tmp_path / "released")
    assert patel["evaluator"] in text and patel["name"] in text
    assert patel["email"] not in text  # contact details stay personal data
    assert released.manifest["evaluators"] == {
        "released": True, "decided_by": {"role": "foi_officer", "org": "NEL-CSU", "id": "f.adeyemi"}, "why": release.why,
    }
    assert_schedule_complete(tmp_path / "released")

    erased = ledger.handle(data_subjects.ErasePersonalData(subject="dr.a.patel", reason="DSAR-2026-007"), ADMIN)
    assert erased.ok
    about_her = extract(ledger, FOI_OFFICER, about="subject:dr.a.patel", signer=signer)
    about_her.write(tmp_path / "subject")
    appointed = next(r for r in about_her.records if r["type"] == "Competition.EvaluatorAppointed")
    assert appointed["fields"]["name"] == "[erased]" and appointed["fields"]["email"] == "[erased]"
    erased_entries = [e for e in about_her.schedule if e["position"] == appointed["position"] and e["erased"]]
    assert {e["path"] for e in erased_entries} == {"/fields/name", "/fields/email"}
    assert any(r["type"] == "DataSubject.Erased" and r["fields"]["subject"] == "[withheld]" for r in about_her.records)
    # Only the manifest names her: what was asked about.
    for name in ("records.json", "records.csv", "schedule.json", "schedule.csv"):
        assert "dr.a.patel" not in (tmp_path / "subject" / name).read_text(encoding="utf-8")
    assert_schedule_complete(tmp_path / "subject")
    checked = verifier(tmp_path / "subject", key_file)
    assert checked.returncode == 0, checked.stderr


def test_a_providers_extract_holds_its_homes_records_in_the_period_and_no_sealed_tender_before_the_opening(ledger, tmp_path):
    world(ledger)
    signer, _ = keys(tmp_path)
    provider = extract(ledger, FOI_OFFICER, about="provider:1-2000000001", signer=signer)
    kinds = {r["record"]["kind"] for r in provider.records}
    assert "location" in kinds and "return" in kinds  # its home, and the home's returns
    first_day = date.fromisoformat(provider.records[0]["when"][:10])
    first = extract(ledger, FOI_OFFICER, about="provider:1-2000000001", until=first_day, signer=signer)
    later = extract(ledger, FOI_OFFICER, about="provider:1-2000000001", since=first_day + timedelta(days=1), signer=signer)
    assert first.records and later.records
    assert len(first.records) + len(later.records) == len(provider.records)
    assert all(r["when"][:10] == first_day.isoformat() for r in first.records)

    competition_copy(ledger, "AQP-CH-SEALED", before="tenders.open")
    sealed = extract(ledger, FOI_OFFICER, about="competition:AQP-CH-SEALED", signer=signer)
    assert sealed.records and not [r for r in sealed.records if r["type"].startswith("Competition.Tender")]
