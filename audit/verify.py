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
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from audit.checkpoints import Checkpoints, StoredCheckpoint
from audit.log import AuditLog
from audit.merkle import completed_nodes, consistency_proof, tree_root
from audit.verifier.leaf import leaf_bytes
from audit.verifier.merkle import ProofError, leaf_hash, verify_consistency
from audit.verifier.note import NoteError, VerifierKey, parse_checkpoint, verify_note

MAX_PROBLEMS = 50


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
    """Node hashes recomputed from stored events, on top of a trusted prefix (maybe empty)."""

    def __init__(self) -> None:
        self.nodes: dict[tuple[int, int], bytes] = {}
        self.size = 0

    def node(self, level: int, index: int) -> bytes:
        return self.nodes[(level, index)]

    def append(self, leaf: bytes) -> None:
        for level, index, digest in completed_nodes(self.node, self.size, leaf):
            self.nodes[(level, index)] = digest
        self.size += 1

    def root(self, size: int) -> bytes:
        return tree_root(self.node, size)

    def seed(self, log: AuditLog, size: int) -> None:
        """Take the maximal complete subtrees of [0, size) from the stored log."""
        start = 0
        for level in range(size.bit_length() - 1, -1, -1):
            if size & (1 << level):
                index = start >> level
                self.nodes[(level, index)] = log.node(level, index)
                start += 1 << level
        self.size = size


def verify(
    ledger: Any,
    keys: list[VerifierKey],
    *,
    since_checkpoint: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> Report:
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

    _compare_leaves(log, tree, start_size, report, progress)
    _check_checkpoints(log, tree, checkpoints, keys, report)
    return report


def _compare_leaves(
    log: AuditLog, tree: RecomputedTree, start_size: int, report: Report, progress: Callable[[int], None] | None
) -> None:
    recorded = [(i, nid, h) for i, nid, h in log.recorded_leaves() if i >= start_size]
    report.leaves = start_size + len(recorded)
    after = log_position_before(log, start_size)
    recorded_positions: dict[bytes, int] | None = None
    cursor = 0
    expected_index = start_size
    for nid, oid, version, topic, state in log.store.stored_events(after=after):
        report.events += 1
        if progress and report.events % 5000 == 0:
            progress(report.events)
        digest = leaf_hash(leaf_bytes(nid, oid, version, topic, state))
        # Logged events whose records are gone come before this one.
        while cursor < len(recorded) and recorded[cursor][1] < nid:
            index, gone, _ = recorded[cursor]
            report.add(Problem("missing", f"notification {gone} (leaf {index}) is in the log but no longer stored", gone, index))
            cursor += 1
        if cursor < len(recorded) and recorded[cursor][1] == nid:
            index, _, logged = recorded[cursor]
            if index != expected_index:
                report.add(Problem("reordered", f"leaf {index} should be leaf {expected_index}", nid, index))
            if digest != logged:
                if recorded_positions is None:
                    recorded_positions = {h: i for i, _, h in recorded}
                elsewhere = recorded_positions.get(digest)
                if elsewhere is not None and elsewhere != index:
                    report.add(
                        Problem("reordered", f"notification {nid} holds the record logged at leaf {elsewhere}", nid, index)
                    )
                else:
                    report.add(Problem("changed", f"notification {nid} (leaf {index}) differs from what was logged", nid, index))
            cursor += 1
            expected_index += 1
            tree.append(digest)
        elif cursor < len(recorded):
            report.add(Problem("inserted", f"notification {nid} was never logged but sits inside the log", nid))
            tree.append(digest)
        else:
            report.unlogged += 1  # newer than the log: not yet followed, not a fault
            tree.append(digest)
    for index, gone, _ in recorded[cursor:]:
        report.add(Problem("missing", f"notification {gone} (leaf {index}) is in the log but no longer stored", gone, index))


#: below any notification id, so rows forged with an id of 0 or less are read too
BEFORE_ALL = -(2**63)


def log_position_before(log: AuditLog, size: int) -> int:
    """The notification id of leaf size-1 (BEFORE_ALL for an empty prefix)."""
    if size == 0:
        return BEFORE_ALL
    for index, nid, _ in log.recorded_leaves():
        if index == size - 1:
            return nid
    return 0


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
