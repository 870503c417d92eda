"""Competitions: the list, and one competition with its evaluation, as the person signed in may see them.

    GET /app/competitions               the competition list (filters, sort, pages, CSV/XLSX, as at)
    GET /app/competitions/{reference}   one competition: timetable, criteria and weights, the
                                        evaluation matrix and standings per lot, moderation beside
                                        the original scores, declarations, compliance, finances,
                                        clarifications, letters, standstill, challenges, award
    GET /app/competitions/{reference}?tab=publication
                                        what the world has been told of it (`api.web.publication`)
    GET /app/competitions/{reference}/defence-pack[.pdf|.json]
                                        the procurement report (`audit.defence_pack`, drawn by
                                        `api.web.documents`), whole or `?lot=`, `?bidder=` for what
                                        a bidder is entitled to: the API's `defence_pack_for`

For every role (`access.ALL_ROLES`), and never more than the API gives the same person: the
list is the API's own `COMPETITIONS` table (`api.web.lists.read_list`, so the same scoping:
another authority's competitions are not in it), the record is `competition_for` and the
evaluation `evaluation_for` (api/http/competitions.py), the very functions behind
`GET /competitions/{reference}` and `.../evaluation`. So tenders stay sealed until opened, an
evaluator sees only the competitions on whose panels they sit, never a bidder they declared
a conflict with, and other evaluators' scores and the matrix's spread only once moderated; a
competition the API answers 404 for is a 404 page here. Whoever may not read the evaluation
trail (commissioners, contract managers, providers, FOI officers) sees the decision on the
record, not the working.

`?as_at=YYYY-MM-DD` shows the competition as it stood at the end of that day in England, as
the API's `as_of` does (the trail's history; where the API refuses that, the
page says so in the API's words and still shows the record). `?lot=` picks the lot whose
matrix and standings are shown; `?bidder=` a bidder whose individual scores are listed.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from typing import Any

from litestar import Controller, Request, Response, get
from markupsafe import Markup
from litestar.params import FromPath

from api.http.auth import principal_of, requires_role
from api.http.competitions import COMPETITIONS, competition_for, defence_pack_for, evaluation_builtins_for
from api.http.problems import ProblemError
from api.web.documents import defence_pack_documents, defence_pack_title, defence_pack_view
from api.web.lists import Column, FieldError, Filter, as_at_moment, download, parse_as_at, read_list, wanted_download
from api.web.publication import TABS, competition_publication
from api.web.templating import ENVIRONMENT, render
from domain import access
from domain.procurement.vocabulary import (
    AWARDED, CANCELLED, COMPLIANCE_CHECKS, EVALUATION, OPEN, OUTCOME_DECIDED, PROCEDURES, STANDSTILL, STANDSTILL_REGIMES,
)

COLUMNS = (
    Column("reference", "Reference", link=lambda row: f"/app/competitions/{row['reference']}"),
    Column("title", "Title"),
    Column("authority", "Run by"),
    Column("acting_for", "For", sortable=False),
    Column("procedure", "Procedure", kind="words"),
    Column("status", "Status", kind="tag"),
    Column("lots", "Lots", kind="number"),
    Column("tender_deadline", "Tender deadline", kind="date"),
    Column("tenders", "Tenders (once opened)", kind="number"),
    Column("awarded_bidders", "Bidders awarded", kind="number"),
    Column("last_event_at", "Last change", kind="date"),
)
STATUSES = (OPEN, EVALUATION, OUTCOME_DECIDED, STANDSTILL, AWARDED, CANCELLED)
FILTERS = (
    Filter("q", "Reference, title or organisation"),
    Filter("status", "Status", choices=STATUSES),
    Filter("procedure", "Procedure", choices=PROCEDURES),
    Filter("standstill_regime", "Standstill rules", choices=STANDSTILL_REGIMES),
)


class CompetitionsPages(Controller):
    path = "/app/competitions"
    include_in_schema = False

    @get("/", sync_to_thread=True, guards=[requires_role(*access.ALL_ROLES)])
    def competitions(self, request: Request[Any, Any, Any]) -> Response[Any]:
        kind = wanted_download(request)
        listed = read_list(request, COMPETITIONS, FILTERS, COLUMNS, default_sort="-tender_deadline", everything=kind is not None)
        if kind and listed.status == 200:
            return download(listed, COLUMNS, kind, "competitions")
        return render(request, "competitions.html", status=listed.status, title="Competitions", listed=listed,
                      filters=FILTERS, columns=COLUMNS)

    @get("/{reference:str}", sync_to_thread=True, guards=[requires_role(*access.ALL_ROLES)])
    def competition(self, request: Request[Any, Any, Any], reference: FromPath[str]) -> Response[str]:
        principal = principal_of(request)
        service = request.app.state.service
        errors: list[FieldError] = []
        tab = request.query_params.get("tab") or None
        if tab not in (None, *TABS):
            errors.append(FieldError("page-tabs", "tab must be publication, or left out for the competition"))
            tab = None
        if tab is not None:
            # Who may open the page may open the tab: the API's read first (its 404), then the public publication alone.
            record = competition_for(service, principal, reference, None)
            prefix = request.app.state.web_settings.ocds_prefix
            return render(request, "competition_publication.html", title=f"{record['reference']}: publication", c=record,
                          pub=competition_publication(service, prefix, record["reference"]), errors=[])
        asked = request.query_params.get("as_at") or None
        as_at = parse_as_at(asked, errors)
        moment = as_at_moment(as_at) if as_at else None
        # The record first: a competition the API answers 404 for is a 404 page (errors.py),
        # before anything of the address is judged, so an error cannot tell it exists.
        record = competition_for(service, principal, reference, moment)
        trail, refused = None, None
        if access.may_ask_for_evaluation(principal.actor()):
            try:
                trail = evaluation_builtins_for(service, principal, reference, moment)
            except ProblemError as problem:
                if problem.status != 404:
                    refused = problem.detail  # e.g. a history too long to replay per request, as the API says it
        lots = list(record["lots"])
        lot = request.query_params.get("lot") or (lots[0] if lots else None)
        if lot is not None and lot not in record["lots"]:
            errors.append(FieldError("lot", "Choose one of the competition's lots"))
            lot = lots[0] if lots else None
        bidder = request.query_params.get("bidder") or None
        context = {
            "c": record, "t": trail, "refused": refused, "lot": lot, "bidder": bidder, "as_at": as_at,
            "asked": {"as_at": as_at.isoformat() if as_at else None},
            "errors": [{"text": e.message, "href": f"#{e.field}"} for e in errors], "today": date.today(),
        }
        if as_at is None and not errors:
            body = competition_body(service, record, trail, context)
        else:
            body = draw_body(record, trail, context)
        # The report defends a decision: offered once there is one, to whoever may have it (a bidder: its own).
        actor = principal.actor()
        report = record.get("outcome") is not None and access.may_have_defence_pack(
            actor, for_bidder=actor.org if access.sees_only_its_own(actor) else None)
        return render(request, "competition.html", status=400 if errors else 200, title=f"{record['reference']}: {record['title']}",
                      body=body, report=report, reference=record["reference"])

    @get("/{reference:str}/defence-pack", sync_to_thread=True, guards=[requires_role(*access.DEFENCE_PACK_READERS)])
    def defence_pack(self, request: Request[Any, Any, Any], reference: FromPath[str]) -> Response[str]:
        pack = pack_asked(request, reference)
        view = defence_pack_view(pack)
        downloads = {kind: f"/app/competitions/{reference}/defence-pack.{kind}{request.url.query and '?' + request.url.query}" for kind in ("pdf", "json")}
        return render(request, "defence_pack.html", title=defence_pack_title(pack), downloads=downloads,
                      how_to_verify=HOW_TO_VERIFY, **view)

    @get("/{reference:str}/defence-pack.pdf", sync_to_thread=True, guards=[requires_role(*access.DEFENCE_PACK_READERS)])
    def defence_pack_pdf(self, request: Request[Any, Any, Any], reference: FromPath[str]) -> Response[bytes]:
        service = request.app.state.service
        principal = principal_of(request)
        # Read before the pack, so a PDF is never kept under a state older than what it shows.
        key = ("defence-pack-pdf", reference, request.url.query, principal.role, principal.org, principal.user,
               service.ledger.max_position(), service.checkpoints().count())
        erasures = service.erasures()
        pack = pack_asked(request, reference)
        pdf = service.answer(key, lambda: defence_pack_documents(pack, how_to_verify=HOW_TO_VERIFY)[1], erasures=erasures)
        return Response(pdf, media_type="application/pdf", headers={
            "Content-Disposition": f'attachment; filename="{file_name(pack)}.pdf"', "Cache-Control": "no-store"})

    @get("/{reference:str}/defence-pack.json", sync_to_thread=True, guards=[requires_role(*access.DEFENCE_PACK_READERS)])
    def defence_pack_json(self, request: Request[Any, Any, Any], reference: FromPath[str]) -> Response[bytes]:
        pack = pack_asked(request, reference)
        return Response(json.dumps(pack, indent=1, ensure_ascii=False).encode("utf-8") + b"\n", media_type="application/json", headers={
            "Content-Disposition": f'attachment; filename="{file_name(pack)}.json"', "Cache-Control": "no-store"})


#: what the report tells its reader to run (the data file is the page's JSON download, saved as pack.json)
HOW_TO_VERIFY = "python -m audit.verifier pack pack.json --key verifier-keys.txt"


def pack_asked(request: Request[Any, Any, Any], reference: str) -> dict[str, Any]:
    """The report the address asks for (`?lot=`, `?bidder=`), as the API's `defence_pack_for` gives it to this person."""
    lot = request.query_params.get("lot") or None
    bidder = request.query_params.get("bidder") or None
    return defence_pack_for(request.app.state.service, principal_of(request), reference, lot=lot, for_bidder=bidder)


