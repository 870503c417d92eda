"""The contract register and a contract, for those who manage contracts.

    GET /app/contracts                    the register: every contract the viewer may see, with
                                          filters, sort, pages, "as at" and CSV/XLSX downloads
    GET /app/contracts/{reference:path}   one contract (references are COMPETITION/LOT/PROVIDER):
                                          status, term and value, the framework's rates in force on
                                          the day, variations with their legal ground and the
                                          cumulative change, extensions, escalation stage and due
                                          dates, action plans; for a service contract its
                                          milestones, highlight reports (delivery confidence in
                                          words and colour) and risks
    GET /app/contracts/{reference:path}?tab=publication
                                          what the world has been told of it (`api.web.publication`)

Who: every role but evaluators (`access.NOT_EVALUATORS`, as the API's `/contracts`); a
provider sees only the contracts it holds. The register is the API's own table
(`api.http.contracts.CONTRACTS`, read through `api.web.lists`), and a contract is the API's
own answer (`contract_answer`, with `_rates`), so a contract the viewer may not see is the
same 404 page as one that does not exist, and nothing appears here that the API withholds.
`?as_at=YYYY-MM-DD` shows either as it stood at the end of that day in England.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get

from api.http.auth import requires_role
from api.http.contracts import CONTRACTS, ContractReference, contract_answer, performance_answer
from api.http.tables import today
from api.web.lists import Column, FieldError, Filter, as_at_moment, download, parse_as_at, read_list, wanted_download
from api.web.publication import TABS, contract_publication, notice_payload_bytes
from domain.procurement.notices import CONTRACT_NOTICE_TYPES
from api.web.returns import home_names
from api.web.templating import render
from domain import access
from domain.contracts.contract import AWARDED, EXPIRED, MOBILISED, SIGNED, TERMINATED
from domain.contracts.framework import LADDERS
from domain.contracts.modifications import GROUNDS


#: a critical performance failure's kind in words (domain/monitoring/failures.py, seed 003 s.2.2.2)
FAILURE_KINDS = {
    "cqc_inadequate": "CQC rated it Inadequate",
    "kpi_breach": "A critical KPI breached",
    "inaccurate_data": "Persistently inaccurate data",
    "other": "Other",
}


def contract_href(reference: str) -> str:
    # A reference holds slashes, which stay path separators; anything else odd is escaped.
    return "/app/contracts/" + quote(reference, safe="/")


STAGES = tuple(dict.fromkeys(s for ladder in LADDERS.values() for s in ladder if s != "termination"))

REGISTER_FILTERS = (
    Filter("q", "Search", hint="Reference, provider or framework"),
    Filter("status", "Status", choices=(AWARDED, SIGNED, MOBILISED, TERMINATED, EXPIRED)),
    Filter("escalation_stage", "Escalation stage", choices=STAGES),
    Filter("referrals_suspended", "Referrals suspended", choices=("yes", "no")),
    Filter("lot", "Lot", hint="For example NCL"),
    Filter("provider", "Provider", hint="CQC provider id"),
    Filter("framework", "Framework", hint="For example AQP-CH-LONDON"),
)
REGISTER_COLUMNS = (
    Column("reference", "Contract", link=lambda row: contract_href(row["reference"]), nowrap=True),
    Column("provider", "Provider"),
    Column("lot", "Lot"),
    Column("status", "Status", kind="tag"),
    Column("original_value", "Original value", kind="pounds"),
    Column("current_value", "Current value", kind="pounds"),
    Column("cumulative_variation", "Varied by", kind="pounds"),
    Column("variations", "Variations", kind="number"),
    Column("escalation_stage", "Escalation stage", kind="words"),
    Column("referrals_suspended", "Referrals suspended", kind="words"),
    Column("term_end", "Term ends", kind="date"),
)
#: on the page the provider is the reference's last part, and the original value is the contract's page's
REGISTER_SHOWN = tuple(c for c in REGISTER_COLUMNS if c.key not in ("provider", "original_value"))

#: the legal grounds as a contract manager cites them (the codes are `domain.contracts.modifications`')
CITATIONS = {
    "pcr2015_reg72_1_a": "PCR 2015 reg. 72(1)(a)",
    "pcr2015_reg72_1_b": "PCR 2015 reg. 72(1)(b)",
    "pcr2015_reg72_1_c": "PCR 2015 reg. 72(1)(c)",
    "pcr2015_reg72_1_e": "PCR 2015 reg. 72(1)(e)",
    "pcr2015_reg72_5": "PCR 2015 reg. 72(5)",
    "pa2023_sch8_1": "Procurement Act 2023 sch. 8 para. 1",
    "pa2023_s74_below_threshold": "Procurement Act 2023 s. 74 (below threshold)",
    "pa2023_s74_2_light_touch": "Procurement Act 2023 s. 74(2)",
    "psr2024_reg13_1_a": "PSR 2024 reg. 13(1)(a)",
    "psr2024_reg13_1_e": "PSR 2024 reg. 13(1)(e)",
}
UNITS = {"pence_per_week": "a week", "pence_per_hour": "an hour"}


def ground_text(code: str) -> str:
    ground = GROUNDS.get(code)
    citation = CITATIONS.get(code, code)
    return f"{citation}: {ground.title}" if ground else citation


def share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def escalation(state: dict[str, Any]) -> dict[str, Any]:
    """The escalation as a contract manager reads it: the ladder with where the contract stands,
    each step taken (issued, due, serious breach, or stepped down from) and the current stage's due day."""
    ladder, stage = state["escalation"]["ladder"], state["escalation"]["stage"]
    history = state["escalation"]["history"]
    current = next((h for h in reversed(history) if h.get("stage") == stage and "due" in h), None) if stage else None
    reached = ladder.index(stage) if stage in ladder else -1
    return {
        "stage": stage,
        "due": current["due"] if current else None,
        "ladder": [{"name": s, "reached": i <= reached, "current": s == stage} for i, s in enumerate(ladder)],
        "history": history,
    }


