"""The `aqp` command.

    aqp run                                  the main job: the London demo (built if absent), its headline figures
    aqp demo [--scale S] [--seed N] [--years Y]  build a realistic demo ledger through the users' commands
    aqp example                              the example procurement and its outcome
    aqp apply FILE.jsonl                     apply a scenario file; exit 0 only if every line met its expectation
    aqp show competition REF [--as-of TIME] [--viewer ROLE:ORG:ID]
    aqp keys init|public|rotate              the checkpoint signing key (var/keys, or $AQP_KEY_DIR)
    aqp audit follow|checkpoint|checkpoints|verify|prove
    aqp projections status|rebuild [NAME]|run [--follow]

Errors are sentences for people on stderr; results are JSON on stdout; logs are JSON lines
(or a console rendering on a terminal) on stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sqlite3
import sys
import time
import threading
from collections.abc import Callable
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import msgspec
import psycopg

from audit.bundle import ProveError, prove
from audit.checkpoints import Checkpoints, InconsistentLog, KeyRing, origin
from audit.follower import AuditFollower
from audit.log import AuditLog
from audit.signing import KeyFileError
from audit.verifier.note import NoteError, parse_verifier_key
from api import demo
from api.cqc_import import import_records
from api.cqc_sync import (
    DEFAULT_BASE_URL as CQC_BASE_URL,
    KEY_ENV as CQC_KEY_ENV,
    CqcClient,
    SyncError,
    describe as describe_sync,
    sync as cqc_sync,
)
from api.logging import configure_logging
from api.scenario import apply_lines, describe
from audit.replay import READ_MODELS, aggregate_kinds, describe_diff, diff, replay_projection, rows_as_csv, rows_as_json, state_as_of
from audit.verify import verify
from domain.kernel import data_subjects as c
from domain.contracts.award_process import ContractsFromAwards
from domain.monitoring.performance_process import PerformanceFailures
from domain.contracts.framework import Framework
from domain.monitoring.commands import PublishTemplate
from domain.application import DEFAULT_DATABASE_URL, Ledger, redact_url
from domain.kernel.errors import DomainError
from domain.kernel.metadata import ROLES, Actor
from projections import runner as projection_runner
from projections.runner import ProjectionFollower

EXAMPLE_SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "london-aqp-care-homes-2026.jsonl"
EXAMPLE_COMPETITION = "AQP-CH-2026"
#: `make run` builds two years of the London demo: about a minute and a half here, so a fresh
#: clone is running well inside three minutes (three years take about two and a half)
RUN_YEARS = 2
LONDON_FRAMEWORK = "AQP-CH-LONDON"
LONDON_ENDS = date(2026, 1, 1)


def database_url(args: argparse.Namespace) -> str:
    return args.database_url or os.environ.get("AQP_DATABASE_URL") or DEFAULT_DATABASE_URL


#: what PostgreSQL raises when two processes create the same tables, triggers or grants at once
_CREATION_RACES = (
    psycopg.errors.UniqueViolation,  # a catalogue row (e.g. the table's type) the other created first
    psycopg.errors.DuplicateTable,
    psycopg.errors.DuplicateObject,
    psycopg.errors.InternalError_,  # "tuple concurrently updated" (CREATE OR REPLACE FUNCTION, GRANT)
    psycopg.errors.DeadlockDetected,  # two CREATE OR REPLACE FUNCTIONs locking in opposite orders
)


def _open_with_followers(url: str, create: bool) -> Ledger:
    ledger = Ledger.from_database_url(url, create_tables=create)
    try:
        AuditFollower.attach_from_env(ledger)
        # Contracts follow awards as soon as an award is stored.
        ledger.after_save.append(ContractsFromAwards(ledger))
        ledger.after_save.append(PerformanceFailures(ledger))
        ProjectionFollower.attach_from_env(ledger)  # read models follow each command in-process
    except BaseException:
        ledger.close()
        raise
    return ledger


def _is_creation_race(err: BaseException) -> bool:
    # The library wraps the drivers' errors; the cause says which. SQLite answers a second
    # writer creating tables at the same moment with "database is locked".
    cause = err.__cause__ or err
    return isinstance(cause, _CREATION_RACES) or (isinstance(cause, sqlite3.OperationalError) and "locked" in str(cause))


def open_ledger(url: str) -> Ledger:
    """The ledger with its followers, its tables (events, audit, read models) created if need be.

    PostgreSQL's CREATE ... IF NOT EXISTS and CREATE OR REPLACE FUNCTION are not safe against
    another process creating the same object at the same moment (one of the two fails), so
    when processes start together on a fresh schema a loser tries again (a few times, as a
    third may collide again) and finds everything there.
    """
    create = os.environ.get("AQP_CREATE_TABLES", "yes").lower() not in ("no", "false", "0")
    for attempt in range(5):
        try:
            return _open_with_followers(url, create)
        except ValueError as err:
            raise SystemExit(f"aqp: {err}") from None
        except Exception as err:  # noqa: BLE001 - a connection failure is reported as a sentence, then exit
            if create and attempt < 4 and _is_creation_race(err):
                time.sleep(0.1 * (attempt + 1))
                continue
            raise SystemExit(f"aqp: cannot open the ledger at {redact_url(url)}: {err}") from None
    raise AssertionError("unreachable")


def parse_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time, e.g. 2026-03-01T12:00:00Z") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, e.g. 2026-03-01T12:00:00Z")
    return value


def parse_viewer(text: str) -> Actor:
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in ROLES:
        raise argparse.ArgumentTypeError(f"--viewer takes ROLE:ORG:ID with ROLE one of {', '.join(ROLES)}")
    return Actor(role=parts[0], org=parts[1], id=parts[2])  # type: ignore[arg-type]


def cmd_apply(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        print(f"aqp apply: no such file {path}", file=sys.stderr)
        return 2
    ledger = open_ledger(database_url(args))
    lines = path.read_text(encoding="utf-8").splitlines()
    progress = sys.stderr.isatty() and not args.quiet
    failures = 0
    for outcome in apply_lines(ledger, lines):
        sys.stdout.write(msgspec.json.encode(outcome).decode() + "\n")
        if not outcome.met:
            failures += 1
            print(f"{path.name}: {describe(outcome)}", file=sys.stderr)
        if progress:
            print(f"\r{path.name}: line {outcome.line}/{len(lines)}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)
    if failures:
        print(f"{path.name}: {failures} line(s) did not meet their expectation", file=sys.stderr)
        return 1
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    ledger = open_ledger(database_url(args))
    try:
        state = ledger.show_competition(args.reference, as_of=args.as_of, viewer=args.viewer)
    except DomainError as err:
        print(f"aqp show: {err.message}", file=sys.stderr)
        return 1
    sys.stdout.write(msgspec.json.encode(state, order="sorted").decode() + "\n")
    return 0


def outcome_summary(state: dict[str, Any]) -> str:
    """The outcome of a competition as a procurement lead would read it."""
    lines = [f"{state['reference']}: {state['title']}", f"status: {state['status']}"]
    outcome = state.get("outcome")
    if state.get("award"):
        lines.append(f"award concluded at {state['award']['concluded_at']}")
    if state.get("standstill"):
        lines.append(f"standstill ({state['standstill']['regime']}) ended with {state['standstill']['last_day']}")
    if not outcome:
        lines.append("no outcome decided yet")
        return "\n".join(lines)
    for lot_id, lot in outcome["lots"].items():
        name = state["lots"][lot_id]["name"]
        lines.append("")
        lines.append(f"Lot {lot_id} - {name}: {len(lot['successful'])} successful, {len(lot['unsuccessful'])} unsuccessful")
        for bidder in lot["successful"]:
            result = outcome["bidders"][bidder]
            lines.append(f"  {lot['ranks'][bidder]:>3}  {bidder:<28} {result['weighted_score']:>7}  successful")
        for bidder, reasons in lot["unsuccessful"].items():
            score = outcome["bidders"][bidder]["weighted_score"] or "-"
            lines.append(f"  {'-':>3}  {bidder:<28} {score:>7}  unsuccessful: {'; '.join(reasons)}")
    return "\n".join(lines)


def cmd_example(args: argparse.Namespace) -> int:
    """Run the example procurement (scenarios/london-aqp-care-homes-2026.jsonl) and print its outcome."""
    url = database_url(args)
    ledger = open_ledger(url)
    print(f"AQP Ledger at {redact_url(url)}", file=sys.stderr)
    try:
        ledger.competition(EXAMPLE_COMPETITION)
        print(f"{EXAMPLE_COMPETITION} is already in this ledger; showing its outcome.", file=sys.stderr)
    except DomainError:
        lines = EXAMPLE_SCENARIO.read_text(encoding="utf-8").splitlines()
        print(f"Applying {EXAMPLE_SCENARIO.name} ({len(lines)} commands)...", file=sys.stderr)
        unmet = [o for o in apply_lines(ledger, lines) if not o.met]
        refused = sum(1 for line in lines if '"expect": {' in line or '"expect":{' in line)
        for outcome in unmet:
            print(describe(outcome), file=sys.stderr)
        if unmet:
            return 1
        print(f"All {len(lines)} commands met their expectations ({refused} refused by the rules, as expected).", file=sys.stderr)
    state = ledger.show_competition(EXAMPLE_COMPETITION)
    print(outcome_summary(state))
    if state.get("framework") and state.get("award"):
        contracts = ledger.aggregate(Framework, state["framework"]).contracts
        print(f"\n{len(contracts)} contracts awarded under framework {state['framework']}, e.g. {contracts[0]}")
        print(f"  (aqp show contract {contracts[0]})")
    return 0


def open_demo(url: str, verb: str) -> Ledger:
    """The ledger as the demo builds it: no followers per command (they catch up at the end)."""
    try:
        return demo.open_demo_ledger(url)
    except ValueError as err:
        raise SystemExit(f"{verb}: {err}") from None
    except Exception as err:  # noqa: BLE001 - a connection failure is reported as a sentence, then exit
        raise SystemExit(f"{verb}: cannot open the ledger at {redact_url(url)}: {err}") from None


def cmd_demo(args: argparse.Namespace) -> int:
    """`aqp demo`: build a realistic demo ledger through the users' commands; figures as JSON on stdout."""
    url = database_url(args)
    ledger = open_demo(url, "aqp demo")
    print(f"aqp demo: building the {args.scale} demo (seed {args.seed}, {args.years} years) into {redact_url(url)}", file=sys.stderr)
    try:
        figures = demo.build(
            ledger, scale=args.scale, seed=args.seed, years=args.years, homes=args.homes, progress=demo.Progress(enabled=not args.quiet)
        )
    except demo.LedgerNotEmpty as err:
        print(f"aqp demo: {err}", file=sys.stderr)
        return 2
    except demo.DemoRefused as err:
        print(f"aqp demo: FAILED: {err}", file=sys.stderr)
        return 1
    except ValueError as err:
        print(f"aqp demo: {err}", file=sys.stderr)
        return 2
    sys.stdout.write(json.dumps(figures, indent=2) + "\n")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """The main job: the London demo in the ledger (built if absent), then its headline figures."""
    url = database_url(args)
    ledger = open_demo(url, "aqp run")
    if ledger.exists(Framework, LONDON_FRAMEWORK):
        print(f"The London demo is already in {redact_url(url)}; its headline figures:", file=sys.stderr)
        figures = demo.figures(ledger, ends=LONDON_ENDS)
    elif ledger.max_position():
        print(
            f"aqp run: {redact_url(url)} holds {ledger.max_position()} events but no London demo; "
            "the demo builds only into an empty ledger. Delete the file (or set AQP_DATABASE_URL) and run again; "
            "`aqp example` runs the example procurement.",
            file=sys.stderr,
        )
        return 1
    else:
        print(f"Building the London demo ({RUN_YEARS} years) into {redact_url(url)}...", file=sys.stderr)
        try:
            figures = demo.build(ledger, scale="london", seed=1, years=RUN_YEARS, progress=demo.Progress())
        except demo.DemoRefused as err:
            print(f"aqp run: FAILED: {err}", file=sys.stderr)
            return 1
    sys.stdout.write(json.dumps(figures, indent=2) + "\n")
    if args.no_serve:
        return 0
    token = _demo_reader_token(ledger)
    ledger.close()
    base = f"http://{args.host}:{args.port}"
    print(
        f"\nThe HTTP API: {base} (OpenAPI at {base}/schema)\n"
        f"A read-only token (role auditor, user {DEMO_READER}), shown once:\n{token}\n"
        f"Try: curl -s -H 'Authorization: Bearer {token}' '{base}/contracts?limit=5'\n"
        "Ctrl-C stops the server (requests in flight finish first).",
        flush=True,
    )
    from api.serve import serve

    serve(url, host=args.host, port=args.port)
    return 0


