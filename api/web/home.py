"""The home page: what each role comes here for, first.

    GET /app/            the signed-in person's home page

- A **commissioner** or **contract manager** (an ICB, a council): for the areas their
  organisation commissions (`ledger.commissioning.commissioned_by`: the framework's
  directorates or areas), the open exceptions (manager changes, sharp rises and falls, homes
  not reporting, CQC downgrades), the two London KPIs of returns (75% by the deadline, over
  95% within three months) for those areas with their trend month by month, the returns due
  in the month (this month, or the latest month that had any, said so) and which were
  missed, the contracts of their lots under escalation with the next date due, and the
  vacancies of their homes today by bed type, with how old the reports are.
- A **procurement lead**: its competitions and where each stands. An **evaluator**: the
  competitions on whose panels they sit. An **auditor**: the latest signed checkpoint.
  A **provider**: its homes and their returns due and missed. An **FOI officer**: its
  organisation's FOI requests overdue and due within five working days, and how many are
  open and paused.
- Everybody: cards to the pages their role may open.

Every figure is read through the API's own tables (`api.http.tables.Table`, the same `Query`
and scoping as the API's routes, with SQL conditions added for "my areas"), so nothing is
shown here that the page it links to, or the API, would not show that person. Each section
links to its page.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from litestar import Controller, Request, Response, get

from api.http.auth import principal_of, requires_role
from api.http.competitions import COMPETITIONS
from api.http.contracts import CONTRACTS
from api.http.foi import FOI_REQUESTS
from api.http.read_models import EXCEPTIONS, KPIS, LOCATIONS, RETURN_COMPLIANCE, STALE_AFTER_DAYS
from api.http.tables import Conditions, Query, Table, today
from api.tokens import Principal
from api.web.auth import NAVIGATION, may_open
from api.web.charts import Chart
from api.web.foi import summary as foi_summary
from api.web.templating import render
from domain import access
from domain.contracts.contract import Contract
from domain.kernel.errors import DomainError
from domain.monitoring.kpis import evaluate_kpi
from domain.providers.location import BED_TYPES
from projections import evaluation_tables as ev
from projections.evaluation import EvaluationTrail

#: the KPIs of seed 000 s.6.2.1 shown as tiles (their targets are read from the KPI rows)
HOME_KPIS = ("returns_by_deadline", "returns_within_three_months")
#: how many of the newest exceptions, missed returns... a section lists before "see all"
SHOWN = 8
#: the months of trend a KPI tile draws
TREND_MONTHS = 12
#: each kind of exception (projections/exceptions.py KINDS) -> its tile's words, as shown
EXCEPTION_KINDS = {
    "manager_changed": "manager changes",
    "sharp_rise": "sharp rises",
    "sharp_fall": "sharp falls",
    "not_reporting": "homes not reporting",
    "cqc_downgrade": "CQC downgrades",
}
#: each kind -> its tag in the list of the newest: words and the design system's colour
EXCEPTION_TAGS = {
    "manager_changed": ("manager changed", "purple"),
    "sharp_rise": ("sharp rise", "orange"),
    "sharp_fall": ("sharp fall", "blue"),
    "not_reporting": ("not reporting", "red"),
    "cqc_downgrade": ("CQC downgrade", "yellow"),
}
RETURN_STATUSES = ("on_time", "late", "missed", "overdue", "due")


def rows_of(
    request: Request[Any, Any, Any],
    table: Table,
    *,
    where: dict[str, Any] | None = None,
    any_of: tuple[tuple[dict[str, Any], ...], ...] = (),
    sort: str | None = None,
    limit: int | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Rows of an API table for the person signed in: its own scoping and restricted columns,
    plus `where`/`any_of` in its SQL (a Python table ignores them: filter its rows after)."""
    service = request.app.state.service
    query = Query(table=table, principal=principal_of(request), filters={}, params={}, q=None, sort=sort, day=today())
    view = service.view(table.read_model)
    extra = Conditions(where or {}, any_of) if (where or any_of) else None
    return query.rows_from(service, view, limit=limit, offset=0, extra=extra)


def count_of(request: Request[Any, Any, Any], table: Table, **where: Any) -> int:
    return rows_of(request, table, where=where, limit=0)[1]


@dataclass
class Mine:
    """What a commissioning organisation commissions: its areas, and the lots of each framework."""

    areas: list[str]
    #: framework -> its lots commissioned (None: every lot)
    lots: dict[str, frozenset[str] | None] = field(default_factory=dict)

    def commissions(self, row: dict[str, Any]) -> bool:
        if row["framework"] not in self.lots:
            return False
        lots = self.lots[row["framework"]]
        return lots is None or row["lot"] in lots

    @property
    def lot_names(self) -> list[str]:
        return sorted({lot for lots in self.lots.values() if lots for lot in lots})


