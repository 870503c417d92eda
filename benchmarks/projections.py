"""How fast the read models are rebuilt, against how fast the log can be read at all.

Both measured in the same run, on the same ledger, so the ratio is what matters on a shared,
noisy machine:

- read+decode: every notification read in pages of `log_section_size` and turned back into
  its domain event (`notification_log.select` + `mapper.to_domain_event`): the floor any
  read model pays before it does anything;
- rebuild: `runner.rebuild(ledger)`, every catalogued read model from zero in one pass over
  the log into a scratch store, then swapped into the live tables in one transaction.

Both are in events/s over every event in the log (a read model reads only the topics it
follows, but the pass covers the whole log). The target is a ratio of at least 0.5: keeping
every read model costs at most as much again as reading the log.

The ledger is filled by an event source, a function `(ledger, events) -> commands sent`
chosen with `--source` from `benchmarks.history.SOURCES` (default: copies of the scenario
files); the demo builder joins that table as "demo" when it lands. `--commands` measures
instead how many commands/s the source gets through the ledger (the running ledger's
processes attached, no read-model follower); `--demo-commands` is `--commands --source demo`.

    python benchmarks/projections.py [--events N] [--stores sqlite,postgres] [--source scenarios]
        [--repeat R] [--profile] [--commands | --demo-commands]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

os.environ.setdefault("AQP_PROJECTIONS_FOLLOW", "no")  # the rebuild is measured, not the follower

from api.logging import configure_logging  # noqa: E402
from benchmarks.append import drop_schemas, stores  # noqa: E402
from benchmarks.history import SOURCES  # noqa: E402
from domain.application import Ledger  # noqa: E402
from projections import runner  # noqa: E402


def read_rate(ledger: Ledger) -> tuple[int, float]:
    """Events/s reading and decoding the whole notification log, a page at a time."""
    size = ledger.log_section_size
    start = time.perf_counter()
    count, position = 0, 0
    while True:
        page = ledger.notification_log.select(start=position, limit=size, inclusive_of_start=False)
        for notification in page:
            ledger.mapper.to_domain_event(notification)
        count += len(page)
        if len(page) < size:
            break
        position = page[-1].id
    return count, count / (time.perf_counter() - start)


def rebuild_rate(ledger: Ledger, events: int, profile: Path | None = None) -> float:
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    positions = runner.rebuild(ledger)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - start
    assert all(p == events for p in positions.values()), positions
    if profiler and profile:
        profiler.dump_stats(profile)
        pstats.Stats(str(profile)).sort_stats("cumulative").print_stats(25)
    return events / elapsed


def command_rate(url: str, source: str, events: int) -> tuple[int, int, float]:
    """(commands, events, commands/s) filling an empty ledger from `source`."""
    ledger = Ledger.from_database_url(url)
    try:
        start = time.perf_counter()
        sent = SOURCES[source](ledger, events)
        return sent, ledger.max_position(), sent / (time.perf_counter() - start)
    finally:
        ledger.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="at least this many events (default 20000)")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--source", default="scenarios", choices=sorted(SOURCES), help="how to fill the ledger")
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs of each measurement (default 3)")
    parser.add_argument("--profile", action="store_true", help="profile one rebuild per store and print the top 25")
    parser.add_argument("--commands", action="store_true", help="measure the source's commands/s instead")
    parser.add_argument("--demo-commands", action="store_true", help="--commands with the demo builder (--source demo)")
    args = parser.parse_args()
    if args.demo_commands:
        if "demo" not in SOURCES:
            parser.error("there is no demo builder yet: add it to benchmarks.history.SOURCES as 'demo'")
        args.source, args.commands = "demo", True
    configure_logging(level="warning")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (url, _unused), schemas in stores(args.stores.split(","), tmp):
            try:
                if args.commands:
                    sent, events, rate = command_rate(url, args.source, args.events)
                    print(f"{name:<9} {args.source} {rate:8.0f} commands/s   ({sent} commands, {events} events)")
                    continue
                ledger = Ledger.from_database_url(url)
                try:
                    built = time.perf_counter()
                    SOURCES[args.source](ledger, args.events)
                    events = ledger.max_position()
                    built = time.perf_counter() - built
                    raw = max(read_rate(ledger)[1] for _ in range(args.repeat))
                    rebuild = max(rebuild_rate(ledger, events) for _ in range(args.repeat))
                    if args.profile:
                        rebuild_rate(ledger, events, Path(tmp) / f"rebuild-{name}.prof")
                finally:
                    ledger.close()
                print(
                    f"{name:<9} rebuild {rebuild:8.0f} events/s  read+decode {raw:8.0f} events/s  "
                    f"ratio {rebuild / raw:5.2f}   ({events} events from {args.source}, built in {built:.0f} s, "
                    f"{len(runner.READ_MODELS)} read models)"
                )
            finally:
                drop_schemas(schemas)
    return 0


if __name__ == "__main__":
    sys.exit(main())
