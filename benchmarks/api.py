"""The HTTP API under load: `aqp serve` driven over loopback by concurrent clients.

For each store, a fresh ledger is filled with the example world (the London AQP care-home
competition awarded with its contracts, the monthly returns), then `aqp serve` runs as its
own process and C concurrent clients (asyncio + httpx, keep-alive) hit each endpoint for
D seconds. Printed per endpoint: requests, throughput, p50 and p99 latency, and the ratio of
its throughput to the trivial endpoint's (`GET /health`, the same server and middleware with
no ledger work) measured in the same run, so the ratio is what to compare across machines.
`GET /whoami` is the trivial endpoint plus authentication (a token lookup in a worker thread).

Then, at a fixed arrival rate (`--rate`, default 200 req/s; 0 leaves it out), the contract
read and `/health` are each sent requests on a schedule that does not wait for answers (an
open loop, as independent users send them), and the p99 latency is counted from when each
request was due, not from when it could be sent: a server that falls behind shows its queue
in the figure instead of slowing the clients down. Issue 17's target is the contract's p99 at
most 5x `/health`'s at 200 req/s.

    python benchmarks/api.py [--clients 8] [--seconds 5] [--stores sqlite,postgres] [--rate 200]

The clients share the machine with the server (2 cores here), so absolute numbers are low;
commands run one at a time per process, or in groups sharing a transaction where
`AQP_GROUP_COMMIT` is on (`auto`: on PostgreSQL; off by default, see api/settings.py).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from api.bootstrap import open_ledger  # noqa: E402
from api.logging import configure_logging  # noqa: E402
from api.settings import Settings  # noqa: E402
from api.tokens import TokenStore  # noqa: E402
from tests.e2e.http_server import serve_process, world  # noqa: E402

PG_URL = os.environ.get("AQP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _opening(n: int) -> dict[str, Any]:
    now = datetime.now(timezone.utc)
    return {
        "type": "competition.open",
        "competition": f"BENCH-{uuid.uuid4().hex[:12]}-{n}",
        "title": "Residential care, benchmark round",
        "procedure": "open",
        "standstill_regime": "pcr2015",
        "lots": [{"id": "L1", "name": "Lot 1"}],
        "clarification_deadline": (now + timedelta(days=20)).isoformat(),
        "tender_deadline": (now + timedelta(days=30)).isoformat(),
    }


CONTRACT = "/contracts/AQP-CH-2026/NCL/aster-care-homes"
#: name -> (method, url, body factory or None); the command is sent as a procurement lead, reads as an admin
ENDPOINTS: list[tuple[str, str, str, Callable[[int], Any] | None]] = [
    ("GET /health (trivial)", "GET", "/health", None),
    ("GET /whoami (trivial + auth)", "GET", "/whoami", None),
    ("GET /competitions (list)", "GET", "/competitions", None),
    ("GET /competitions/AQP-CH-2026", "GET", "/competitions/AQP-CH-2026", None),
    ("GET /contracts (register)", "GET", "/contracts", None),
    ("GET /contracts/{ref}", "GET", CONTRACT, None),
    ("GET /locations/{ref}", "GET", "/locations/1-1000000001", None),
    ("GET /events?limit=100", "GET", "/events?limit=100", None),
    ("POST /commands competition.open", "POST", "/commands", _opening),
]


async def drive(base: str, token: str, method: str, url: str, body: Callable[[int], Any] | None, clients: int, seconds: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    counter = iter(range(10**9))

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60) as http:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                answer = await http.request(method, url, json=body(next(counter)) if body else None)
                latencies.append(time.perf_counter() - started)
                if answer.status_code != 200:
                    raise RuntimeError(f"{method} {url}: {answer.status_code} {answer.text[:300]}")

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies


async def paced(base: str, token: str, url: str, rate: float, seconds: float) -> tuple[list[float], int]:
    """Latencies of requests due every 1/rate s for `seconds`, each timed from when it was due; and the failures."""
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=256)
    async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=60, limits=limits) as http:

        async def one(due: float) -> None:
            nonlocal failures
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            answer = await http.get(url)
            latencies.append(time.perf_counter() - due)
            failures += answer.status_code != 200

        async def run(for_seconds: float) -> None:
            start = time.perf_counter() + 0.1
            await asyncio.gather(*(one(start + i / rate) for i in range(int(rate * for_seconds))))

        await run(1.0)  # warm up: the connections the rate needs are opened, then kept
        latencies.clear()
        failures = 0
        await run(seconds)
    return latencies, failures


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def measure(url: str, store: str, clients: int, seconds: float, pace: float) -> None:
    ledger = open_ledger(Settings.from_env().replace(database_url=url), "cli")  # as `aqp apply` fills it
    world(ledger)
    token = TokenStore(ledger).issue(user="bench", org="NEL-CSU", role="admin").token
    # The command is a procurement lead's: an admin may not open competitions.
    lead = TokenStore(ledger).issue(user="bench-lead", org="NEL-CSU", role="procurement_lead").token
    ledger.close()
    with serve_process(url, env={"AQP_LOG_LEVEL": "warning"}) as (_process, base):
        print(f"\n{store}: {clients} clients, {seconds:.0f} s per endpoint, server {base}")
        print(f"{'endpoint':<36} {'requests':>9} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'vs trivial':>11}")
        trivial = None
        for name, method, path, body in ENDPOINTS:
            as_whom = lead if method == "POST" else token
            asyncio.run(drive(base, as_whom, method, path, body, clients, 0.5))  # warm up: connections, caches
            started = time.perf_counter()
            latencies = asyncio.run(drive(base, as_whom, method, path, body, clients, seconds))
            rate = len(latencies) / (time.perf_counter() - started)
            trivial = trivial or rate
            print(
                f"{name:<36} {len(latencies):>9} {rate:>9.1f} {statistics.median(latencies) * 1000:>8.2f} "
                f"{percentile(latencies, 99) * 1000:>8.2f} {rate / trivial:>10.3f}x"
            )
        if pace:
            print(f"\nat {pace:.0f} req/s, open loop, {seconds:.0f} s each, latency from when each request was due")
            print(f"{'endpoint':<36} {'requests':>9} {'failed':>7} {'p50 ms':>8} {'p99 ms':>8} {'p99 vs trivial':>15}")
            trivial_p99 = None
            for name, path in (("GET /health (trivial)", "/health"), ("GET /contracts/{ref}", CONTRACT)):
                latencies, failed = asyncio.run(paced(base, token, path, pace, seconds))
                p99 = percentile(latencies, 99)
                trivial_p99 = trivial_p99 or p99
                print(f"{name:<36} {len(latencies):>9} {failed:>7} {statistics.median(latencies) * 1000:>8.2f} "
                      f"{p99 * 1000:>8.2f} {p99 / trivial_p99:>14.2f}x")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--rate", type=float, default=200.0, help="the open-loop arrival rate, req/s (0: not measured)")
    args = parser.parse_args()
    configure_logging(fmt="json", level="warning")
    for store in args.stores.split(","):
        if store == "sqlite":
            with tempfile.TemporaryDirectory() as tmp:
                measure(f"sqlite:///{tmp}/ledger.db", "sqlite", args.clients, args.seconds, args.rate)
        elif store == "postgres":
            schema = f"bench_api_{uuid.uuid4().hex[:8]}"
            try:
                with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
                    conn.execute(f'CREATE SCHEMA "{schema}"')
            except psycopg.Error as err:
                print(f"\npostgres: skipped ({str(err).strip().splitlines()[0]})")
                continue
            try:
                measure(f"{PG_URL}?schema={schema}", "postgres", args.clients, args.seconds, args.rate)
            finally:
                with psycopg.connect(PG_URL, autocommit=True) as conn:
                    conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        else:
            print(f"unknown store {store!r}: sqlite or postgres", file=sys.stderr)
            return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
