"""A ledger with some history, a signing key and the Merkle log, for the audit tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

from audit.checkpoints import Checkpoints, KeyRing
from audit.log import AuditLog
from domain import commands as c
from domain.application import Ledger
from domain.metadata import Actor

LEAD = Actor(id="lead", org="CSU", role="procurement_lead")
UTC = timezone.utc
START = datetime(2026, 1, 5, 9, tzinfo=UTC)


def add_history(ledger: Ledger, competitions: int, documents_each: int = 3, start: int = 0) -> None:
    """`competitions` rounds, each opened and given `documents_each` documents."""
    for i in range(start, start + competitions):
        ref = f"AQP-{i:04d}"
        at = START + timedelta(minutes=i)
        opened = ledger.handle(
            c.OpenCompetition(
                competition=ref,
                title=f"Round {i}",
                procedure="open",
                standstill_regime="pa2023",
                lots=[c.LotSpec(id="L1", name="London")],
                clarification_deadline=datetime(2026, 12, 1, tzinfo=UTC),
                tender_deadline=datetime(2026, 12, 20, tzinfo=UTC),
            ),
            LEAD,
            at=at,
        )
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
