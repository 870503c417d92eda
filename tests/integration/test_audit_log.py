"""The Merkle log, checkpoints, verification and proof bundles on real stores (both)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from audit.bundle import prove
from audit.checkpoints import Checkpoints, InconsistentLog
from audit.log import AuditLog
from audit.merkle import MemoryTree
from audit.verifier.leaf import leaf_bytes
from audit.verifier.merkle import leaf_hash, verify_consistency, verify_inclusion
from audit.verify import verify
from eventsourcing.persistence import IntegrityError
from domain.procurement import commands as c
from api.bootstrap import ledger_at
from domain.kernel.metadata import CommandContext, acting
from tests.integration.audit_fixtures import LEAD, START, add_history, audited
from tests.integration.store_access import raw_connection

ROOT = Path(__file__).resolve().parents[2]


def test_the_log_follows_every_stored_event_and_its_root_matches_a_recomputation(ledger, tmp_path):
    a = audited(ledger, tmp_path, competitions=12)
    reference = MemoryTree()
    for nid, oid, version, topic, state in a.log.store.stored_events():
        reference.append(leaf_bytes(nid, oid, version, topic, state))
    assert a.log.size() == reference.size == 48
    assert a.log.root() == reference.root()
    assert a.log.catch_up() == 0  # nothing twice


def test_inclusion_and_consistency_proofs_from_the_stored_log_verify(ledger, tmp_path):
    a = audited(ledger, tmp_path, competitions=9)
    size = a.log.size()
    rng = random.Random(7)
    for _ in range(20):
        n = rng.randint(1, size)
        i = rng.randrange(n)
        (record,) = [r for r in a.log.store.stored_events() if a.log.leaf_index_of(r[0]) == i]
        verify_inclusion(i, n, leaf_hash(leaf_bytes(*record)), a.log.inclusion_proof(i, n), a.log.root(n))
        m = rng.randint(1, n)
        verify_consistency(m, n, a.log.root(m), a.log.root(n), a.log.consistency_proof(m, n))


def test_leaf_index_is_not_notification_id_when_a_failed_save_leaves_a_gap(database_url, tmp_path):
    first, second = ledger_at(database_url), ledger_at(database_url)
    try:
        add_history(first, 2)
        stale = second.competition("AQP-0000")
        add_history(first, 0)
        published = first.handle(
            c.PublishDocument(competition="AQP-0000", document="X", title="x", sha256="b" * 64, size_bytes=1), LEAD, at=START
        )
        assert published.ok
        with acting(CommandContext(actor=LEAD, at=START, command_id="x", command_type="t", correlation_id="x", causation_id="x")):
            stale.publish_document(document="Y", title="y", sha256="c" * 64, size_bytes=1, now=START)
        with pytest.raises(IntegrityError):
            second.save(stale)
        add_history(first, 1, start=2)
        log = AuditLog(first)
        log.catch_up()
        ids = [nid for _, nid, _ in log.recorded_leaves()]
        assert [i for i, _, _ in log.recorded_leaves()] == list(range(len(ids)))
        if database_url.startswith("postgres"):
            assert ids[-1] > len(ids), "PostgreSQL's sequence skipped the failed save's id"
        assert verify(first, []).ok
    finally:
        first.close()
        second.close()


def test_a_checkpoint_is_signed_only_when_the_log_grew_and_verification_holds(ledger, tmp_path):
    a = audited(ledger, tmp_path)
    signer = a.ring.signer()
    cp1 = a.checkpoints.write(signer)
    assert a.checkpoints.write(signer) == cp1
    add_history(ledger, 3, start=100)
    cp2 = a.checkpoints.write(signer)
    assert (cp2.seq, cp2.tree_size) == (2, cp1.tree_size + 12)
    report = verify(ledger, a.ring.verifier_keys())
    assert report.ok, report.problems
    assert (report.events, report.leaves, report.checkpoints) == (52, 52, 2)


def test_the_ledger_refuses_to_sign_a_checkpoint_that_forks_history(ledger, database_url, tmp_path):
    a = audited(ledger, tmp_path)
    a.checkpoints.write(a.ring.signer())
    add_history(ledger, 1, start=50)
    with raw_connection(database_url) as conn:  # someone rewrites the subtree of the first 32 events
        conn.execute("UPDATE audit_nodes SET hash = ? WHERE level = 5 AND idx = 0", (b"\x00" * 32,))
    fresh = AuditLog(ledger)
    with pytest.raises(InconsistentLog):
        Checkpoints(fresh).write(a.ring.signer())


def test_old_checkpoints_still_verify_after_a_key_rotation(ledger, tmp_path):
    a = audited(ledger, tmp_path)
    a.checkpoints.write(a.ring.signer())
    a.ring.rotate("aqp-ledger.test/log")
    add_history(ledger, 2, start=60)
    a.checkpoints.write(a.ring.signer())
    assert len(a.ring.verifier_keys()) == 2
    assert verify(ledger, a.ring.verifier_keys()).ok
    only_new = verify(ledger, a.ring.verifier_keys()[1:])
    assert [p.kind for p in only_new.problems] == ["bad_signature"]


def test_verification_can_start_from_a_checkpoint(ledger, tmp_path):
    a = audited(ledger, tmp_path)
    first = a.checkpoints.write(a.ring.signer())
    add_history(ledger, 4, start=70)
    a.checkpoints.write(a.ring.signer())
    report = verify(ledger, a.ring.verifier_keys(), since_checkpoint=first.seq)
    assert report.ok, report.problems
    assert report.events == 16


def test_a_proof_bundle_verifies_with_the_standalone_verifier_and_a_forged_one_does_not(ledger, tmp_path):
    a = audited(ledger, tmp_path)
    bundle = prove(ledger, "competition/AQP-0003@2", signer=a.ring.signer())
    assert bundle["record"]["originator_version"] == 2
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    keys = a.ring.verifier_keys_file
    ok = subprocess.run([sys.executable, "-m", "audit.verifier", str(path), "--key", str(keys)], capture_output=True, text=True, cwd=ROOT)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith("OK: notification")
    forged = dict(bundle, record=dict(bundle["record"], originator_version=3))
    path.write_text(json.dumps(forged))
    bad = subprocess.run([sys.executable, "-m", "audit.verifier", str(path), "--key", str(keys)], capture_output=True, text=True, cwd=ROOT)
    assert bad.returncode == 1 and bad.stderr.startswith("FAILED")


def test_the_standalone_verifier_imports_nothing_else_from_the_project():
    code = (
        "import sys, runpy; sys.argv=['v','--help']\n"
        "try:\n    runpy.run_module('audit.verifier', run_name='__main__')\nexcept SystemExit: pass\n"
        "mods = sorted(m for m in sys.modules if m.split('.')[0] in ('domain','api','projections','audit'))\n"
        "print(','.join(mods))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT).stdout.strip().splitlines()[-1]
    # The verifier's own modules (the bundle's, the procurement report's `pack`, the FOI extract's) and nothing else.
    others = [m for m in out.split(",") if m != "audit" and m != "audit.verifier" and not m.startswith("audit.verifier.")]
    assert not others, f"the standalone verifier loads {others}"
    assert {"audit.verifier.leaf", "audit.verifier.merkle", "audit.verifier.note", "audit.verifier.pack", "audit.verifier.extract"} <= set(out.split(","))


def test_the_running_ledger_keeps_the_log_current_and_signs_every_n_events(ledger, tmp_path):
    from audit.checkpoints import KeyRing
    from audit.follower import AuditFollower

    ring = KeyRing(tmp_path / "keys")
    ring.init("aqp-ledger.test/log")
    follower = AuditFollower(ledger, ring, every_events=10, every_seconds=3600)
    ledger.after_save.append(follower)
    add_history(ledger, 6)  # 24 events
    assert follower.log.size() == 24
    sizes = [cp.tree_size for cp in follower.checkpoints.all()]
    assert sizes == [1, 11, 21]
    assert verify(ledger, ring.verifier_keys()).ok


def test_a_failing_follower_never_undoes_a_committed_command(ledger):
    def broken(_recordings):
        raise RuntimeError("audit store unavailable")

    ledger.after_save.append(broken)
    add_history(ledger, 1)
    assert ledger.max_position() == 4
    ledger.after_save.clear()
    log = AuditLog(ledger)
    assert log.catch_up() == 4  # the log catches up later


def leaves_in_store(database_url: str) -> int:
    """The leaves committed, read by a connection of its own."""
    with raw_connection(database_url) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM audit_leaves").fetchone()[0])


def test_a_commands_leaves_are_written_in_the_transaction_that_stores_its_events(database_url):
    """With the log attached to the recorder (as the bootstrap attaches it), each command's leaves
    are there when its transaction commits, read back by another connection with no catch-up; a
    command whose transaction fails leaves neither its events nor its leaves; and the root is the
    one a recomputation from every stored event gives."""
    ledger = ledger_at(database_url)
    try:
        log = AuditLog(ledger)
        ledger.recorder.merkle = log
        add_history(ledger, 3)  # 12 events, one transaction each command
        assert leaves_in_store(database_url) == ledger.max_position() == 12
        assert log.size_known() == 12 and log.catch_up() == 0

        def refuse(sql):
            raise RuntimeError("the idempotency key's write fails")

        competition = ledger.competition("AQP-0000")
        with acting(CommandContext(actor=LEAD, at=START, command_id="y", command_type="t", correlation_id="y", causation_id="y")):
            competition.publish_document(document="Z", title="z", sha256="d" * 64, size_bytes=1, now=START)
        with pytest.raises(RuntimeError):
            ledger.save(competition, in_same_transaction=refuse)
        assert ledger.max_position() == 12 and leaves_in_store(database_url) == 12
        assert log.size_known() == 12  # nothing learnt from a transaction that did not commit
        add_history(ledger, 1, start=3)
        assert leaves_in_store(database_url) == ledger.max_position() == 16
        reference = MemoryTree()
        for record in log.store.stored_events():
            reference.append(leaf_bytes(*record))
        assert AuditLog(ledger).root() == reference.root()
        assert verify(ledger, []).ok
    finally:
        ledger.close()


def test_where_the_log_is_behind_a_command_leaves_its_leaves_to_the_catch_up_which_keeps_the_order(database_url):
    ledger = ledger_at(database_url)
    try:
        add_history(ledger, 2)  # 8 events stored without the log
        log = AuditLog(ledger)
        ledger.recorder.merkle = log
        add_history(ledger, 1, start=2)
        assert leaves_in_store(database_url) == 0  # not leaf 0 for event 9: the log is behind
        assert log.catch_up() == 12
        add_history(ledger, 1, start=3)  # now current: written with the events
        assert leaves_in_store(database_url) == 16 and log.catch_up() == 0
        assert [nid for _, nid, _ in log.recorded_leaves()] == [record[0] for record in log.store.stored_events()]
        assert verify(ledger, []).ok
    finally:
        ledger.close()


def test_two_writers_and_a_catch_up_at_once_keep_one_log_in_notification_order(database_url):
    """Two ledgers (two processes' worth of connections) writing commands at once, each writing
    its leaves with its events, and a third catching up meanwhile: every event has one leaf, in
    notification order, and the tree verifies."""
    import threading

    writers = [ledger_at(database_url) for _ in range(2)]
    watcher = ledger_at(database_url)
    try:
        for w in writers:
            w.recorder.merkle = AuditLog(w)
        failures: list[BaseException] = []

        def write(w, start):
            try:
                add_history(w, 5, start=start)
            except BaseException as err:  # noqa: BLE001 - reported below
                failures.append(err)

        threads = [threading.Thread(target=write, args=(w, 10 * i)) for i, w in enumerate(writers)]
        for t in threads:
            t.start()
        catching = AuditLog(watcher)
        while any(t.is_alive() for t in threads):
            catching.catch_up()
        for t in threads:
            t.join()
        assert not failures, failures
        catching.catch_up()
        leaves = list(catching.recorded_leaves())
        stored = [record[0] for record in catching.store.stored_events()]
        assert [nid for _, nid, _ in leaves] == stored and len(stored) == 40
        assert [i for i, _, _ in leaves] == list(range(40))
        assert verify(watcher, []).ok
    finally:
        for w in (*writers, watcher):
            w.close()