DEMO_READER = "demo-reader"


def _demo_reader_token(ledger: Ledger) -> str:
    """A fresh read-only token for the person running `make run`; the previous run's is revoked."""
    from api.tokens import TokenStore

    store = TokenStore(ledger)
    for record in store.all():
        if record.user == DEMO_READER and not record.revoked_at:
            store.revoke(record.token_id, reason="replaced by the token of a later `aqp run`")
    return store.issue(user=DEMO_READER, org="AQP-DEMO", role="auditor").token


def cmd_keys(args: argparse.Namespace) -> int:
    ring = KeyRing.from_env()
    try:
        if args.action == "init":
            signer = ring.init(args.name)
            print(f"created {ring.signing_key_file} (mode 0600); verifier keys in {ring.verifier_keys_file}", file=sys.stderr)
            print(signer.verifier_key())
        elif args.action == "rotate":
            signer = ring.rotate(args.name)
            print(f"new signing key {signer.key_id.hex()}; earlier verifier keys kept in {ring.verifier_keys_file}", file=sys.stderr)
            print(signer.verifier_key())
        else:
            print(ring.signer().verifier_key())
    except (KeyFileError, NoteError, FileNotFoundError) as err:
        print(f"aqp keys: {err}", file=sys.stderr)
        return 1
    return 0


