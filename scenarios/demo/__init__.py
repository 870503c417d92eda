"""`aqp demo`: a realistic demo ledger, built through the same commands users send.

    build(ledger, scale="london", seed=1, years=3, progress=Progress()) -> figures

Scales: `london` (seed 000: five ICBs, 32 borough directorates, about 210 nursing homes, annual
procurement rounds, contracts, daily vacancies, monthly returns, escalation, April prices),
`nottingham` (seed 004: 83 homes in four categories with annual quality visits) and
`national` (about 15,000 CQC locations, for scale). Every event comes from a command sent
through `Ledger.handle` (or the CQC importer, which sends one per record) with the
simulated business time; the build stops at the first refused command.

The read models and the Merkle log do not follow each command during the build (that
would double its time); they catch up once at the end, from the stored events. The ledger is
opened for the demo by the bootstrap (`api/bootstrap.py`, role "demo": an aggregate cache, no
followers).
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from audit.checkpoints import KeyRing
from domain.application import Ledger
from scenarios.demo.builder import DemoRefused, Progress, Sender, figures, fingerprint

SCALES = ("london", "nottingham", "national")
#: homes (locations, at national scale) in each scale's world unless told otherwise
DEFAULT_HOMES = {"london": 210, "nottingham": 83, "national": 15_000}

__all__ = ["DEFAULT_HOMES", "SCALES", "DemoRefused", "LedgerNotEmpty", "Progress", "build", "figures", "fingerprint"]


class LedgerNotEmpty(Exception):
    """The demo builds only into an empty ledger (its ids and history would collide)."""


def build(
    ledger: Ledger,
    *,
    scale: str = "london",
    seed: int = 1,
    years: int = 3,
    homes: int | None = None,
    progress: Progress | None = None,
    catch_up: bool = True,
    keys: KeyRing | None = None,
) -> dict[str, Any]:
    """Build the demo into an empty ledger; returns the headline figures (with commands/s).

    With `catch_up` the read models and the Merkle log catch up at the end, and a checkpoint
    is signed if `keys` hold a signing key. Raises `DemoRefused` at the first refused command
    and `LedgerNotEmpty` if the ledger already holds events.
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {', '.join(SCALES)}, not {scale!r}")
    if ledger.max_position():
        raise LedgerNotEmpty(
            f"this ledger already holds {ledger.max_position()} events; the demo builds only into an empty ledger "
            "(use another --database-url, or delete the file)"
        )
    progress = progress or Progress(enabled=False)
    count = homes if homes is not None else DEFAULT_HOMES[scale]
    sender = Sender(ledger, correlation=f"demo-{scale}-{seed}")
    started = time.monotonic()
    try:
        if scale == "london":
            from scenarios.demo.london import LondonDemo

            demo: Any = LondonDemo(sender, seed=seed, years=years, homes=count, progress=progress)
        elif scale == "nottingham":
            from scenarios.demo.nottingham import NottinghamDemo

            demo = NottinghamDemo(sender, seed=seed, years=years, homes=count, progress=progress)
        else:
            from scenarios.demo.national import NationalDemo

            demo = NationalDemo(sender, seed=seed, years=years, locations=count, progress=progress)
        demo.build()
    finally:
        sender.close()
    built = time.monotonic() - started
    if catch_up:
        catch_up_followers(ledger, progress, keys)
    total = time.monotonic() - started
    result = figures(ledger, ends=demo.end)
    result.update(
        scale=scale,
        seed=seed,
        years=years,
        first_day=demo.start.isoformat(),
        last_day=date.fromordinal(demo.end.toordinal() - 1).isoformat(),
        commands=sender.sent,
        refused=sender.refused,
        commands_by_type=dict(sorted(sender.by_type.items())),
        build_seconds=round(built, 1),
        seconds_with_catch_up=round(total, 1),
        commands_per_second=round(sender.sent / built, 1) if built else None,
    )
    return result


def catch_up_followers(ledger: Ledger, progress: Progress, keys: KeyRing | None = None) -> None:
    """The read models and the Merkle log catch up with the stored events, once; then a checkpoint if `keys` can sign."""
    from audit.checkpoints import Checkpoints
    from audit.log import AuditLog
    from projections.runner import catch_up_all

    progress.start("read models")
    catch_up_all(ledger)
    progress.finish()
    progress.start("Merkle log")
    log = AuditLog(ledger)
    log.catch_up(progress=lambda n: progress.update(n, ledger.max_position()))
    if keys is not None and keys.signing_key_file.exists():
        Checkpoints(log).write(keys.signer(), origin=keys.origin)
    progress.finish()