def file_name(pack: dict[str, Any]) -> str:
    parts = ["procurement-report", pack["competition"], pack.get("lot"), pack.get("for_bidder")]
    return "-".join(p for p in parts if p)


def draw_body(record: dict[str, Any], trail: dict[str, Any] | None, context: dict[str, Any]) -> Markup:
    """The page's body (`_competition_body.html`) from the record and the trail, and what `competition_page` works out of them."""
    page = competition_page(record, trail, lot=context["lot"], bidder=context["bidder"])
    return Markup(ENVIRONMENT.get_template("_competition_body.html").render(**context, **page))  # noqa: S704 - the template escapes


def competition_body(service: Any, record: dict[str, Any], trail: dict[str, Any] | None, context: dict[str, Any]) -> Markup:
    """The body drawn once for the same record and trail objects (those the service keeps per viewer), lot, bidder and day.

    The entry holds the record and the trail it was drawn from, so their ids in its key cannot
    be another object's while it is kept; a new event gives a new record or trail, so a new key.
    """
    key = ("competition-page", id(record), id(trail), context["lot"], context["bidder"], context["today"])
    kept = service.answer(key, lambda: (record, trail, draw_body(record, trail, context)))
    if kept[0] is record and kept[1] is trail:
        return kept[2]  # type: ignore[no-any-return]
    return draw_body(record, trail, context)  # pragma: no cover - the entry keeps both alive, so never


