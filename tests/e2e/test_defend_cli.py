"""`aqp defend` as a procurement lead runs it, and the verifier as the reader runs it: real processes, both stores."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "london-aqp-care-homes-2026.jsonl"


def run(*args: str, env: dict) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_aqp_defend_writes_a_pack_that_the_standalone_verifier_checks_offline(database_url, tmp_path):
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_KEY_DIR": str(tmp_path / "keys"), "AQP_LOG_FORMAT": "json"}
    aqp = ("-m", "api.cli")
    assert run(*aqp, "apply", "--quiet", str(SCENARIO), env=env).returncode == 0
    assert run(*aqp, "keys", "init", env=env).returncode == 0
    keys = str(tmp_path / "keys" / "verifier-keys.txt")

    made = run(*aqp, "defend", "AQP-CH-2026", "--out", str(tmp_path / "pack"), env=env)
    assert made.returncode == 0, made.stderr
    assert f"wrote {tmp_path / 'pack' / 'pack.json'}: " in made.stderr and "proven against checkpoint 1" in made.stderr
    checked = run("-m", "audit.verifier", "pack", str(tmp_path / "pack"), "--key", keys, env=env)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[-1].startswith("OK: ")

    # A bidder's own pack, asked for as that bidder.
    made = run(*aqp, "defend", "AQP-CH-2026", "--out", str(tmp_path / "ivydene"),
               "--viewer", "provider:ivydene-care:bm-ivydene-care", env=env)
    assert made.returncode == 0, made.stderr
    assert json.loads((tmp_path / "ivydene" / "pack.json").read_text())["for_bidder"] == "ivydene-care"
    assert run("-m", "audit.verifier", "pack", str(tmp_path / "ivydene"), "--key", keys, env=env).returncode == 0

    # Another bidder's pack is not there for a bidder; nothing is written.
    refused = run(*aqp, "defend", "AQP-CH-2026", "--for-bidder", "damson-healthcare", "--out", str(tmp_path / "no"),
                  "--viewer", "provider:ivydene-care:bm-ivydene-care", env=env)
    assert refused.returncode == 1 and "aqp defend: " in refused.stderr and "AQP-CH-2026" in refused.stderr
    assert not (tmp_path / "no").exists()

    # A flipped byte in the written pack fails the verifier, naming the fact.
    text = (tmp_path / "pack" / "pack.json").read_text()
    (tmp_path / "pack" / "pack.json").write_text(text.replace("Invitation to tender", "Invitation to tendex", 1))
    failed = run("-m", "audit.verifier", "pack", str(tmp_path / "pack"), "--key", keys, env=env)
    assert failed.returncode == 1 and "FAILED: fact documents/documents-1 does not hold" in failed.stderr
