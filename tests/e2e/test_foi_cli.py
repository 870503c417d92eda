"""An FOI officer's extract with the `aqp` command and the standalone verifier (real processes, both stores)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "london-aqp-care-homes-2026.jsonl"


def run(*args: str, env: dict) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_an_foi_officer_extracts_the_example_competition_and_a_recipient_verifies_it(database_url, tmp_path):
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_KEY_DIR": str(tmp_path / "keys"), "AQP_LOG_FORMAT": "json",
           "AQP_LOG_LEVEL": "warning"}
    aqp = ("-m", "api.cli")
    assert run(*aqp, "apply", "--quiet", str(SCENARIO), env=env).returncode == 0
    assert run(*aqp, "keys", "init", env=env).returncode == 0
    out = tmp_path / "extract"
    about = ("foi", "extract", "--about", "competition:AQP-CH-2026", "--out", str(out))

    done = run(*aqp, *about, "--as", "foi_officer:NEL-CSU:f.adeyemi", "--request", "FOI-2026-0042", env=env)
    assert done.returncode == 0, done.stderr
    assert "records released" in done.stderr and "withholdings scheduled" in done.stderr
    assert sorted(os.listdir(out)) == ["extract.html", "extract.pdf", "manifest.json", "records.csv", "records.json",
                                       "schedule.csv", "schedule.json"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["request"] == "FOI-2026-0042" and manifest["counts"]["records"] > 250
    assert "Dr Anita Patel" not in (out / "records.csv").read_text()

    # The same records and schedule for people: the PDF names the manifest it goes with, marks
    # every withholding where it was, lists each in the schedule, and holds nothing withheld.
    schedule = json.loads((out / "schedule.json").read_text())
    html = (out / "extract.html").read_text()
    assert html.count('<mark class="aqp-withheld">') == len(schedule) + 2  # and the two in the key to the marks
    document = pdfium.PdfDocument(str(out / "extract.pdf"))
    text = "\n".join(page.get_textpage().get_text_range() for page in document)
    assert "FOI extract: competition:AQP-CH-2026 (request FOI-2026-0042)" in text
    assert hashlib.sha256((out / "manifest.json").read_bytes()).hexdigest()[:40] in text.replace("\n", "")
    assert f"{len(schedule)} in all" in text and "3. The redaction schedule" in text
    for withheld in ("Dr Anita Patel", "Rhian Hughes", "@example"):
        assert withheld not in text and withheld not in html

    checked = run("-m", "audit.verifier", "extract", str(out), "--key", str(tmp_path / "keys" / "verifier-keys.txt"), env=env)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.startswith(f"OK: {manifest['counts']['records']} records of competition:AQP-CH-2026 verified")

    refused = run(*aqp, *about, "--as", "commissioner:ICB-NCL:c-1", env=env)
    assert refused.returncode == 1 and "There is no competition AQP-CH-2026." in refused.stderr
    unexplained = run(*aqp, *about, "--as", "foi_officer:NEL-CSU:f.adeyemi", "--release-evaluators", env=env)
    assert unexplained.returncode == 2 and "--why" in unexplained.stderr
