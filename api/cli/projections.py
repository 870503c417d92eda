"""The read models.

    aqp projections status|rebuild [NAME]|run [--follow]
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from api.cli.common import open_ledger, settings
from api.logging import configure_logging
from projections import runner as projection_runner


def cmd_projections_status(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
    rows = projection_runner.status(ledger)
    print(f"{'name':<14} {'position':>10} {'lag':>8}")
    for s in rows:
        print(f"{s.name:<14} {s.position:>10} {s.lag:>8}")
    return 0


def cmd_projections_rebuild(args: argparse.Namespace) -> int:
    ledger = open_ledger(args)
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
    # A rebuild moves no position, which is what a running server's kept pages and answers are keyed on.
    print("A server already running keeps what it drew from the old rows until the next event: restart it to show the rebuilt ones now.")
    return 0


def cmd_projections_run(args: argparse.Namespace) -> int:
    ledger = open_ledger(args, "worker")
    if not args.follow:
        for name, applied in projection_runner.catch_up_all(ledger, page_size=args.page_size).items():
            print(f"{name}: {applied} event(s) applied")
        return 0
    # A long-running follower reports its progress unless told to be quieter.
    configure_logging(fmt=settings(args).log_format, level=settings(args).log_level or "info")
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



def projections_arguments(projections: argparse.ArgumentParser, defaults: Any) -> None:
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