def mine(request: Request[Any, Any, Any], principal: Principal) -> Mine:
    commissioned = request.app.state.service.ledger.commissioning.commissioned_by(principal.org)
    return Mine(
        areas=sorted({a for c in commissioned.values() for a in c.area_names}),
        lots={framework: (frozenset(c.lots) or None) for framework, c in commissioned.items()},
    )


# ------------------------------------------------------------------ the sections


def exceptions_section(request: Request[Any, Any, Any], areas: list[str]) -> dict[str, Any]:
    """The open exceptions of homes in `areas` (the directorate each home stood in when raised)."""
    where = {"directorate": ("in", areas), "status": "open"}
    counts = {kind: count_of(request, EXCEPTIONS, **where, kind=kind) for kind in EXCEPTION_KINDS}
    newest, total = rows_of(request, EXCEPTIONS, where=where, sort="-raised_at", limit=SHOWN)
    return {"counts": counts, "total": total, "newest": newest}


def _area_kpi(kpi: str, label: str, comparison: str, target: float, numerator: int, denominator: int) -> dict[str, Any] | None:
    """The KPI over the summed counts of several areas, judged by the domain's rule (`evaluate_kpi`)."""
    if not denominator:
        return None
    judged = evaluate_kpi(
        {"id": kpi, "label": label, "target": {"comparison": comparison, "value": target}, "critical": False, "consequence": None},
        {"numerator": numerator, "denominator": denominator},
    )
    return {**judged, "numerator": numerator, "denominator": denominator}


def kpi_tiles(request: Request[Any, Any, Any], scope: str, scope_ids: list[str]) -> list[dict[str, Any]]:
    """Each KPI for the scopes given together (e.g. a commissioner's directorates): the year to
    date, and month by month for the trend; the target is the KPI rows' own."""
    rows, _ = rows_of(request, KPIS, where={"scope": scope, "scope_id": ("in", scope_ids), "kpi": ("in", list(HOME_KPIS))})
    tiles = []
    for kpi in HOME_KPIS:
        mine = [r for r in rows if r["kpi"] == kpi]
        if not mine:
            continue
        first = mine[0]
        judge = lambda found: _area_kpi(kpi, first["label"], first["comparison"], first["target"],  # noqa: E731
                                        sum(r["numerator"] or 0 for r in found), sum(r["denominator"] or 0 for r in found))
        years = sorted({r["year"] for r in mine if r["span"] == "year_to_date" and r["template"] == "all"})
        year = years[-1] if years else None
        to_date = judge([r for r in mine if r["span"] == "year_to_date" and r["template"] == "all" and r["year"] == year]) if year else None
        by_month: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in mine:
            if r["span"] == "period":
                by_month[r["period"]].append(r)
        months = sorted(by_month)[-TREND_MONTHS:]
        trend = [(m, judge(by_month[m])) for m in months]
        chart = Chart(
            title="Month by month",
            x_labels=axis_months(months),
            series={"Your areas (%)": [t["value"] if t else None for _, t in trend]},
            target=first["target"],
            target_label=f"Target ({first['target']:g}%)",
            # On 0-100 a fall from 100% to 83% looks like what it is, not like a collapse.
            y_range=(0, 100),
            show_title=False,  # the card's heading and the figure's caption say it
            truncate_label=-1,
        )
        tiles.append({
            "kpi": kpi,
            "label": first["label"],
            "target": f"{'at least' if first['comparison'] == 'at_least' else 'above'} {first['target']:g}%",
            "year": year,
            "to_date": to_date,
            "latest": trend[-1][1] if trend else None,
            "latest_month": month_label(trend[-1][0]) if trend else None,
            "chart": chart if len(months) > 1 else None,
            # Within three months can still rise until the last month's window closes.
            "open_window": kpi == "returns_within_three_months",
        })
    return tiles


def axis_months(periods: list[str]) -> list[str]:
    """Short month names, the year said on the first and on each January (so the last label fits)."""
    return [month_label(p, short=True) if i == 0 or p.endswith("-01") else month_label(p, short=True)[:3] for i, p in enumerate(periods)]


def month_label(period: str, *, short: bool = False) -> str:
    try:
        first = date.fromisoformat(f"{period}-01")
    except ValueError:
        return period
    return f"{first:%b %Y}" if short else f"{first:%B %Y}"


