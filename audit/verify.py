"""`aqp audit verify`: is every stored event still exactly what was logged and signed?

1. Recompute every leaf from the stored events (read raw, in notification order) and compare
   it with the Merkle log: a differing leaf is *changed* (or *reordered* when it matches
   another position), an event the log never saw in the middle of the log is *inserted*,
   a logged event that is gone is *missing*.
2. Check every checkpoint: its signature against the trusted verifier keys (never keys
   from the database), that its fields match its row, that sizes only grow, that it covers
   no more events than are stored, that the root recomputed from the stored events equals
   the signed root, and that consecutive checkpoints are consistent (RFC 9162 2.1.4).
3. Check the stored Merkle nodes give the same roots, since proofs are served from them.

With `since_checkpoint`, the prefix up to that checkpoint is taken from the stored nodes,
checked against the checkpoint's signed root, and only later events are recomputed.

It needs no decoding: the events are read as stored, straight from their table in pages of
20,000 by notification id, beside the log's leaves in pages by leaf index, so its cost is
reading the rows and hashing them (benchmarks/proofs.py: about 3.5 times the library's own
read and decode of the same log).
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any
from uuid import UUID

from audit.checkpoints import Checkpoints, StoredCheckpoint
from audit.log import AuditLog
from audit.merkle import consistency_proof, tree_root
from audit.store import stored_bytes, stored_text
from audit.verifier.leaf import canonical_originator_id
from audit.verifier.merkle import ProofError, verify_consistency
from audit.verifier.note import NoteError, VerifierKey, parse_checkpoint, verify_note

MAX_PROBLEMS = 50
#: rows read per query: large, so the database's and driver's cost per row is what remains
PAGE = 20_000
_sha256 = hashlib.sha256
_PACK_QQ = struct.Struct(">qq").pack
_PACK_I = struct.Struct(">I").pack
_KEPT_TYPES = (str, bytes, UUID)


@dataclass
class Problem:
    #: changed | missing | inserted | reordered | bad_signature | inconsistent_checkpoints | log_corrupt
    kind: str
    message: str
    notification_id: int | None = None
    leaf_index: int | None = None
    checkpoint: int | None = None


@dataclass
class Report:
    events: int = 0
    leaves: int = 0
    checkpoints: int = 0
    unlogged: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, problem: Problem) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(problem)


class RecomputedTree:
    """Node hashes recomputed from stored events, on top of a trusted prefix (maybe empty).

    Each level is a list of the nodes completed since the prefix, in order (a million events
    make two million nodes: lists, not a dict of tuples); the prefix's own nodes, taken from
    the stored log, are few and kept aside.
    """

    def __init__(self) -> None:
        self.levels: list[list[bytes]] = []
        #: the index of each level's first node in `levels`
        self.first: list[int] = []
        self.prefix: dict[tuple[int, int], bytes] = {}
        self.size = 0

    def node(self, level: int, index: int) -> bytes:
        if level < len(self.levels):
            offset = index - self.first[level]
            if 0 <= offset < len(self.levels[level]):
                return self.levels[level][offset]
        return self.prefix[(level, index)]

    def append(self, leaf: bytes) -> None:
        self.extend([leaf])

    def extend(self, leaves: list[bytes]) -> None:
        """Append these leaf hashes, with the nodes each completes (`audit.merkle.completed_nodes`)."""
        levels, first, prefix = self.levels, self.first, self.prefix
        if not levels:
            levels.append([])
            first.append(self.size)
        bottom = levels[0]
        index = self.size
        for digest in leaves:
            bottom.append(digest)
            # A right child completes its parent. Nodes are appended in order, so its left
            # sibling is the one before it on its level (or, first on the level, the prefix's).
            i, level, nodes = index, 0, bottom
            while i & 1:
                left = nodes[-2] if len(nodes) > 1 else prefix[(level, i - 1)]
                digest = _sha256(b"\x01" + left + digest).digest()
                level, i = level + 1, i >> 1
                if level == len(levels):
                    levels.append([])
                    first.append(i)
                nodes = levels[level]
                nodes.append(digest)
            index += 1
        self.size = index

    def root(self, size: int) -> bytes:
        return tree_root(self.node, size)

    def seed(self, log: AuditLog, size: int) -> None:
        """Take the maximal complete subtrees of [0, size) from the stored log."""
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size & (1 << level):
                index = start >> level
                self.prefix[(level, index)] = log.node(level, index)
                start += 1 << level
        self.size = size


class LeafHasher:
    """Leaf hashes of stored records read raw, as `leaf_hash(leaf_bytes(...))` gives them, faster.

    A log holds few distinct originator ids and topics against its events, so their encoded,
    length-prefixed parts are kept once each. Only text, bytes and UUIDs are kept (what the
    drivers give for these columns): equal values of those types encode alike, where a
    tampered value of another type might not (0.0 and -0.0), so such a value is encoded afresh.
    """

    #: more distinct values than this (a forged flood) and the cache starts again
    LIMIT = 500_000

    def __init__(self) -> None:
        self.originators: dict[Any, bytes] = {}
        self.topics: dict[Any, bytes] = {}

    def __call__(self, nid: int, oid: Any, version: int, topic: Any, state: Any) -> bytes:
        return self.page([(nid, oid, version, topic, state)])[0]

    def page(self, rows: list[tuple[int, Any, int, Any, Any]]) -> list[bytes]:
        originators, topics, sha256, pack_qq, pack_i = self.originators, self.topics, _sha256, _PACK_QQ, _PACK_I
        out: list[bytes] = []
        add = out.append
        for nid, oid, version, topic, state in rows:
            o = originators.get(oid) or self._originator(oid)
            t = topics.get(topic) or self._topic(topic)
            if type(state) is not bytes:
                state = stored_bytes(state)
            add(sha256(b"".join((b"\x00", pack_qq(nid, version), o, t, pack_i(len(state)), state))).digest())
        return out

    def _originator(self, oid: Any) -> bytes:
        text = canonical_originator_id(oid).encode("ascii", "replace")
        return self._keep(self.originators, oid, _PACK_I(len(text)) + text)

    def _topic(self, topic: Any) -> bytes:
        text = stored_text(topic).encode("utf-8", "surrogatepass")
        return self._keep(self.topics, topic, _PACK_I(len(text)) + text)

    def _keep(self, kept: dict[Any, bytes], value: Any, encoded: bytes) -> bytes:
        if type(value) in _KEPT_TYPES:
            if len(kept) >= self.LIMIT:
                kept.clear()
            kept[value] = encoded
        return encoded


def verify(
    ledger: Any,
    keys: list[VerifierKey],
    *,
    since_checkpoint: int | None = None,
    progress: Callable[[int], None] | None = None,
    page: int = PAGE,
) -> Report:
    """Check everything (see the module's docstring); events and leaves are read `page` rows at a time."""
    log = AuditLog(ledger)
    checkpoints = Checkpoints(log).all()
    report = Report(checkpoints=len(checkpoints))
    tree = RecomputedTree()
    start_size = 0
    if since_checkpoint is not None:
        base = next((cp for cp in checkpoints if cp.seq == since_checkpoint), None)
        if base is None:
            report.add(Problem("missing", f"there is no checkpoint {since_checkpoint}", checkpoint=since_checkpoint))
            return report
        if not _check_signature(base, keys, report):
            return report
        tree.seed(log, base.tree_size)
        if tree.root(base.tree_size) != base.root_hash:
            report.add(
                Problem(
                    "log_corrupt",
                    f"the stored Merkle nodes do not give checkpoint {base.seq}'s signed root; run a full verification",
                    checkpoint=base.seq,
                )
            )
            return report
        start_size = base.tree_size
        checkpoints = [cp for cp in checkpoints if cp.seq >= base.seq]

    _compare_leaves(log, tree, start_size, report, progress, page)
    _check_checkpoints(log, tree, checkpoints, keys, report)
    return report


def read_ahead(pages: Iterator[list[Any]]) -> Iterator[list[Any]]:
    """The same pages, the next read while this one is checked: PostgreSQL's server and the
    wire work while we hash (3.6-4.1 against 2.9-3.1 of read+decode at 100,000 events). Not
    on SQLite: its rows are built under the GIL, so a reader thread only contends (1.7-2.0
    against 2.7-3.1)."""
    with ThreadPoolExecutor(max_workers=1) as reader:
        coming = reader.submit(next, pages, None)
        while True:
            page = coming.result()
            if page is None:
                return
            coming = reader.submit(next, pages, None)
            yield page


class _Leaves:
    """The log's recorded leaves (leaf index, notification id, leaf hash) from a leaf on, read
    page by page and taken as the events are; as the driver reads them: integers and bytes
    on both stores (a hash that is gone, None, or altered to another type equals no
    recomputed leaf, so it is reported as changed)."""

    def __init__(self, log: AuditLog, start_size: int, page: int) -> None:
        pages = log.recorded_leaf_pages(after=start_size - 1, page=page)
        self.pages = pages if log.store.sqlite else read_ahead(pages)
        self.buffer: list[tuple[int, int, Any]] = []
        self.at = 0
        self.taken = 0

    def peek(self, n: int) -> list[tuple[int, int, Any]]:
        """The next `n` leaves (fewer at the log's end), not taken."""
        while len(self.buffer) - self.at < n:
            page = next(self.pages, None)
            if page is None:
                break
            self.buffer = self.buffer[self.at :] + page
            self.at = 0
        return self.buffer[self.at : self.at + n]

    def next(self) -> tuple[int, int, Any] | None:
        ahead = self.peek(1)
        return ahead[0] if ahead else None

    def take(self, n: int = 1) -> None:
        self.at += n
        self.taken += n


def _compare_leaves(
    log: AuditLog, tree: RecomputedTree, start_size: int, report: Report, progress: Callable[[int], None] | None, page_size: int
) -> None:
    """Every stored event after the trusted prefix against the log's leaves, both read in
    pages side by side (events by notification id, leaves by index), never all held at once.

    A page whose events are exactly the next leaves, in order and unchanged (the usual case),
    is checked in one comparison; any other page event by event, naming each problem."""
    leaves = _Leaves(log, start_size, page_size)
    recorded_positions: dict[Any, int] | None = None
    expected_index = start_size
    hasher = LeafHasher()
    first = itemgetter(0)
    pages = log.store.stored_event_pages(after=log_position_before(log, start_size), page=page_size)
    for page in pages if log.store.sqlite else read_ahead(pages):
        digests = hasher.page(page)
        tree.extend(digests)
        report.events += len(page)
        if progress:
            progress(report.events)
        n = len(page)
        if leaves.peek(n) == list(zip(range(expected_index, expected_index + n), map(first, page), digests)):
            leaves.take(n)
            expected_index += n
            continue
        for (nid, *_), digest in zip(page, digests):
            current = leaves.next()
            # Logged events whose records are gone come before this one.
            while current is not None and current[1] < nid:
                index, gone, _ = current
                report.add(Problem("missing", f"notification {gone} (leaf {index}) is in the log but no longer stored", gone, index))
                leaves.take()
                current = leaves.next()
            if current is not None and current[1] == nid:
                index, _, logged = current
                if index != expected_index:
                    report.add(Problem("reordered", f"leaf {index} should be leaf {expected_index}", nid, index))
                if digest != logged:
                    if recorded_positions is None:
                        recorded_positions = {h: i for leaf_page in log.recorded_leaf_pages(after=start_size - 1) for i, _, h in leaf_page}
                    elsewhere = recorded_positions.get(digest)
                    if elsewhere is not None and elsewhere != index:
                        report.add(
                            Problem("reordered", f"notification {nid} holds the record logged at leaf {elsewhere}", nid, index)
                        )
                    else:
                        report.add(Problem("changed", f"notification {nid} (leaf {index}) differs from what was logged", nid, index))
                leaves.take()
                expected_index += 1
            elif current is not None:
                report.add(Problem("inserted", f"notification {nid} was never logged but sits inside the log", nid))
            else:
                report.unlogged += 1  # newer than the log: not yet followed, not a fault
    current = leaves.next()
    while current is not None:
        index, gone, _ = current
        report.add(Problem("missing", f"notification {gone} (leaf {index}) is in the log but no longer stored", gone, index))
        leaves.take()
        current = leaves.next()
    report.leaves = start_size + leaves.taken


#: below any notification id, so rows forged with an id of 0 or less are read too
BEFORE_ALL = -(2**63)


def log_position_before(log: AuditLog, size: int) -> int:
    """The notification id of leaf size-1 (BEFORE_ALL for an empty prefix)."""
    if size == 0:
        return BEFORE_ALL
    nid = log.notification_id_at(size - 1)
    return 0 if nid is None else nid


def _check_signature(cp: StoredCheckpoint, keys: list[VerifierKey], report: Report) -> bool:
    try:
        text, _ = verify_note(cp.note, keys)
        parsed = parse_checkpoint(text)
    except NoteError as err:
        report.add(Problem("bad_signature", f"checkpoint {cp.seq}: {err}", checkpoint=cp.seq))
        return False
    if parsed.size != cp.tree_size or parsed.root_hash != cp.root_hash:
        report.add(
            Problem("bad_signature", f"checkpoint {cp.seq}: the signed note does not match its row", checkpoint=cp.seq)
        )
        return False
    return True


def _check_checkpoints(
    log: AuditLog, tree: RecomputedTree, checkpoints: list[StoredCheckpoint], keys: list[VerifierKey], report: Report
) -> None:
    previous: StoredCheckpoint | None = None
    log.preload_roots([cp.tree_size for cp in checkpoints])
    for cp in checkpoints:
        if not _check_signature(cp, keys, report):
            continue
        if previous is not None and cp.tree_size <= previous.tree_size:
            report.add(
                Problem(
                    "inconsistent_checkpoints",
                    f"checkpoint {cp.seq} (size {cp.tree_size}) does not extend checkpoint {previous.seq} (size {previous.tree_size})",
                    checkpoint=cp.seq,
                )
            )
            continue
        if cp.tree_size > tree.size:
            report.add(
                Problem(
                    "missing",
                    f"checkpoint {cp.seq} covers {cp.tree_size} events but only {tree.size} are stored",
                    checkpoint=cp.seq,
                )
            )
            continue
        if tree.root(cp.tree_size) != cp.root_hash:
            since = f"after the first {previous.tree_size} events " if previous else ""
            report.add(
                Problem(
                    "changed",
                    f"the stored events {since}up to {cp.tree_size} differ from what checkpoint {cp.seq} signed",
                    checkpoint=cp.seq,
                )
            )
        elif previous is not None:
            try:
                proof = consistency_proof(tree.node, previous.tree_size, cp.tree_size)
                verify_consistency(previous.tree_size, cp.tree_size, previous.root_hash, cp.root_hash, proof)
            except ProofError as err:
                report.add(
                    Problem("inconsistent_checkpoints", f"checkpoints {previous.seq} and {cp.seq}: {err}", checkpoint=cp.seq)
                )
        try:
            if log.root(cp.tree_size) != cp.root_hash:
                report.add(
                    Problem("log_corrupt", f"the stored Merkle nodes disagree with checkpoint {cp.seq}", checkpoint=cp.seq)
                )
        except LookupError as err:
            report.add(Problem("log_corrupt", f"checkpoint {cp.seq}: {err}", checkpoint=cp.seq))
        previous = cp
