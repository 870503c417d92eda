"""Commands per second through the dispatcher, against the raw library's save rate.

Both measured in the same run, on the same store, so the ratio is what matters on a shared,
noisy machine: ours / raw. "raw" saves a minimal eventsourcing aggregate, one per save;
"ours" sends `competition.open` commands through `Ledger.handle`: decode-free but with the
role check, the existence check (a read), the domain rules, metadata and the save. "bound"
is the raw save after a read of the record it creates: what any command that checks its
record first costs at least (the raw save alone leaves a duplicate to the unique key).

    python benchmarks/append.py [--commands N] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402
from eventsourcing.application import AggregateNotFoundError, Application  # noqa: E402
from eventsourcing.domain import Aggregate  # noqa: E402

from api.logging import configure_logging  # noqa: E402
from benchmarks.workload import LEAD, OPENED_AT, open_competition  # noqa: E402
from api.bootstrap import ledger_at, store_env  # noqa: E402

PG_URL = os.environ.get("AQP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


class Baseline(Aggregate):
    """The raw library's unit of work: one aggregate, one created event, one save."""

    def __init__(self, reference: str, title: str) -> None:
        self.reference = reference
        self.title = title


def raw_rate(url: str, n: int) -> float:
    app = Application(env=store_env(url))
    try:
        start = time.perf_counter()
        for i in range(n):
            app.save(Baseline(reference=f"RAW-{i}", title="London AQP round"))
        return n / (time.perf_counter() - start)
    finally:
        app.close()


def checked_rate(url: str, n: int) -> float:
    """The raw library's save after one read of the record it creates (not found): the least a
    command costs that, like ours, asks whether its record exists before deciding."""
    app = Application(env=store_env(url))
    try:
        start = time.perf_counter()
        for i in range(n):
            made = Baseline(reference=f"RAW-{i}", title="London AQP round")
            try:
                app.repository.get(made.id)
            except AggregateNotFoundError:
                pass
            app.save(made)
        return n / (time.perf_counter() - start)
    finally:
        app.close()


def ledger_rate(url: str, n: int) -> float:
    ledger = ledger_at(url)
    try:
        start = time.perf_counter()
        for i in range(n):
            result = ledger.handle(open_competition(f"AQP-BENCH-{i}"), LEAD, at=OPENED_AT)
            assert result.ok, result.error
        return n / (time.perf_counter() - start)
    finally:
        ledger.close()


def stores(names: list[str], tmp: str) -> list[tuple[str, list[str], list[str]]]:
    """(name, [url for raw, url for ours], schemas to drop) per store, each run on empty tables."""
    out = []
    for name in names:
        if name == "sqlite":
            out.append((name, [f"sqlite:///{tmp}/raw.db", f"sqlite:///{tmp}/ours.db"], []))
        elif name == "postgres":
            schemas = [f"bench_{uuid.uuid4().hex[:12]}" for _ in range(2)]
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                for s in schemas:
                    conn.execute(f'CREATE SCHEMA "{s}"')
            sep = "&" if "?" in PG_URL else "?"
            out.append((name, [f"{PG_URL}{sep}schema={s}" for s in schemas], schemas))
    return out


def drop_schemas(schemas: list[str]) -> None:
    if schemas:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=1000)
    parser.add_argument("--stores", default="sqlite,postgres")
    args = parser.parse_args()
    configure_logging(level="warning")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (raw_url, ours_url), schemas in stores(args.stores.split(","), tmp):
            try:
                raw = raw_rate(raw_url, args.commands)
                ours = ledger_rate(ours_url, args.commands)
                checked = checked_rate(raw_url, args.commands)
                print(
                    f"{name:<9} raw library saves/s {raw:9.0f}   ledger commands/s {ours:9.0f}   "
                    f"ratio ours/raw {ours / raw:5.2f}   bound (raw save after a read of its record) {checked / raw:5.2f}"
                    f"   ({args.commands} each)"
                )
            finally:
                drop_schemas(schemas)
    return 0


if __name__ == "__main__":
    sys.exit(main())
