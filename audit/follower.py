"""Keeps the Merkle log in step with a running ledger, and signs checkpoints as it goes.

Attached to a `Ledger` as an after-save hook. Where the recorder writes each command's leaves
with its events (`recorder.merkle`, as the bootstrap sets it), the log is already current and
the follower only signs; otherwise, once a command's events are committed, the log
catches up (its own transaction; if it fails or the process dies, the next catch-up takes
over from the log's position, so nothing is skipped or logged twice) and, every N events or
T seconds, a checkpoint is signed (`AQP_CHECKPOINT_EVERY_EVENTS`, `AQP_CHECKPOINT_EVERY_SECONDS`;
the bootstrap attaches it unless `AQP_AUDIT_FOLLOW` is no).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import structlog

from audit.checkpoints import Checkpoints, KeyRing, checkpoint_due
from audit.log import AuditLog

log = structlog.get_logger("aqp.audit")


class AuditFollower:
    def __init__(self, ledger: Any, ring: KeyRing | None, *, every_events: int = 1000, every_seconds: float = 3600) -> None:
        self.log = AuditLog(ledger)
        self.checkpoints = Checkpoints(self.log)
        self.ring = ring
        self.every_events = every_events
        self.every_seconds = every_seconds
        #: the last checkpoint this follower knows of (False: none yet), to avoid a read per command
        self._latest: Any = None

    def __call__(self, recordings: Any = None) -> None:
        last = max((r.notification.id for r in recordings or () if getattr(r, "notification", None)), default=None)
        if last is None or not self.log.holds(last):
            # Not written with the events (the log was behind, or leaves go by catch-up alone).
            self.log.catch_up()
        if self.ring is None or not self.ring.signing_key_file.exists():
            return
        now = datetime.now(timezone.utc)
        size = self.log.size_known()
        if self._latest is None:
            self._latest = self.checkpoints.latest() or False
        latest = self._latest or None
        if checkpoint_due(latest, size, every_events=self.every_events, every_seconds=self.every_seconds, now=now):
            checkpoint = self.checkpoints.write(self.ring.signer(), origin=self.ring.origin, now=now)
            self._latest = checkpoint
            log.info("checkpoint_signed", seq=checkpoint.seq, tree_size=checkpoint.tree_size)
