"""Verification's own leaf hashing and tree are the log's: the same hashes, the same roots.

`audit.verify` hashes leaves in pages with the encoded originator ids and topics kept, and
builds its tree level by level; the standalone verifier's `leaf_bytes` and the in-memory
`MemoryTree` are the definitions they must agree with, for any record however a tampered
store holds it (another type in any column).
"""

from __future__ import annotations

import uuid

from hypothesis import given
from hypothesis import strategies as st

from audit.merkle import MemoryTree
from audit.store import stored_bytes, stored_text
from audit.verifier.leaf import leaf_bytes
from audit.verifier.merkle import leaf_hash
from audit.verify import LeafHasher, RecomputedTree

some_ids = [uuid.UUID(int=i * 7919) for i in range(3)]
originator_ids = st.one_of(
    st.sampled_from(some_ids),
    st.sampled_from([u.hex for u in some_ids]),
    st.sampled_from([str(u) for u in some_ids]),
    st.text(max_size=40),
    st.integers(-5, 5),
    st.floats(-5, 5, allow_nan=False),
    st.booleans(),
    st.binary(max_size=20),
)
topics = st.one_of(st.sampled_from(["domain.procurement.competition:Competition.Opened", "t"]), st.text(max_size=20), st.binary(max_size=20), st.integers(0, 3))
states = st.one_of(st.binary(max_size=200), st.text(max_size=50), st.binary(max_size=50).map(memoryview))
records = st.tuples(st.integers(-(2**63), 2**63 - 1), originator_ids, st.integers(-(2**63), 2**63 - 1), topics, states)


def reference_hash(nid, oid, version, topic, state) -> bytes:
    return leaf_hash(leaf_bytes(nid, oid, version, stored_text(topic), stored_bytes(state)))


@given(st.lists(records, max_size=30))
def test_a_page_of_leaf_hashes_is_what_the_leaf_format_gives_for_each_record(page):
    hasher = LeafHasher()
    assert hasher.page(page) == [reference_hash(*record) for record in page]
    # again, from what it kept
    assert hasher.page(page) == [reference_hash(*record) for record in page]


def test_equal_values_of_other_types_are_not_taken_for_one_another():
    hasher = LeafHasher()
    page = [(1, 1, 1, 1, b"x"), (1, 1.0, 1, 1.0, b"x"), (1, True, 1, True, b"x"), (1, 0.0, 1, 0.0, b"x"), (1, -0.0, 1, -0.0, b"x")]
    page += [(1, "1", 1, "1", b"x"), (1, b"1", 1, b"1", b"x")]
    digests = hasher.page(page)
    assert digests == [reference_hash(*record) for record in page]
    assert len(set(digests)) == len(page) - 1  # the number 1 and the text "1" encode alike in the leaf format


@given(st.integers(0, 70), st.integers(0, 70), st.integers(1, 9))
def test_the_recomputed_tree_has_the_memory_trees_nodes_and_roots(prefix, more, chunk):
    leaves = [leaf_hash(i.to_bytes(4, "big")) for i in range(prefix + more)]
    reference = MemoryTree()
    for leaf in leaves:
        reference.append_hash(leaf)
    tree = RecomputedTree()
    if prefix:
        # from a trusted prefix, as `verify --since-checkpoint` seeds it from the stored log
        seeded = MemoryTree()
        for leaf in leaves[:prefix]:
            seeded.append_hash(leaf)
        tree.seed(seeded, prefix)
    rest = leaves[prefix:]
    for start in range(0, len(rest), chunk):
        tree.extend(rest[start : start + chunk])
    assert tree.size == reference.size
    for size in range(prefix, len(leaves) + 1):
        assert tree.root(size) == reference.root(size)
    for level in range(len(reference._levels)):
        for index in range(prefix >> level, len(reference._levels[level])):
            assert tree.node(level, index) == reference.node(level, index)
