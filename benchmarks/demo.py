"""Building the demo ledger: commands per second and build time, per scale and store.

Every command goes through `Ledger.handle` (the demo has no back doors), so this is the
ledger's own throughput on a realistic mix: mostly vacancy reports, then monthly returns,
procurement rounds, contracts and CQC imports. Each store gets a fresh, empty ledger.

    python benchmarks/demo.py [--scale london|nottingham|national] [--years Y] [--homes N] [--stores sqlite,postgres]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psycopg  # noqa: E402

from api.bootstrap import open_ledger  # noqa: E402
from api.logging import configure_logging  # noqa: E402
from api.settings import Settings  # noqa: E402
from scenarios.demo import build  # noqa: E402

PG_URL = os.environ.get("AQP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def run(url: str, args: argparse.Namespace) -> dict:
    ledger = open_ledger(Settings(database_url=url), "demo")
    try:
        figures = build(ledger, scale=args.scale, seed=args.seed, years=args.years, homes=args.homes)
    finally:
        ledger.close()
    keys = ("events", "commands", "refused", "homes", "contracts", "build_seconds", "seconds_with_catch_up", "commands_per_second")
    return {key: figures[key] for key in keys}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="london", choices=("london", "nottingham", "national"))
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--homes", type=int, default=None)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--stores", default="sqlite", help="sqlite, postgres or both (comma separated)")
    args = parser.parse_args()
    configure_logging(fmt="json", level="warning")
    results = {}
    for store in args.stores.split(","):
        if store == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                results[store] = run(f"sqlite:///{tmp}/demo.db", args)
        else:
            schema = f"bench_demo_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_URL, autocommit=True) as conn:
                conn.execute(f'CREATE SCHEMA "{schema}"')
            try:
                results[store] = run(f"{PG_URL}?schema={schema}", args)
            finally:
                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    print(json.dumps({"scale": args.scale, "years": args.years, "homes": args.homes, "results": results}, indent=2))


if __name__ == "__main__":
    main()
