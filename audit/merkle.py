"""Build RFC 9162 Merkle roots and proofs from a store of complete subtree hashes.

The store is a callable `node(level, index)` giving the hash of the complete aligned
subtree of 2**level leaves that starts at leaf index * 2**level (level 0 is the leaf hash).
Every complete aligned node is stored once, when the leaf that completes it is appended,
so any root or proof costs O(log n) lookups and the stored tree never changes afterwards.
Checking proofs is the standalone verifier's job (audit.verifier.merkle).
"""

from __future__ import annotations

from collections.abc import Callable

from audit.verifier.merkle import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash

NodeLookup = Callable[[int, int], bytes]


def _split(n: int) -> int:
    """The largest power of two smaller than n (n >= 2): where RFC 9162 splits a tree."""
    return 1 << ((n - 1).bit_length() - 1)


def completed_nodes(node: NodeLookup, size_before: int, leaf: bytes) -> list[tuple[int, int, bytes]]:
    """The nodes (level, index, hash) completed by appending leaf hash `leaf` as leaf `size_before`.

    A right child completes its parent; the left sibling is already stored.
    """
    level, index, digest = 0, size_before, leaf
    nodes = [(level, index, digest)]
    while index & 1:
        digest = node_hash(node(level, index - 1), digest)
        level, index = level + 1, index >> 1
        nodes.append((level, index, digest))
    return nodes


def subtree_root(node: NodeLookup, start: int, end: int) -> bytes:
    """MTH of leaves [start, end), per RFC 9162 2.1.1, from stored nodes where possible."""
    n = end - start
    if start < 0 or n <= 0:
        raise ValueError(f"no leaves in range [{start}, {end})")
    if n & (n - 1) == 0 and start % n == 0:
        return node(n.bit_length() - 1, start // n)
    k = _split(n)
    return node_hash(subtree_root(node, start, start + k), subtree_root(node, start + k, end))


def tree_root(node: NodeLookup, size: int) -> bytes:
    """MTH of the first `size` leaves; the empty tree's root is SHA-256 of nothing."""
    if size < 0:
        raise ValueError(f"tree size {size} is negative")
    return subtree_root(node, 0, size) if size else EMPTY_ROOT


def inclusion_proof(node: NodeLookup, index: int, size: int) -> list[bytes]:
    """PATH(index, D[0:size]) of RFC 9162 2.1.3.1: the audit path of one leaf."""
    if not 0 <= index < size:
        raise ValueError(f"leaf index {index} is outside a tree of size {size}")

    def path(m: int, start: int, end: int) -> list[bytes]:
        n = end - start
        if n == 1:
            return []
        k = _split(n)
        if m < k:
            return path(m, start, start + k) + [subtree_root(node, start + k, end)]
        return path(m - k, start + k, end) + [subtree_root(node, start, start + k)]

    return path(index, 0, size)


def consistency_proof(node: NodeLookup, size1: int, size2: int) -> list[bytes]:
    """PROOF(size1, D[0:size2]) of RFC 9162 2.1.4.1: shows the first size1 leaves are unchanged."""
    if size1 <= 0:
        raise ValueError(f"a consistency proof needs a first tree size above 0, got {size1}")
    if size1 > size2:
        raise ValueError(f"first tree size {size1} is larger than second tree size {size2}")

    def subproof(m: int, start: int, end: int, whole: bool) -> list[bytes]:
        n = end - start
        if m == n:
            return [] if whole else [subtree_root(node, start, end)]
        k = _split(n)
        if m <= k:
            return subproof(m, start, start + k, whole) + [subtree_root(node, start + k, end)]
        return subproof(m - k, start + k, end, False) + [subtree_root(node, start, start + k)]

    return subproof(size1, 0, size2, True)


class MemoryTree:
    """A Merkle tree held in memory, for tests and tools; the database keeps the same nodes."""

    def __init__(self) -> None:
        self._levels: list[list[bytes]] = []

    @property
    def size(self) -> int:
        return len(self._levels[0]) if self._levels else 0

    def append(self, data: bytes) -> int:
        """Append a leaf with contents `data`; returns its index."""
        return self.append_hash(leaf_hash(data))

    def append_hash(self, leaf: bytes) -> int:
        """Append a leaf by its leaf hash; returns its index."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hash is {len(leaf)} bytes, expected {HASH_SIZE}")
        index = self.size
        for level, _, digest in completed_nodes(self.node, index, leaf):
            if level == len(self._levels):
                self._levels.append([])
            self._levels[level].append(digest)
        return index

    def node(self, level: int, index: int) -> bytes:
        return self._levels[level][index]

    def _size(self, size: int | None) -> int:
        if size is None:
            return self.size
        if not 0 <= size <= self.size:
            raise ValueError(f"tree size {size} is outside 0..{self.size}")
        return size

    def root(self, size: int | None = None) -> bytes:
        return tree_root(self.node, self._size(size))

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        return inclusion_proof(self.node, index, self._size(size))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        return consistency_proof(self.node, size1, self._size(size2))
