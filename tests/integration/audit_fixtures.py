"""A ledger with some history, a signing key and the Merkle log, for the audit tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from audit.checkpoints import Checkpoints, KeyRing
from audit.log import AuditLog
from benchmarks.workload import LEAD, OPENED_AT, open_competition
from domain.procurement import commands as c
from domain.application import Ledger

START = OPENED_AT


def add_history(ledger: Ledger, competitions: int, documents_each: int = 3, start: int = 0) -> None:
    """`competitions` rounds, each opened and given `documents_each` documents."""
    for i in range(start, start + competitions):
        ref = f"AQP-{i:04d}"
        at = START + timedelta(minutes=i)
        opened = ledger.handle(open_competition(ref, title=f"Round {i}"), LEAD, at=at)
        assert opened.ok, opened.error
        for d in range(documents_each):
            published = ledger.handle(
                c.PublishDocument(competition=ref, document=f"D{d}", title="Document", sha256=f"{i:04d}{d:02d}".ljust(64, "a"), size_bytes=100 + d),
                LEAD,
                at=at,
            )
            assert published.ok, published.error


@dataclass
class Audited:
    ledger: Ledger
    log: AuditLog
    checkpoints: Checkpoints
    ring: KeyRing


def audited(ledger: Ledger, tmp_path: Path, competitions: int = 10) -> Audited:
    ring = KeyRing(tmp_path / "keys")
    ring.init("aqp-ledger.test/log")
    add_history(ledger, competitions)
    log = AuditLog(ledger)
    log.catch_up()
    return Audited(ledger, log, Checkpoints(log), ring)
