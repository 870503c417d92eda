"""What a viewer may see of one stored event: the events feed's redaction.

The feed (the notification log, for other systems following the ledger) shows each event's
position, type, aggregate, version and time to every role allowed to follow it
(`access.FEED_READERS`); what the event says, and who did it, is withheld where the records
themselves are withheld from that viewer, so the feed cannot be used to read around them.
Here: which events carry what (a sealed tender, the evaluation's working, a clarification's
asker, a concern, personal data); who may read each is `domain.access`
(`withheld_from_feed`, `sees_personal_data`):

- tender submissions and withdrawals are sealed to everybody until the competition's tenders
  are opened, auditors and admins included, and so is who made them (the actor is the
  bidder); `tenders_opened(competition_id)` answers from the competition as it stands now;
- the evaluation's working (evaluators, conflict declarations, compliance checks, individual
  and moderated scores, financial assessments, guarantees, evaluation clarifications), and
  who asked a clarification question and its wording, only to the evaluation's readers
  (others learn from the answer, published to all with the asker anonymised);
- concerns shared about a home only to the concerns' readers;
- personal data (names, e-mails, notes) only to its readers; others get "[withheld]" in its
  place (erased data reads "[erased]" for everybody).

Pure: the caller loads the event and says whether the tenders are opened.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain import access
from domain.kernel.metadata import Actor
from domain.kernel.personal import PersonalData
from domain.procurement.competition import Competition
from domain.providers.views import WITHHELD
from domain.providers.location import Location

SEALED_UNTIL_OPENED = (Competition.TenderSubmitted, Competition.TenderWithdrawn)
EVALUATION_WORKING = (
    Competition.EvaluatorAppointed,
    Competition.EvaluatorTrained,
    Competition.ConflictsDeclared,
    Competition.ComplianceChecked,
    Competition.ScoreRecorded,
    Competition.ScoreModerated,
    Competition.FinancesAssessed,
    Competition.GuaranteeOffered,
    Competition.GuaranteeExecuted,
    Competition.EvaluationClarificationIssued,
    Competition.EvaluationClarificationAnswered,
)
CONCERNS = (Location.ConcernShared, Location.ConcernResolved)

_ENVELOPE = {"originator_id", "originator_version", "timestamp", "meta"}


def event_type(event: Any) -> str:
    return type(event).__qualname__


def aggregate_kind(event: Any) -> str:
    """The kind of aggregate an event belongs to (its outer class's KIND), e.g. "competition"."""
    outer = type(event).__qualname__.split(".")[0]
    cls = getattr(sys.modules[type(event).__module__], outer, None)
    return getattr(cls, "KIND", "") or outer.lower()


def plain(value: Any, *, personal: bool) -> Any:
    """JSON-ready data; personal data as its value, or withheld."""
    if isinstance(value, PersonalData):
        return value.shown() if personal or value.value is None else WITHHELD
    if isinstance(value, dict):
        return {str(k): plain(v, personal=personal) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v, personal=personal) for v in value]
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (Decimal, UUID)):
        return str(value)
    return value


def carries(event: Any) -> str | None:
    """What of the event not every viewer may read (`access.SEALED_TENDER`, ...), or None."""
    if isinstance(event, SEALED_UNTIL_OPENED):
        return access.SEALED_TENDER
    if isinstance(event, EVALUATION_WORKING):
        return access.EVALUATION_WORKING
    if isinstance(event, Competition.ClarificationAsked):
        return access.CLARIFICATION_ASKER
    if isinstance(event, CONCERNS):
        return access.CONCERN
    return None


def withheld_because(event: Any, viewer: Actor, tenders_opened: Callable[[UUID], bool]) -> str | None:
    """Why this viewer may not read what the event says (None: they may)."""
    return access.withheld_from_feed(carries(event), viewer, tenders_opened=lambda: tenders_opened(event.originator_id))


def event_view(event: Any, viewer: Actor, *, tenders_opened: Callable[[UUID], bool]) -> dict[str, Any]:
    """One event as `viewer` may see it (see the module's docstring for the rules)."""
    meta = getattr(event, "meta", {}) or {}
    reason = withheld_because(event, viewer, tenders_opened)
    personal = access.sees_personal_data(viewer)
    data = None
    if reason is None:
        data = {k: plain(v, personal=personal) for k, v in vars(event).items() if k not in _ENVELOPE}
    return {
        "type": event_type(event),
        "aggregate": aggregate_kind(event),
        "aggregate_id": str(event.originator_id),
        "version": event.originator_version,
        "recorded_at": event.timestamp.isoformat(),
        "business_time": meta.get("business_time"),
        # Who acted is part of what is withheld: a sealed tender's actor is the bidder.
        "actor": dict(meta["actor"]) if reason is None and meta.get("actor") else None,
        "command": meta.get("command"),
        "correlation_id": meta.get("correlation_id"),
        "reason": meta.get("reason") if reason is None else None,
        "data": data,
        "withheld": reason,
    }
