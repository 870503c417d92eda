"""The procurement report.

    aqp defend COMPETITION [--lot L] [--for-bidder B] --out DIR [--viewer ROLE:ORG:ID]

Writes DIR/pack.json: the facts, the stored events they cite with their proofs, one signed
checkpoint (signed now if the latest does not cover them and the signing key is here), and
the ledger's signature over the facts. `python -m audit.verifier pack DIR --key KEYS` checks it.
Beside it, the same report for people: DIR/report.html and DIR/report.pdf (`api.web.documents`,
the template the web app's page draws), which print the checkpoint and how to verify.
Without --viewer the operator reads as the oversight (an auditor) does.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from api.bootstrap import key_ring
from api.cli.common import open_ledger, parse_viewer, refusal_said, settings
from api.web.documents import defence_pack_documents
from audit.bundle import ProveError
from audit.checkpoints import InconsistentLog
from audit.defence_pack import build_pack
from audit.signing import KeyFileError
from domain.kernel.metadata import Actor

OPERATOR = Actor(id="aqp-cli", org="aqp-operator", role="auditor")


def cmd_defend(args: argparse.Namespace) -> int:
    ledger = open_ledger(args, verb="aqp defend")
    ring = key_ring(settings(args))
    reader = args.viewer or OPERATOR
    print(f"aqp defend: reading {args.competition} as {reader.role} of {reader.org}", file=sys.stderr)
    try:
        signer = ring.signer() if ring.signing_key_file.exists() else None
        with refusal_said("aqp defend"):
            pack = build_pack(
                ledger, args.competition, reader, lot=args.lot, for_bidder=args.for_bidder,
                signer=signer, origin=ring.origin, writes=True,
            )
    except (ProveError, InconsistentLog, KeyFileError) as err:
        print(f"aqp defend: {err}", file=sys.stderr)
        return 1
    finally:
        ledger.close()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "pack.json"
    path.write_text(json.dumps(pack, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    facts = sum(len(s["facts"]) for s in pack["sections"])
    withheld = sum(1 for e in pack["events"].values() if e["record"] is None)
    print(
        f"wrote {path}: {facts} facts in {len(pack['sections'])} sections, {len(pack['events'])} cited events "
        f"({withheld} as their leaf alone), proven against checkpoint {pack['checkpoint_seq']}"
        f"{'' if pack['signature'] else '; NOT signed (no signing key here)'}",
        file=sys.stderr,
    )
    how_to_verify = f"python -m audit.verifier pack {out} --key {ring.verifier_keys_file}"
    print("drawing the report as HTML and PDF ...", file=sys.stderr)
    html, pdf = defence_pack_documents(pack, how_to_verify=how_to_verify)
    (out / "report.html").write_text(html, encoding="utf-8")
    (out / "report.pdf").write_bytes(pdf)
    print(f"wrote {out / 'report.html'} and {out / 'report.pdf'} ({len(pdf) // 1024} KB)", file=sys.stderr)
    print(f"check it offline: {how_to_verify}", file=sys.stderr)
    return 0


def defend_arguments(defend: argparse.ArgumentParser, defaults: Any) -> None:
    defend.add_argument("competition", help="the competition's reference, e.g. AQP-CH-2026")
    defend.add_argument("--lot", help="one lot only")
    defend.add_argument("--for-bidder", metavar="B", help="what bidder B is entitled to (its own scores, the winners', the relative advantages)")
    defend.add_argument("--out", required=True, metavar="DIR", help="where to write pack.json")
    defend.add_argument("--viewer", type=parse_viewer, help="ROLE:ORG:ID - the pack as they may have it (default: the oversight)")
    defend.set_defaults(func=cmd_defend)
