"""Competitions over HTTP: the list, one competition as you may see it, its evaluation trail, and tendering.

    GET  /competitions                          the competition list (read model)
    GET  /competitions/{reference}              the record through the domain's `competition_view`
    GET  /competitions/{reference}/evaluation   the evaluation trail (`api/http/evaluation.py`)
    POST /competitions/{reference}/tenders      the command `tender.submit`, as the principal's organisation
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get
from litestar.params import FromPath, JSONBody, QueryParameter

from api.http.auth import principal_of, requires_role
from api.http.commands import IdempotencyKey, body_of, command_from, command_route, run
from api.http.evaluation import Trail, trail
from api.http.problems import AUTHENTICATED, not_found, problems
from api.http.reads import AsOf, load, read
from api.http.tables import Table, aware, replayed, table_route
from domain import access
from domain.kernel.command_types import CommandResult
from domain.procurement.commands import SubmitTender
from domain.procurement.competition import Competition
from domain.procurement.views import competition_view
from projections.competitions import CompetitionList
from projections.evaluation import EvaluationTrail


class CompetitionRow(msgspec.Struct):
    reference: str
    title: str
    authority: str
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


COMPETITIONS = Table(
    row=CompetitionRow,
    read_model=CompetitionList,
    filters=("status", "authority", "procedure", "standstill_regime"),
    search=("reference", "title", "authority"),
)
TenderSubmission = body_of(SubmitTender, "TenderSubmission", without=("competition",))


class CompetitionsController(Controller):
    path = "/competitions"

    list_competitions = table_route(
        "/", COMPETITIONS, roles=access.ALL_ROLES, summary="The competition list",
        description="One row per competition (the competition list read model). Tender counts stay null until tenders are opened. "
        "With as_of, the list as it stood then (rebuilt from the log).",
    )

    @read("/{reference:str}", access.ALL_ROLES, "A competition as you may see it",
          "Sealed tenders, conflicts of interest and scores before moderation are withheld as the domain's "
          "`competition_view` decides for your role and organisation.")
    def get_competition(self, request: Request[Any, Any, Any], reference: FromPath[str], as_of: AsOf = None) -> dict[str, Any]:
        competition = load(request, Competition, reference, as_of)
        return competition_view(competition, principal_of(request).actor())

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
            "outcome (projections/evaluation.py). Procurement leads, auditors and admins see all; an evaluator only a "
            "competition on whose panels they sit, never a bidder they declared a conflict with, and others' scores only once "
            "moderated; anybody else gets 404."
        ),
        tags=["reads"],
    )
    def get_evaluation(
        self,
        request: Request[Any, Any, Any],
        reference: FromPath[str],
        as_of: Annotated[datetime | None, QueryParameter(description="the trail as it stood at this time (ISO 8601 with a zone)")] = None,
    ) -> Trail:  # type: ignore[valid-type]
        principal = principal_of(request)
        service = request.app.state.service
        moment = aware(as_of)
        if not access.may_ask_for_evaluation(principal.actor()):
            raise not_found(f"evaluation trail for competition {reference}")
        if moment is None:
            found = trail(service.view(EvaluationTrail), reference, principal)
        else:
            with replayed(service, EvaluationTrail, moment) as view:
                found = trail(view, reference, principal)
        if found is None:
            raise not_found(f"evaluation trail for competition {reference}")
        return msgspec.convert(found, Trail)

    @command_route("/{reference:str}/tenders", SubmitTender, "Submit a sealed tender",
                   "The command `tender.submit` for the competition in the path, as the principal's organisation.")
    def submit_tender(
        self, request: Request[Any, Any, Any], reference: FromPath[str], data: JSONBody[TenderSubmission], idempotency_key: IdempotencyKey = None  # type: ignore[valid-type]
    ) -> Response[CommandResult]:
        return run(request, command_from(SubmitTender, data, competition=reference), idempotency_key)
