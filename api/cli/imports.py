"""Data from outside the ledger: return templates, and the regulator's (CQC's) location records.

    aqp templates publish FILE...            publish return templates as new versions
    aqp cqc import FILE                      import CQC API location records from a JSON file
    aqp cqc sync [--since TIME]              fetch and import the locations CQC changed since the last sync
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import msgspec

from api.cli.common import open_ledger, parse_instant, parse_viewer, settings
from api.cqc_import import import_records
from api.cqc_sync import (
    DEFAULT_BASE_URL as CQC_BASE_URL,
    KEY_ENV as CQC_KEY_ENV,
    CqcClient,
    SyncError,
    describe as describe_sync,
    sync as cqc_sync,
)
from domain.kernel.metadata import Actor
from domain.monitoring.commands import PublishTemplate


def cmd_templates_publish(args: argparse.Namespace) -> int:
    """Publish return templates (JSON files, e.g. domain/monitoring/templates/*.json) as new versions."""
    ledger = open_ledger(args)
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
    ledger = open_ledger(args)
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
    key = settings(args).cqc_api_key
    if key is None:
        print(f"aqp cqc sync: ${CQC_KEY_ENV} is not set; sending no subscription key", file=sys.stderr)
    try:
        client = CqcClient(args.base_url, key, timeout=args.timeout)
    except ValueError as err:
        print(f"aqp cqc sync: {err}", file=sys.stderr)
        return 2
    ledger = open_ledger(args)
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



def templates_arguments(templates: argparse.ArgumentParser, defaults: Any) -> None:
    templates_sub = templates.add_subparsers(dest="action", required=True)
    publish = templates_sub.add_parser("publish", help="publish template files as new versions")
    publish.add_argument("files", nargs="+", metavar="FILE")
    publish.add_argument(
        "--as", dest="actor", type=parse_viewer, default=Actor(id="templates", org="aqp-ledger", role="admin"),
        metavar="ROLE:ORG:ID", help="who publishes (default: an admin)",
    )
    publish.set_defaults(func=cmd_templates_publish)


def cqc_arguments(cqc: argparse.ArgumentParser, defaults: Any) -> None:
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
        "--base-url", default=defaults.cqc_base_url or CQC_BASE_URL,
        help=f"the CQC API (default: $AQP_CQC_BASE_URL or {CQC_BASE_URL}); the key comes from ${CQC_KEY_ENV}",
    )
    cqc_sync_verb.add_argument("--timeout", type=float, default=10.0, help="seconds per request (default 10)")
    cqc_sync_verb.add_argument(
        "--as", dest="actor", type=parse_viewer, default=Actor(id="cqc-sync", org="aqp-ledger", role="system"),
        metavar="ROLE:ORG:ID", help="who imports (default: the system)",
    )
    cqc_sync_verb.set_defaults(func=cmd_cqc_sync)
