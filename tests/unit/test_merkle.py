"""The Merkle tree core against the published RFC 6962/9162 vectors, the transparency-dev
probe corpus, and a naive reference written straight from the RFC text.

The vectors and probes live in the shared fixtures' merkle/ (tests/shared.py finds them); if
they are missing these tests fail rather than skip, because without them nothing ties our
hashes to anyone else's.
The subtreeinclusion/subtreeconsistency probes are not used: they test proofs about a
subtree [start, end) of a larger tree, an API we do not have.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any, NoReturn

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.merkle import MemoryTree, completed_nodes, consistency_proof, inclusion_proof, subtree_root
from audit.verifier.merkle import (
    EMPTY_ROOT,
    ProofError,
    leaf_hash,
    node_hash,
    root_from_inclusion_proof,
    verify_consistency,
    verify_inclusion,
)
from tests.shared import missing as shared_missing
from tests.shared import shared_path

SHARED = shared_path("merkle")
VECTORS_FILE = SHARED / "vectors.json"
PROBES = SHARED / "probes"


def missing(path: Path) -> NoReturn:
    shared_missing(path, f"these tests need the published RFC 9162 vectors and probes in {SHARED}")


def load(path: Path) -> Any:
    if not path.is_file():
        missing(path)
    return json.loads(path.read_text(encoding="utf-8"))


def vector_cases(key: str) -> list[Any]:
    """One test per published case, or one failing placeholder when vectors.json is absent."""
    if not VECTORS_FILE.is_file():
        return [pytest.param(None, id="missing")]
    cases = json.loads(VECTORS_FILE.read_text(encoding="utf-8"))[key]
    return [pytest.param(case, id=case["source"].removeprefix("testdata/")) for case in cases]


def probe_files(folder: str) -> list[Any]:
    """One test per probe file, or one failing placeholder when the folder is absent or empty."""
    root = PROBES / folder
    files = sorted(root.rglob("*.json")) if root.is_dir() else []
    if not files:
        return [pytest.param(root, id="missing")]
    return [pytest.param(f, id=str(f.relative_to(root).with_suffix(""))) for f in files]


def b64(value: str) -> bytes:
    return base64.b64decode(value, validate=True)


@pytest.fixture(scope="module")
def vectors() -> dict[str, Any]:
    return load(VECTORS_FILE)


@pytest.fixture(scope="module")
def published_tree(vectors: dict[str, Any]) -> MemoryTree:
    tree = MemoryTree()
    for data in vectors["leaves"]:
        tree.append(bytes.fromhex(data))
    return tree


# --- published vectors ------------------------------------------------------------------


def test_leaf_and_node_hashes_and_the_empty_root_match_the_published_hasher_vectors(vectors):
    ops = {v["op"] for v in vectors["hasher_vectors"]}
    assert ops == {"empty_root", "hash_leaf", "hash_children"}
    for v in vectors["hasher_vectors"]:
        if v["op"] == "empty_root":
            got = EMPTY_ROOT
        elif v["op"] == "hash_leaf":
            got = leaf_hash(v["input_ascii"].encode("ascii"))
        else:
            got = node_hash(v["left_ascii"].encode("ascii"), v["right_ascii"].encode("ascii"))
        assert got.hex() == v["want"], v


def test_the_published_leaf_hashes_are_the_hashes_of_the_published_leaves(vectors):
    assert len(vectors["leaves"]) == len(vectors["leaf_hashes"]) == 8
    assert [leaf_hash(bytes.fromhex(d)).hex() for d in vectors["leaves"]] == vectors["leaf_hashes"]


def test_appending_the_published_leaves_stores_exactly_the_published_node_hashes(vectors, published_tree):
    levels = vectors["node_hashes_by_level"]
    assert [len(level) for level in levels] == [8, 4, 2, 1]
    for level, hashes in enumerate(levels):
        assert [published_tree.node(level, i).hex() for i in range(len(hashes))] == hashes


def test_the_roots_of_the_published_tree_match_for_every_size_from_0_to_8(vectors, published_tree):
    assert sorted(map(int, vectors["roots"])) == list(range(9))
    for size, root in vectors["roots"].items():
        assert published_tree.root(int(size)).hex() == root, size


@pytest.mark.parametrize("case", vector_cases("inclusion"))
def test_we_generate_the_published_inclusion_proof(case, published_tree):
    if case is None:
        missing(VECTORS_FILE)
    assert published_tree.node(0, case["index"]).hex() == case["leaf_hash"]
    assert published_tree.root(case["size"]).hex() == case["root"]
    assert [p.hex() for p in published_tree.inclusion_proof(case["index"], case["size"])] == case["path"]


@pytest.mark.parametrize("case", vector_cases("inclusion"))
def test_we_verify_the_published_inclusion_proof(case):
    if case is None:
        missing(VECTORS_FILE)
    proof = [bytes.fromhex(p) for p in case["path"]]
    leaf, root = bytes.fromhex(case["leaf_hash"]), bytes.fromhex(case["root"])
    verify_inclusion(case["index"], case["size"], leaf, proof, root)


@pytest.mark.parametrize("case", vector_cases("consistency"))
def test_we_generate_the_published_consistency_proof(case, published_tree):
    if case is None:
        missing(VECTORS_FILE)
    assert published_tree.root(case["size1"]).hex() == case["root1"]
    assert published_tree.root(case["size2"]).hex() == case["root2"]
    assert [p.hex() for p in published_tree.consistency_proof(case["size1"], case["size2"])] == case["proof"]


@pytest.mark.parametrize("case", vector_cases("consistency"))
def test_we_verify_the_published_consistency_proof(case):
    if case is None:
        missing(VECTORS_FILE)
    proof = [bytes.fromhex(p) for p in case["proof"]]
    roots = bytes.fromhex(case["root1"]), bytes.fromhex(case["root2"])
    verify_consistency(case["size1"], case["size2"], *roots, proof)


# --- transparency-dev probe corpus ------------------------------------------------------


@pytest.mark.parametrize("path", probe_files("inclusion"))
def test_an_inclusion_probe_is_accepted_if_valid_and_rejected_if_broken(path):
    probe = load(path)
    args = (
        probe["leafIdx"],
        probe["treeSize"],
        b64(probe["leafHash"]),
        [b64(p) for p in probe["proof"] or []],
        b64(probe["root"]),
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_inclusion(*args)
    else:
        verify_inclusion(*args)


@pytest.mark.parametrize("path", probe_files("consistency"))
def test_a_consistency_probe_is_accepted_if_valid_and_rejected_if_broken(path):
    probe = load(path)
    args = (
        probe["size1"],
        probe["size2"],
        b64(probe["root1"]),
        b64(probe["root2"]),
        [b64(p) for p in probe["proof"] or []],
    )
    if probe["wantErr"]:
        with pytest.raises(ProofError):
            verify_consistency(*args)
    else:
        verify_consistency(*args)


# --- edges the RFC leaves to us ---------------------------------------------------------


@pytest.fixture
def eight_leaves() -> MemoryTree:
    tree = MemoryTree()
    for i in range(8):
        tree.append(bytes([i]))
    return tree


def test_a_consistency_proof_from_the_empty_tree_is_neither_built_nor_accepted(eight_leaves):
    with pytest.raises(ValueError, match="above 0"):
        eight_leaves.consistency_proof(0, 8)
    with pytest.raises(ProofError, match="above 0"):
        verify_consistency(0, 8, EMPTY_ROOT, eight_leaves.root(8), [])
    with pytest.raises(ProofError, match="above 0"):
        verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])


def test_a_consistency_proof_backwards_in_time_is_neither_built_nor_accepted(eight_leaves):
    with pytest.raises(ValueError, match="larger"):
        eight_leaves.consistency_proof(5, 4)
    with pytest.raises(ProofError, match="larger"):
        verify_consistency(5, 4, eight_leaves.root(5), eight_leaves.root(4), [])


def test_an_inclusion_proof_for_a_leaf_outside_the_tree_is_neither_built_nor_accepted(eight_leaves):
    with pytest.raises(ValueError, match="outside"):
        eight_leaves.inclusion_proof(4, 4)
    with pytest.raises(ProofError, match="outside"):
        root_from_inclusion_proof(4, 4, eight_leaves.node(0, 4), [])
    with pytest.raises(ProofError, match="outside"):
        root_from_inclusion_proof(-1, 4, eight_leaves.node(0, 0), [])


def test_a_hash_of_the_wrong_length_is_named_in_the_error(eight_leaves):
    proof = eight_leaves.inclusion_proof(2, 8)
    with pytest.raises(ProofError, match=r"proof\[1\] is 31 bytes"):
        verify_inclusion(2, 8, eight_leaves.node(0, 2), [proof[0], proof[1][:-1], proof[2]], eight_leaves.root())
    with pytest.raises(ProofError, match="root is 33 bytes"):
        verify_inclusion(2, 8, eight_leaves.node(0, 2), proof, eight_leaves.root() + b"\x00")


def test_a_proof_of_the_wrong_length_is_rejected_as_too_long_or_too_short(eight_leaves):
    leaf, root = eight_leaves.node(0, 2), eight_leaves.root(8)
    proof = eight_leaves.inclusion_proof(2, 8)
    with pytest.raises(ProofError, match="too many"):
        verify_inclusion(2, 8, leaf, proof + [root], root)
    with pytest.raises(ProofError, match="too few"):
        verify_inclusion(2, 8, leaf, proof[:-1], root)
    roots = eight_leaves.root(3), root
    proof = eight_leaves.consistency_proof(3, 8)
    with pytest.raises(ProofError, match="too many"):
        verify_consistency(3, 8, *roots, proof + [root])
    with pytest.raises(ProofError, match="too few"):
        verify_consistency(3, 8, *roots, proof[:-1])


def test_the_memory_tree_refuses_sizes_it_does_not_have_and_leaf_hashes_of_the_wrong_length(eight_leaves):
    with pytest.raises(ValueError, match="outside"):
        eight_leaves.root(9)
    with pytest.raises(ValueError, match="expected 32"):
        MemoryTree().append_hash(b"short")


def test_the_empty_memory_tree_has_size_0_and_the_empty_root():
    tree = MemoryTree()
    assert tree.size == 0
    assert tree.root() == EMPTY_ROOT == hashlib.sha256(b"").digest()


# --- properties against a naive reference from the RFC text -----------------------------


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def largest_power_of_two_below(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(d: list[bytes]) -> bytes:
    """MTH(D[n]) of RFC 9162 2.1.1, recursing on leaf data."""
    n = len(d)
    if n == 0:
        return sha256(b"")
    if n == 1:
        return sha256(b"\x00" + d[0])
    k = largest_power_of_two_below(n)
    return sha256(b"\x01" + naive_mth(d[:k]) + naive_mth(d[k:]))


def naive_path(m: int, d: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]) of RFC 9162 2.1.3.1."""
    n = len(d)
    if n == 1:
        return []
    k = largest_power_of_two_below(n)
    if m < k:
        return naive_path(m, d[:k]) + [naive_mth(d[k:])]
    return naive_path(m - k, d[k:]) + [naive_mth(d[:k])]


