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
  (`WITHHELD_WITH_CONTENT`); whether they are opened is asked of the competition as it
  stands now;
- the evaluation's working (evaluators, conflict declarations, compliance checks, individual
  and moderated scores, financial assessments, guarantees, evaluation clarifications), and
  who asked a clarification question and its wording, only to the evaluation's readers
  (others learn from the answer, published to all with the asker anonymised): to an FOI
  officer the evaluators' identities are personal data (FOI Act s.40) until a person decides
  to release them (`access.identifies_evaluators`);
- a competition absent to the viewer (another authority's, `access.sees_competition`): all
  of it, with who did it;
- concerns shared about a home only to the concerns' readers among the home's commissioners;
- an FOI request (every event of it) only to its own authority's FOI officers and admins, with
  who recorded it: its authority is the organisation of whoever recorded the event, as only
  they may record on it (`access.handles_foi_request`); a listing without the event's
  metadata (the event index) withholds it from everybody;
- personal data (names, e-mails, notes) only to its readers (a home's people: of the home's
  commissioners); others get "[withheld]" in its place (erased data reads "[erased]" for
  everybody).

The redaction is pure: the caller gives the event and the facts of the records behind it
(`RecordFacts`: whether tenders are opened, who is party to a competition, who commissions a
home), which `LedgerFacts` answers from the ledger as it stands now.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Protocol
from uuid import UUID

from domain import access
from domain.kernel.metadata import Actor
from domain.kernel.personal import PersonalData
from domain.foi.request import FoiRequest
from domain.procurement.competition import Competition
from domain.procurement.views import there_for
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
#: every event of an FOI request (named one by one: the event index withholds by event name)
FOI_EVENTS = tuple(v for v in vars(FoiRequest).values() if isinstance(v, type) and issubclass(v, FoiRequest.Event))
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
    (FOI_EVENTS, access.FOI_CASE),
)


def carries(event: Any) -> str | None:
    """What of the event not every viewer may read (`access.SEALED_TENDER`, ...), or None."""
    for classes, what in CARRIED:
        if isinstance(event, classes):
            return what
    return None


class RecordFacts(Protocol):
    """What the redaction asks of the records behind an event, answered by the caller (who may
    load them, once per record and read): `LedgerFacts` answers from the ledger as it stands now."""

    def tenders_opened(self, competition_id: UUID) -> bool:
        """Whether the competition's tenders are opened."""
        ...

    def sees_competition(self, competition_id: UUID, viewer: Actor) -> bool:
        """Whether the competition is there at all for the viewer (`access.sees_competition`)."""
        ...

    def commissioners_of_home(self, location_id: UUID) -> frozenset[str]:
        """The organisations that commission the home (`domain.commissioning`)."""
        ...


def withheld_because(event: Any, viewer: Actor, facts: RecordFacts) -> str | None:
    """Why this viewer may not read what the event says (None: they may)."""
    if isinstance(event, Competition.Event) and not facts.sees_competition(event.originator_id, viewer):
        return access.ANOTHER_AUTHORITYS
    return access.withheld_from_feed(
        carries(event),
        viewer,
        tenders_opened=lambda: facts.tenders_opened(event.originator_id),
        commissioners=lambda: facts.commissioners_of_home(event.originator_id),
        received_by=lambda: _recorded_by_org(event),
    )


def _recorded_by_org(event: Any) -> str | None:
    actor = (getattr(event, "meta", None) or {}).get("actor") or {}
    return actor.get("org")


def sees_personal_data_in(event: Any, viewer: Actor, facts: RecordFacts) -> bool:
    """A home's people's personal data only to its own commissioners (and the oversight); elsewhere by role."""
    if isinstance(event, Location.Event):
        return access.sees_people_of_home(viewer, commissioners=facts.commissioners_of_home(event.originator_id))
    if isinstance(event, FoiRequest.Event):
        org = _recorded_by_org(event)
        return org is not None and access.sees_requester(viewer, received_by=org)
    return access.sees_personal_data(viewer)


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


def event_view(event: Any, viewer: Actor, facts: RecordFacts) -> dict[str, Any]:
    """One event as `viewer` may see it (see the module's docstring for the rules)."""
    meta = getattr(event, "meta", {}) or {}
    reason = withheld_because(event, viewer, facts)
    personal = reason is None and sees_personal_data_in(event, viewer, facts)
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


class LedgerFacts:
    """`RecordFacts` from the ledger as it stands now, each fact read once (keep one per read).

    As it stands now, not as of any past time: once tenders are opened what was sealed is no
    secret, and who commissions a home or is party to a competition is decided on the record
    as it is, as the records' own reads decide it. Each fact is read off the record in passing
    (`Ledger.read_now`): in a server that keeps records the kept one is lent for the read, so a
    page of the feed costs a few lookups, not a replay of every competition it touches."""

    def __init__(self, ledger: Any) -> None:
        self._ledger = ledger
        self._facts: dict[tuple[Any, ...], Any] = {}

    def _fact(self, key: tuple[Any, ...], record_id: UUID, read: Any) -> Any:
        if key not in self._facts:
            self._facts[key] = self._ledger.read_now(record_id, read)
        return self._facts[key]

    def tenders_opened(self, competition_id: UUID) -> bool:
        return bool(self._fact(("opened", competition_id), competition_id, lambda c: c.opened_at is not None))

    def sees_competition(self, competition_id: UUID, viewer: Actor) -> bool:
        if viewer.role not in access.COMPETITION_PARTIES:
            return True
        return bool(self._fact(("sees", competition_id, viewer), competition_id, lambda c: there_for(c, viewer)))

    def commissioners_of_home(self, location_id: UUID) -> frozenset[str]:
        return self._fact(("home", location_id), location_id, self._ledger.commissioners_of_home)  # type: ignore[no-any-return]
