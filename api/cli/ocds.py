"""OCDS publication.

    aqp ocds export [--since TIME] --out DIR
    aqp ocds notice (--competition REF | --contract REF) --type NOTICE_TYPE [--modification M]
                    [--published-on DAY] --out FILE
    aqp ocds import FILE [FILE...] [--as ROLE:ORG:ID]

Writes DIR/release-package.json (every release, or those dated from --since on) and
DIR/record-package.json (the record of each contracting process with a release among them,
compiled by ocdsmerge from all its releases), as the world may see them (`audit.ocds`); the ocid
prefix is $AQP_OCDS_PREFIX. The public feed serves the same at /ocds/releases and /ocds/records.

`notice` writes the payload of a notice the law requires (an OCDS release with the UK
extension's notice type, `audit.ocds.notice_payload`) as the canonical bytes to send to Find a
Tender, and prints their SHA-256: record the publication with it (`payload_sha256`).
`import` takes other publishers' release or record packages (Contracts Finder's) in as past
notices (`api.ocds_import`): a JSON line per release on stdout (taken, held or refused with its
reasons), progress and a summary for people on stderr. It exits 0 when at least one file could be
read as an OCDS package, however many of its releases were refused (a publisher's defect in one
release is news to report, not a failure of the run); 1 when no file could be read at all.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import date, datetime, time, timezone
from pathlib import Path
from typing import Any

import msgspec

from api.cli.common import open_ledger, parse_viewer, settings
from api.ocds_import import FileReport, import_file
from audit.ocds import notice_payload, publication
from audit.verifier.digest import canonical
from domain.kernel.errors import NotFound
from domain.kernel.metadata import Actor
from domain.procurement.notices import COMPETITION_NOTICE_TYPES, CONTRACT_NOTICE_TYPES


def parse_since(text: str) -> datetime:
    """A day (its start, UTC) or a time with its zone."""
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=timezone.utc)
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--since takes a day (2026-03-01) or a time (2026-03-01T12:00:00Z), not {text!r}") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"--since {text!r} needs a time zone, e.g. 2026-03-01T12:00:00Z")
    return value


def cmd_export(args: argparse.Namespace) -> int:
    prefix = settings(args).ocds_prefix
    ledger = open_ledger(args, verb="aqp ocds export")
    try:
        print(f"aqp ocds export: reading the ledger's competitions and contracts (ocid prefix {prefix}) ...", file=sys.stderr)
        published = publication(ledger, prefix=prefix)
    finally:
        ledger.close()
    chosen = published.since(args.since)
    print(f"{len(chosen)} of {len(published.releases)} releases in {len(published.processes)} contracting processes"
          + (f" dated from {args.since.isoformat()}" if args.since else ""), file=sys.stderr)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    releases_path, records_path = out / "release-package.json", out / "record-package.json"
    if not chosen:
        print("aqp ocds export: no release to write", file=sys.stderr)
        return 0
    releases = published.release_package(uri=releases_path.resolve().as_uri(), published=now, releases=chosen)
    _write(releases_path, releases)
    print(f"wrote {releases_path}: {len(chosen)} releases", file=sys.stderr)
    ocids = list(dict.fromkeys(r.ocid for r in chosen))
    records = published.record_package(
        uri=records_path.resolve().as_uri(), published=now, ocids=ocids,
        progress=lambda n, total: print(f"\rcompiling records: {n}/{total}", end="", file=sys.stderr, flush=True),
    )
    print(file=sys.stderr)
    _write(records_path, records)
    print(f"wrote {records_path}: {len(ocids)} records", file=sys.stderr)
    print(json.dumps({"releases": len(chosen), "records": len(ocids), "out": str(out)}))
    return 0


def cmd_notice(args: argparse.Namespace) -> int:
    prefix = settings(args).ocds_prefix
    ledger = open_ledger(args, verb="aqp ocds notice")
    now = datetime.now(timezone.utc)
    try:
        payload = notice_payload(
            ledger, notice_type=args.type, published_on=args.published_on or now.date(), at=now,
            competition=args.competition, contract=args.contract, modification=args.modification, prefix=prefix,
        )
    except (ValueError, NotFound) as err:
        print(f"aqp ocds notice: {getattr(err, 'message', err)}", file=sys.stderr)
        return 2
    finally:
        ledger.close()
    body = canonical(payload)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(body)
    sha = hashlib.sha256(body).hexdigest()
    print(f"wrote {out}: the {args.type.replace('_', ' ')} payload ({len(body)} bytes); record its publication with "
          f"payload_sha256 {sha}", file=sys.stderr)
    print(json.dumps({"out": str(out), "payload_sha256": sha, "release": payload["id"], "tag": payload["tag"]}))
    return 0
def cmd_import(args: argparse.Namespace) -> int:
    ledger = open_ledger(args, verb="aqp ocds import")
    terminal = sys.stderr.isatty()
    now = datetime.now(timezone.utc)
    reports: list[FileReport] = []
    try:
        for name in args.files:
            def progress(done: int, total: int, name: str = name) -> None:
                if terminal and (done % 10 == 0 or done == total):
                    print(f"\r{name}: {done}/{total} releases", end="", file=sys.stderr, flush=True)

            report = import_file(ledger, Path(name), args.actor, now, progress=progress,
                                 on_release=lambda r: sys.stdout.write(msgspec.json.encode(r).decode() + "\n"))
            if terminal and report.releases:
                print(file=sys.stderr)
            reports.append(report)
            _say(report)
    finally:
        ledger.close()
    read = [r for r in reports if r.outcome == "read"]
    totals = {o: sum(r.count(o) for r in read) for o in ("taken", "held", "refused")}
    print(f"aqp ocds import: {len(read)} of {len(reports)} files read; {totals['taken']} releases taken, "
          f"{totals['held']} already held, {totals['refused']} refused", file=sys.stderr)
    print(json.dumps({"files": len(reports), "files_read": len(read), **totals}))
    return 0 if read else 1


def _say(report: FileReport) -> None:
    """The file's outcome for people (the machine's lines are on stdout)."""
    if report.outcome != "read":
        print(f"{report.file}: not imported: {report.message}", file=sys.stderr)
        for p in report.problems[1:]:
            print(f"  {p.path or '(the package)'}: {p.rule}: {p.message}", file=sys.stderr)
        return
    print(f"{report.file} ({report.kind.replace('_', ' ') if report.kind else ''}): {report.count('taken')} taken, "
          f"{report.count('held')} already held, {report.count('refused')} refused", file=sys.stderr)
    for r in report.releases:
        if r.outcome == "refused":
            said = r.code if r.problems else f"{r.code}: {r.message}"
            print(f"  refused {r.position} ({r.ocid or 'no ocid'}, release {r.release or 'with no id'}): {said}", file=sys.stderr)
            for p in r.problems:
                print(f"    {p.path}: {p.rule}: {p.message}", file=sys.stderr)
    for note in report.notes:
        print(f"  note (not taken: the ledger compiles its own record): {note.path}: {note.message}", file=sys.stderr)


def _write(path: Path, package: dict[str, Any]) -> None:
    path.write_text(json.dumps(package, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def ocds_arguments(ocds: argparse.ArgumentParser, defaults: Any) -> None:
    verbs = ocds.add_subparsers(dest="ocds_verb", required=True)
    export = verbs.add_parser("export", help="write release-package.json and record-package.json")
    export.add_argument("--since", type=parse_since, metavar="DATE", help="only releases dated from this day (UTC) or time on")
    export.add_argument("--out", required=True, metavar="DIR", help="where to write the packages")
    export.set_defaults(func=cmd_export)
    notice = verbs.add_parser("notice", help="write the payload of a notice the law requires, and print its SHA-256")
    about = notice.add_mutually_exclusive_group(required=True)
    about.add_argument("--competition", metavar="REF", help="a competition's notice")
    about.add_argument("--contract", metavar="REF", help="a contract's notice")
    notice.add_argument("--type", required=True, choices=sorted({*COMPETITION_NOTICE_TYPES, *CONTRACT_NOTICE_TYPES}),
                        help="the notice type")
    notice.add_argument("--modification", metavar="M", help="the modification a contract change notice announces")
    notice.add_argument("--published-on", type=date.fromisoformat, metavar="DAY", help="the day it is to be published (default today)")
    notice.add_argument("--out", required=True, metavar="FILE", help="where to write the payload")
    notice.set_defaults(func=cmd_notice)
    taking = verbs.add_parser("import", help="take other publishers' release or record packages in as past notices")
    taking.add_argument("files", nargs="+", metavar="FILE", help="OCDS release packages or record packages (JSON)")
    taking.add_argument(
        "--as", dest="actor", type=parse_viewer, default=Actor(id="ocds-import", org="aqp-ledger", role="system"),
        metavar="ROLE:ORG:ID", help="who imports (default: the system)",
    )
    taking.set_defaults(func=cmd_import)
