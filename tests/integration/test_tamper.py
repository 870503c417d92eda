"""Tampering with the database behind the ledger's back is always detected.

The protections are deliberately bypassed first (triggers dropped, as a superuser would),
then for many random trials of each kind the store is altered, `verify` must report a
problem, and the alteration is undone before the next trial. The counts of trials per kind
are printed in the run's summary.
"""

from __future__ import annotations

import base64
import random
from collections import Counter

import pytest

from audit.signing import Ed25519NoteSigner, checkpoint_text, sign_note
from audit.verify import verify
from tests.conftest import TAMPER_TRIALS
from tests.integration.audit_fixtures import add_history, audited
from tests.integration.store_access import events_table, raw_connection

TRIALS = 20


def drop_protections(conn, database_url: str) -> None:
    table = events_table(database_url)
    if database_url.startswith("sqlite"):
        for name in (f"{table}_refuse_update", f"{table}_refuse_delete", "audit_checkpoints_refuse_update", "audit_checkpoints_refuse_delete"):
            conn.execute(f"DROP TRIGGER {name}")
    else:
        for t in (table, "audit_checkpoints"):
            conn.execute(f'DROP TRIGGER aqp_refuse_change ON "{t}"')


def rows(conn, database_url: str) -> list[tuple]:
    idc = "rowid" if database_url.startswith("sqlite") else "notification_id"
    return [
        tuple(r)
        for r in conn.execute(
            f"SELECT {idc}, originator_id, originator_version, topic, state FROM {events_table(database_url)} ORDER BY {idc}"
        ).fetchall()
    ]


@pytest.fixture
def tampering(ledger, database_url, tmp_path):
    a = audited(ledger, tmp_path, competitions=15)
    a.checkpoints.write(a.ring.signer())
    add_history(ledger, 3, start=100)
    a.checkpoints.write(a.ring.signer())
    keys = a.ring.verifier_keys()
    assert verify(ledger, keys).ok
    with raw_connection(database_url) as conn:
        drop_protections(conn, database_url)
        yield ledger, keys, conn
    assert verify(ledger, keys).ok, "every trial must have been undone"


def detected(ledger, keys) -> list[str]:
    report = verify(ledger, keys)
    return [p.kind for p in report.problems]


def test_every_changed_byte_of_a_stored_event_is_detected(tampering, database_url):
    ledger, keys, conn = tampering
    table, idc = events_table(database_url), "rowid" if database_url.startswith("sqlite") else "notification_id"
    rng = random.Random(1)
    kinds = Counter()
    for _ in range(TRIALS):
        nid, oid, version, topic, state = rng.choice(rows(conn, database_url))
        field = rng.choice(["state", "topic", "originator_version"])
        if field == "state":
            data = bytearray(state)
            data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
            conn.execute(f"UPDATE {table} SET state = ? WHERE {idc} = ?", (bytes(data), nid))
        elif field == "topic":
            i = rng.randrange(len(topic))
            conn.execute(f"UPDATE {table} SET topic = ? WHERE {idc} = ?", (topic[:i] + chr(ord(topic[i]) ^ 1) + topic[i + 1 :], nid))
        else:
            conn.execute(f"UPDATE {table} SET originator_version = ? WHERE {idc} = ?", (version + 1000, nid))
        found = detected(ledger, keys)
        assert "changed" in found, (field, nid, found)
        conn.execute(f"UPDATE {table} SET state = ?, topic = ?, originator_version = ? WHERE {idc} = ?", (state, topic, version, nid))
        kinds[field] += 1
    TAMPER_TRIALS[database_url.split(":")[0]]["changed byte"] += sum(kinds.values())


def test_every_deleted_row_is_detected(tampering, database_url):
    ledger, keys, conn = tampering
    table, idc = events_table(database_url), "rowid" if database_url.startswith("sqlite") else "notification_id"
    rng = random.Random(2)
    for _ in range(TRIALS):
        row = rng.choice(rows(conn, database_url))
        conn.execute(f"DELETE FROM {table} WHERE {idc} = ?", (row[0],))
        assert "missing" in detected(ledger, keys)
        _reinsert(conn, database_url, row)
    TAMPER_TRIALS[database_url.split(":")[0]]["deleted row"] += TRIALS


