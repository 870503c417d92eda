"""Verification reads events and leaves in pages; where the pages fall changes nothing it finds.

Tampering as in `test_tamper.py` (protections dropped, rows changed, deleted, forged, swapped,
cut), then the whole verification run with pages of 20,000 rows (one page here), of 7 and of
3 (so a changed, missing or inserted row falls at a page's edge, and events and leaves fall
out of step): the problems reported must be the same, word for word, on both stores.
"""

from __future__ import annotations

import random

import pytest

from audit.verify import verify
from tests.integration.audit_fixtures import add_history, audited
from tests.integration.store_access import events_table, raw_connection
from tests.integration.test_tamper import _reinsert, drop_protections, rows

PAGES = (3, 7)
#: events stored after the log last followed (one competition opened, three documents)
UNLOGGED = 4


def problems(ledger, keys, page: int | None = None) -> list[tuple]:
    report = verify(ledger, keys) if page is None else verify(ledger, keys, page=page)
    return [(p.kind, p.message, p.notification_id, p.leaf_index, p.checkpoint) for p in report.problems], report


def same_in_every_page_size(ledger, keys) -> list[str]:
    whole, report = problems(ledger, keys)
    for page in PAGES:
        paged, paged_report = problems(ledger, keys, page)
        assert paged == whole, page
        assert (paged_report.events, paged_report.leaves, paged_report.unlogged) == (report.events, report.leaves, report.unlogged)
    return [kind for kind, *_ in whole]


@pytest.fixture
def tampered(ledger, database_url, tmp_path):
    a = audited(ledger, tmp_path, competitions=6)
    a.checkpoints.write(a.ring.signer())
    add_history(ledger, 2, start=100)
    a.checkpoints.write(a.ring.signer())
    add_history(ledger, 1, start=200)  # not yet in the log: unlogged, not a fault
    keys = a.ring.verifier_keys()
    assert same_in_every_page_size(ledger, keys) == []
    assert verify(ledger, keys).unlogged == UNLOGGED
    with raw_connection(database_url) as conn:
        drop_protections(conn, database_url)
        yield ledger, keys, conn


def test_each_kind_of_tampering_is_found_alike_whatever_the_page_size(tampered, database_url):
    ledger, keys, conn = tampered
    table, idc = events_table(database_url), "rowid" if database_url.startswith("sqlite") else "notification_id"
    rng = random.Random(17)
    for _ in range(12):
        stored = rows(conn, database_url)
        logged = stored[:-UNLOGGED]
        nid, oid, version, topic, state = row = rng.choice(logged)
        conn.execute(f"UPDATE {table} SET state = ? WHERE {idc} = ?", (state + b" ", nid))
        assert "changed" in same_in_every_page_size(ledger, keys)
        conn.execute(f"UPDATE {table} SET state = ? WHERE {idc} = ?", (state, nid))

        conn.execute(f"DELETE FROM {table} WHERE {idc} = ?", (nid,))
        assert "missing" in same_in_every_page_size(ledger, keys)
        _reinsert(conn, database_url, row)

        free = [i for i in range(1, stored[-1][0]) if i not in {r[0] for r in stored}] + [0, -5]
        forged = rng.choice(free)
        _reinsert(conn, database_url, (forged, oid, 900, topic, b'{"forged":true}'))
        assert "inserted" in same_in_every_page_size(ledger, keys)
        conn.execute(f"DELETE FROM {table} WHERE {idc} = ?", (forged,))

        a, b = rng.sample(logged, 2)
        conn.execute(f"UPDATE {table} SET originator_version = -1 WHERE {idc} = ?", (a[0],))
        conn.execute(f"UPDATE {table} SET originator_id = ?, originator_version = ?, topic = ?, state = ? WHERE {idc} = ?", (*a[1:], b[0]))
        conn.execute(f"UPDATE {table} SET originator_id = ?, originator_version = ?, topic = ?, state = ? WHERE {idc} = ?", (*b[1:], a[0]))
        assert {"reordered", "changed"} & set(same_in_every_page_size(ledger, keys))
        conn.execute(f"UPDATE {table} SET originator_version = -1 WHERE {idc} = ?", (a[0],))
        conn.execute(f"UPDATE {table} SET originator_id = ?, originator_version = ?, topic = ?, state = ? WHERE {idc} = ?", (*b[1:], b[0]))
        conn.execute(f"UPDATE {table} SET originator_id = ?, originator_version = ?, topic = ?, state = ? WHERE {idc} = ?", (*a[1:], a[0]))

        tail = stored[-rng.randint(1, 9) :]
        conn.execute(f"DELETE FROM {table} WHERE {idc} >= ?", (tail[0][0],))
        assert "missing" in same_in_every_page_size(ledger, keys) or len(tail) <= UNLOGGED  # the unlogged tail is no fault
        for cut in tail:
            _reinsert(conn, database_url, cut)
    assert same_in_every_page_size(ledger, keys) == []


def test_a_leaf_gone_from_the_log_or_with_its_hash_altered_is_found_alike(tampered, database_url):
    ledger, keys, conn = tampered
    leaf = conn.execute("SELECT leaf_index, notification_id FROM audit_leaves WHERE leaf_index = 5").fetchone()
    digest = conn.execute("SELECT hash FROM audit_nodes WHERE level = 0 AND idx = 5").fetchone()[0]
    conn.execute("DELETE FROM audit_nodes WHERE level = 0 AND idx = 5")
    found = same_in_every_page_size(ledger, keys)
    assert "changed" in found
    conn.execute("INSERT INTO audit_nodes (level, idx, hash) VALUES (?, ?, ?)", (0, 5, bytes(digest)))
    conn.execute("DELETE FROM audit_leaves WHERE leaf_index = 5")
    found = same_in_every_page_size(ledger, keys)
    assert "inserted" in found
    conn.execute("INSERT INTO audit_leaves (leaf_index, notification_id) VALUES (?, ?)", tuple(leaf))
    assert same_in_every_page_size(ledger, keys) == []
