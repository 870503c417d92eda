"""`aqp ocds export` on each store: both packages written, valid, and --since narrowing the releases."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.ocds_schemas import errors

pytestmark = pytest.mark.storage
ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "nhse-call-off.jsonl"


def run(*args: str, env: dict) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_aqp_ocds_export_writes_valid_release_and_record_packages(database_url, tmp_path):
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json", "AQP_OCDS_PREFIX": "ocds-tst123"}
    assert run("apply", "--quiet", str(SCENARIO), env=env).returncode == 0

    made = run("ocds", "export", "--out", str(tmp_path / "all"), env=env)
    assert made.returncode == 0, made.stderr
    assert "compiling records: 1/1" in made.stderr and "wrote" in made.stderr
    releases = json.loads((tmp_path / "all" / "release-package.json").read_text(encoding="utf-8"))
    records = json.loads((tmp_path / "all" / "record-package.json").read_text(encoding="utf-8"))
    assert errors(releases, "release-package-schema.json") == [] and errors(records, "record-package-schema.json") == []
    assert {r["ocid"] for r in releases["releases"]} == {"ocds-tst123-NHSE-ICS-2016-FURTHER-COMPETITION"}
    assert json.loads(made.stdout) == {"releases": len(releases["releases"]), "records": 1, "out": str(tmp_path / "all")}

    later = run("ocds", "export", "--since", "2017-03-01", "--out", str(tmp_path / "later"), env=env)
    assert later.returncode == 0, later.stderr
    some = json.loads((tmp_path / "later" / "release-package.json").read_text(encoding="utf-8"))["releases"]
    assert 0 < len(some) < len(releases["releases"]) and all(r["date"] >= "2017-03-01" for r in some)

    refused = run("ocds", "export", "--out", str(tmp_path / "x"), env={**env, "AQP_OCDS_PREFIX": "aqp"})
    assert refused.returncode == 2 and "AQP_OCDS_PREFIX must be ocds-" in refused.stderr
    refused = run("ocds", "export", "--since", "someday", "--out", str(tmp_path / "x"), env=env)
    assert refused.returncode == 2 and "--since takes a day" in refused.stderr


def test_aqp_ocds_notice_writes_the_payload_whose_hash_the_publication_records(database_url, tmp_path):
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json"}
    assert run("apply", "--quiet", str(ROOT / "scenarios" / "nottingham-escalation.jsonl"), env=env).returncode == 0
    contract = "NCC-RES-2026/CITY/meadowview-care"

    made = run("ocds", "notice", "--contract", contract, "--type", "contract_change_notice", "--modification", "V1",
               "--published-on", "2027-06-09", "--out", str(tmp_path / "uk10.json"), env=env)
    assert made.returncode == 0, made.stderr
    body = (tmp_path / "uk10.json").read_bytes()
    said = json.loads(made.stdout)
    assert said["payload_sha256"] == hashlib.sha256(body).hexdigest() and said["payload_sha256"] in made.stderr
    payload = json.loads(body)
    assert body == json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert payload["tag"] == ["contractAmendment"] and payload["contracts"][0]["documents"][-1]["noticeType"] == "UK10"

    # The details notice of the scenario, recorded again with a payload's hash, is a new publication
    # whose release carries the hash (a corrected notice is published as another of the same type).
    details = run("ocds", "notice", "--contract", contract, "--type", "contract_details_notice", "--out", str(tmp_path / "uk7.json"), env=env)
    sha = json.loads(details.stdout)["payload_sha256"]
    line = {"actor": {"id": "u-ncc-contract-officer", "org": "NCC", "role": "contract_manager"}, "at": "2027-06-09T10:00:00Z",
            "command": {"type": "contract.publish_notice", "contract": contract, "notice_type": "contract_details_notice",
                        "notice_reference": "FTS-2027-UK7-0555", "published_on": "2027-06-09", "payload_sha256": sha}}
    (tmp_path / "publish.jsonl").write_text(json.dumps(line) + "\n", encoding="utf-8")
    published = run("apply", "--quiet", str(tmp_path / "publish.jsonl"), env=env)
    assert published.returncode == 0, published.stderr + published.stdout
    assert run("ocds", "export", "--out", str(tmp_path / "out"), env=env).returncode == 0
    releases = json.loads((tmp_path / "out" / "release-package.json").read_text(encoding="utf-8"))
    documents = [d for r in releases["releases"] for c in r.get("contracts", []) for d in c.get("documents", [])]
    assert any(d["id"] == "FTS-2027-UK7-0555" and sha in d["description"] for d in documents)
    assert errors(releases, "release-package-schema.json") == []

    for args, words in (
        (("--contract", contract, "--type", "contract_change_notice"), "names the modification"),
        (("--contract", "NO-SUCH-CONTRACT", "--type", "contract_details_notice"), "NO-SUCH-CONTRACT"),
        (("--competition", "NO-SUCH", "--type", "award_notice"), "NO-SUCH"),
    ):
        refused = run("ocds", "notice", *args, "--out", str(tmp_path / "x.json"), env=env)
        assert refused.returncode == 2 and words in refused.stderr and "Traceback" not in refused.stderr, refused.stderr
def test_aqp_ocds_import_reports_each_release_and_fails_only_when_nothing_could_be_read(database_url, tmp_path):
    from tests.shared import shared_file

    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json", "AQP_LOG_LEVEL": "warning"}
    samples = [str(shared_file("ocds", "samples", n)) for n in (
        "uk-contracts-finder_release-package_2022-10-20_100releases.json", "mexico-sfp-apf_record-package_ocds-07smqs-993235.json")]
    absent = str(tmp_path / "absent.json")
    made = run("ocds", "import", *samples, absent, env=env)
    assert made.returncode == 0, made.stderr
    lines = [json.loads(line) for line in made.stdout.splitlines()]
    assert lines[-1] == {"files": 3, "files_read": 2, "taken": 99, "held": 0, "refused": 2}
    refused = [line for line in lines[:-1] if line["outcome"] == "refused"]
    assert [(r["position"], r["problems"][0]["path"]) for r in refused] == [
        ("releases/22", "tender/status"), ("records/0/releases/0", "tender/submissionMethod/0")]
    assert "refused releases/22 (ocds-b5fd17-9acd68ad-792b-4018-834f-ae3b047c8a7d" in made.stderr
    assert f"{absent}: not imported" in made.stderr

    again = run("ocds", "import", samples[0], env=env)
    assert again.returncode == 0 and json.loads(again.stdout.splitlines()[-1])["held"] == 99
    nothing = run("ocds", "import", absent, env=env)
    assert nothing.returncode == 1 and "cannot be read" in nothing.stderr