def naive_subproof(m: int, d: list[bytes], b: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b) of RFC 9162 2.1.4.1."""
    n = len(d)
    if m == n:
        return [] if b else [naive_mth(d)]
    k = largest_power_of_two_below(n)
    if m <= k:
        return naive_subproof(m, d[:k], b) + [naive_mth(d[k:])]
    return naive_subproof(m - k, d[k:], False) + [naive_mth(d[:k])]


def naive_nodes(d: list[bytes]) -> dict[tuple[int, int], bytes]:
    """Every complete aligned subtree of D[n], keyed by (level, index)."""
    nodes = {}
    level = 0
    while 2**level <= len(d):
        width = 2**level
        for index in range(len(d) // width):
            nodes[(level, index)] = naive_mth(d[index * width : (index + 1) * width])
        level += 1
    return nodes


@st.composite
def leaf_lists(draw: st.DrawFn) -> list[bytes]:
    """1 to 300 distinct leaves, the count drawn uniformly so large and odd shapes are common."""
    n = draw(st.integers(1, 300))
    salt = draw(st.binary(max_size=8))
    return [salt + i.to_bytes(2, "big") for i in range(n)]


def memory_tree(leaves: list[bytes]) -> MemoryTree:
    tree = MemoryTree()
    for data in leaves:
        tree.append(data)
    return tree


def flipped(value: bytes, bit: int) -> bytes:
    changed = bytearray(value)
    changed[bit // 8] ^= 1 << (bit % 8)
    return bytes(changed)


@given(leaves=leaf_lists(), data=st.data())
def test_the_root_of_any_prefix_equals_the_naive_mth(leaves, data):
    tree = memory_tree(leaves)
    size = data.draw(st.integers(0, len(leaves)), label="size")
    assert tree.root(size) == naive_mth(leaves[:size])
    assert tree.root() == naive_mth(leaves)


@given(leaves=leaf_lists(), data=st.data())
def test_the_root_of_any_range_of_leaves_equals_the_naive_mth_of_that_range(leaves, data):
    tree = memory_tree(leaves)
    end = data.draw(st.integers(1, len(leaves)), label="end")
    start = data.draw(st.integers(0, end - 1), label="start")
    assert subtree_root(tree.node, start, end) == naive_mth(leaves[start:end])


@given(leaves=leaf_lists(), data=st.data())
def test_a_generated_inclusion_proof_equals_the_naive_path_and_verifies(leaves, data):
    tree = memory_tree(leaves)
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    proof = tree.inclusion_proof(index, size)
    assert proof == naive_path(index, leaves[:size])
    verify_inclusion(index, size, sha256(b"\x00" + leaves[index]), proof, naive_mth(leaves[:size]))


@given(leaves=leaf_lists(), data=st.data())
def test_a_generated_consistency_proof_equals_the_naive_proof_and_verifies(leaves, data):
    tree = memory_tree(leaves)
    size2 = data.draw(st.integers(1, len(leaves)), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof = tree.consistency_proof(size1, size2)
    assert proof == naive_subproof(size1, leaves[:size2], True)
    verify_consistency(size1, size2, naive_mth(leaves[:size1]), naive_mth(leaves[:size2]), proof)


@given(leaves=leaf_lists(), data=st.data())
def test_flipping_any_single_bit_of_an_inclusion_proof_or_its_root_is_rejected(leaves, data):
    tree = memory_tree(leaves)
    size = data.draw(st.integers(1, len(leaves)), label="size")
    index = data.draw(st.integers(0, size - 1), label="index")
    leaf, proof, root = tree.node(0, index), tree.inclusion_proof(index, size), tree.root(size)
    for bit in range(256):
        with pytest.raises(ProofError):
            verify_inclusion(index, size, leaf, proof, flipped(root, bit))
        for i in range(len(proof)):
            broken = proof[:i] + [flipped(proof[i], bit)] + proof[i + 1 :]
            with pytest.raises(ProofError):
                verify_inclusion(index, size, leaf, broken, root)


@given(leaves=leaf_lists(), data=st.data())
def test_flipping_any_single_bit_of_a_consistency_proof_or_either_root_is_rejected(leaves, data):
    tree = memory_tree(leaves)
    size2 = data.draw(st.integers(1, len(leaves)), label="size2")
    size1 = data.draw(st.integers(1, size2), label="size1")
    proof, root1, root2 = tree.consistency_proof(size1, size2), tree.root(size1), tree.root(size2)
    for bit in range(256):
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, flipped(root1, bit), root2, proof)
        with pytest.raises(ProofError):
            verify_consistency(size1, size2, root1, flipped(root2, bit), proof)
        for i in range(len(proof)):
            broken = proof[:i] + [flipped(proof[i], bit)] + proof[i + 1 :]
            with pytest.raises(ProofError):
                verify_consistency(size1, size2, root1, root2, broken)


@given(leaves=leaf_lists())
def test_completed_nodes_appended_one_leaf_at_a_time_are_exactly_the_naive_trees_nodes(leaves):
    naive = naive_nodes(leaves)
    store: dict[tuple[int, int], bytes] = {}
    for size_before, data in enumerate(leaves):
        # leaf s completes exactly the aligned subtrees whose last leaf is s
        expected = sorted((lv, i) for lv, i in naive if (i + 1) * 2**lv - 1 == size_before)
        new = completed_nodes(lambda level, index: store[(level, index)], size_before, leaf_hash(data))
        assert [(level, index) for level, index, _ in new] == expected
        assert all(naive[(level, index)] == digest for level, index, digest in new)
        store.update({(level, index): digest for level, index, digest in new})
    assert store == naive
    tree = memory_tree(leaves)
    assert all(tree.node(level, index) == digest for (level, index), digest in store.items())


def test_the_builder_works_from_any_node_store_not_just_the_memory_tree():
    leaves = [bytes([i]) for i in range(13)]
    nodes = naive_nodes(leaves)
    lookups: list[tuple[int, int]] = []

    def node(level: int, index: int) -> bytes:
        lookups.append((level, index))
        return nodes[(level, index)]

    assert inclusion_proof(node, 6, 13) == naive_path(6, leaves)
    assert consistency_proof(node, 5, 13) == naive_subproof(5, leaves, True)
    assert set(lookups) <= set(nodes)