def returns_section(request: Request[Any, Any, Any], where: dict[str, Any]) -> dict[str, Any]:
    """The returns due in this month (or, when none is, the latest month that had returns due, said so)."""
    now = today()
    first = now.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    latest, _ = rows_of(request, RETURN_COMPLIANCE, where={**where, "due_on": ("<=", last.isoformat())}, sort="-due_on", limit=1)
    if not latest:
        return {"month": None}
    due = date.fromisoformat(latest[0]["due_on"][:10])
    this_month = due >= first
    start = due.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    in_month = Conditions({**where, "due_on": ("<=", end.isoformat())}) & Conditions({"due_on": (">=", start.isoformat())})
    rows, total = rows_of(request, RETURN_COMPLIANCE, where=in_month.where, any_of=in_month.any_of, sort="due_on")
    statuses = Counter(r["status"] for r in rows)
    not_in = [r for r in rows if r["status"] in ("missed", "overdue")][:SHOWN]
    # A return's row names its home by CQC id; people know homes by name (the CMS list's, as scoped).
    names = {h["location"]: h["name"] for h in rows_of(
        request, LOCATIONS, where={"location": ("in", sorted({r["location"] for r in not_in}))})[0]} if not_in else {}
    return {
        "month": f"{start:%B %Y}",
        "period_start": start,
        "this_month": this_month,
        "total": total,
        "statuses": {s: statuses.get(s, 0) for s in RETURN_STATUSES if statuses.get(s) or s in ("on_time", "late", "missed")},
        "not_in": [{**r, "home_name": names.get(r["location"])} for r in not_in],
        "not_in_total": statuses.get("missed", 0) + statuses.get("overdue", 0),
    }


def escalations_section(request: Request[Any, Any, Any], commissioned: Mine | None) -> list[dict[str, Any]]:
    """The contracts under escalation (of the lots the organisation commissions), each with the
    date its current stage is due by and its open action plans' dates (read from the contract)."""
    rows, _ = rows_of(request, CONTRACTS)
    escalated = [r for r in rows if r["escalation_stage"] and (commissioned is None or commissioned.commissions(r))]
    ledger = request.app.state.service.ledger
    found = []
    for row in sorted(escalated, key=lambda r: r["reference"]):
        due = plan_due = None
        try:
            contract = ledger.aggregate(Contract, row["reference"])
        except DomainError:
            contract = None
        if contract is not None:
            stage = next((e for e in reversed(contract.escalations) if e.get("due")), None)
            due = stage["due"] if stage else None
            plan_due = next_action_due(contract)
        found.append({**row, "due": due, "plan_due": plan_due})
    return found


def next_action_due(contract: Any) -> str | None:
    """The earliest due day of an action not yet completed, in the contract's open action plans."""
    return min(
        (str(a["due"]) for plan in contract.action_plans.values() if plan.get("closed_on") is None
         for a in plan["actions"].values() if a.get("completed_on") is None and a.get("due")),
        default=None,
    )


def vacancies_section(request: Request[Any, Any, Any], any_of: tuple[tuple[dict[str, Any], ...], ...], where: dict[str, Any] | None = None) -> dict[str, Any]:
    """Vacancies today by bed type: the sum of the latest report of every home in the areas,
    with how many of those reports are stale (older than the CMS list's rule) or missing."""
    columns = [f"vacancies_{b}" for b in BED_TYPES]
    homes, total = rows_of(request, LOCATIONS, where=where, any_of=any_of)
    reported = [h for h in homes if h.get("vacancies_day")]
    stale = [h for h in reported if h.get("vacancies_stale") == "yes"]
    newest = max((h["vacancies_day"] for h in reported), default=None)
    icbs = sorted({h["icb"] for h in homes if h.get("icb")})
    return {
        "homes": total,
        "reported": len(reported),
        "stale": len(stale),
        "never": total - len(reported),
        "newest": newest,
        "newest_age": (today() - date.fromisoformat(newest)).days if newest else None,
        "stale_after": STALE_AFTER_DAYS,
        "by_bed": {b: sum(h.get(c) or 0 for h in reported) for b, c in zip(BED_TYPES, columns, strict=True)},
        "total": sum(h.get("vacancies_total") or 0 for h in reported),
        # The homes list filters by one ICB: link there when all the homes are in one.
        "icb": icbs[0] if len(icbs) == 1 else None,
    }


