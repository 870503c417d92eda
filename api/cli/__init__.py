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
    aqp scheduler [--once] [--interval SECONDS] [--now ISO]   missed returns, reminders and due dates, at each tick

Errors are sentences for people on stderr; results are JSON on stdout; logs are JSON lines
(or a console rendering on a terminal) on stderr.

The verbs by group, a module each: `run.py` (run, demo), `records.py` (apply, example, show,
replay, diff), `audit.py` (keys, audit), `defend.py` (the procurement report), `foi.py` (FOI extracts), `ocds.py` (OCDS packages), `imports.py`
(templates, cqc), `gdpr.py`,
`projections.py`, `scheduler.py`, `http.py` (serve, tokens); `common.py` is what they share. Here: the
settings, read once (`api/settings.py`), the parser, and the dispatch to a verb. A verb's
arguments, and its module, are loaded only when it is used (`VERBS`, `VerbParser`), so
`aqp --help` starts in the time of the interpreter and argparse.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from importlib import import_module
from typing import Any

from api import settings as process_settings
from api.settings import DEFAULT_DATABASE_URL, SettingError

#: every verb in the order `aqp --help` lists them: (verb, what it does, its module in
#: api/cli/). A verb's module, and what it imports, is loaded only when that verb is used
#: (or its own --help asked for): `aqp --help` imports no more than argparse and the settings.
VERBS: tuple[tuple[str, str, str], ...] = (
    ("run", "build the London demo into the ledger if absent, print its headline figures, then serve the HTTP API", "run"),
    ("example", "apply the example procurement to the ledger and print its outcome", "records"),
    ("demo", "build a realistic demo ledger through the users' commands", "run"),
    ("apply", "apply a scenario file (JSON lines)", "records"),
    ("show", "print an aggregate's state as JSON", "records"),
    ("keys", "the checkpoint signing key", "audit"),
    ("audit", "the Merkle log, signed checkpoints, verification and proofs", "audit"),
    ("defend", "the procurement report of a competition, with its proofs", "defend"),
    ("replay", "rebuild a read model as it stood at a time, in a scratch store", "records"),
    ("diff", "what changed in an aggregate between two times, and the events between", "records"),
    ("templates", "monitoring return templates", "imports"),
    ("gdpr", "personal data: erase a data subject", "gdpr"),
    ("foi", "FOI: extract every record about a subject, redacted, with its schedule and proofs", "foi"),
    ("ocds", "OCDS 1.1.5 publication: release and record packages", "ocds"),
    ("cqc", "the regulator's data", "imports"),
    ("projections", "the read models: status, rebuild, run", "projections"),
    ("scheduler", "record what falls due: missed returns, reminders, due dates (one tick, or every --interval)", "scheduler"),
    ("serve", "serve the HTTP API (uvicorn)", "http"),
    ("tokens", "API bearer tokens: issue, revoke, list", "http"),
    ("sign-in", "a one-time link that signs a person in to the pages", "http"),
)


class VerbParser(argparse.ArgumentParser):
    """A parser whose arguments are added when it is first used: to parse, or to say its usage."""

    def __init__(self, *args: Any, arguments: Callable[[argparse.ArgumentParser], None] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arguments = arguments

    def _add_arguments(self) -> None:
        if self._arguments is not None:
            arguments, self._arguments = self._arguments, None
            arguments(self)

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        self._add_arguments()
        return super().parse_known_args(args, namespace)

    def format_usage(self) -> str:
        self._add_arguments()
        return super().format_usage()

    def format_help(self) -> str:
        self._add_arguments()
        return super().format_help()


def verb_arguments(verb: str, module: str, defaults: Any) -> Callable[[argparse.ArgumentParser], None]:
    """What adds the verb's arguments: `<verb>_arguments(parser, defaults)` in api/cli/<module>.py."""

    def add(parser: argparse.ArgumentParser) -> None:
        getattr(import_module(f"api.cli.{module}"), f"{verb.replace('-', '_')}_arguments")(parser, defaults)

    return add


def parser_for(settings: Any) -> argparse.ArgumentParser:
    parser = VerbParser(prog="aqp", description="AQP Ledger: an audit-grade ledger for care commissioning.")
    parser.add_argument("--database-url", help=f"defaults to $AQP_DATABASE_URL or {DEFAULT_DATABASE_URL}")
    sub = parser.add_subparsers(dest="verb", required=True)
    for verb, what, module in VERBS:
        sub.add_parser(verb, help=what, arguments=verb_arguments(verb, module, settings))
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        settings = process_settings.load()
    except SettingError as err:
        print(f"aqp: {err}", file=sys.stderr)
        return 2
    args = parser_for(settings).parse_args(argv)
    args.settings = settings.replace(database_url=args.database_url) if args.database_url else settings
    if getattr(args, "name", "x") is None:
        args.name = settings.log_origin
    from api.logging import configure_logging  # noqa: PLC0415 - a verb's import, not the parser's

    configure_logging(fmt=settings.log_format, level=settings.log_level or getattr(args, "log_level", None))
    return int(args.func(args))


__all__ = ["main"]