def test_every_swap_of_two_rows_contents_is_detected(tampering, database_url):
    ledger, keys, conn = tampering
    table, idc = events_table(database_url), "rowid" if database_url.startswith("sqlite") else "notification_id"
    rng = random.Random(3)
    for _ in range(TRIALS):
        a, b = rng.sample(rows(conn, database_url), 2)
        # Through a parking spot, since (originator id, version) is unique.
        conn.execute(f"UPDATE {table} SET originator_version = -1 WHERE {idc} = ?", (a[0],))
        conn.execute(f"UPDATE {table} SET originator_id = ?, originator_version = ?, topic = ?, state = ? WHERE {idc} = ?", (*a[1:], b[0]))
        conn.execute(f"UPDATE {table} SET originator_id = ?, originator_version = ?, topic = ?, state = ? WHERE {idc} = ?", (*b[1:], a[0]))
        found = detected(ledger, keys)
        assert {"reordered", "changed"} & set(found), found
        conn.execute(f"UPDATE {table} SET originator_version = -1 WHERE {idc} = ?", (a[0],))
        conn.execute(f"UPDATE {table} SET originator_id = ?, originator_version = ?, topic = ?, state = ? WHERE {idc} = ?", (*b[1:], b[0]))
        conn.execute(f"UPDATE {table} SET originator_id = ?, originator_version = ?, topic = ?, state = ? WHERE {idc} = ?", (*a[1:], a[0]))
    TAMPER_TRIALS[database_url.split(":")[0]]["swapped rows"] += TRIALS


def test_every_forged_row_inside_the_history_is_detected(tampering, database_url):
    ledger, keys, conn = tampering
    table, idc = events_table(database_url), "rowid" if database_url.startswith("sqlite") else "notification_id"
    rng = random.Random(4)
    existing = rows(conn, database_url)
    taken = {r[0] for r in existing}
    for trial in range(TRIALS):
        template = rng.choice(existing)
        # A free id inside or before the logged history (a gap, or below the first id).
        free = [i for i in range(1, existing[-1][0]) if i not in taken] + [0, -rng.randint(1, 10**6)]
        forged_id = rng.choice(free)
        forged = (forged_id, template[1], 900 + trial, template[3], b'{"forged":true}')
        _reinsert(conn, database_url, forged)
        assert "inserted" in detected(ledger, keys)
        conn.execute(f"DELETE FROM {table} WHERE {idc} = ?", (forged_id,))
    TAMPER_TRIALS[database_url.split(":")[0]]["forged row"] += TRIALS


def test_every_cut_tail_is_detected(tampering, database_url):
    ledger, keys, conn = tampering
    table, idc = events_table(database_url), "rowid" if database_url.startswith("sqlite") else "notification_id"
    rng = random.Random(5)
    for _ in range(TRIALS):
        tail = rows(conn, database_url)[-rng.randint(1, 8) :]
        conn.execute(f"DELETE FROM {table} WHERE {idc} >= ?", (tail[0][0],))
        assert "missing" in detected(ledger, keys)
        for row in tail:
            _reinsert(conn, database_url, row)
    TAMPER_TRIALS[database_url.split(":")[0]]["cut tail"] += TRIALS


def test_every_replaced_latest_checkpoint_is_detected(tampering, database_url):
    ledger, keys, conn = tampering
    rng = random.Random(6)
    attacker = Ed25519NoteSigner.generate("aqp-ledger.test/log")
    earlier = _checkpoint_row(conn, 1)
    seq, size, root, note = latest = _checkpoint_row(conn, 2)
    for trial in range(TRIALS):
        kind = trial % 4
        if kind == 0:  # a note for another root, signed by another key under our name
            forged_root = rng.randbytes(32)
            values = (size, forged_root, sign_note(checkpoint_text("aqp-ledger.test/log", size, forged_root), [attacker]))
        elif kind == 1:  # our genuine note, with the row claiming another size
            values = (size + rng.randint(1, 5), root, note)
        elif kind == 2:  # the genuine note with one bit of its root flipped
            body, signatures = note.split("\n\n", 1)
            lines = body.split("\n")
            flipped = bytearray(root)
            flipped[rng.randrange(32)] ^= 1 << rng.randrange(8)
            lines[2] = base64.b64encode(bytes(flipped)).decode()
            values = (size, bytes(flipped), "\n".join(lines) + "\n\n" + signatures)
        else:  # an earlier genuine checkpoint copied over the latest
            values = earlier[1:]
        conn.execute("UPDATE audit_checkpoints SET tree_size = ?, root_hash = ?, note = ? WHERE seq = ?", (*values, seq))
        found = detected(ledger, keys)
        assert {"bad_signature", "inconsistent_checkpoints"} & set(found), (kind, found)
        conn.execute("UPDATE audit_checkpoints SET tree_size = ?, root_hash = ?, note = ? WHERE seq = ?", (*latest[1:], seq))
    TAMPER_TRIALS[database_url.split(":")[0]]["replaced checkpoint"] += TRIALS


def _checkpoint_row(conn, seq: int) -> tuple:
    row = conn.execute("SELECT seq, tree_size, root_hash, note FROM audit_checkpoints WHERE seq = ?", (seq,)).fetchone()
    return (row[0], row[1], bytes(row[2]), row[3])


def _reinsert(conn, database_url: str, row: tuple) -> None:
    table = events_table(database_url)
    if database_url.startswith("sqlite"):
        conn.execute(f"INSERT INTO {table} (rowid, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)", row)
    else:
        conn.execute(
            f"INSERT INTO {table} (notification_id, originator_id, originator_version, topic, state) VALUES (?, ?, ?, ?, ?)", row
        )
