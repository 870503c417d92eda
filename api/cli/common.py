"""What the verbs share: the ledger they work on, how times and viewers are read, progress lines."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from typing import TYPE_CHECKING

from api.settings import Settings
from domain.kernel.errors import DomainError
from domain.kernel.metadata import ROLES, Actor

if TYPE_CHECKING:
    from api.bootstrap import Role
    from domain.application import Ledger


def settings(args: argparse.Namespace) -> Settings:
    """The settings, with the `--database-url` given on the command line if any (set by `main`)."""
    return args.settings  # type: ignore[no-any-return]


def database_url(args: argparse.Namespace) -> str:
    return settings(args).database_url


def open_ledger(args: argparse.Namespace, role: Role = "cli", *, verb: str = "aqp") -> Ledger:
    """The ledger with the followers of `role`; a failure is a sentence on stderr and exit 1."""
    # Here, not at the top: the bootstrap loads the stores, the domain and the HTTP layer,
    # which parsing a verb's arguments (and its --help) never needs.
    from api import bootstrap  # noqa: PLC0415
    from api.bootstrap import CannotOpenLedger  # noqa: PLC0415

    try:
        return bootstrap.open_ledger(settings(args), role)
    except CannotOpenLedger as err:
        raise SystemExit(f"{verb}: {err}") from None


@contextmanager
def refusal_said(verb: str) -> Iterator[None]:
    """A read the ledger refuses (a `DomainError`: no such record, say) is `verb: the reason` on stderr, exit 1."""
    try:
        yield
    except DomainError as err:
        raise SystemExit(f"{verb}: {err.message}") from None


def parse_instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time, e.g. 2026-03-01T12:00:00Z") from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone, e.g. 2026-03-01T12:00:00Z")
    return value


def parse_viewer(text: str) -> Actor:
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in ROLES:
        raise argparse.ArgumentTypeError(f"--viewer takes ROLE:ORG:ID with ROLE one of {', '.join(ROLES)}")
    return Actor(role=parts[0], org=parts[1], id=parts[2])  # type: ignore[arg-type]


def progress(label: str) -> Callable[[int], None] | None:
    """A running count on the terminal (none when stderr is not one)."""
    if not sys.stderr.isatty():
        return None
    return lambda n: print(f"\r{label}: {n} events", end="", file=sys.stderr, flush=True)
