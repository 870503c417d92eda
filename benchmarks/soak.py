"""Soak: a served London demo under mixed load for minutes, its memory watched (not in `make test`).

`aqp serve` runs as its own process over a London demo ledger (built first when the store is
empty: `aqp demo --years Y`, about a minute and a half a year on SQLite here) and a few client
threads send, for `--minutes`, a mix of what its users do: the read models as lists (contract
register, CMS list, compliance, KPIs, quality dashboards, exceptions, placements, the event
index), single records (a contract, a home, a framework, a competition as its authority's lead
sees it, its evaluation trail), the events feed from random positions, and commands (a home's
vacancies, a contact added, a competition opened), each with an Idempotency-Key. Every
`--report-every` seconds it prints one line: requests and requests/s in that window, p50 and
p99 latency, errors so far, and the server's resident memory (RSS, from /proc); at the end a
JSON summary with the RSS at the start, every report and the end.

An error is an answer of 500 or more, a request that got no answer, or a read that did not
answer 200; a command refused by the rules (4xx: a concurrent change, say) is counted apart.

    python benchmarks/soak.py [--minutes 10] [--clients 4] [--store sqlite|postgres]
                              [--database-url URL] [--years 1] [--report-every 60]

Without `--database-url` the demo is built into a fresh SQLite file or PostgreSQL schema
(`AQP_TEST_DATABASE_URL`, default postgresql://postgres@127.0.0.1:5432/test), removed after;
with one, a London demo there is used as it is (or built there if the store is empty).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from contextlib import ExitStack, contextmanager
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import psycopg  # noqa: E402

from api.bootstrap import ledger_at  # noqa: E402
from api.logging import configure_logging  # noqa: E402
from api.tokens import TokenStore  # noqa: E402
from domain.contracts.framework import Framework  # noqa: E402
from tests.e2e.http_server import ROOT, serve_process  # noqa: E402

PG_URL = os.environ.get("AQP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
LONDON = "AQP-CH-LONDON"

#: what a client sends, and how often (weights)
MIX = {"list": 40, "record": 30, "feed": 15, "command": 15}
LISTS = [
    "/contracts?limit=50&sort=-current_value", "/contracts?status=mobilised&limit=20", "/locations?limit=50",
    "/locations?on_framework=yes&vacancies=nursing&limit=20", "/competitions", "/returns/compliance?limit=50&received=no",
    "/returns/compliance/summary?limit=50", "/kpis?limit=50", "/dashboards/quality?limit=50&sort=period",
    "/dashboards/quality/areas?limit=50", "/exceptions?limit=50", "/placements/usage?limit=50",
    "/placements/rate-exceptions?limit=50", "/audit/index?limit=50", f"/frameworks/{LONDON}",
]


class Tally:
    """Counts and latencies, shared by the client threads (one lock: a few hundred requests a second)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.requests = 0
        self.errors: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.window: list[float] = []

    def add(self, kind: str, seconds: float, error: str | None = None, refused: str | None = None) -> None:
        with self.lock:
            self.requests += 1
            self.kinds[kind] += 1
            self.window.append(seconds)
            if error:
                self.errors[error] += 1
            if refused:
                self.refused[refused] += 1

    def take_window(self) -> list[float]:
        with self.lock:
            window, self.window = self.window, []
            return window


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else 0.0


