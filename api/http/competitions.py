"""Competitions over HTTP: the list, one competition as you may see it, its evaluation trail, and tendering.

    GET  /competitions                          the competition list (read model)
    GET  /competitions/{reference}              the record through the domain's `competition_view`
    GET  /competitions/{reference}/evaluation   the evaluation trail (`api/http/evaluation.py`)
    GET  /competitions/{reference}/defence-pack the procurement report with its proofs (`audit/defence_pack.py`)
    POST /competitions/{reference}/tenders      the command `tender.submit`, as the principal's organisation

A competition belongs to its authority and the organisations it names (`access.sees_competition`):
to another organisation's leads, commissioners, contract managers and unseated evaluators it
is absent from all three reads, as an unknown reference is. Who it is there for is decided on
the record as it stands now, also for `as_of`: the record itself for the record, the
competition list's row (`authority`, `acting_for`) and the evaluation read model's seats for
the list and the trail.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, JSONBody, QueryParameter

from api.http.auth import principal_of, requires_role
from api.http.commands import IdempotencyKey, body_of, command_from, command_route, run
from api.http.evaluation import Trail, trail
from api.http.problems import AUTHENTICATED, ProblemError, not_found, problems
from api.http.reads import AsOf, read
from api.http.tables import Table, aware, replayed, table_route
from api.tokens import Principal
from audit.bundle import NotYetProvable
from audit.defence_pack import build_pack
from domain import access
from domain.kernel.command_types import CommandResult
from domain.kernel.errors import DomainError, NotFound
from domain.procurement.commands import SubmitTender
from domain.procurement.competition import Competition
from domain.procurement.views import competition_view, there_for
from projections import evaluation_tables as ev
from projections.competitions import CompetitionList, acting_for_of
from projections.evaluation import EvaluationTrail


class CompetitionRow(msgspec.Struct):
    reference: str
    title: str
    authority: str
    #: the organisations the authority runs it for, separated by spaces; null: none named
    acting_for: str | None
    procedure: str
    standstill_regime: str
    status: str
    lots: int
    tender_deadline: str
    #: live tenders once opened; null before (sealed)
    tenders: int | None
    awarded_lots: int | None
    awarded_bidders: int | None
    last_event_at: str
    version: int


def competitions_there_for(service: Any, principal: Principal) -> Callable[[dict[str, Any]], bool]:
    """The test of a competition list row: is that competition there for `principal` (`access.sees_competition`)?

    Decided on the competitions as they stand now (the live list, even for a row as of a past
    time) and, for an evaluator, their seats on the panels (the evaluation read model).
    """
    viewer = principal.actor()
    if viewer.role not in access.COMPETITION_PARTIES:
        return lambda row: True
    now = {row["reference"]: row for row in service.view(CompetitionList).rows()}
    seats: dict[str, str] = {}
    if access.evaluates(viewer):
        appointed = service.view(EvaluationTrail).select(ev.EVALUATORS.name, where={"evaluator": principal.user})
        seats = {a["competition"]: a["organisation"] for a in appointed}

    def there(row: dict[str, Any]) -> bool:
        current = now.get(row["reference"], row)
        return access.sees_competition(
            viewer, authority=current["authority"], acting_for=acting_for_of(current), appointed_with=seats.get(row["reference"])
        )

    return there



# The API's routes and the pages (api/web/competitions.py) both answer through these two, so a
# page can never show what the API withholds, nor find a competition the API answers 404 for.


def competition_for(service: Any, principal: Principal, reference: str, as_of: datetime | None = None) -> dict[str, Any]:
    """`GET /competitions/{reference}`: the record (as of a time) through `competition_view`, or 404.

    Whether it is there for `principal` is decided on the record as it stands now. The record
    now is kept per viewer (`LedgerService.answer`), keyed by the competition's version and the
    viewer's role, organisation and user; never mutate what this returns.
    """
    absent = f"competition {reference}"
    viewer = principal.actor()
    # Read before the record: a view made from it is kept under this count (an erasure since is a new key).
    erasures = service.erasures()
    version = service.version_of(Competition, reference)
    if version is None:
        raise not_found(absent)
    try:
        current = service.aggregate(Competition, reference, version, erasures=erasures)
        competition = current if as_of is None else service.ledger.aggregate(Competition, reference, as_of=aware(as_of))
    except DomainError:
        raise not_found(absent) from None
    if not there_for(current, viewer):
        raise not_found(absent)
    if as_of is not None:
        return competition_view(competition, viewer)
    # Keyed by the version of the aggregate read (never older than the version asked about).
    key = ("competition", reference, current.version, principal.role, principal.org, principal.user)
    return service.answer(key, lambda: competition_view(current, viewer), erasures=erasures)  # type: ignore[no-any-return]


def defence_pack_for(service: Any, principal: Principal, reference: str, *, lot: str | None, for_bidder: str | None) -> dict[str, Any]:
    """`GET /competitions/{reference}/defence-pack`: a pure read, proven against the latest signed checkpoint."""
    keys = service.keys
    # Signing the pack's facts records nothing; a process without the key serves it unsigned (the verifier says so).
    signer = keys.signer() if keys.signing_key_file.exists() else None
    try:
        return build_pack(service.ledger, reference, principal.actor(), lot=lot, for_bidder=for_bidder, signer=signer, origin=keys.origin)
    except NotFound:
        raise not_found(f"competition {reference}" + (f" lot {lot}" if lot else "") + (f" pack for {for_bidder}" if for_bidder else "")) from None
    except NotYetProvable as err:
        raise ProblemError(409, "not_yet_checkpointed", f"No pack can be proven yet: {err}; ask again after the next checkpoint.") from None
    except DomainError as err:
        raise ProblemError(409, err.code, err.message) from None


def evaluation_for(service: Any, principal: Principal, reference: str, as_of: datetime | None = None) -> Any:
    """`GET /competitions/{reference}/evaluation`: the trail as `principal` may see it (a `Trail`), or 404.

    The trail now is kept per viewer, keyed by the positions of the two read models it is read
    from (the competition list decides whom it is there for, the evaluation read model the rest)
    and the viewer's role, organisation and user; never mutate what this returns.
    """
    moment = aware(as_of)
    if moment is not None:
        return _evaluation(service, principal, reference, moment)
    found = service.answer(_trail_key(service, principal, reference), lambda: _found(service, principal, reference))
    if found is None:
        raise not_found(f"evaluation trail for competition {reference}")
    return found


def evaluation_builtins_for(service: Any, principal: Principal, reference: str, as_of: datetime | None = None) -> dict[str, Any]:
    """`evaluation_for` as plain data (`msgspec.to_builtins`), worked out once per kept trail (for the page)."""
    if as_of is not None:
        return msgspec.to_builtins(evaluation_for(service, principal, reference, as_of))  # type: ignore[no-any-return]
    key = ("builtins", *_trail_key(service, principal, reference))
    return service.answer(key, lambda: msgspec.to_builtins(evaluation_for(service, principal, reference)))  # type: ignore[no-any-return]


def _trail_key(service: Any, principal: Principal, reference: str) -> tuple[Any, ...]:
    # The positions are read before the trail, so a kept trail is never older than its key.
    return ("evaluation", reference, service.position_of(EvaluationTrail), service.position_of(CompetitionList),
            principal.role, principal.org, principal.user)


def _found(service: Any, principal: Principal, reference: str) -> Any:
    """The trail now, or None where it answers 404 (kept as an answer too: decided by the same key)."""
    try:
        return _evaluation(service, principal, reference, None)
    except ProblemError as problem:
        if problem.status != 404:
            raise
        return None


def _evaluation(service: Any, principal: Principal, reference: str, moment: datetime | None) -> Any:
    absent = f"evaluation trail for competition {reference}"
    if not access.may_ask_for_evaluation(principal.actor()):
        raise not_found(absent)
    listed = service.view(CompetitionList).select(where={"reference": reference})
    if not listed or not competitions_there_for(service, principal)(listed[0]):
        raise not_found(absent)
    if moment is None:
        found = trail(service.view(EvaluationTrail), reference, principal)
    else:
        with replayed(service, EvaluationTrail, moment) as view:
            found = trail(view, reference, principal)
    if found is None:
        raise not_found(absent)
    return msgspec.convert(found, Trail)


COMPETITIONS = Table(
    row=CompetitionRow,
    read_model=CompetitionList,
    filters=("status", "authority", "procedure", "standstill_regime"),
    search=("reference", "title", "authority", "acting_for"),
    scope_with=competitions_there_for,
)
TenderSubmission = body_of(SubmitTender, "TenderSubmission", without=("competition",))


class CompetitionsController(Controller):
    path = "/competitions"

    list_competitions = table_route(
        "/", COMPETITIONS, roles=access.ALL_ROLES, summary="The competition list",
        description="One row per competition (the competition list read model). Tender counts stay null until tenders are opened. "
        "A procurement lead, commissioner, contract manager or evaluator sees only the competitions of its organisation "
        "and those run for it (`acting_for`; an evaluator also those on whose panels they sit). "
        "With as_of, the list as it stood then (from the read model's history).",
    )

    @read("/{reference:str}", access.ALL_ROLES, "A competition as you may see it",
          "Sealed tenders, conflicts of interest and scores before moderation are withheld as the domain's "
          "`competition_view` decides for your role and organisation; another authority's competition is not there for "
          "its leads, commissioners, contract managers and evaluators (404).")
    def get_competition(self, request: Request[Any, Any, Any], reference: FromPath[str], as_of: AsOf = None) -> dict[str, Any]:
        return competition_for(request.app.state.service, principal_of(request), reference, as_of)

    # Every role passes the guard; who may not see the trail (not its readers, nor an evaluator
    # on a panel of the competition) is answered 404, as if there were no such competition.
    @get(
        "/{reference:str}/evaluation",
        sync_to_thread=True,
        guards=[requires_role(*access.ALL_ROLES)],
        responses=problems(*AUTHENTICATED, 404),
        summary="A competition's evaluation trail, as you may see it",
        description=(
            "Scores with their evaluators and justifications, moderations beside the original scores, declarations, compliance "
            "and financial checks, clarifications, the score matrix and the standings per lot, checked against the decided "
            "outcome (projections/evaluation.py). Procurement leads of the authority and the organisations it names, auditors "
            "and admins see all; an evaluator only a competition on whose panels they sit, never a bidder they declared a "
            "conflict with, and others' scores only once moderated; anybody else gets 404."
        ),
        tags=["reads"],
    )
    def get_evaluation(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        as_of: Annotated[datetime | None, QueryParameter(description="the trail as it stood at this time (ISO 8601 with a zone)")] = None,
    ) -> Trail:  # type: ignore[valid-type]
        return evaluation_for(request.app.state.service, principal_of(request), reference, as_of)

    # Every pack reader passes the guard; one who may not have this pack gets 404, as if there were none.
    @get(
        "/{reference:str}/defence-pack",
        sync_to_thread=True,
        guards=[requires_role(*access.DEFENCE_PACK_READERS)],
        responses=problems(*AUTHENTICATED, 404, 409),
        summary="A competition's procurement report (decision-defence pack), with its proofs",
        description=(
            "Every fact of the decision (subject, timetable, criteria, documents, clarifications, tenders, panels and "
            "declarations, compliance, finances, every score and moderation, the outcome recomputed, the letters, the "
            "standstill day by day, challenges, the award), each value claimed from a field of a stored event, every cited "
            "event with its inclusion proof against the latest signed checkpoint, checked offline by "
            "`python -m audit.verifier pack`. Procurement leads of the authority and the organisations it names, auditors "
            "and admins may have any pack; a bidder only its own (`for_bidder`, its default), which names no other "
            "unsuccessful bidder. 404 for anybody else; 409 before the outcome (saying what it lacks) or before a "
            "checkpoint covers the events."
        ),
        tags=["reads"],
    )
    def get_defence_pack(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        lot: Annotated[str | None, QueryParameter(description="one lot only", max_length=100)] = None,
        for_bidder: Annotated[str | None, QueryParameter(description="the pack that bidder is entitled to", max_length=200)] = None,
    ) -> dict[str, Any]:
        return defence_pack_for(request.app.state.service, principal_of(request), reference, lot=lot, for_bidder=for_bidder)

    @command_route("/{reference:str}/tenders", SubmitTender, "Submit a sealed tender",
                   "The command `tender.submit` for the competition in the path, as the principal's organisation.")
    def submit_tender(
        self, request: Request[Any, Any, Any], reference: FromPath[str], data: JSONBody[TenderSubmission], idempotency_key: IdempotencyKey = None  # type: ignore[valid-type]
    ) -> Response[CommandResult]:
        return run(request, command_from(SubmitTender, data, competition=reference), idempotency_key)