def competitions_section(request: Request[Any, Any, Any], principal: Principal) -> dict[str, Any]:
    """The competitions there for this person (the API's scoping), newest change first; for an
    evaluator, those on whose panels they sit first (an evaluator also sees its organisation's)."""
    rows, _ = rows_of(request, COMPETITIONS, sort="-last_event_at")
    now = today().isoformat()
    for r in rows:
        deadline = r.get("tender_deadline")
        r["deadline_ahead"] = bool(deadline and deadline[:10] >= now)
    if principal.role != "evaluator":
        return {"listed": rows, "others": 0}
    seats = request.app.state.service.view(EvaluationTrail).select(ev.EVALUATORS.name, where={"evaluator": principal.user})
    panels = {s["competition"]: s["panels"] for s in seats}
    on_panels = [{**r, "panels": panels[r["reference"]]} for r in rows if r["reference"] in panels]
    return {"listed": on_panels, "others": len(rows) - len(on_panels)}


def verification_section(request: Request[Any, Any, Any]) -> dict[str, Any]:
    service = request.app.state.service
    latest = service.checkpoints().latest()
    events = service.ledger.max_position() or 0
    if latest is None:
        return {"latest": None, "events": events, "uncovered": events}
    return {"latest": latest, "events": events, "uncovered": max(0, events - latest.tree_size)}


def provider_homes(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    rows, _ = rows_of(request, LOCATIONS, sort="name")
    return rows


# ------------------------------------------------------------------ the page


#: the read models the sections read (a change in any of them, or any new event, is a new home page)
READ_MODELS = tuple({t.read_model for t in (EXCEPTIONS, KPIS, RETURN_COMPLIANCE, LOCATIONS, CONTRACTS, COMPETITIONS, FOI_REQUESTS)} | {EvaluationTrail})
_SECTIONS: dict[tuple[Any, ...], dict[str, Any]] = {}
_SECTIONS_MAX = 512
_SECTIONS_LOCK = threading.Lock()


def state_of(request: Request[Any, Any, Any]) -> tuple[int, ...]:
    """Where the ledger and every read model the sections read stand: equal, the sections are too.

    The ledger's position covers what is read from records (a contract's due dates, who
    commissions what); each read model's own position covers its rows, which follow the
    ledger a moment later (so a page read before they caught up is not kept after)."""
    service = request.app.state.service
    ledger = service.ledger
    return (ledger.max_position(), *(service.view(m).max_tracking_id(ledger.name) or 0 for m in sorted(READ_MODELS, key=lambda m: m.name)))


def sections_of(request: Request[Any, Any, Any], principal: Principal) -> dict[str, Any]:
    """The person's sections, read once per state of the ledger and day: a home page is opened
    far more often than the ledger moves, and reading it is a dozen queries (the benchmark,
    `benchmarks/web.py`, found them most of the page's time once its charts were drawn once)."""
    if principal.role == "auditor":
        return {"verification": verification_section(request)}  # checkpoints are not events: always read
    key = (principal.user, principal.org, principal.role, today(), state_of(request))
    found = _SECTIONS.get(key)
    if found is None:
        found = read_sections(request, principal)
        with _SECTIONS_LOCK:
            if len(_SECTIONS) >= _SECTIONS_MAX:
                _SECTIONS.clear()
            _SECTIONS[key] = found
    return found


def read_sections(request: Request[Any, Any, Any], principal: Principal) -> dict[str, Any]:
    role = principal.role
    sections: dict[str, Any] = {}
    if role in access.COMMISSIONING:
        commissioned = mine(request, principal)
        sections["mine"] = commissioned
        if commissioned.areas:
            areas = commissioned.areas
            sections["exceptions"] = exceptions_section(request, areas)
            sections["kpis"] = kpi_tiles(request, "directorate", areas)
            sections["returns"] = returns_section(request, {"directorate": ("in", areas)})
            sections["vacancies"] = vacancies_section(
                request, (({"commissioning_area": ("in", areas)}, {"local_authority": ("in", areas)}),)
            )
        sections["escalations"] = escalations_section(request, commissioned)
    elif role in ("procurement_lead", "evaluator"):
        sections["competitions"] = competitions_section(request, principal)
    elif role == "provider":
        sections["homes"] = provider_homes(request)
        sections["returns"] = returns_section(request, {})
    elif role == "foi_officer":
        sections["foi"] = foi_summary(rows_of(request, FOI_REQUESTS)[0])
    return sections


class HomeController(Controller):
    path = "/app"
    include_in_schema = False

    @get("/", sync_to_thread=True, guards=[requires_role(*access.ALL_ROLES)])
    def home(self, request: Request[Any, Any, Any]) -> Response[str]:
        principal = principal_of(request)
        pages = [p for p in NAVIGATION[1:] if may_open(principal, p)]
        sections = sections_of(request, principal)
        return render(request, "home.html", title="Home", pages=pages, role=principal.role, bed_types=BED_TYPES,
                      kinds=EXCEPTION_KINDS, kind_tags=EXCEPTION_TAGS, month=month_label, **sections)
