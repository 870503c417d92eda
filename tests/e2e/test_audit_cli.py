"""An auditor's journey with the `aqp` command and the standalone verifier (real processes)."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "london-aqp-care-homes-2026.jsonl"


def run(*args: str, env: dict) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def test_an_auditor_checkpoints_verifies_and_proves_an_event(database_url, tmp_path):
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_KEY_DIR": str(tmp_path / "keys"), "AQP_LOG_FORMAT": "json"}
    aqp = ("-m", "api.cli")
    assert run(*aqp, "apply", "--quiet", str(SCENARIO), env=env).returncode == 0
    init = run(*aqp, "keys", "init", env=env)
    assert init.returncode == 0, init.stderr
    assert stat.S_IMODE((tmp_path / "keys" / "signing.key").stat().st_mode) == 0o600
    public = run(*aqp, "keys", "public", env=env).stdout.strip()
    assert public == init.stdout.strip() and public.startswith("aqp-ledger.local/log+")

    checkpoint = run(*aqp, "audit", "checkpoint", env=env)
    assert checkpoint.returncode == 0, checkpoint.stderr
    size = int(checkpoint.stdout.splitlines()[1])
    assert size > 250  # every stored event of the scenario

    verified = run(*aqp, "audit", "verify", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith(f"OK: {size} stored events, {size} logged, 1 checkpoints")

    bundle = tmp_path / "award.json"
    proved = run(*aqp, "audit", "prove", "competition/AQP-CH-2026@999", "--out", str(bundle), env=env)
    assert proved.returncode == 1 and "no stored event" in proved.stderr
    proved = run(*aqp, "audit", "prove", "competition/AQP-CH-2026@250", "--out", str(bundle), env=env)
    assert proved.returncode == 0, proved.stderr
    checked = run("-m", "audit.verifier", str(bundle), "--key", str(tmp_path / "keys" / "verifier-keys.txt"), env=env)
    assert checked.returncode == 0, checked.stderr
    assert "AwardConcluded" in checked.stdout

    exported = run(*aqp, "audit", "checkpoints", "--export", str(tmp_path / "witness"), env=env)
    assert exported.returncode == 0
    assert (tmp_path / "witness" / "checkpoint-000001.txt").read_text() == checkpoint.stdout


def test_verify_names_the_first_tampered_event(tmp_path):
    db = tmp_path / "ledger.db"
    env = {**os.environ, "AQP_DATABASE_URL": f"sqlite:///{db}", "AQP_KEY_DIR": str(tmp_path / "keys"), "AQP_LOG_FORMAT": "json"}
    aqp = ("-m", "api.cli")
    assert run(*aqp, "apply", "--quiet", str(SCENARIO), env=env).returncode == 0
    assert run(*aqp, "keys", "init", env=env).returncode == 0
    assert run(*aqp, "audit", "checkpoint", env=env).returncode == 0
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("DROP TRIGGER stored_events_refuse_update")
    (target,) = conn.execute(
        "SELECT MIN(rowid) FROM stored_events WHERE CAST(state AS TEXT) LIKE '%kingsmead-care-homes%'"
    ).fetchone()
    # Someone improves a bidder's tender hash in place.
    conn.execute("UPDATE stored_events SET state = replace(state, 'kingsmead', 'kingsmeaD') WHERE rowid = ?", (target,))
    conn.close()
    verified = run(*aqp, "audit", "verify", env=env)
    assert verified.returncode == 1
    assert verified.stdout.startswith("FAILED")
    assert f"First: changed: notification {target} (leaf {target - 1}) differs from what was logged" in verified.stdout


def test_an_auditor_checks_the_snapshots_and_finds_one_the_events_do_not_give(tmp_path):
    """`aqp audit snapshots` replays each snapshotted record and compares; a snapshot re-sealed by
    someone holding the key (here: changed, then sealed afresh by the ledger's own code) is named."""
    import json  # noqa: PLC0415
    from datetime import date, timedelta  # noqa: PLC0415

    db = tmp_path / "ledger.db"
    env = {**os.environ, "AQP_DATABASE_URL": f"sqlite:///{db}", "AQP_KEY_DIR": str(tmp_path / "keys"), "AQP_LOG_FORMAT": "json"}
    home, first = "1-1000000077", date(2026, 1, 5)
    sync = {"id": "cqc-sync", "org": "NEL-CSU", "role": "system"}
    record = {"locationId": home, "providerId": "1-2000000077", "name": "Cedar View", "registrationStatus": "Registered",
              "numberOfBeds": 40, "localAuthority": "Camden", "region": "London"}
    lines = [{"actor": sync, "at": "2026-01-04T06:00:00Z", "command": {"type": "location.import_cqc", "record": record}}]
    manager = {"id": "manager", "org": "1-2000000077", "role": "provider"}
    for n in range(120):
        day = first + timedelta(days=n)
        lines.append({"actor": manager, "at": f"{day.isoformat()}T09:00:00Z",
                      "command": {"type": "location.report_vacancies", "location": home, "date": day.isoformat(), "residential": n % 4}})
    scenario = tmp_path / "long-home.jsonl"
    scenario.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    aqp = ("-m", "api.cli")
    applied = run(*aqp, "apply", "--quiet", str(scenario), env=env)
    assert applied.returncode == 0, applied.stdout + applied.stderr
    checked = run(*aqp, "audit", "snapshots", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout == "OK: 2 snapshots, each sealed and equal to its record replayed from the events to its version.\n"

    forge = (
        "from api.bootstrap import ledger_at; from audit.snapshots import SealedSnapshots, seal_key; from pathlib import Path; "
        "from domain.providers.location import Location; import sys; "
        f"ledger = ledger_at(sys.argv[1]); s = SealedSnapshots(ledger, seal_key(Path(sys.argv[2]))); "
        f"home = s.nearest(Location.id_for('{home}'), version=100)[0]; home.beds = 400; s.take(home)"
    )
    forged = run("-c", forge, f"sqlite:///{db}", str(tmp_path / "keys"), env=env)
    assert forged.returncode == 0, forged.stderr
    checked = run(*aqp, "audit", "snapshots", env=env)
    assert checked.returncode == 1
    assert checked.stdout.startswith("FAILED: 2 snapshots, 1 do not hold. First: the snapshot of record ")
    assert "at version 100 differs from its events in: beds" in checked.stdout