def _progress(label: str) -> Callable[[int], None] | None:
    if not sys.stderr.isatty():
        return None
    return lambda n: print(f"\r{label}: {n} events", end="", file=sys.stderr, flush=True)


def cmd_audit(args: argparse.Namespace) -> int:
    ledger = open_ledger(database_url(args))
    log = AuditLog(ledger)
    checkpoints = Checkpoints(log)
    ring = KeyRing.from_env()
    try:
        if args.action == "follow":
            added = log.catch_up(progress=_progress("following"))
            print(f"audit log: {log.size()} events ({added} new)")
        elif args.action == "checkpoint":
            cp = checkpoints.write(ring.signer())
            print(cp.note, end="")
        elif args.action == "checkpoints":
            if args.export:
                for path in checkpoints.export(Path(args.export)):
                    print(path)
            else:
                for cp in checkpoints.all():
                    print(f"{cp.seq:>6}  size {cp.tree_size:>9}  key {cp.key_id}  {cp.created_at}")
        elif args.action == "verify":
            return _verify(ledger, ring, args)
        elif args.action == "prove":
            signer = ring.signer() if ring.signing_key_file.exists() else None
            bundle = prove(ledger, args.event, signer=signer)
            text = json.dumps(bundle, indent=2) + "\n"
            if args.out:
                Path(args.out).write_text(text, encoding="utf-8")
                print(f"wrote {args.out}: notification {bundle['record']['notification_id']}, leaf {bundle['leaf_index']}", file=sys.stderr)
            else:
                sys.stdout.write(text)
    except (InconsistentLog, ProveError, FileNotFoundError, KeyFileError, NoteError) as err:
        print(f"aqp audit {args.action}: {err}", file=sys.stderr)
        return 1
    return 0


