"""The scheduler worker.

    aqp scheduler [--once] [--interval SECONDS] [--now ISO]

Each tick records what the clock makes due (see api/scheduler.py): missed returns, reporting
links and reminders, escalation and action-plan due dates, standstill ends, contract
expiries and extension decisions. `--once` runs one tick and exits (for cron and tests);
`--now` ticks at that time instead of the clock's (with `--once`: one tick then). Logs are
JSON lines on stderr; SIGTERM or SIGINT stops it between two commands, exit 0.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import datetime, timezone
from typing import Any

from api.cli.common import open_ledger, parse_instant, settings
from api.logging import configure_logging


def cmd_scheduler(args: argparse.Namespace) -> int:
    from api.scheduler import Scheduler  # noqa: PLC0415 - the stores are loaded by the verb that uses them

    configured = settings(args)
    configure_logging(fmt=configured.log_format or "json", level=configured.log_level or "info")
    stop = threading.Event()

    def graceful(_signum: int, _frame: Any) -> None:
        stop.set()  # the tick finishes the command it is sending, then returns without keeping its time

    signal.signal(signal.SIGTERM, graceful)
    signal.signal(signal.SIGINT, graceful)
    ledger = open_ledger(args, "scheduler", verb="aqp scheduler")
    try:
        scheduler = Scheduler(
            ledger,
            remind_days=configured.scheduler_reminder_days,
            extension_decision_days=configured.scheduler_extension_decision_days,
            stop=stop,
        )
        if args.once:
            now = args.now or datetime.now(timezone.utc)
            tick = scheduler.tick(now, at=args.now)
            sys.stdout.write(json.dumps(tick.as_log()) + "\n")
            return 0
        clock = (lambda: args.now) if args.now else None
        scheduler.run_forever(interval=args.interval, clock=clock)
        return 0
    finally:
        ledger.close()


def scheduler_arguments(parser: argparse.ArgumentParser, defaults: Any) -> None:
    parser.add_argument("--once", action="store_true", help="run one tick and exit (for cron and tests)")
    parser.add_argument(
        "--interval", type=float, default=defaults.scheduler_interval_seconds, metavar="SECONDS",
        help="seconds between ticks (default $AQP_SCHEDULER_INTERVAL_SECONDS, 3600)",
    )
    parser.add_argument("--now", type=parse_instant, default=None, metavar="ISO", help="tick at this time, e.g. 2026-06-15T07:00:00Z, not the clock's")
    parser.set_defaults(func=cmd_scheduler)
