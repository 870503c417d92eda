"""Proof bundles: one stored event, its place in the log, and a signed checkpoint covering it.

`aqp audit prove REF` writes one; `python -m audit.verifier BUNDLE --key KEYFILE` checks it
with nothing but the standard library, `cryptography` and our public key. A bundle whose
record is withheld from its reader (a sealed tender before the opening) carries the leaf's
hash and place without the record: it proves the event is in the log, unchanged since it
was signed, and says nothing of what it is.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from audit.checkpoints import DEFAULT_ORIGIN, Checkpoints, StoredCheckpoint
from audit.log import AuditLog
from audit.signing import NoteSigner
from audit.verifier.leaf import LEAF_FORMAT, canonical_originator_id, leaf_bytes
from audit.verifier.merkle import leaf_hash
from domain import access
from domain.kernel.metadata import LedgerAggregate

BUNDLE_FORMAT = "aqp-proof-bundle-v1"
_AGGREGATE_REF = re.compile(r"^(?P<kind>[a-z_]+)/(?P<ref>.+)@(?P<version>\d+)$")


class ProveError(Exception):
    """The event cannot be proven (no such event, or no checkpoint and no key to sign one)."""


def resolve_event(ledger: Any, log: AuditLog, event_ref: str) -> int:
    """A notification id from `N` or `KIND/REFERENCE@VERSION` (e.g. competition/AQP-CH-2026@3)."""
    if event_ref.isdigit():
        return int(event_ref)
    match = _AGGREGATE_REF.match(event_ref)
    if not match:
        raise ProveError(f"{event_ref!r}: give a notification id, or KIND/REFERENCE@VERSION")
    kinds = {cls.KIND: cls for cls in LedgerAggregate.__subclasses__()}
    if match["kind"] not in kinds:
        raise ProveError(f"unknown kind {match['kind']!r}; known: {', '.join(sorted(kinds))}")
    kind, reference, version = match["kind"], match["ref"], int(match["version"])
    notification_id, latest = log.store.position_of(kinds[kind].id_for(reference), version)
    if notification_id is not None:
        return notification_id
    if latest == 0:
        raise ProveError(f"no stored event {event_ref}: there is no {kind} {reference}")
    raise ProveError(f"no stored event {event_ref}: {kind} {reference} has versions 1 to {latest}, so there is no version {version}")


def prove(ledger: Any, event_ref: str, *, signer: NoteSigner | None, origin: str = DEFAULT_ORIGIN) -> dict[str, Any]:
    """The proof bundle of one event; if no checkpoint covers it yet, one is signed (as the log named `origin`).

    For the operator's `aqp audit prove`, which may write: it catches the Merkle log up and
    signs. The HTTP API reads only (`proof_of`).
    """
    log = AuditLog(ledger)
    log.catch_up()
    notification_id = resolve_event(ledger, log, event_ref)
    leaf_index = log.leaf_index_of(notification_id)
    if leaf_index is None:
        raise ProveError(f"notification {notification_id} is not in the ledger")
    checkpoint = Checkpoints(log).covering(leaf_index, signer, origin=origin)
    if checkpoint is None:
        raise ProveError("no signed checkpoint covers this event yet and no signing key is available")
    return _bundle(log, checkpoint, leaf_index, notification_id)


class NoSuchEvent(ProveError):
    """No stored event at this position (a gap, or beyond the log)."""


class NotYetProvable(ProveError):
    """The event is stored but no signed checkpoint covers it yet (or the Merkle log has yet to take it)."""


def proof_of(log: AuditLog, checkpoints: Checkpoints, notification_id: int, *, withheld: str | None = None) -> dict[str, Any]:
    """The proof bundle of one event against the latest signed checkpoint: a pure read.

    Nothing is written: no catching up, no signing (a read must not queue behind commands, nor
    record anything). An event the latest checkpoint does not cover yet is `NotYetProvable`:
    the running ledger signs every N events or T seconds, or `aqp audit checkpoint` now.
    `withheld` (why the viewer may not read the event) keeps the record out of the bundle:
    it holds the leaf's place and hash alone, which the verifier checks against the signed
    root (see `audit.verifier`).
    """
    leaf_index = log.leaf_index_of(notification_id)
    if leaf_index is None:
        if notification_id <= log.position():
            raise NoSuchEvent(f"there is no stored event at position {notification_id}")
        raise NotYetProvable(f"the event at position {notification_id} is not in the Merkle log yet")
    checkpoint = checkpoints.latest()
    if checkpoint is None or checkpoint.tree_size <= leaf_index:
        covered = f"the latest covers the first {checkpoint.tree_size} events" if checkpoint else "none is signed yet"
        raise NotYetProvable(f"no signed checkpoint covers the event at position {notification_id} yet ({covered})")
    return _bundle(log, checkpoint, leaf_index, notification_id, withheld=withheld)


def _bundle(log: AuditLog, checkpoint: StoredCheckpoint, leaf_index: int, notification_id: int, *, withheld: str | None = None) -> dict[str, Any]:
    nid, oid, version, topic, state = next(log.store.stored_events(after=notification_id - 1, batch=1))
    size = checkpoint.tree_size
    record = {
        "notification_id": nid,
        "originator_id": canonical_originator_id(oid),
        "originator_version": version,
        "topic": topic,
        "state": base64.b64encode(state).decode("ascii"),
    }
    return {
        "format": BUNDLE_FORMAT,
        "leaf_format": LEAF_FORMAT,
        "record": record if access.sees_stored_record(withheld) else None,
        # Hashes the record with its random command id, its time to the microsecond and the
        # tender's own content hash: it names nothing, and is in every neighbour's proof anyway.
        "leaf_hash": base64.b64encode(leaf_hash(leaf_bytes(nid, oid, version, topic, state))).decode("ascii"),
        "withheld": withheld,
        "leaf_index": leaf_index,
        "tree_size": size,
        "inclusion_proof": [base64.b64encode(h).decode("ascii") for h in log.inclusion_proof(leaf_index, size)],
        "checkpoint": checkpoint.note,
        "checkpoint_seq": checkpoint.seq,
        "key_id": checkpoint.key_id,
    }


def record_and_proof(log: AuditLog, checkpoint: StoredCheckpoint, notification_id: int, *, withheld: str | None = None) -> dict[str, Any]:
    """One event's record (or, `withheld`, its leaf hash alone), leaf and inclusion proof against `checkpoint`.

    For documents that carry many events under one checkpoint (the defence pack): the
    checkpoint's note goes once with the document, not with each event."""
    leaf_index = log.leaf_index_of(notification_id)
    if leaf_index is None or checkpoint.tree_size <= leaf_index:
        raise NotYetProvable(f"checkpoint {checkpoint.seq} does not cover the event at position {notification_id}")
    bundle = _bundle(log, checkpoint, leaf_index, notification_id, withheld=withheld)
    for key in ("format", "checkpoint", "checkpoint_seq", "key_id"):
        del bundle[key]
    return bundle
