"""The main job and the demo it builds.

    aqp run [--no-serve] [--host H] [--port P]   the London demo (built if absent), its headline figures, then the HTTP API
                                                 with the scheduler ticking beside it (api/scheduler.py)
    aqp demo [--scale S] [--seed N] [--years Y]  build a realistic demo ledger through the users' commands
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from typing import Any

from api.bootstrap import key_ring, redact_url
from projections import runner as projection_runner
from api.cli.common import database_url, open_ledger, settings
from domain.application import Ledger
from domain.contracts.framework import Framework
from scenarios import demo

#: `make run` builds two years of the London demo: about a minute and a half here before the read
#: models kept every version of their rows; the catch-up writing those makes it a few minutes
RUN_YEARS = 2
LONDON_FRAMEWORK = "AQP-CH-LONDON"
LONDON_ENDS = date(2026, 1, 1)
DEMO_READER = "demo-reader"
DEMO_COMMISSIONER = "demo.commissioner@ncl.example.nhs.uk"


def cmd_demo(args: argparse.Namespace) -> int:
    """`aqp demo`: build a realistic demo ledger through the users' commands; figures as JSON on stdout."""
    url = database_url(args)
    ledger = open_ledger(args, "demo", verb="aqp demo")
    print(f"aqp demo: building the {args.scale} demo (seed {args.seed}, {args.years} years) into {redact_url(url)}", file=sys.stderr)
    try:
        figures = demo.build(
            ledger,
            scale=args.scale,
            seed=args.seed,
            years=args.years,
            homes=args.homes,
            progress=demo.Progress(enabled=not args.quiet),
            keys=key_ring(settings(args)),
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
    ledger = open_ledger(args, "demo", verb="aqp run")
    if ledger.exists(Framework, LONDON_FRAMEWORK):
        # A read model this version adds (or one behind another process's events) is brought up to
        # date before serving: the server follows only its own commands, and keeps no page until
        # every read model has followed the log (api/web/kept.py).
        caught_up = {name: n for name, n in projection_runner.catch_up_all(ledger).items() if n}
        if caught_up:
            print("Brought the read models up to date: " + ", ".join(f"{n} events to {name}" for name, n in caught_up.items()), file=sys.stderr)
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
            figures = demo.build(ledger, scale="london", seed=1, years=RUN_YEARS, progress=demo.Progress(), keys=key_ring(settings(args)))
        except demo.DemoRefused as err:
            print(f"aqp run: FAILED: {err}", file=sys.stderr)
            return 1
    sys.stdout.write(json.dumps(figures, indent=2) + "\n")
    if args.no_serve:
        return 0
    token = _demo_reader_token(ledger)
    base = f"http://{args.host}:{args.port}"
    link = _demo_sign_in_link(ledger, base, settings(args))
    ledger.close()
    print(
        f"\nThe pages: {base}/\n"
        f"Sign in as a commissioner of NHS North Central London ICB ({DEMO_COMMISSIONER}, ICB-NCL) with this one-time link "
        f"(it works once, for {settings(args).web_sign_in_minutes} minutes; `aqp sign-in --help` issues more):\n{link}\n"
        f"\nThe HTTP API: {base} (OpenAPI at {base}/schema)\n"
        f"A read-only token (role auditor, user {DEMO_READER}), shown once:\n{token}\n"
        f"Try: curl -s -H 'Authorization: Bearer {token}' '{base}/contracts?limit=5'\n"
        "Ctrl-C stops the server (requests in flight finish first) and the scheduler beside it.",
        flush=True,
    )
    from api.scheduler import SchedulerThread  # noqa: PLC0415
    from api.serve import serve  # the web framework is imported only by the verbs that serve

    configured = settings(args)
    # Opened first: opening a ledger may write (its tables, the read models' catch-up), and on
    # SQLite that waits for the scheduler's writes once it ticks, past the wait allowed.
    served = open_ledger(args, "api")
    # The scheduler ticks beside the server, on its own ledger, as `aqp scheduler` would: missed
    # returns at their deadlines, reminders and due dates (it records nothing the demo recorded).
    scheduler = SchedulerThread(
        open_ledger(args, "scheduler"),
        interval=configured.scheduler_interval_seconds,
        remind_days=configured.scheduler_reminder_days,
        extension_decision_days=configured.scheduler_extension_decision_days,
    ).start()
    try:
        serve(served, configured, host=args.host, port=args.port, on_shutdown=[scheduler.close])
    finally:
        scheduler.close()  # (already stopped, unless the server never started)
    return 0



def _demo_reader_token(ledger: Ledger) -> str:
    """A fresh read-only token for the person running `make run`; the previous run's is revoked."""
    from api.tokens import TokenStore

    store = TokenStore(ledger)
    for record in store.all():
        if record.user == DEMO_READER and not record.revoked_at:
            store.revoke(record.token_id, reason="replaced by the token of a later `aqp run`")
    return store.issue(user=DEMO_READER, org="AQP-DEMO", role="auditor").token



def _demo_sign_in_link(ledger: Ledger, base: str, configured: Any) -> str:
    """A one-time link signing the person running `make run` in to the pages as a commissioner of one ICB."""
    from api.web.sessions import SignIns

    sign_ins = SignIns(ledger, link_minutes=configured.web_sign_in_minutes, session_hours=configured.web_session_hours)
    return base + sign_ins.issue(user=DEMO_COMMISSIONER, org="ICB-NCL", role="commissioner").path()


def run_arguments(run: argparse.ArgumentParser, defaults: Any) -> None:
    run.add_argument("--no-serve", action="store_true", help="print the figures and exit")
    run.add_argument("--host", default=defaults.http_host, help="default 127.0.0.1")
    run.add_argument("--port", type=int, default=defaults.http_port, help="default 8000")
    run.set_defaults(func=cmd_run)


def demo_arguments(demo_verb: argparse.ArgumentParser, defaults: Any) -> None:
    demo_verb.add_argument("--scale", choices=demo.SCALES, default="london", help="london (default), nottingham or national")
    demo_verb.add_argument("--seed", type=int, default=1, help="the same seed builds the same history (default 1)")
    demo_verb.add_argument("--years", type=int, default=3, help="years of history ending 31 December 2025 (1-8, default 3)")
    demo_verb.add_argument("--homes", type=int, help="homes (locations, national) in the world; default 210, 83 or 15000")
    demo_verb.add_argument("--quiet", action="store_true", help="no progress on stderr")
    # Also accepted after the verb; SUPPRESS keeps a URL given before it.
    demo_verb.add_argument("--database-url", default=argparse.SUPPRESS, help="where to build (default: $AQP_DATABASE_URL or the default ledger)")
    demo_verb.set_defaults(func=cmd_demo)
