"""structlog set-up: JSON lines for machines, a readable console for people.

Logs go to stderr so that a command's own output on stdout (JSON results) stays clean.
The command id and actor are bound by the dispatcher into every line it writes. The format
and level come from the entry point (`AQP_LOG_FORMAT`, `AQP_LOG_LEVEL`: `api/settings.py`).
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_SIGN_IN_LINK = re.compile(r"/app/sign-in/[^/?#\s]+")


def without_secrets(_logger: Any, _method: str, event: dict[str, Any]) -> dict[str, Any]:
    """A sign-in link's secret is part of its address: no line keeps it, whatever names the path."""
    for key, value in event.items():
        if isinstance(value, str) and "/app/sign-in/" in value:
            event[key] = _SIGN_IN_LINK.sub("/app/sign-in/(link)", value)
    return event


def configure_logging(fmt: str | None = None, level: str | None = None) -> None:
    """Logs as `fmt` ("json"; "console"; None: console on a terminal, else json) from `level` up (None: warning)."""
    fmt = fmt or ("console" if sys.stderr.isatty() else "json")
    level_name = (level or "warning").upper()
    renderer: structlog.typing.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer()
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            without_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(getattr(logging, level_name, logging.WARNING)),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
