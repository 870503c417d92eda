"""Group commit: commands/s from 16 concurrent clients, against the raw library's one save per transaction.

All measured in the same run, on the same store, each on empty tables:
- "raw": the eventsourcing library saving a minimal aggregate, one save (one transaction) each,
  from one thread and from C threads at once (the better of the two is the ratio's base);
- "grouped": C client threads sending `competition.open` commands through the API's service
  (`LedgerService.run`, as a request's worker thread does, without the HTTP in front) over a
  ledger opened as `aqp serve` opens it (the Merkle log's leaves in each transaction, a checkpoint
  signed every 1,000 events, the processes and read models following), group commit on;
- "one at a time": the same with group commit off (each command its own transaction, as before).

    python benchmarks/group_commit.py [--clients 16] [--commands 100] [--stores postgres,sqlite]

Printed per store: the rates, the mean commands per commit, and grouped / raw (issue 17's
target at 16 clients on PostgreSQL: >= 2); the same with the read models followed by their own
process, not after each commit; and the bound any group commit of commands that each read their
record first cannot beat: the library's own groups (a read per aggregate, one save for the group).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import msgspec  # noqa: E402
from eventsourcing.application import AggregateNotFoundError, Application  # noqa: E402

from api.bootstrap import open_ledger, store_env  # noqa: E402
from api.http.service import LedgerService  # noqa: E402
from api.logging import configure_logging  # noqa: E402
from api.settings import Settings  # noqa: E402
from audit.checkpoints import KeyRing  # noqa: E402
from benchmarks.append import Baseline, drop_schemas, stores  # noqa: E402
from domain import commands as c  # noqa: E402

PG_URL = os.environ.get("AQP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")


def opening(reference: str) -> Any:
    now = datetime.now(timezone.utc)
    return msgspec.convert(
        {
            "type": "competition.open",
            "competition": reference,
            "title": "Residential care, benchmark round",
            "procedure": "open",
            "standstill_regime": "pcr2015",
            "lots": [{"id": "L1", "name": "Lot 1"}],
            "clarification_deadline": (now + timedelta(days=20)).isoformat(),
            "tender_deadline": (now + timedelta(days=30)).isoformat(),
        },
        c.AnyCommand,
    )


def in_threads(clients: int, work: Any) -> float:
    """Seconds for `clients` threads each running `work(client)`, started together."""
    barrier = threading.Barrier(clients + 1)
    failures: list[BaseException] = []

    def run(client: int) -> None:
        barrier.wait()
        try:
            work(client)
        except BaseException as err:  # noqa: BLE001 - reported after the run
            failures.append(err)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    start = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    if failures:
        raise failures[0]
    return elapsed


def raw_rates(url: str, clients: int, each: int) -> tuple[float, float]:
    """The library's saves/s, one save per transaction: from one thread, and from `clients` threads."""
    app = Application(env=store_env(url))
    try:
        n = clients * each
        start = time.perf_counter()
        for i in range(n):
            app.save(Baseline(reference=f"RAW-{i}", title="London AQP round"))
        alone = n / (time.perf_counter() - start)

        def save(client: int) -> None:
            for i in range(each):
                app.save(Baseline(reference=f"RAW-{client}-{i}", title="London AQP round"))

        together = n / in_threads(clients, save)
        return alone, together
    finally:
        app.close()


def library_group_rate(url: str, clients: int, each: int) -> float:
    """The bound: the library's own group commit, `clients` new aggregates at a time, each looked
    for first (one read, not found, as our command does) and all saved in one transaction."""
    app = Application(env=store_env(url))
    try:
        start = time.perf_counter()
        for round_ in range(each):
            made = [Baseline(reference=f"GROUP-{round_}-{n}", title="London AQP round") for n in range(clients)]
            for aggregate in made:
                try:
                    app.repository.get(aggregate.id)
                except AggregateNotFoundError:
                    pass
            app.save(*made)
        return clients * each / (time.perf_counter() - start)
    finally:
        app.close()


def service_rate(
    url: str, keys: Path, clients: int, each: int, *, group_commit: bool, read_models: bool = True
) -> tuple[float, float]:
    """(commands/s, mean commands per commit) from `clients` threads through `LedgerService.run`."""
    ledger = open_ledger(Settings(database_url=url, key_dir=keys, projections_follow=read_models), "api")
    commits: list[int] = []
    ledger.after_save.append(lambda recordings: commits.append(len(recordings)))
    service = LedgerService(ledger, group_commit=group_commit)
    principal = service.tokens.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").principal
    run = uuid.uuid4().hex[:8]

    def send(client: int) -> None:
        for i in range(each):
            answer = service.run(
                principal, opening(f"GC-{run}-{client}-{i}"), method="POST", path="/commands",
                request_id=f"r-{client}-{i}", idempotency_key=f"k-{run}-{client}-{i}",
            )
            assert answer.status == 200, answer.body

    try:
        seconds = in_threads(clients, send)
        n = clients * each
        return n / seconds, n / max(len(commits), 1)
    finally:
        ledger.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--commands", type=int, default=100, help="commands per client")
    parser.add_argument("--stores", default="postgres,sqlite")
    args = parser.parse_args()
    configure_logging(level="error")
    with tempfile.TemporaryDirectory() as tmp:
        keys = Path(tmp) / "keys"
        KeyRing(keys).init("aqp-ledger.bench/log")
        for name, (raw_url, ours_url), schemas in stores(args.stores.split(","), tmp):
            try:
                alone, together = raw_rates(raw_url, args.clients, args.commands)
                bound = library_group_rate(raw_url, args.clients, args.commands)
                one_at_a_time, _ = service_rate(ours_url, keys, args.clients, args.commands, group_commit=False)
                grouped, per_commit = service_rate(ours_url, keys, args.clients, args.commands, group_commit=True)
                lean, lean_per_commit = service_rate(
                    ours_url, keys, args.clients, args.commands, group_commit=True, read_models=False
                )
                base = max(alone, together)
                n = args.clients * args.commands
                print(f"{name}: {args.clients} clients, {n} commands each run")
                print(f"  raw library, one save a transaction   {alone:6.0f}/s from 1 thread, {together:6.0f}/s from {args.clients} (base: {base:.0f}/s)")
                print(f"  one at a time (group commit off)      {one_at_a_time:6.0f}/s   / raw {one_at_a_time / base:5.2f}")
                print(f"  grouped                               {grouped:6.0f}/s   / raw {grouped / base:5.2f}   ({per_commit:.1f} commands a commit)")
                print(
                    f"  grouped, read models in their own process (AQP_PROJECTIONS_FOLLOW=no) "
                    f"{lean:6.0f}/s   / raw {lean / base:5.2f}   ({lean_per_commit:.1f} commands a commit)"
                )
                print(f"  bound: the library's own groups of {args.clients} (a read each, one save) {bound:6.0f}/s   / raw {bound / base:5.2f}")
            finally:
                drop_schemas(schemas)
    return 0


if __name__ == "__main__":
    sys.exit(main())