def _verify(ledger: Ledger, ring: KeyRing, args: argparse.Namespace) -> int:
    keys = ring.verifier_keys()
    for key_file in args.key or []:
        keys += [parse_verifier_key(line) for line in Path(key_file).read_text().splitlines() if line.strip()]
    report = verify(ledger, keys, since_checkpoint=args.since_checkpoint, progress=_progress("verifying"))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    summary = (
        f"{report.events} stored events, {report.leaves} logged, {report.checkpoints} checkpoints"
        f"{f', {report.unlogged} not yet logged' if report.unlogged else ''}"
    )
    if report.ok:
        print(f"OK: {summary}; every leaf, root, signature and consistency proof holds.")
        return 0
    first = report.problems[0]
    print(f"FAILED: {summary}; {len(report.problems)} problem(s). First: {first.kind}: {first.message}")
    for problem in report.problems[1:]:
        print(f"  {problem.kind}: {problem.message}")
    return 1


def cmd_show_kind(args: argparse.Namespace) -> int:
    """`aqp show KIND REF`: any aggregate's full state, now or as of a time."""
    ledger = open_ledger(database_url(args))
    try:
        state = state_as_of(ledger, args.kind, args.reference, args.as_of)
    except DomainError as err:
        print(f"aqp show: {err.message}", file=sys.stderr)
        return 1
    sys.stdout.write(msgspec.json.encode(state, order="sorted").decode() + "\n")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    """`aqp replay`: a read model as it stood at a time, rebuilt in a scratch store."""
    ledger = open_ledger(database_url(args))
    try:
        rows = replay_projection(ledger, args.projection, args.as_of, args.table)
    except DomainError as err:
        print(f"aqp replay: {err.message}", file=sys.stderr)
        return 1
    if args.format == "csv":
        model = READ_MODELS[args.projection]
        shown = next((t.shown for t in model.tables if t.name == args.table), model.columns)
        sys.stdout.write(rows_as_csv(rows, shown))
    else:
        sys.stdout.write(rows_as_json(rows, projection=args.projection, as_of=args.as_of))
    return 0


def cmd_diff(args: argparse.Namespace) -> int:
    """`aqp diff`: what changed in an aggregate between two times, and the events between."""
    ledger = open_ledger(database_url(args))
    try:
        result = diff(ledger, args.kind, args.reference, args.t1, args.t2)
    except DomainError as err:
        print(f"aqp diff: {err.message}", file=sys.stderr)
        return 1
    if args.format == "text":
        sys.stdout.write(describe_diff(result))
    else:
        sys.stdout.write(msgspec.json.format(msgspec.json.encode(result), indent=2).decode() + "\n")
    return 0


def cmd_gdpr_erase(args: argparse.Namespace) -> int:
    ledger = open_ledger(database_url(args))
    result = ledger.handle(c.ErasePersonalData(subject=args.subject, reason=args.reason), args.actor)
    if not result.ok:
        print(f"aqp gdpr erase: {result.error.message}", file=sys.stderr)  # type: ignore[union-attr]
        return 1
    print(f"erased the personal data of {args.subject}; erasure recorded at position {result.events[0].position}")
    return 0


