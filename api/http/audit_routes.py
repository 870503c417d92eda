"""Audit over HTTP: signed checkpoints, proof bundles, the event index, and the events feed.

- `GET /audit/checkpoints`: every signed checkpoint (C2SP signed notes), oldest first, for
  anyone to keep and witness: they say nothing but the log's size and root.
- `GET /audit/proofs/{position}`: the proof bundle of one stored event (`audit.bundle.prove`):
  the record exactly as stored, its inclusion proof and a signed checkpoint covering it,
  checkable with `python -m audit.verifier` and the public key alone. The record is the
  event's raw bytes, which cannot be redacted in part, so only auditors and admins may have
  it, and not while anything of the event is withheld from them (a sealed tender before the
  opening): the bundle then holds the leaf's hash and place, proven against the signed root,
  without the record (`access.sees_stored_record`). A pure read: proven against the latest
  signed checkpoint, it takes no lock, catches nothing up and signs nothing (409
  `not_yet_checkpointed` until a checkpoint covers the event).
- `GET /audit/index`, `GET /audit/subjects`: the event index (read model) by actor, record and
  request, and by subject: who did what and whom it concerns, so for auditors, FOI officers
  and admins (`access.INDEX_READERS`);
- `GET /events?after=N&limit=M`: the notification log, cursor-paginated by position (the
  notification id), each event redacted for the viewer by `domain.event_view`; other
  systems follow the ledger by asking again with `after` = the last position they saw.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get
from litestar.params import PathParameter, QueryParameter

from api.http.auth import principal_of, requires_role
from api.http.problems import AUTHENTICATED, ProblemError, problems
from api.http.read_models import EVENT_SUBJECTS, EVENTS_INDEX
from api.http.tables import table_route
from api.settings import current as current_settings
from api.tokens import Principal
from audit.bundle import NoSuchEvent, NotYetProvable, proof_of
from audit.checkpoints import Checkpoints
from audit.log import AuditLog
from domain import access
from domain.event_view import LedgerFacts, event_view, withheld_because


class Checkpoint(msgspec.Struct):
    seq: int
    tree_size: int
    root_hash: str
    key_id: str
    created_at: str
    #: the signed note (C2SP tlog-checkpoint), as witnesses keep it
    note: str


class CheckpointList(msgspec.Struct):
    items: list[Checkpoint]
    total: int


class ProofRecord(msgspec.Struct):
    notification_id: int
    originator_id: str
    originator_version: int
    topic: str
    #: the stored state, base64
    state: str


class ProofBundle(msgspec.Struct):
    format: str
    leaf_format: str
    #: the stored record; null when withheld from this reader (see `withheld`)
    record: ProofRecord | None
    #: the leaf's hash (base64): what the inclusion proof proves, record or not
    leaf_hash: str
    #: why the record is withheld: sealed_until_tenders_opened (a sealed tender before the opening)
    withheld: str | None
    leaf_index: int
    tree_size: int
    inclusion_proof: list[str]
    checkpoint: str
    checkpoint_seq: int
    key_id: str


class FeedEvent(msgspec.Struct):
    position: int
    type: str
    aggregate: str
    aggregate_id: str
    version: int
    recorded_at: str
    business_time: str | None
    actor: dict[str, str] | None
    command: str | None
    correlation_id: str | None
    reason: str | None
    #: what the event says; null when withheld from this viewer (see `withheld`)
    data: dict[str, Any] | None
    #: why the content is withheld: sealed_until_tenders_opened, evaluation_working, asker_anonymised, concern_restricted
    withheld: str | None


class EventFeed(msgspec.Struct):
    items: list[FeedEvent]
    #: ask again with after=next_after for what follows
    next_after: int
    #: the last position in the ledger when this page was read
    last_position: int


def proof_for(service: Any, principal: Principal, position: int) -> ProofBundle:
    """`GET /audit/proofs/{position}`: the proof bundle of one stored event for `principal` (a proof reader).

    Also what the verification page (api/web/verification.py) hands out, so both give the same bundle.
    """
    viewer = principal.actor()
    absent = ProblemError(404, "event_not_found", f"There is no stored event at position {position}.")
    if position > service.ledger.max_position():
        raise absent
    found = service.ledger.recorder.select_notifications(start=position, limit=1)
    if not found or found[0].id != position:
        raise absent
    event = service.ledger.mapper.to_domain_event(found[0])
    withheld = withheld_because(event, viewer, LedgerFacts(service.ledger))
    log = AuditLog(service.ledger, create_tables=False)
    try:
        bundle = proof_of(log, Checkpoints(log, create_tables=False), position, withheld=withheld)
    except NoSuchEvent:
        raise absent from None
    except NotYetProvable as err:
        settings = current_settings()
        raise ProblemError(
            409, "not_yet_checkpointed",
            f"No proof can be given yet: {err}. The ledger signs a checkpoint every {settings.checkpoint_every_events} "
            f"events or {settings.checkpoint_every_seconds:g} seconds (or now: `aqp audit checkpoint`); ask again then.",
        ) from None
    return msgspec.convert(bundle, ProofBundle)


class AuditController(Controller):
    path = "/audit"

    @get("/checkpoints", sync_to_thread=True, guards=[requires_role(*access.ALL_ROLES)], responses=problems(*AUTHENTICATED),
         summary="Signed checkpoints", description="Every signed checkpoint of the Merkle log, oldest first.", tags=["audit"])
    def list_checkpoints(self, request: Request[Any, Any, Any]) -> CheckpointList:
        stored = request.app.state.service.checkpoints().all()
        items = [
            Checkpoint(seq=c.seq, tree_size=c.tree_size, root_hash=c.root_hash.hex(), key_id=c.key_id, created_at=c.created_at, note=c.note)
            for c in stored
        ]
        return CheckpointList(items=items, total=len(items))

    @get("/proofs/{position:int}", sync_to_thread=True, guards=[requires_role(*access.PROOF_READERS)],
         responses=problems(*AUTHENTICATED, 404, 409), summary="A proof bundle for one event",
         description="The stored record at this position, its RFC 9162 inclusion proof and the latest signed checkpoint, which "
         "covers it (409 not_yet_checkpointed until one does). While anything of the event is withheld from you (a sealed "
         "tender before the opening) the record is null and `withheld` says why: the leaf's hash is still proven.",
         tags=["audit"])
    def get_proof(self, request: Request[Any, Any, Any], position: Annotated[int, PathParameter(ge=1, le=2**62)]) -> ProofBundle:
        return proof_for(request.app.state.service, principal_of(request), position)

    list_index = table_route(
        "/index", EVENTS_INDEX, roles=access.INDEX_READERS, summary="The event index: every stored event, by actor, record and request",
        description="One row per stored event (projections/event_index.py): notification id (the Merkle leaf index + 1), time, record, "
        "event type, actor, command, correlation and causation ids. Filter ?actor= for what an account did; as_of keeps the "
        "events recorded by then. Who tendered stays sealed to everyone until the opening; on an event whose content is "
        "withheld from you (as in /events: the evaluation's working, to an FOI officer) the actor and request ids are null.",
    )
    list_subjects = table_route(
        "/subjects", EVENT_SUBJECTS, roles=access.INDEX_READERS,
        summary="The event index by subject: every event concerning a record, organisation or person",
        description="One row per event and subject it concerns (?subject=1-101, ?subject_kind=person, ...), with the relation. People "
        "appear by their subject id only. Who tendered stays sealed to everyone until the opening; what an event whose content "
        "is withheld from you names (an evaluator, the bidder scored) is not listed.",
    )


class EventsController(Controller):
    path = "/events"

    @get(sync_to_thread=True, guards=[requires_role(*access.FEED_READERS)], responses=problems(*AUTHENTICATED),
         summary="The events feed",
         description="Stored events in ledger order after a position, redacted for you as every read is: sealed tenders "
         "until the opening, the evaluation's working, competitions of authorities you are not party to, and the concerns "
         "and people's personal data of homes your organisation does not commission are withheld.",
         tags=["audit"])
    def events_feed(
        self,
        request: Request[Any, Any, Any],
        after: Annotated[int, QueryParameter(ge=0, le=2**62, description="the last position already seen (0: from the start)")] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000, description="events per page")] = 100,
    ) -> EventFeed:
        ledger = request.app.state.service.ledger
        viewer = principal_of(request).actor()
        last = ledger.max_position()
        notifications = ledger.recorder.select_notifications(start=after, limit=limit, stop=last, inclusive_of_start=False)
        facts = LedgerFacts(ledger)
        items = []
        for n in notifications:
            event = ledger.mapper.to_domain_event(n)
            items.append(FeedEvent(position=n.id, **event_view(event, viewer, facts)))
        return EventFeed(items=items, next_after=items[-1].position if items else after, last_position=last)

