"""The handler of `past_notice.take`: who may take past notices in is `access.PAST_NOTICE_IMPORTERS`."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from domain.access import PAST_NOTICE_IMPORTERS
from domain.kernel.dispatch import Decision, find, handles
from domain.kernel.errors import ValidationFailed
from domain.kernel.metadata import Actor
from domain.past_notices.commands import TakePastNotice
from domain.past_notices.procurement import PastProcurement, parse_release

if TYPE_CHECKING:
    from domain.kernel.dispatch import Ledger


@handles(TakePastNotice, PAST_NOTICE_IMPORTERS, "import past notices")
def _take(ledger: Ledger, cmd: TakePastNotice, actor: Actor, now: datetime) -> Decision:
    release = parse_release(cmd.release)
    checker = getattr(ledger, "release_problems", None)
    found = checker(release) if checker is not None else []
    if found:
        raise ValidationFailed(found[0]["message"], code=found[0]["rule"] if len(found) == 1 else "release_invalid", fields=found)
    process = find(ledger, PastProcurement, release["ocid"])
    if process is None:
        process = PastProcurement.start(release["ocid"])
    outcome = process.take(release, cmd.release, msgspec.to_builtins(cmd.source))
    value = {"ocid": release["ocid"], "release": release["id"], "outcome": outcome}
    return Decision([process] if outcome == "taken" else [], value)
