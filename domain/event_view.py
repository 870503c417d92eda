"""What a viewer may see of one stored event: the events feed's redaction, by role.

The feed (the notification log, for other systems following the ledger) shows each event's
position, type, aggregate, version and time to every role allowed to follow it; what the
event says, and who did it, is withheld where the records themselves are withheld from that
viewer (`competition_view`, `location_view`), so the feed cannot be used to read around them:

- tender submissions and withdrawals are sealed to everybody until the competition's tenders
  are opened, auditors and admins included, and so is who made them (the actor is the
  bidder); `tenders_opened(competition_id)` answers from the competition as it stands now;
- the evaluation's working (evaluators, conflict declarations, compliance checks, individual
  and moderated scores, financial assessments, guarantees, evaluation clarifications) only
  to procurement leads, auditors and admins;
- who asked a clarification question, and its wording, only to procurement leads, auditors
  and admins (others learn from the answer, published to all with the asker anonymised);
- concerns shared about a home only to `CONCERN_READERS`;
- personal data (names, e-mails, notes) only to `PERSONAL_DATA_READERS`; others get
  "[withheld]" in its place (erased data reads "[erased]" for everybody).

Pure: the caller loads the event and says whether the tenders are opened.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from domain.kernel.metadata import Actor
from domain.kernel.personal import PersonalData
from domain.procurement.competition import Competition
from domain.providers.views import CONCERN_READERS, PERSONAL_DATA_READERS, WITHHELD
from domain.providers.location import Location

#: the roles that may follow the feed at all: not providers (who see only their own
#: organisation's records) and not evaluators (who see only the bids of their panels)
FEED_READERS = ("procurement_lead", "contract_manager", "commissioner", "auditor", "foi_officer", "admin", "system")

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
EVALUATION_READERS = ("procurement_lead", "auditor", "admin")
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


def withheld_because(event: Any, viewer: Actor, tenders_opened: Callable[[UUID], bool]) -> str | None:
    """Why this viewer may not read what the event says (None: they may)."""
    if isinstance(event, SEALED_UNTIL_OPENED) and not tenders_opened(event.originator_id):
        return "sealed_until_tenders_opened"
    if isinstance(event, EVALUATION_WORKING) and viewer.role not in EVALUATION_READERS:
        return "evaluation_working"
    if isinstance(event, Competition.ClarificationAsked) and viewer.role not in EVALUATION_READERS:
        return "asker_anonymised"
    if isinstance(event, CONCERNS) and viewer.role not in CONCERN_READERS:
        return "concern_restricted"
    return None


def event_view(event: Any, viewer: Actor, *, tenders_opened: Callable[[UUID], bool]) -> dict[str, Any]:
    """One event as `viewer` may see it (see the module's docstring for the rules)."""
    meta = getattr(event, "meta", {}) or {}
    reason = withheld_because(event, viewer, tenders_opened)
    personal = viewer.role in PERSONAL_DATA_READERS
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