def cmd_templates_publish(args: argparse.Namespace) -> int:
    """Publish return templates (JSON files, e.g. domain/monitoring/templates/*.json) as new versions."""
    ledger = open_ledger(database_url(args))
    failed = 0
    for name in args.files:
        try:
            template = json.loads(Path(name).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            print(f"aqp templates publish: cannot read {name}: {err}", file=sys.stderr)
            failed += 1
            continue
        result = ledger.handle(PublishTemplate(template=template), args.actor)
        if result.ok:
            print(f"{name}: {'published' if result.events else 'already published, nothing recorded'}")
        else:
            failed += 1
            assert result.error is not None
            print(f"{name}: {result.error.code}: {result.error.message}", file=sys.stderr)
            for field in result.error.fields:
                print(f"  {field.field}: {field.rule}: {field.message}", file=sys.stderr)
    return 1 if failed else 0


def cmd_cqc_import(args: argparse.Namespace) -> int:
    try:
        loaded = json.loads(Path(args.file).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        print(f"aqp cqc import: cannot read {args.file}: {err}", file=sys.stderr)
        return 2
    if isinstance(loaded, dict) and isinstance(loaded.get("examples"), list):
        records = [example.get("record") for example in loaded["examples"]]
    else:
        records = loaded if isinstance(loaded, list) else [loaded]
    ledger = open_ledger(database_url(args))
    outcomes = import_records(ledger, records, args.actor, datetime.now(timezone.utc))
    for outcome in outcomes:
        sys.stdout.write(msgspec.json.encode(outcome).decode() + "\n")
    refused = [o for o in outcomes if o.outcome == "refused"]
    counts = {kind: sum(1 for o in outcomes if o.outcome == kind) for kind in ("recorded", "unchanged", "refused")}
    print(", ".join(f"{n} {kind}" for kind, n in counts.items()), file=sys.stderr)
    for o in refused:
        print(f"record {o.index} ({o.location or 'no location id'}): {o.code} at {o.field}: {o.message}", file=sys.stderr)
    return 1 if refused else 0


def cmd_cqc_sync(args: argparse.Namespace) -> int:
    """`aqp cqc sync`: the locations changed since the last sync (or --since), fetched and imported."""
    key = os.environ.get(CQC_KEY_ENV) or None
    if key is None:
        print(f"aqp cqc sync: ${CQC_KEY_ENV} is not set; sending no subscription key", file=sys.stderr)
    try:
        client = CqcClient(args.base_url, key, timeout=args.timeout)
    except ValueError as err:
        print(f"aqp cqc sync: {err}", file=sys.stderr)
        return 2
    ledger = open_ledger(database_url(args))
    terminal = sys.stderr.isatty()

    def emit(outcome: Any) -> None:
        if terminal:
            print("\r\033[K", end="", file=sys.stderr, flush=True)  # clear the progress line first
        sys.stdout.write(msgspec.json.encode(outcome).decode() + "\n")
        sys.stdout.flush()

    def progress(done: int, total: int) -> None:
        print(f"\rcqc sync: fetched {done}/{total}", end="", file=sys.stderr, flush=True)

    try:
        report = cqc_sync(ledger, client, args.actor, since=args.since, on_outcome=emit, progress=progress if terminal else None)
    except SyncError as err:
        print(f"aqp cqc sync: {err}", file=sys.stderr)
        return 1
    if terminal:
        print("\r\033[K", end="", file=sys.stderr)
    for line in describe_sync(report):
        print(line, file=sys.stderr)
    return 0 if report.ok else 1


def cmd_projections_status(args: argparse.Namespace) -> int:
    ledger = open_ledger(database_url(args))
    rows = projection_runner.status(ledger)
    print(f"{'name':<14} {'position':>10} {'lag':>8}")
    for s in rows:
        print(f"{s.name:<14} {s.position:>10} {s.lag:>8}")
    return 0


def cmd_projections_rebuild(args: argparse.Namespace) -> int:
    ledger = open_ledger(database_url(args))
    names = [args.read_model] if args.read_model else list(projection_runner.READ_MODELS)
    for name in names:
        if name not in projection_runner.READ_MODELS:
            print(f"aqp projections rebuild: no read model {name}; the read models are {', '.join(projection_runner.READ_MODELS)}", file=sys.stderr)
            return 2
    tty = sys.stderr.isatty()
    label = names[0] if len(names) == 1 else "read models"

    def show(done: int, total: int) -> None:
        width = 30
        filled = width * done // total if total else width
        print(f"\r{label:<12} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end="", file=sys.stderr, flush=True)

    # One pass over the log builds every chosen read model; they are swapped in together.
    positions = projection_runner.rebuild(ledger, names, progress=show if tty else None)
    if tty:
        print(file=sys.stderr)
    for name, position in positions.items():
        print(f"{name}: rebuilt to position {position}")
    return 0


def cmd_projections_run(args: argparse.Namespace) -> int:
    ledger = open_ledger(database_url(args))
    if not args.follow:
        for name, applied in projection_runner.catch_up_all(ledger, page_size=args.page_size).items():
            print(f"{name}: {applied} event(s) applied")
        return 0
    # A long-running follower reports its progress unless told to be quieter.
    configure_logging(level=os.environ.get("AQP_LOG_LEVEL") or "info")
    stop = threading.Event()

    def graceful(_signum: int, _frame: Any) -> None:
        stop.set()  # the follower finishes the page it is writing, then returns

    signal.signal(signal.SIGTERM, graceful)
    signal.signal(signal.SIGINT, graceful)
    try:
        projection_runner.follow_forever(ledger, stop, poll_interval=args.poll_interval, page_size=args.page_size)
    finally:
        ledger.close()
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """`aqp serve`: the HTTP API (see api/serve.py)."""
    from api.serve import serve

    url = database_url(args)
    print(f"AQP Ledger API on http://{args.host}:{args.port} over {redact_url(url)} (OpenAPI at /schema)", file=sys.stderr)
    serve(url, host=args.host, port=args.port, graceful_seconds=args.graceful_seconds)
    return 0


def cmd_tokens(args: argparse.Namespace) -> int:
    """`aqp tokens issue|revoke|list`: API bearer tokens (see api/tokens.py)."""
    from api.tokens import TokenError, TokenStore

    ledger = open_ledger(database_url(args))
    store = TokenStore(ledger)
    try:
        if args.action == "issue":
            issued = store.issue(user=args.user, org=args.org, role=args.role)
            p = issued.principal
            print(f"issued {p.token_id} for {p.user} ({p.role}, {p.org}); the token is shown once, keep it secret:", file=sys.stderr)
            print(issued.token)
        elif args.action == "revoke":
            record = store.revoke(args.token, reason=args.reason)
            print(f"revoked {record.token_id} ({record.user}, {record.role}, {record.org}) at {record.revoked_at}")
        else:
            for r in store.all():
                state = f"revoked {r.revoked_at} ({r.revoked_reason})" if r.revoked_at else "live"
                print(f"{r.token_id}  {r.user:<20} {r.role:<17} {r.org:<16} issued {r.issued_at}  {state}")
    except TokenError as err:
        print(f"aqp tokens {args.action}: {err}", file=sys.stderr)
        return 2
    return 0


def add_http_verbs(sub: Any) -> None:
    """The `serve` and `tokens` verbs (the HTTP API)."""
    serve_verb = sub.add_parser("serve", help="serve the HTTP API (uvicorn)")
    serve_verb.add_argument("--host", default=os.environ.get("AQP_HTTP_HOST", "127.0.0.1"), help="default 127.0.0.1")
    serve_verb.add_argument("--port", type=int, default=int(os.environ.get("AQP_HTTP_PORT", "8000")), help="default 8000")
    serve_verb.add_argument("--graceful-seconds", type=float, default=30.0, help="how long in-flight requests may finish on shutdown")
    serve_verb.set_defaults(func=cmd_serve, log_level="info")

    tokens = sub.add_parser("tokens", help="API bearer tokens: issue, revoke, list")
    tokens_sub = tokens.add_subparsers(dest="action", required=True)
    issue = tokens_sub.add_parser("issue", help="issue a token (printed once; only its hash is kept)")
    issue.add_argument("--user", required=True, help="the person's (or system's) id, e.g. j.okafor")
    issue.add_argument("--org", required=True, help="their organisation, e.g. NEL-CSU, or a provider's CQC id")
    issue.add_argument("--role", required=True, choices=ROLES, help="the role the token acts in (one per token)")
    revoke = tokens_sub.add_parser("revoke", help="revoke a token by its id (tok_...) or the token itself")
    revoke.add_argument("token", help="tok_... or the token")
    revoke.add_argument("--reason", required=True, help="why, e.g. 'left the organisation'")
    tokens_sub.add_parser("list", help="every token's id, principal and state (never the token)")
    tokens.set_defaults(func=cmd_tokens)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="aqp", description="AQP Ledger: an audit-grade ledger for care commissioning.")
    parser.add_argument("--database-url", help=f"defaults to $AQP_DATABASE_URL or {DEFAULT_DATABASE_URL}")
    sub = parser.add_subparsers(dest="verb", required=True)

    run = sub.add_parser(
        "run", help="build the London demo into the ledger if absent, print its headline figures, then serve the HTTP API"
    )
    run.add_argument("--no-serve", action="store_true", help="print the figures and exit")
    run.add_argument("--host", default=os.environ.get("AQP_HTTP_HOST", "127.0.0.1"), help="default 127.0.0.1")
    run.add_argument("--port", type=int, default=int(os.environ.get("AQP_HTTP_PORT", "8000")), help="default 8000")
    run.set_defaults(func=cmd_run)

    example = sub.add_parser("example", help="apply the example procurement to the ledger and print its outcome")
    example.set_defaults(func=cmd_example)

    demo_verb = sub.add_parser("demo", help="build a realistic demo ledger through the users' commands")
    demo_verb.add_argument("--scale", choices=demo.SCALES, default="london", help="london (default), nottingham or national")
    demo_verb.add_argument("--seed", type=int, default=1, help="the same seed builds the same history (default 1)")
    demo_verb.add_argument("--years", type=int, default=3, help="years of history ending 31 December 2025 (1-8, default 3)")
    demo_verb.add_argument("--homes", type=int, help="homes (locations, national) in the world; default 210, 83 or 15000")
    demo_verb.add_argument("--quiet", action="store_true", help="no progress on stderr")
    # Also accepted after the verb; SUPPRESS keeps a URL given before it.
    demo_verb.add_argument("--database-url", default=argparse.SUPPRESS, help="where to build (default: $AQP_DATABASE_URL or the default ledger)")
    demo_verb.set_defaults(func=cmd_demo)

    apply = sub.add_parser("apply", help="apply a scenario file (JSON lines)")
    apply.add_argument("file")
    apply.add_argument("--quiet", action="store_true", help="no progress on the terminal")
    apply.set_defaults(func=cmd_apply)

    show = sub.add_parser("show", help="print an aggregate's state as JSON")
    show_sub = show.add_subparsers(dest="kind", required=True)
    show_competition = show_sub.add_parser("competition")
    show_competition.add_argument("reference")
    show_competition.add_argument("--as-of", type=parse_instant, help="ISO 8601 time, e.g. 2026-03-01T12:00:00Z")
    show_competition.add_argument("--viewer", type=parse_viewer, help="ROLE:ORG:ID - show only what they may see")
    show_competition.set_defaults(func=cmd_show)

    keys = sub.add_parser("keys", help="the checkpoint signing key")
    keys.add_argument("action", choices=["init", "public", "rotate"])
    keys.add_argument("--name", default=None, help="the key name (default: $AQP_LOG_ORIGIN)")
    keys.set_defaults(func=cmd_keys)

    audit = sub.add_parser("audit", help="the Merkle log, signed checkpoints, verification and proofs")
    audit_sub = audit.add_subparsers(dest="action", required=True)
    audit_sub.add_parser("follow", help="bring the Merkle log up to date with the stored events")
    audit_sub.add_parser("checkpoint", help="sign a checkpoint of the log now")
    listing = audit_sub.add_parser("checkpoints", help="list checkpoints, or --export DIR for witnesses")
    listing.add_argument("--export", metavar="DIR")
    check = audit_sub.add_parser("verify", help="recompute and check everything; exit 0 only if all holds")
    check.add_argument("--since-checkpoint", type=int, metavar="N")
    check.add_argument("--key", action="append", metavar="FILE", help="extra trusted verifier keys (one per line)")
    proof = audit_sub.add_parser("prove", help="write a proof bundle for one event")
    proof.add_argument("event", help="a notification id, or KIND/REFERENCE@VERSION")
    proof.add_argument("--out", metavar="FILE")
    audit.set_defaults(func=cmd_audit)

    # Replay (audit): `show` for every kind of aggregate, read models as of a time, diffs.
    kinds = aggregate_kinds()
    for kind in kinds:
        if kind in show_sub.choices:
            continue  # `show competition` keeps its own verb (and --viewer)
        show_kind = show_sub.add_parser(kind, help=f"a {kind.replace('_', ' ')}'s state as JSON")
        show_kind.add_argument("reference")
        show_kind.add_argument("--as-of", type=parse_instant, help="ISO 8601 time, e.g. 2026-03-01T12:00:00Z")
        show_kind.set_defaults(func=cmd_show_kind)

    replay = sub.add_parser("replay", help="rebuild a read model as it stood at a time, in a scratch store")
    replay.add_argument("--as-of", type=parse_instant, required=True, help="ISO 8601 time, e.g. 2026-03-01T12:00:00Z")
    replay.add_argument("--projection", required=True, help=f"the read model: {', '.join(sorted(READ_MODELS))}")
    replay.add_argument("--table", help="one of the read model's tables (default: its first)")
    replay.add_argument("--format", choices=["json", "csv"], default="json")
    replay.set_defaults(func=cmd_replay)

    changed = sub.add_parser("diff", help="what changed in an aggregate between two times, and the events between")
    changed.add_argument("kind", help=f"the kind of record: {', '.join(kinds)}")
    changed.add_argument("reference")
    changed.add_argument("--from", dest="t1", type=parse_instant, required=True, metavar="T1", help="ISO 8601 time (exclusive)")
    changed.add_argument("--to", dest="t2", type=parse_instant, required=True, metavar="T2", help="ISO 8601 time (inclusive)")
    changed.add_argument("--format", choices=["json", "text"], default="json", help="text: a readable listing")
    changed.set_defaults(func=cmd_diff)

    templates = sub.add_parser("templates", help="monitoring return templates")
    templates_sub = templates.add_subparsers(dest="action", required=True)
    publish = templates_sub.add_parser("publish", help="publish template files as new versions")
    publish.add_argument("files", nargs="+", metavar="FILE")
    publish.add_argument(
        "--as", dest="actor", type=parse_viewer, default=Actor(id="templates", org="aqp-ledger", role="admin"),
        metavar="ROLE:ORG:ID", help="who publishes (default: an admin)",
    )
    publish.set_defaults(func=cmd_templates_publish)

    gdpr = sub.add_parser("gdpr", help="personal data: erase a data subject")
    gdpr_sub = gdpr.add_subparsers(dest="action", required=True)
    erase = gdpr_sub.add_parser("erase", help="destroy a subject's personal data (their key); history still verifies")
    erase.add_argument("subject", help="the person's opaque id")
    erase.add_argument("--reason", required=True, help="the request's reference (no personal data)")
    erase.add_argument("--as", dest="actor", type=parse_viewer, required=True, metavar="ROLE:ORG:ID", help="who erases (an admin)")
    erase.set_defaults(func=cmd_gdpr_erase)

    cqc = sub.add_parser("cqc", help="the regulator's data")
    cqc_sub = cqc.add_subparsers(dest="action", required=True)
    cqc_import = cqc_sub.add_parser("import", help="import CQC API location records from a JSON file")
    cqc_import.add_argument("file", help="one record, a list of records, or {'examples': [{'record': ...}]}")
    cqc_import.add_argument(
        "--as", dest="actor", type=parse_viewer, default=Actor(id="cqc-import", org="aqp-ledger", role="system"),
        metavar="ROLE:ORG:ID", help="who imports (default: the system)",
    )
    cqc_import.set_defaults(func=cmd_cqc_import)
    cqc_sync_verb = cqc_sub.add_parser("sync", help="fetch and import the locations CQC changed since the last sync")
    cqc_sync_verb.add_argument(
        "--since", type=parse_instant, help="ISO 8601 start of the window (default: where the last sync ended)"
    )
    cqc_sync_verb.add_argument(
        "--base-url", default=os.environ.get("AQP_CQC_BASE_URL") or CQC_BASE_URL,
        help=f"the CQC API (default: $AQP_CQC_BASE_URL or {CQC_BASE_URL}); the key comes from ${CQC_KEY_ENV}",
    )
    cqc_sync_verb.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    cqc_sync_verb.add_argument(
        "--as", dest="actor", type=parse_viewer, default=Actor(id="cqc-sync", org="aqp-ledger", role="system"),
        metavar="ROLE:ORG:ID", help="who imports (default: the system)",
    )
    cqc_sync_verb.set_defaults(func=cmd_cqc_sync)

    projections = sub.add_parser("projections", help="the read models: status, rebuild, run")
    projections_sub = projections.add_subparsers(dest="action", required=True)
    projections_sub.add_parser("status", help="each read model's position and lag").set_defaults(func=cmd_projections_status)
    projections_rebuild = projections_sub.add_parser("rebuild", help="rebuild read models from zero, swapped in when complete")
    projections_rebuild.add_argument("read_model", nargs="?", metavar="NAME", help=f"one read model (default: all): {', '.join(projection_runner.READ_MODELS)}")
    projections_rebuild.set_defaults(func=cmd_projections_rebuild)
    projections_run = projections_sub.add_parser(
        "run", help="catch every read model up once and exit, or with --follow keep them current until SIGTERM/SIGINT"
    )
    projections_run.add_argument(
        "--follow", action="store_true",
        help="keep following the log (PostgreSQL: LISTEN/NOTIFY; SQLite: polling) until SIGTERM or SIGINT, then exit 0",
    )
    projections_run.add_argument(
        "--poll-interval", type=float, default=projection_runner.DEFAULT_POLL_INTERVAL, metavar="SECONDS",
        help=f"with --follow: how often to look at the log without a notification (default {projection_runner.DEFAULT_POLL_INTERVAL})",
    )
    projections_run.add_argument("--page-size", type=int, default=None, metavar="N", help="events per transaction (default 1000)")
    projections_run.set_defaults(func=cmd_projections_run)

    add_http_verbs(sub)

    args = parser.parse_args(argv)
    if getattr(args, "name", "x") is None:
        args.name = origin()
    configure_logging(level=os.environ.get("AQP_LOG_LEVEL") or getattr(args, "log_level", None))
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
