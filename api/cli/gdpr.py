"""Personal data.

    aqp gdpr erase SUBJECT --reason REF --as ROLE:ORG:ID   destroy a subject's personal data (their key)
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from api.cli.common import open_ledger, parse_viewer
from domain.kernel import data_subjects as c


def cmd_gdpr_erase(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    result = ledger.handle(c.ErasePersonalData(subject=args.subject, reason=args.reason), args.actor)
    if not result.ok:
        print(f"aqp gdpr erase: {result.error.message}", file=sys.stderr)  # type: ignore[union-attr]
        return 1
    print(f"erased the personal data of {args.subject}; erasure recorded at position {result.events[0].position}")
    return 0


def gdpr_arguments(gdpr: argparse.ArgumentParser, defaults: Any) -> None:
    gdpr_sub = gdpr.add_subparsers(dest="action", required=True)
    erase = gdpr_sub.add_parser("erase", help="destroy a subject's personal data (their key); history still verifies")
    erase.add_argument("subject", help="the person's opaque id")
    erase.add_argument("--reason", required=True, help="the request's reference (no personal data)")
    erase.add_argument("--as", dest="actor", type=parse_viewer, required=True, metavar="ROLE:ORG:ID", help="who erases (an admin)")
    erase.set_defaults(func=cmd_gdpr_erase)