def competition_page(record: dict[str, Any], trail: dict[str, Any] | None, *, lot: str | None, bidder: str | None) -> dict[str, Any]:
    """What the template lays out, worked out once from the record and the trail (no further reads)."""
    criteria = record["criteria"]["criteria"]
    tenders = record["tenders"]
    sealed = isinstance(tenders, dict) and bool(tenders.get("sealed"))
    page: dict[str, Any] = {
        "criteria": criteria,
        "sealed": sealed,
        "tender_count": tenders.get("count") if sealed else (len(tenders) if isinstance(tenders, dict) else None),
        "tender_rows": [] if sealed or not isinstance(tenders, dict) else sorted(({"bidder": b, **t} for b, t in tenders.items()), key=lambda r: r["bidder"]),
        "checks": COMPLIANCE_CHECKS,
        "total_weight": sum(c.get("weight") or 0 for c in criteria),
    }
    outcome = record.get("outcome") or {}
    page["outcome_lot"] = (outcome.get("lots") or {}).get(lot) if lot else None
    letters = record.get("letters") or {}
    page["letter_rows"] = [
        {"bidder": letter["bidder"], "weighted_score": letter.get("weighted_score"),
         "lots": [(name, found.get("result"), found.get("rank")) for name, found in sorted((letter.get("lots") or {}).items())]}
        for letter in letters.get("letters") or []
    ]
    if trail is None:
        return page
    # The matrix as a table of bidders by criteria, for the lot chosen: one pass over the cells.
    cells: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
    for cell in trail["matrix"]:
        if cell["lot"] == lot:
            cells[cell["bidder"]][cell["criterion"]] = cell
    standings = sorted(
        (s for s in trail["standings"] if s["lot"] == lot),
        key=lambda s: (s["rank"] is None, s["rank"] or 0, -(s["weighted_score"] or s["decided_weighted_score"] or 0), s["bidder"]),
    )
    page["standings"] = standings
    page["matrix"] = [(s["bidder"], cells.get(s["bidder"], {}), s) for s in standings]
    page["needs_moderation"] = sum(1 for row in cells.values() for cell in row.values() if cell["state"] == "needs_moderation")
    page["disagree"] = [s for s in trail["standings"] if s["agrees_with_decision"] == "no"]
    compliance: dict[str, dict[str, Any]] = defaultdict(dict)
    for check in trail["compliance"]:
        if check["superseded_at"] is None:  # the record that stands; earlier ones are in the trail
            compliance[check["bidder"]][check["compliance_check"]] = check
    page["compliance"] = sorted(compliance.items())
    page["compliance_failed"] = sum(1 for _, checks in compliance.items() if any(c["passed"] == "no" for c in checks.values()))
    page["conflicts"] = [d for d in trail["declarations"] if d["conflicted"] == "yes"]
    in_lot = {s["bidder"] for s in standings}
    page["moderations"] = sorted((m for m in trail["moderations"] if m["bidder"] in in_lot), key=lambda m: (m["bidder"], m["criterion"], m["round"]))
    page["bidders"] = sorted({s["bidder"] for s in trail["standings"]})
    page["scores"] = sorted(
        (s for s in trail["scores"] if s["bidder"] == bidder),
        key=lambda s: (s["criterion"], s["evaluator"], s["revision"]),
    ) if bidder else []
    return page
