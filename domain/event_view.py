"""What a viewer may see of one stored event: the one redaction of every read of events.

Every path that returns an event's content or says who did it asks here: the events feed
(`event_view`), the event index and its subjects (`withheld_events`, applied in their SQL),
and proof bundles (`withheld_because`: a bundle's record is the event's stored bytes). Each
path shows an event's position, type, aggregate, version and time to every role allowed to
follow it; what the event says, who did it and every value its client chose are withheld
where the records themselves are withheld from that viewer, so no path can be used to read
around them. Here: which events carry what (a sealed tender, the evaluation's working, a
clarification's asker, a concern, personal data); who may read each is `domain.access`
(`withheld_from_feed`, `sees_personal_data`):

- tender submissions and withdrawals (`SEALED_UNTIL_OPENED`, the one list of them) are
  sealed to everybody until the competition's tenders are opened, auditors and admins
  included, and so is everything that could name the bidder: the actor, the request id
  (correlation and causation: a client's own `X-Request-ID`) and the reason
  (`WITHHELD_WITH_CONTENT`); `tenders_opened(competition_id)` answers from the competition as
  it stands now;
- the evaluation's working (evaluators, conflict declarations, compliance checks, individual
  and moderated scores, financial assessments, guarantees, evaluation clarifications), and
  who asked a clarification question and its wording, only to the evaluation's readers
  (others learn from the answer, published to all with the asker anonymised): to an FOI
  officer the evaluators' identities are personal data (FOI Act s.40) until a person decides
  to release them (`access.identifies_evaluators`);
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

#: the events that say who tendered, sealed until the competition's tenders are opened: the one
#: list (the feed, the event index and the competition list all hold them back by it)
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
#: what of an event's metadata is withheld with its content: who did it and every value its
#: client chose (the correlation and causation ids are the request's `X-Request-ID`, which a
#: bidder may have filled with its own name, as it may the reason)
WITHHELD_WITH_CONTENT = ("actor", "correlation_id", "causation_id", "reason")

_ENVELOPE = {"originator_id", "originator_version", "timestamp", "meta"}


def event_type(event: Any) -> str:
    return type(event).__qualname__


def aggregate_kind(event: Any) -> str:
    """The kind of aggregate an event belongs to (its outer class's KIND), e.g. "competition"."""
    return kind_of(type(event))


def kind_of(event_class: type) -> str:
    outer = event_class.__qualname__.split(".")[0]
    cls = getattr(sys.modules[event_class.__module__], outer, None)
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


#: what each kind of event carries that not every viewer may read
CARRIED: tuple[tuple[tuple[type, ...], str], ...] = (
    (SEALED_UNTIL_OPENED, access.SEALED_TENDER),
    (EVALUATION_WORKING, access.EVALUATION_WORKING),
    ((Competition.ClarificationAsked,), access.CLARIFICATION_ASKER),
    (CONCERNS, access.CONCERN),
)


def carries(event: Any) -> str | None:
    """What of the event not every viewer may read (`access.SEALED_TENDER`, ...), or None."""
    for classes, what in CARRIED:
        if isinstance(event, classes):
            return what
    return None


def withheld_because(event: Any, viewer: Actor, tenders_opened: Callable[[UUID], bool]) -> str | None:
    """Why this viewer may not read what the event says (None: they may)."""
    return access.withheld_from_feed(carries(event), viewer, tenders_opened=lambda: tenders_opened(event.originator_id))


def withheld_events(viewer: Actor) -> dict[str, tuple[str, ...]]:
    """The events whose content, and who did them, `viewer` may not see in a listing that holds
    sealed tenders back until their opening (the event index): aggregate kind -> event names.

    Such a listing shows a tender only once its competition's tenders are opened, so here a
    sealed tender counts as opened; what else is withheld is what `withheld_because` withholds
    from the same viewer, decided by the same policy.
    """
    found: dict[str, list[str]] = {}
    for classes, what in CARRIED:
        if access.withheld_from_feed(what, viewer, tenders_opened=lambda: True) is None:
            continue
        for cls in classes:
            found.setdefault(kind_of(cls), []).append(cls.__name__)
    return {kind: tuple(names) for kind, names in found.items()}


def event_view(event: Any, viewer: Actor, *, tenders_opened: Callable[[UUID], bool]) -> dict[str, Any]:
    """One event as `viewer` may see it (see the module's docstring for the rules)."""
    meta = getattr(event, "meta", {}) or {}
    reason = withheld_because(event, viewer, tenders_opened)
    personal = access.sees_personal_data(viewer)
    data = None
    if reason is None:
        data = {k: plain(v, personal=personal) for k, v in vars(event).items() if k not in _ENVELOPE}
    # Who acted, and what its client chose, go with the content: a sealed tender's actor is the bidder.
    said = {k: None for k in WITHHELD_WITH_CONTENT} if reason is not None else meta
    return {
        "type": event_type(event),
        "aggregate": aggregate_kind(event),
        "aggregate_id": str(event.originator_id),
        "version": event.originator_version,
        "recorded_at": event.timestamp.isoformat(),
        "business_time": meta.get("business_time"),
        "actor": dict(said["actor"]) if said.get("actor") else None,
        "command": meta.get("command"),
        "correlation_id": said.get("correlation_id"),
        "reason": said.get("reason"),
        "data": data,
        "withheld": reason,
    }
