"""Reads that scale (issue 17, part 4): proofs, verification and start-up, as ratios measured in one run.

1. A proof asked for by record and version (`competition/AQP-CH-2026@3`) against the same
   proof asked for by position, medians of several, at each size and on each store.
2. `aqp audit verify` (every leaf, root, signature and consistency proof) in events/s
   against the library's own read and decode of the notification log, same ledger.
3. `aqp --help` against `python -c pass`, and against the floor: the interpreter with
   argparse imported (medians of several runs, no store).

    python benchmarks/proofs.py [--events 100000,1000000] [--stores sqlite,postgres] [--runs 7] [--skip-startup]

Building a ledger of a million events through commands takes hours on this machine, so a
large ledger is built from a real one: the scenario files are applied once through the
dispatcher (595 events of 49 records: a London round to award, its contracts, returns, an
escalation), then their stored rows are copied, byte for byte, under new aggregate ids,
until the log holds the events asked for; the real history is stored last, so the record proven is at the log's
end (where reading the log for it costs most). The Merkle log follows every row and a
checkpoint is signed every 1,000 events, as the running ledger signs by default.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.bootstrap import ledger_at  # noqa: E402
from api.logging import configure_logging  # noqa: E402
from audit.bundle import prove  # noqa: E402
from audit.checkpoints import Checkpoints, KeyRing  # noqa: E402
from audit.log import AuditLog  # noqa: E402
from audit.store import SqlStore  # noqa: E402
from audit.verify import verify  # noqa: E402
from benchmarks.append import drop_schemas, stores  # noqa: E402
from benchmarks.audit import read_rate  # noqa: E402
from benchmarks.history import scenario_history  # noqa: E402
from audit.verifier.leaf import canonical_originator_id  # noqa: E402
from domain.procurement.competition import Competition  # noqa: E402

CHECKPOINT_EVERY = 1000
#: the record proven: the London round's last event (stored last)
RECORD = "competition/AQP-CH-2026@{version}"

Row = tuple[int, Any, int, str, bytes]


def real_history(url: str) -> list[Row]:
    """The scenario files applied once through the dispatcher: their stored rows, as persisted."""
    ledger = ledger_at(url)
    try:
        scenario_history(ledger, 1)
        return list(SqlStore(ledger).stored_events())
    finally:
        ledger.close()


def insert_rows(store: SqlStore, rows: list[tuple[uuid.UUID, int, str, bytes]]) -> None:
    events = store.table(store.events_table)
    mark = "?" if store.sqlite else "%s"
    with store.datastore.transaction(commit=True) as cursor:
        cursor.executemany(
            f"INSERT INTO {events} (originator_id, originator_version, topic, state) VALUES ({mark}, {mark}, {mark}, {mark})",
            [(store.stored_originator_id(oid), version, topic, state) for oid, version, topic, state in rows],
        )


def fill(ledger: Any, ring: KeyRing, history: list[Row], events: int) -> None:
    """Copies of `history` under new aggregate ids, then `history` itself, until about `events` are stored."""
    store = SqlStore(ledger)
    log = AuditLog(ledger)
    checkpoints = Checkpoints(log)
    signer = ring.signer()
    copies = max(0, -(-(events - len(history)) // len(history)))
    real = [(uuid.UUID(str(oid)) if not isinstance(oid, uuid.UUID) else oid, v, t, s) for _, oid, v, t, s in history]
    pending: list[tuple[uuid.UUID, int, str, bytes]] = []
    for k in range(copies + 1):
        if k < copies:
            renamed: dict[uuid.UUID, uuid.UUID] = {}
            pending += [(renamed.setdefault(oid, uuid.uuid4()), v, t, s) for oid, v, t, s in real]
        else:
            pending += real
        while len(pending) >= CHECKPOINT_EVERY or (k == copies and pending):
            insert_rows(store, pending[:CHECKPOINT_EVERY])
            del pending[:CHECKPOINT_EVERY]
            log.catch_up(batch=CHECKPOINT_EVERY)
            checkpoints.write(signer)


def median_seconds(call: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure_store(name: str, url: str, history: list[Row], events: int, ring: KeyRing, runs: int) -> None:
    ledger = ledger_at(url)
    try:
        start = time.perf_counter()
        fill(ledger, ring, history, events)
        built = time.perf_counter() - start
        size = AuditLog(ledger).size()
        london = str(Competition.id_for("AQP-CH-2026"))
        record = RECORD.format(version=max(v for _, oid, v, _, _ in history if canonical_originator_id(oid) == london))
        bundle = prove(ledger, record, signer=None)
        position = str(bundle["record"]["notification_id"])
        assert prove(ledger, position, signer=None) == bundle
        by_record = median_seconds(lambda: prove(ledger, record, signer=None), runs)
        by_position = median_seconds(lambda: prove(ledger, position, signer=None), runs)

        start = time.perf_counter()
        assert scan_for(ledger, london, int(record.rsplit("@", 1)[1])) == int(position)
        scan = time.perf_counter() - start

        count, raw = read_rate(ledger)
        rows = raw_rows_rate(ledger)
        start = time.perf_counter()
        report = verify(ledger, ring.verifier_keys())
        verify_rate = report.events / (time.perf_counter() - start)
        assert report.ok and report.events == count == size, report.problems[:3]
    finally:
        ledger.close()
    print(
        f"{name:<9} {size:>8} events (built in {built:4.0f} s)  "
        f"proof by record {by_record * 1000:5.1f} ms  by position {by_position * 1000:5.1f} ms  ratio {by_record / by_position:4.2f}  "
        f"(finding it by reading the log: {scan:5.2f} s)   |   "
        f"verify {verify_rate:7.0f} events/s  read+decode {raw:7.0f} events/s  ratio {verify_rate / raw:4.2f}  "
        f"(bound: reading the raw rows and leaves alone {rows / raw:4.2f})",
        flush=True,
    )


def scan_for(ledger: Any, originator_id: str, version: int) -> int:
    """How a proof by record found its event before the index: reading the log until it comes."""
    for nid, oid, ver, _, _ in SqlStore(ledger).stored_events():
        if ver == version and canonical_originator_id(oid) == originator_id:
            return nid
    raise LookupError(originator_id)


def raw_rows_rate(ledger: Any) -> float:
    """Events/s of reading what verify reads (the raw rows and the logged leaves, in its pages), hashing nothing."""
    store, log = SqlStore(ledger), AuditLog(ledger)
    start = time.perf_counter()
    events = sum(len(page) for page in store.stored_event_pages(after=-(2**63)))
    leaves = sum(len(page) for page in log.recorded_leaf_pages())
    assert events == leaves
    return events / (time.perf_counter() - start)


def startup(runs: int) -> None:
    """`aqp --help` (the entry point's own lines, on this checkout) against `python -c pass`, and the floor:
    the interpreter with an argparse parser of the same verbs printing its help (argparse alone
    imports textwrap, gettext, shutil and locale to print one)."""
    from api.cli import VERBS  # noqa: PLC0415 - the verbs' names and help, for the floor's parser

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    entry = "import sys; from api.cli import main; sys.argv[0] = 'aqp'; sys.exit(main())"
    floor = (
        "import argparse; p = argparse.ArgumentParser(prog='aqp'); p.add_argument('--database-url'); "
        "s = p.add_subparsers(dest='verb', required=True)\n"
        f"for verb, what in {[(verb, what) for verb, what, _ in VERBS]!r}: s.add_parser(verb, help=what)\n"
        "p.print_help()"
    )
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "floor (argparse help)": [sys.executable, "-c", floor],
        "aqp --help": [sys.executable, "-c", entry, "--help"],
    }
    times: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):  # in turns, so a busier moment weighs on each alike
        for label, command in commands.items():
            start = time.perf_counter()
            done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, check=False)
            times[label].append(time.perf_counter() - start)
            assert done.returncode == 0, done.stderr
    medians = {label: statistics.median(seconds) for label, seconds in times.items()}
    base = medians["python -c pass"]
    print(
        "start-up  "
        + "  ".join(f"{label} {seconds * 1000:6.1f} ms ({seconds / base:4.1f}x)" for label, seconds in medians.items())
        + f"   ({runs} runs each, medians)",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", default="100000,1000000", help="ledger sizes, comma-separated (a million: about 1 minute to build on SQLite, 2 on PostgreSQL)")
    parser.add_argument("--stores", default="sqlite,postgres")
    parser.add_argument("--runs", type=int, default=7, help="runs per median (proofs and start-up)")
    parser.add_argument("--skip-startup", action="store_true")
    args = parser.parse_args()
    configure_logging(level="warning")
    if not args.skip_startup:
        startup(args.runs)
    sizes = [int(n) for n in args.events.split(",") if n]
    if not sizes:
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        history = real_history(f"sqlite:///{tmp}/history.db")
        for events in sizes:
            Path(f"{tmp}/{events}").mkdir()
            for name, (url, _), schemas in stores(args.stores.split(","), f"{tmp}/{events}"):
                try:
                    ring = KeyRing(Path(tmp) / f"keys-{name}-{events}")
                    ring.init("aqp-ledger.bench/log")
                    measure_store(name, url, history, events, ring, args.runs)
                finally:
                    drop_schemas(schemas)
    return 0


if __name__ == "__main__":
    sys.exit(main())
