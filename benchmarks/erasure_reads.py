"""What the erasure check costs a read: the same reads with it and without it, in one process.

Before every read of stored events a ledger that holds personal-data keys counts the
erasures (`audit.erasure.SubjectKeys.refresh`), so an erasure made by another process shows
at once. Without the check (the recorder's `before_read` emptied) the ledger behaves as it
did before: keys kept for the life of the process. On a London demo ledger (`aqp demo`),
this times a competition as its lead sees it, a home's record and a page of 100 events
decoded from the feed, alternating with and without the check in rounds of ten, and prints
the median time of each and their ratio, then the check's own cost (one query).

    python benchmarks/erasure_reads.py --database-url sqlite:///var/ledger.db [--rounds 12]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.bootstrap import ledger_at  # noqa: E402
from domain.kernel.metadata import Actor  # noqa: E402
from domain.providers.location import Location  # noqa: E402
from domain.providers.views import location_state  # noqa: E402

LEAD = Actor(id="j.okafor", org="NEL-CSU", role="procurement_lead")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", required=True, help="a London demo ledger")
    parser.add_argument("--competition", default="AQP-CH-2025")
    parser.add_argument("--location", default="1-1053323793", help="a home with contacts and managers (seed 1's Fairhaven Park)")
    parser.add_argument("--after", type=int, default=30000, help="the feed page starts after this position")
    parser.add_argument("--rounds", type=int, default=12)
    args = parser.parse_args()
    ledger = ledger_at(args.database_url)
    try:
        reads = {
            f"competition {args.competition} (its lead)": lambda: ledger.show_competition(args.competition, viewer=LEAD),
            f"home {args.location}": lambda: location_state(ledger.aggregate(Location, args.location)),
            "100 events of the feed": lambda: [
                ledger.mapper.to_domain_event(n)
                for n in ledger.recorder.select_notifications(start=args.after, limit=100, inclusive_of_start=False)
            ],
        }
        checks = list(ledger.recorder.before_read)
        for name, read in reads.items():
            read()  # keys read once, as a running server holds them
            times: dict[str, list[float]] = {"with": [], "without": []}
            for _ in range(args.rounds):
                for mode in times:
                    ledger.recorder.before_read[:] = checks if mode == "with" else []
                    started = time.perf_counter()
                    for _ in range(10):
                        read()
                    times[mode].append((time.perf_counter() - started) / 10)
            with_, without = statistics.median(times["with"]) * 1000, statistics.median(times["without"]) * 1000
            print(f"{name:40s} without the check {without:8.2f} ms  with it {with_:8.2f} ms  ratio {with_ / without:.3f}")
        ledger.recorder.before_read[:] = checks
        started = time.perf_counter()
        for _ in range(1000):
            ledger.subject_keys._erasures()
        print(f"the check itself (counting the erasures): {(time.perf_counter() - started) * 1000:.0f} us")
    finally:
        ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
