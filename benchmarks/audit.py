"""What audit-grade integrity costs, as ratios measured in one run on each store.

1. verify throughput: `aqp audit verify` (recompute every leaf and root, check signatures)
   in events/s, against the raw rate of reading and decoding the notification log.
2. command throughput with the Merkle log following each command (the running ledger's
   default) against the same commands with no follower.

    python benchmarks/audit.py [--events N] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.logging import configure_logging  # noqa: E402
from audit.checkpoints import Checkpoints, KeyRing  # noqa: E402
from audit.follower import AuditFollower  # noqa: E402
from audit.log import AuditLog  # noqa: E402
from audit.verify import verify  # noqa: E402
from benchmarks.append import drop_schemas, stores  # noqa: E402
from benchmarks.workload import LEAD, OPENED_AT, open_competition  # noqa: E402
from api.bootstrap import ledger_at  # noqa: E402
from domain.application import Ledger  # noqa: E402



def open_commands(ledger: Ledger, n: int, prefix: str) -> float:
    start = time.perf_counter()
    for i in range(n):
        result = ledger.handle(open_competition(f"{prefix}-{i}"), LEAD, at=OPENED_AT)
        assert result.ok, result.error
    return n / (time.perf_counter() - start)


def read_rate(ledger: Ledger) -> tuple[int, float]:
    start = time.perf_counter()
    count, position = 0, 0
    while True:
        page = ledger.notification_log.select(start=position + 1, limit=1000)
        for notification in page:
            ledger.mapper.to_domain_event(notification)
        count += len(page)
        if len(page) < 1000:
            break
        position = page[-1].id
    return count, count / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    configure_logging(level="warning")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (plain_url, followed_url), schemas in stores(args.stores.split(","), tmp):
            try:
                ring = KeyRing(Path(tmp) / f"keys-{name}")
                ring.init("aqp-ledger.bench/log")
                plain = ledger_at(plain_url)
                followed = ledger_at(followed_url)
                follower = AuditFollower(followed, ring, every_events=500)
                followed.recorder.merkle = follower.log  # as the bootstrap attaches it: leaves in the events' transaction
                followed.after_save.append(follower)
                try:
                    without = open_commands(plain, args.events, "PLAIN")
                    with_log = open_commands(followed, args.events, "FOLLOWED")
                    Checkpoints(AuditLog(followed)).write(ring.signer())
                    count, raw = read_rate(followed)
                    start = time.perf_counter()
                    report = verify(followed, ring.verifier_keys())
                    verify_rate = report.events / (time.perf_counter() - start)
                    assert report.ok and report.events == count, report.problems
                finally:
                    plain.close()
                    followed.close()
                print(
                    f"{name:<9} verify {verify_rate:8.0f} events/s  read+decode {raw:8.0f} events/s  "
                    f"ratio {verify_rate / raw:5.2f}   |   commands with log {with_log:6.0f}/s  without {without:6.0f}/s  "
                    f"ratio {with_log / without:5.2f}   ({args.events} events)"
                )
            finally:
                drop_schemas(schemas)
    return 0


if __name__ == "__main__":
    sys.exit(main())
