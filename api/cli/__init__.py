"""The `aqp` command.

    aqp run                                  the main job: the London demo (built if absent), its headline figures
    aqp demo [--scale S] [--seed N] [--years Y]  build a realistic demo ledger through the users' commands
    aqp example                              the example procurement and its outcome
    aqp apply FILE.jsonl                     apply a scenario file; exit 0 only if every line met its expectation
    aqp show competition REF [--as-of TIME] [--viewer ROLE:ORG:ID]
    aqp keys init|public|rotate              the checkpoint signing key (var/keys, or $AQP_KEY_DIR)
    aqp audit follow|checkpoint|checkpoints|verify|prove
    aqp defend COMPETITION [--lot L] [--for-bidder B] --out DIR [--viewer ROLE:ORG:ID]
    aqp foi extract --about KIND:REF --out DIR --as ROLE:ORG:ID   an FOI extract, its schedule and proofs
    aqp ocds export [--since DATE] --out DIR  OCDS 1.1.5 release and record packages, as the world may see them
    aqp ocds notice --competition REF --type T --out FILE   the payload of a notice the law requires, and its SHA-256
    aqp ocds import FILE...                  other publishers' OCDS packages taken in as past notices
    aqp projections status|rebuild [NAME]|run [--follow]

Errors are sentences for people on stderr; results are JSON on stdout; logs are JSON lines
(or a console rendering on a terminal) on stderr.

The verbs by group, a module each: `run.py` (run, demo), `records.py` (apply, example, show,
replay, diff), `audit.py` (keys, audit), `defend.py` (the procurement report), `foi.py` (FOI extracts), `ocds.py` (OCDS packages), `imports.py`
(templates, cqc), `gdpr.py`,
`projections.py`, `http.py` (serve, tokens); `common.py` is what they share. Here: the
settings, read once (`api/settings.py`), the parser, and the dispatch to a verb.
"""

from __future__ import annotations

import argparse
import sys

from api import settings as process_settings
from api.cli import audit, defend, foi, gdpr, http, imports, ocds, projections, records, run
from api.logging import configure_logging
from api.settings import DEFAULT_DATABASE_URL, SettingError


def main(argv: list[str] | None = None) -> int:
    try:
        settings = process_settings.load()
    except SettingError as err:
        print(f"aqp: {err}", file=sys.stderr)
        return 2
    parser = argparse.ArgumentParser(prog="aqp", description="AQP Ledger: an audit-grade ledger for care commissioning.")
    parser.add_argument("--database-url", help=f"defaults to $AQP_DATABASE_URL or {DEFAULT_DATABASE_URL}")
    sub = parser.add_subparsers(dest="verb", required=True)
    # In the order `aqp --help` lists them.
    run.add_run(sub, settings)
    records.add_example(sub)
    run.add_demo(sub)
    records.add_apply_and_show(sub)
    audit.add_verbs(sub)
    defend.add_verbs(sub)
    records.add_replay_and_diff(sub)
    imports.add_templates(sub)
    gdpr.add_verbs(sub)
    foi.add_verbs(sub)
    ocds.add_verbs(sub)
    imports.add_cqc(sub, settings)
    projections.add_verbs(sub)
    http.add_verbs(sub, settings)

    args = parser.parse_args(argv)
    args.settings = settings.replace(database_url=args.database_url) if args.database_url else settings
    if getattr(args, "name", "x") is None:
        args.name = settings.log_origin
    configure_logging(fmt=settings.log_format, level=settings.log_level or getattr(args, "log_level", None))
    return int(args.func(args))


__all__ = ["main"]
