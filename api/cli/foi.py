"""FOI: the extract of every record about a competition, contract, provider or person.

    aqp foi extract --about competition:AQP-CH-2026|contract:REF|provider:ID|subject:ID
                    [--since DATE] [--until DATE] [--release-evaluators --why TEXT] [--request REF]
                    --out DIR --as ROLE:ORG:ID

Writes records.json, records.csv, schedule.json, schedule.csv and manifest.json into DIR
(`audit.foi_extract`); `python -m audit.verifier extract DIR --key KEYS` checks the manifest.
Then extract.html and extract.pdf, the same records and schedule for people (`api.web.documents`),
which name the manifest's SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import date
from pathlib import Path
from typing import Any

from api.bootstrap import key_ring
from api.cli.common import open_ledger, parse_viewer, settings
from api.web.documents import foi_extract_documents
from audit.checkpoints import InconsistentLog
from audit.foi_extract import EvaluatorRelease, ExtractError, extract
from audit.signing import KeyFileError
from domain.kernel.errors import DomainError


def parse_day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date, e.g. 2026-03-01") from None


def cmd_foi_extract(args: argparse.Namespace) -> int:
    if args.release_evaluators and not (args.why or "").strip():
        print("aqp foi extract: --release-evaluators needs --why: the reason for releasing evaluators' identities", file=sys.stderr)
        return 2
    ledger = open_ledger(args, verb="aqp foi extract")
    ring = key_ring(settings(args))
    release = EvaluatorRelease(decided_by=args.actor, why=args.why) if args.release_evaluators else None
    print(f"extracting the records about {args.about}...", file=sys.stderr)
    try:
        signer = ring.signer() if ring.signing_key_file.exists() else None
        found = extract(
            ledger, args.actor, about=args.about, since=args.since, until=args.until, release_evaluators=release,
            request=args.request, signer=signer, origin=ring.origin,
        )
        written = found.write(Path(args.out))
    except DomainError as err:
        print(f"aqp foi extract: {err.message}", file=sys.stderr)
        return 1
    except (ExtractError, InconsistentLog, KeyFileError, OSError) as err:
        print(f"aqp foi extract: {err}", file=sys.stderr)
        return 1
    print(f"{len(found.records)} records released, {len(found.schedule)} withholdings scheduled", file=sys.stderr)
    out = Path(args.out)
    how_to_verify = f"python -m audit.verifier extract {out} --key {ring.verifier_keys_file}"
    print("drawing the records and the schedule as HTML and PDF ...", file=sys.stderr)
    manifest_text = (out / "manifest.json").read_bytes()
    html, pdf = foi_extract_documents(found.records, found.schedule, json.loads(manifest_text),
                                      manifest_sha256=hashlib.sha256(manifest_text).hexdigest(), how_to_verify=how_to_verify)
    (out / "extract.html").write_text(html, encoding="utf-8")
    (out / "extract.pdf").write_bytes(pdf)
    for path in [*written, out / "extract.html", out / "extract.pdf"]:
        print(path)
    print(f"check it: {how_to_verify}", file=sys.stderr)
    return 0


def foi_arguments(foi: argparse.ArgumentParser, defaults: Any) -> None:
    foi_sub = foi.add_subparsers(dest="action", required=True)
    ex = foi_sub.add_parser("extract", help="write the records, the redaction schedule and the manifest with proofs")
    ex.add_argument("--about", required=True, metavar="KIND:REF", help="competition:REF, contract:REF, provider:ID or subject:ID")
    ex.add_argument("--since", type=parse_day, metavar="DATE", help="the first day (UTC) of the period")
    ex.add_argument("--until", type=parse_day, metavar="DATE", help="the last day (UTC) of the period")
    ex.add_argument("--release-evaluators", action="store_true", help="name the evaluators (a decision: give --why)")
    ex.add_argument("--why", help="why the evaluators' identities are released (recorded in the manifest)")
    ex.add_argument("--request", metavar="REF", help="the FOI request this answers (recorded in the manifest)")
    ex.add_argument("--out", required=True, metavar="DIR")
    ex.add_argument("--as", dest="actor", type=parse_viewer, required=True, metavar="ROLE:ORG:ID", help="who extracts")
    ex.set_defaults(func=cmd_foi_extract)
