"""How fast the read models are rebuilt, against how fast the log can be read at all.

Both measured in the same run, on the same ledger, so the ratio is what matters on a shared,
noisy machine:

- read+decode: every notification read in pages of `log_section_size` and turned back into
  its domain event (`notification_log.select` + `mapper.to_domain_event`): the floor any
  read model pays before it does anything;
- rebuild: `runner.rebuild(ledger)`, every catalogued read model from zero in one pass over
  the log, built in memory, then swapped into the live tables in one transaction;
- rows alone: writing every row the read models hold and every version of it their history
  keeps, once each, into fresh tables of the same store as the swap does (`write_floor`),
  with no handler and no reading: with
  read+decode, the least any rebuild must spend, so "bound" (read+decode then the rows
  alone) is the best ratio a rebuild could reach with handlers that cost nothing;
- with `--per-model`, also each read model rebuilt alone (`runner.rebuild(ledger, name)`),
  which says which one bounds the pass.

All are in events/s over every event in the log (a read model reads only the topics it
follows, but the pass covers the whole log), best of `--repeat` runs. The target is a ratio
of at least 0.5: keeping every read model costs at most as much again as reading the log.
Where "bound" is below 0.5, the rows the read models hold cost more to write than the target
leaves, whatever the handlers do (see issue 6's note).

The ledger is filled by an event source from `benchmarks.history.SOURCES`, chosen with
`--source` (several, comma-separated, are measured one after another):
- "scenarios": copies of the scenario files (procurement-heavy: a whole evaluation per copy);
- "demo": the London demo builder sized to about `--events` (mostly vacancy reports and
  returns, the mix a running ledger sees); the actual event count is reported.
`--commands` measures instead how many commands/s the source gets through the ledger (the
running ledger's processes attached, no read-model follower); `--demo-commands` is
`--commands --source demo`. `--reuse DIR` keeps the filled ledgers (SQLite files in DIR,
PostgreSQL schemas named after the source and size) and uses them again next time, so
repeated measurements skip the minute or two of building.

    python benchmarks/projections.py [--events N] [--stores sqlite,postgres] [--source scenarios,demo]
        [--per-model] [--repeat R] [--profile] [--reuse DIR] [--commands | --demo-commands]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402

from api.logging import configure_logging  # noqa: E402
from audit.store import SqlStore  # noqa: E402
from benchmarks.append import PG_URL, drop_schemas, stores  # noqa: E402
from benchmarks.history import SOURCES, open_ledger  # noqa: E402
from domain.application import Ledger  # noqa: E402
from projections import follow, runner  # noqa: E402
from projections.tables import HISTORY_COLUMNS  # noqa: E402


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


def rebuild_rate(ledger: Ledger, events: int, names: str | None = None, profile: Path | None = None) -> float:
    """Events/s rebuilding the named read model (default: all of them in one pass)."""
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler:
        profiler.enable()
    positions = runner.rebuild(ledger, names)
    if profiler:
        profiler.disable()
    elapsed = time.perf_counter() - start
    assert all(p == events for p in positions.values()), positions
    if profiler and profile:
        profiler.dump_stats(profile)
        pstats.Stats(str(profile)).sort_stats("tottime").print_stats(30)
    return events / elapsed


def write_floor(ledger: Ledger, events: int) -> tuple[int, int, float]:
    """(rows, versions, events/s) of writing every read model's rows and their history's versions
    once each, as a rebuild's swap does, and nothing else.

    The rows are read from the live tables first (not timed), then inserted into fresh tables
    of the same shape on the same store, in key order and without secondary indexes, as the
    swap writes them (`runner.fill_table`), in one transaction that is rolled back. No rebuild can
    be faster than its read+decode and this together, however cheap its handlers.
    """
    store = SqlStore(ledger)
    tables, histories = [], []
    for model in runner.READ_MODELS.values():
        view = follow.live_view(ledger, model)
        for table in model.tables:
            rows = [tuple(r.values()) for r in view.select(table.name, columns=("key", *table.names), order_by=("key",))]
            tables.append((table, rows))
            if model.keeps_history:
                # Every version of every row: a rebuild writes these too (the read models' history).
                with store.transaction(commit=False) as sql:
                    versions = [tuple(r.values()) if isinstance(r, dict) else tuple(r) for r in sql.query(
                        f"SELECT key, {', '.join((*table.names, *HISTORY_COLUMNS))} FROM {store.table(table.history_name)} "
                        "ORDER BY key, held_from")]
                histories.append((table, versions))
    start = time.perf_counter()
    with store.transaction(commit=False) as sql:
        for table, rows in tables:
            runner.fill_table(store, sql, table, store.table(f"bench_floor_{table.name}"), rows)
        for table, versions in histories:
            runner.fill_history(store, sql, table, store.table(f"bench_floor_{table.history_name}"), versions)
        elapsed = time.perf_counter() - start  # then rolled back: nothing of it stays
    return sum(len(rows) for _, rows in tables), sum(len(v) for _, v in histories), events / elapsed


def command_rate(url: str, source: str, events: int) -> tuple[int, int, float]:
    """(commands, events, commands/s) filling an empty ledger from `source`."""
    ledger = open_ledger(source, url)
    try:
        start = time.perf_counter()
        sent = SOURCES[source](ledger, events)
        return sent, ledger.max_position(), sent / (time.perf_counter() - start)
    finally:
        ledger.close()


@contextmanager
def kept_stores(names: list[str], keep: Path, source: str, events: int) -> Iterator[list[tuple[str, str]]]:
    """(store, url) of ledgers kept between runs under `keep` (SQLite) or a named schema (PostgreSQL)."""
    keep.mkdir(parents=True, exist_ok=True)
    found = []
    for name in names:
        if name == "sqlite":
            found.append((name, f"sqlite:///{keep.resolve()}/{source}-{events}.db"))
        elif name == "postgres":
            schema = f"bench_kept_{source}_{events}"
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            sep = "&" if "?" in PG_URL else "?"
            found.append((name, f"{PG_URL}{sep}schema={schema}"))
    yield found


@contextmanager
def fresh_stores(names: list[str], tmp: str) -> Iterator[list[tuple[str, str]]]:
    made = stores(names, tmp)
    try:
        yield [(name, urls[0]) for name, urls, _schemas in made]
    finally:
        for _name, _urls, schemas in made:
            drop_schemas(schemas)


def measure(name: str, url: str, source: str, args: argparse.Namespace, tmp: str) -> None:
    ledger = open_ledger(source, url)
    try:
        built = time.perf_counter()
        if not ledger.max_position():
            SOURCES[source](ledger, args.events)
        built = time.perf_counter() - built
        events = ledger.max_position()
        raw = max(read_rate(ledger)[1] for _ in range(args.repeat))
        print(
            f"{name} / {source}: {events} events (filled in {built:.0f} s), read+decode {raw:8.0f} events/s, "
            f"{len(runner.READ_MODELS)} read models",
            flush=True,
        )
        print(f"  {'read model':<14} {'events/s':>9}  {'ratio':>5}  {'seconds':>7}")
        for model in list(runner.READ_MODELS) if args.per_model else []:
            rate = max(rebuild_rate(ledger, events, model) for _ in range(args.repeat))
            print(f"  {model:<14} {rate:9.0f}  {rate / raw:5.2f}  {events / rate:7.2f}", flush=True)
        rate = max(rebuild_rate(ledger, events) for _ in range(args.repeat))
        print(f"  {'ALL TOGETHER':<14} {rate:9.0f}  {rate / raw:5.2f}  {events / rate:7.2f}", flush=True)
        rows, versions, floor = max((write_floor(ledger, events) for _ in range(args.repeat)), key=lambda found: found[2])
        # Reading the log and writing the rows, with handlers that cost nothing: the most any rebuild could reach.
        bound = 1 / (1 / raw + 1 / floor)
        print(
            f"  {'rows alone':<14} {floor:9.0f}  {floor / raw:5.2f}  {events / floor:7.2f}   "
            f"({rows} rows, {rows / events:.1f} per event, and {versions} versions of them, {versions / events:.1f} per event, "
            "written once each)",
            flush=True,
        )
        print(f"  {'bound':<14} {bound:9.0f}  {bound / raw:5.2f}  {events / bound:7.2f}   (read+decode, then the rows alone)", flush=True)
        if args.profile:
            rebuild_rate(ledger, events, profile=Path(tmp) / f"rebuild-{name}-{source}.prof")
    finally:
        ledger.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000, help="about this many events (default 20000)")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--source", default="scenarios", help=f"how to fill the ledger: {', '.join(sorted(SOURCES))} (comma-separated)")
    parser.add_argument("--per-model", action="store_true", help="also rebuild each read model alone")
    parser.add_argument("--repeat", type=int, default=3, help="best of R runs of each measurement (default 3)")
    parser.add_argument("--profile", action="store_true", help="profile one rebuild of all per store and print the top 30")
    parser.add_argument("--reuse", type=Path, default=None, help="keep the filled ledgers here and use them again")
    parser.add_argument("--commands", action="store_true", help="measure the source's commands/s instead")
    parser.add_argument("--demo-commands", action="store_true", help="--commands with the demo builder (--source demo)")
    args = parser.parse_args()
    if args.demo_commands:
        args.source, args.commands = "demo", True
    sources = args.source.split(",")
    unknown = set(sources) - set(SOURCES)
    if unknown:
        parser.error(f"no source {', '.join(sorted(unknown))}; the sources are {', '.join(sorted(SOURCES))}")
    configure_logging(level="warning")
    names = args.stores.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        for source in sources:
            Path(f"{tmp}/{source}").mkdir()
            if args.commands:
                with fresh_stores(names, f"{tmp}/{source}") as urls:
                    for name, url in urls:
                        sent, events, rate = command_rate(url, source, args.events)
                        print(f"{name:<9} {source} {rate:8.0f} commands/s   ({sent} commands, {events} events)", flush=True)
                continue
            chosen = kept_stores(names, args.reuse, source, args.events) if args.reuse else fresh_stores(names, f"{tmp}/{source}")
            with chosen as urls:
                for name, url in urls:
                    measure(name, url, source, args, tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
