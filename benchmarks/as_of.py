"""What a list "as of" a past date costs against the same list now, on a long London demo.

Builds the London demo (`--years`, default 3: about 100,000 events) through its commands on
each store, the read models catching up once at the end (their history tables too), then
reads the HTTP API's lists the way their routes do (`api.http.tables.read_table`, as an
auditor), in turns: each list now, and as it stood a year before the demo's last event. It
prints the medians and the ratio as-of / now (issue 17's target for the contract register:
at most 2x). Before the read models kept history an as-of read replayed the log into a
scratch store, refused over HTTP past 20,000 events; `--replayed` measures that once too.

    python benchmarks/as_of.py [--years 3] [--repeat 15] [--stores sqlite,postgres] [--reuse DIR] [--replayed]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402

from api.bootstrap import ledger_at  # noqa: E402
from api.http.competitions import COMPETITIONS  # noqa: E402
from api.http.contracts import CONTRACTS  # noqa: E402
from api.http.read_models import LOCATIONS  # noqa: E402
from api.http.service import LedgerService  # noqa: E402
from api.http.tables import Query, read_table, replayed  # noqa: E402
from api.logging import configure_logging  # noqa: E402
from benchmarks.append import PG_URL  # noqa: E402

#: list -> its table (as its route reads it)
LISTS = {"contract register": CONTRACTS, "CMS list (one page)": LOCATIONS, "competitions": COMPETITIONS}


def store_url(name: str, reuse: Path, years: int) -> str:
    if name == "sqlite":
        return f"sqlite:///{reuse}/as-of-{years}y.db"
    schema = f"bench_as_of_{years}y"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}schema={schema}"


def filled(url: str, years: int) -> Any:
    import scenarios.demo as demo

    ledger = ledger_at(url)
    if not ledger.max_position():
        print(f"  building the {years}-year London demo ...", file=sys.stderr, flush=True)
        started = time.perf_counter()
        demo.build(ledger, scale="london", years=years)
        print(f"  built: {ledger.max_position()} events in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    return ledger


def last_event_time(ledger: Any) -> datetime:
    last = ledger.max_position()
    (notification,) = ledger.notification_log.select(start=last, limit=1)
    return ledger.mapper.to_domain_event(notification).timestamp


def timed(read: Any) -> float:
    started = time.perf_counter()
    read()
    return time.perf_counter() - started


def measure(ledger: Any, repeat: int, with_replay: bool) -> list[str]:
    service = LedgerService(ledger)
    principal = service.tokens.issue(user="bench.auditor", org="NAO", role="auditor").principal
    then = last_event_time(ledger) - timedelta(days=365)
    lines = []
    for name, table in LISTS.items():
        exact = service.view(table.read_model).history_exact()

        def read(as_of: datetime | None, table: Any = table) -> tuple[list[dict[str, Any]], int]:
            query = Query(table, principal, {}, {}, None, None, date.today() if as_of is None else as_of.date())
            return read_table(service, query, as_of=as_of, limit=50 if table.in_sql else None, offset=0)

        rows_now, rows_then = read(None)[1], read(then)[1]
        now_times, then_times = [], []
        for i in range(repeat):
            # In turns, the order alternating, so that drift falls on both alike.
            pair = [(now_times, None), (then_times, then)]
            for times, at in pair if i % 2 else pair[::-1]:
                times.append(timed(lambda at=at: read(at)))
        now_ms, then_ms = statistics.median(now_times) * 1000, statistics.median(then_times) * 1000
        lines.append(
            f"{name:<20} now {now_ms:8.2f} ms ({rows_now} rows)   as of {then:%Y-%m-%d} {then_ms:8.2f} ms ({rows_then} rows)   "
            f"ratio as-of/now {then_ms / now_ms:5.2f}   history {'exact' if exact else 'NOT exact: replayed'}"
        )
        if with_replay:
            service.replay_max_events = 10**9
            live = service.view(table.read_model)
            held, live.history_exact = live.history_exact, lambda: False  # the replay, as before history
            try:
                spent = timed(lambda: replayed(service, table.read_model, then).__enter__())
            finally:
                live.history_exact = held
            lines.append(f"{'':<20} replaying the log up to then instead (before history): {spent * 1000:9.1f} ms")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--reuse", type=Path, default=None, help="keep the built demos here (SQLite) or in a kept schema (PostgreSQL)")
    parser.add_argument("--replayed", action="store_true", help="also time one as-of read by replaying the log, as before")
    args = parser.parse_args()
    configure_logging(level="warning")
    with tempfile.TemporaryDirectory() as tmp:
        reuse = args.reuse or Path(tmp)
        reuse.mkdir(parents=True, exist_ok=True)
        for name in args.stores.split(","):
            print(f"{name}:", file=sys.stderr, flush=True)
            ledger = filled(store_url(name, reuse, args.years), args.years)
            try:
                for line in measure(ledger, args.repeat, args.replayed):
                    print(f"{name:<9} {ledger.max_position()} events  {line}", flush=True)
            finally:
                ledger.close()
                if args.reuse is None and name == "postgres":
                    with psycopg.connect(PG_URL, autocommit=True) as conn:
                        conn.execute(f'DROP SCHEMA "bench_as_of_{args.years}y" CASCADE')
    return 0


if __name__ == "__main__":
    sys.exit(main())