class ContractPagesController(Controller):
    path = "/app/contracts"
    include_in_schema = False

    @get("/", sync_to_thread=True, guards=[requires_role(*access.NOT_EVALUATORS)])
    def register(self, request: Request[Any, Any, Any]) -> Response[Any]:
        listed = read_list(request, CONTRACTS, REGISTER_FILTERS, REGISTER_COLUMNS, everything=wanted_download(request) is not None)
        kind = wanted_download(request)
        if kind and not listed.errors and not listed.refused:
            return download(listed, REGISTER_COLUMNS, kind, "contract-register")
        return render(
            request, "contracts.html", status=listed.status, title="Contracts",
            listed=listed, filters=REGISTER_FILTERS, columns=REGISTER_SHOWN,
        )

    @get("/{reference:path}", sync_to_thread=True, guards=[requires_role(*access.NOT_EVALUATORS)])
    def contract(self, request: Request[Any, Any, Any], reference: ContractReference) -> Response[Any]:
        reference = str(reference).strip("/")
        errors: list[FieldError] = []
        tab = request.query_params.get("tab") or None
        if tab not in (None, *TABS):
            errors.append(FieldError("page-tabs", "tab must be publication, or left out for the contract"))
        as_at = parse_as_at(request.query_params.get("as_at") or None, errors)
        payload_of = request.query_params.get("notice_payload") or None
        if payload_of is not None and (tab not in TABS or payload_of not in CONTRACT_NOTICE_TYPES or payload_of == "contract_change_notice"):
            errors.append(FieldError("notice_payload", "notice_payload must be contract_details_notice or contract_termination_notice, on the publication tab"))
        if tab in TABS and not errors:
            # Who may open the page may open the tab: the API's read first (its 404), then the public publication alone.
            contract_answer(request, reference, None)
            prefix = request.app.state.web_settings.ocds_prefix
            if payload_of is not None:
                try:
                    body, sha = notice_payload_bytes(request.app.state.service, prefix, reference, payload_of, today=today())
                except ValueError as err:
                    errors.append(FieldError("notice_payload", str(err)))
                else:
                    name = f"{reference.replace('/', '-')}-{payload_of}.json"
                    return Response(body, media_type="application/json", headers={
                        "Content-Disposition": f'attachment; filename="{name}"', "X-Payload-SHA256": sha, "Cache-Control": "no-store"})
        if tab in TABS and not errors:
            prefix = request.app.state.web_settings.ocds_prefix
            return render(request, "contract_publication.html", title=f"Contract {reference}: publication", reference=reference,
                          href=contract_href(reference), pub=contract_publication(request.app.state.service, prefix, reference, today=today()))
        if errors:
            return render(request, "contract.html", status=400, title="Contract", reference=reference, href=contract_href(reference), state=None, errors=errors,
                          as_at_text=request.query_params.get("as_at", ""))
        # The API's answer itself: a contract the viewer may not hold raises its 404 here.
        state = contract_answer(request, reference, as_at_moment(as_at) if as_at else None)
        # The answer is kept and shared with the API's readers: the page's figures go on copies.
        variations = [dict(v) for v in state["variations"]]
        original = state["value"]["original"]
        running = 0
        for v in variations:
            running += v["value_change"]
            v["ground_text"] = ground_text(v["ground"])
            v["cumulative"] = running
            v["cumulative_share"] = share(running, original)
        rates = state["rates"]
        plans = [
            {"plan": name, **plan, "open_actions": sum(1 for a in plan["actions"].values() if not a.get("completed_on"))}
            for name, plan in state["action_plans"].items()
        ]
        failures = performance_answer(request, reference, as_at_moment(as_at) if as_at else None)
        failed_homes = {f["location"] for f in (*failures["critical_failures"], *failures["service_failures"]) if f["location"]}
        names = home_names(request, set(state["homes"]) | failed_homes)  # one query for every home on the contract
        homes = [{"location": loc, "name": names.get(loc) or loc, **record} for loc, record in sorted(state["homes"].items())]
        reports = sorted(state["highlight_reports"], key=lambda r: r["period_ending"], reverse=True)
        return render(
            request, "contract.html", title=f"Contract {reference}", reference=reference, href=contract_href(reference), state=state,
            as_at=as_at, as_at_text=as_at.isoformat() if as_at else "", errors=[],
            cumulative_share=share(state["value"]["cumulative_variation"], original),
            variations=variations, rates=rates, unit=UNITS.get((rates or {}).get("unit"), ""),
            escalation=escalation(state), plans=plans, reports=reports, homes=homes, home_names=names,
            critical_failures=failures["critical_failures"], service_failures=failures["service_failures"], failure_kinds=FAILURE_KINDS,
            service=bool(state["milestones"] or state["highlight_reports"] or state["risks"]),
        )