@contextmanager
def demo_store(args: argparse.Namespace) -> Iterator[str]:
    """The database URL of a London demo: the one given, or a fresh one removed afterwards."""
    if args.database_url:
        yield args.database_url
        return
    if args.store == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{tmp}/ledger.db"
        return
    schema = f"soak_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_URL, autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}schema={schema}"
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def ensure_demo(url: str, years: int, env: dict[str, str]) -> None:
    ledger = ledger_at(url)
    try:
        present, events = ledger.exists(Framework, LONDON), ledger.max_position()
    finally:
        ledger.close()
    if present:
        print(f"soak: the London demo is there ({events} events)", flush=True)
        return
    if events:
        raise SystemExit(f"soak: {url} holds {events} events but no London demo")
    print(f"soak: building {years} year(s) of the London demo...", flush=True)
    started = time.monotonic()
    built = subprocess.run([sys.executable, "-m", "api.cli", "demo", "--years", str(years), "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
    if built.returncode != 0:
        raise SystemExit(f"soak: the demo build failed: {built.stderr[-2000:]}")
    print(f"soak: built in {time.monotonic() - started:.0f} s: {json.loads(built.stdout)['events']} events", flush=True)


class Clients:
    """What the clients need to know of the demo: tokens, and references to read and to act on."""

    def __init__(self, url: str, base: str) -> None:
        ledger = ledger_at(url)
        try:
            store = TokenStore(ledger)
            self.admin = store.issue(user="soak-admin", org="NEL-CSU", role="admin").token
            self.lead = store.issue(user="soak-lead", org="NEL-CSU", role="procurement_lead").token
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {self.admin}"}, timeout=60) as http:
                homes = http.get("/locations", params={"limit": 500}).json()["items"]
                self.contracts = [r["reference"] for r in http.get("/contracts", params={"limit": 500}).json()["items"]]
                self.competitions = [r["reference"] for r in http.get("/competitions").json()["items"]]
                self.positions = int(http.get("/events", params={"limit": 1}).json()["last_position"])
            self.homes = [h["location"] for h in homes]
            # A provider token per home, for its vacancy reports (a provider acts for its own homes).
            self.providers = {h["location"]: store.issue(user=f"soak-{h['location']}", org=h["provider"], role="provider").token for h in homes}
        finally:
            ledger.close()
        self.sent = 0
        self.lock = threading.Lock()

    def next_number(self) -> int:
        with self.lock:
            self.sent += 1
            return self.sent

    def request(self, rng: random.Random) -> tuple[str, str, str, dict[str, Any] | None, str]:
        """(kind, method, path, body, token) of one request of the mix."""
        kind = rng.choices(list(MIX), weights=list(MIX.values()))[0]
        if kind == "list":
            return kind, "GET", rng.choice(LISTS), None, self.admin
        if kind == "record":
            which = rng.randrange(4)
            if which == 0:
                return kind, "GET", f"/contracts/{rng.choice(self.contracts)}", None, self.admin
            if which == 1:
                return kind, "GET", f"/locations/{rng.choice(self.homes)}", None, self.admin
            competition = rng.choice(self.competitions)
            path = f"/competitions/{competition}" + ("/evaluation" if which == 3 else "")
            return kind, "GET", path, None, self.lead
        if kind == "feed":
            return kind, "GET", f"/events?after={rng.randrange(self.positions)}&limit=100", None, self.admin
        n = self.next_number()
        now = datetime.now(timezone.utc)
        action = rng.randrange(3)
        if action == 0:
            home = rng.choice(list(self.providers))
            day = (now - timedelta(days=rng.randrange(30))).date().isoformat()
            body = {"type": "location.report_vacancies", "location": home, "date": day, "nursing": rng.randrange(5), "residential": rng.randrange(5)}
            return kind, "POST", "/commands", body, self.providers[home]
        if action == 1:
            body = {"type": "location.add_contact", "location": rng.choice(self.homes), "contact": f"soak-{uuid.uuid4().hex[:12]}", "role": "duty manager", "name": f"Soak Person {n}"}
            return kind, "POST", "/commands", body, self.admin
        body = {
            "type": "competition.open", "competition": f"SOAK-{uuid.uuid4().hex[:10]}", "title": "Soak round", "procedure": "open",
            "standstill_regime": "pcr2015", "lots": [{"id": "L1", "name": "Lot 1"}],
            "clarification_deadline": (now + timedelta(days=20)).isoformat(), "tender_deadline": (now + timedelta(days=30)).isoformat(),
        }
        return kind, "POST", "/commands", body, self.lead


def client(base: str, clients: Clients, tally: Tally, until: float, seed: int) -> None:
    rng = random.Random(seed)
    with httpx.Client(base_url=base, timeout=60) as http:
        while time.monotonic() < until:
            kind, method, path, body, token = clients.request(rng)
            headers = {"Authorization": f"Bearer {token}"}
            if body is not None:
                headers["Idempotency-Key"] = uuid.uuid4().hex
            started = time.perf_counter()
            try:
                answer = http.request(method, path, json=body, headers=headers)
            except httpx.TransportError as err:
                tally.add(kind, time.perf_counter() - started, error=f"no answer ({type(err).__name__})")
                continue
            seconds = time.perf_counter() - started
            if answer.status_code >= 500:
                tally.add(kind, seconds, error=f"{answer.status_code} {method} {path.split('?')[0]}")
            elif answer.status_code != 200 and kind != "command":
                tally.add(kind, seconds, error=f"{answer.status_code} {method} {path.split('?')[0]}")
            elif answer.status_code != 200:
                tally.add(kind, seconds, refused=f"{answer.status_code} {answer.json().get('code')}")
            else:
                tally.add(kind, seconds)


def soak(url: str, args: argparse.Namespace) -> dict[str, Any]:
    env = {**os.environ, "AQP_DATABASE_URL": url, "AQP_LOG_FORMAT": "json", "AQP_LOG_LEVEL": "warning"}
    with ExitStack() as stack:
        keys = stack.enter_context(tempfile.TemporaryDirectory())
        env["AQP_KEY_DIR"] = env.get("AQP_KEY_DIR", keys)
        ensure_demo(url, args.years, env)
        process, base = stack.enter_context(serve_process(url, env={"AQP_LOG_LEVEL": "warning", "AQP_KEY_DIR": env["AQP_KEY_DIR"]}))
        clients = Clients(url, base)
        tally = Tally()
        rss = [(0.0, rss_mb(process.pid))]
        print(f"soak: {args.clients} clients for {args.minutes:g} min against {base}; server RSS {rss[0][1]:.1f} MB at the start", flush=True)
        started = time.monotonic()
        until = started + args.minutes * 60
        threads = [threading.Thread(target=client, args=(base, clients, tally, until, n), daemon=True) for n in range(args.clients)]
        for t in threads:
            t.start()
        last = started
        while any(t.is_alive() for t in threads):
            if time.monotonic() < until:
                time.sleep(min(args.report_every, until - time.monotonic()))
            else:
                for t in threads:  # past the end: the requests in flight finish
                    t.join()
            now = time.monotonic()
            window = tally.take_window()
            rss.append((now - started, rss_mb(process.pid)))
            print(
                f"soak: {now - started:6.0f} s  {len(window):6d} requests  {len(window) / (now - last):6.1f} req/s  "
                f"p50 {statistics.median(window) * 1000 if window else 0:6.1f} ms  p99 {percentile(window, 99) * 1000:7.1f} ms  "
                f"errors {sum(tally.errors.values())}  refused {sum(tally.refused.values())}  RSS {rss[-1][1]:.1f} MB",
                flush=True,
            )
            last = now
        elapsed = time.monotonic() - started
        alive = process.poll() is None
        return {
            "store": url.split(":")[0],
            "minutes": round(elapsed / 60, 2),
            "clients": args.clients,
            "requests": tally.requests,
            "requests_per_second": round(tally.requests / elapsed, 1),
            "by_kind": dict(tally.kinds),
            "errors": dict(tally.errors),
            "refused": dict(tally.refused),
            "rss_mb": {"start": round(rss[0][1], 1), "end": round(rss[-1][1], 1), "max": round(max(r for _, r in rss), 1)},
            "rss_mb_samples": " ".join(f"{t:.0f}s:{r:.1f}" for t, r in rss),
            "server_alive_at_the_end": alive,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--store", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--database-url", help="a London demo ledger to soak (built there if the store is empty)")
    parser.add_argument("--years", type=int, default=1, help="years of demo to build when there is none (default 1)")
    parser.add_argument("--report-every", type=float, default=60.0, help="seconds between progress lines (default 60)")
    args = parser.parse_args()
    configure_logging(fmt="json", level="warning")
    with demo_store(args) as url:
        summary = soak(url, args)
    print(json.dumps(summary, indent=2))
    return 0 if not summary["errors"] and summary["server_alive_at_the_end"] else 1


if __name__ == "__main__":
    sys.exit(main())
