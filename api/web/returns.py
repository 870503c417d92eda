"""Returns and KPIs: whether homes send their monitoring returns in time, against the targets.

    GET /app/returns               the KPIs (75% of returns by the deadline, over 95% within three
                                   months, seed 000 s.7) for an area: tiles with met or breached in
                                   words, their trend over periods as charts; the other KPIs judged
                                   there (Cheshire East's, seed 003 s.2.2.1 and s.3.6) in a table;
                                   "not monitored by KPIs" where returns are owed under a framework
                                   naming no KPI set; and compliance compared
                                   by home, provider, ICB, local authority, directorate or framework
                                   for a period (each row opens that area's KPIs)
    GET /app/returns/list          every expected return: received or not, on time, days late
    GET /app/returns/missed-runs   consecutive periods not in by the deadline; three in a row is a
                                   service failure (seed 003 s.3.6)

Who: those who read monitoring (`access.MONITORING_READERS`, as the API's `/returns/...` and
`/kpis`). Every figure is read from the API's own tables (`RETURN_COMPLIANCE`,
`COMPLIANCE_SUMMARY`, `MISSED_RUNS`, `KPIS` in `api.http.read_models`) with their scoping,
so a provider sees only its own homes' rows and its own figures. Every table downloads as
CSV or XLSX as filtered; `?as_at=YYYY-MM-DD` reads them as they stood at the end of that day
where the API can rebuild them.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from litestar import Controller, Request, Response, get
from markupsafe import Markup

from api.http.auth import principal_of, requires_role
from api.http.problems import ProblemError
from api.http.read_models import COMPLIANCE_SUMMARY, KPIS, MISSED_RUNS, RETURN_COMPLIANCE
from api.http.tables import Query, Table, read_table, today
from api.web.charts import Chart
from api.web.lists import Column, FieldError, Filter, Listed, as_at_moment, download, parse_as_at, read_list, wanted_download
from api.web.templating import render
from domain import access
from projections import cms
from projections.cms import CmsList

MONITORING = [requires_role(*access.MONITORING_READERS)]
#: the London AQP targets (seed 000 s.7), in the order the tiles show them
TARGETS = ("returns_by_deadline", "returns_within_three_months")
TARGET_NAMES = {"returns_by_deadline": "Returns by the deadline", "returns_within_three_months": "Returns within three months"}
#: "compare by": the compliance summary's scopes, in a commissioner's words
SCOPES = ("icb", "directorate", "local_authority", "framework", "provider", "home", "all")
SCOPE_NAMES = {"icb": "ICB", "directorate": "directorate", "local_authority": "local authority", "framework": "framework",
               "provider": "provider", "home": "home", "all": "everything"}
STATUSES = ("on_time", "late", "missed", "overdue")
YES_NO = ("yes", "no")


def home_names(request: Request[Any, Any, Any], locations: set[str]) -> dict[str, str]:
    """The CMS list's names of these homes, in one query (a home's name is a public CQC fact)."""
    if not locations:
        return {}
    homes = request.app.state.service.view(CmsList).select(
        cms.HOMES.name, where={"location": ("in", sorted(locations))}, columns=("location", "name"))
    return {h["location"]: h["name"] for h in homes if h["name"]}


def named(request: Request[Any, Any, Any], listed: Listed, key: str = "location", only: Any = None) -> None:
    """Each row's home name beside its CQC location id (`only`: rows for which the key is a home)."""
    rows = [r for r in listed.rows if only is None or only(r)]
    names = home_names(request, {r[key] for r in rows if r.get(key)})
    for r in listed.rows:
        r["home"] = names.get(r.get(key) or "", None) if (only is None or only(r)) else None


def read_rows(request: Request[Any, Any, Any], table: Table, filters: dict[str, str], as_at: date | None) -> list[dict[str, Any]]:
    """Every row of the API's table with these equality filters, for the principal (same scoping, same as_of)."""
    query = Query(table=table, principal=principal_of(request), filters=filters, params={}, q=None, sort=None, day=as_at or today())
    rows, _ = read_table(request.app.state.service, query, as_of=as_at_moment(as_at) if as_at else None, limit=None, offset=0)
    return rows


def kpi_area(request: Request[Any, Any, Any], errors: list[FieldError]) -> tuple[str, str]:
    """The area whose KPIs the tiles show: asked (`kpi_scope`, `kpi_area`), else everything one may see."""
    principal = principal_of(request)
    scope, area = request.query_params.get("kpi_scope") or "", request.query_params.get("kpi_area") or ""
    if scope and scope not in SCOPES:
        errors.append(FieldError("kpi_scope", "Choose an area from the list"))
    elif len(area) > 200:
        errors.append(FieldError("kpi_area", "An area is at most 200 characters"))
    elif scope and (area or scope == "all"):
        return scope, area or "all"
    # A provider's figures are its own (its rows in the summary are scope "provider").
    return ("provider", principal.org) if access.sees_only_its_own(principal.actor()) else ("all", "all")


@lru_cache(maxsize=256)
def _drawn(title: str, x_labels: tuple[str, ...], series: tuple[tuple[str, tuple[float | None, ...]], ...], y_title: str,
           target: float | None, target_label: str) -> Markup:
    return Chart(title=title, x_labels=x_labels, series={k: list(v) for k, v in series}, y_title=y_title, target=target,
                 target_label=target_label).svg()


class TrendChart(Chart):
    """A chart drawn once per set of figures: pygal takes longer to draw a chart than the rest of the
    page takes to read and render, and the figures change only when returns come in."""

    def svg(self, width: int = 900, height: int = 360) -> Markup:
        return _drawn(self.title, tuple(self.x_labels), tuple((k, tuple(v)) for k, v in self.series.items()), self.y_title,
                      self.target, self.target_label)


def tiles_and_charts(kpis: list[dict[str, Any]], summary: list[dict[str, Any]], template: str | None) -> tuple[str | None, list[dict[str, Any]], list[Chart]]:
    """The latest period's KPI tiles (value, target, met or breached, change on the period before,
    year to date) and a chart of each KPI over the periods, for one template."""
    # the templates London's KPIs judge (Cheshire East's KPIs are listed by `other_kpis`)
    templates = sorted({k["template"] for k in kpis if k["span"] == "period" and k["kpi"] in TARGETS})
    template = template if template in templates else (templates[0] if templates else None)
    periods = sorted({k["period"] for k in kpis if k["span"] == "period" and k["template"] == template})
    by = {(k["kpi"], k["period"], k["span"], k["template"]): k for k in kpis}
    windows = {s["period"]: s.get("window_closes_on") for s in summary if s["span"] == "period" and s["template"] == template}
    tiles, charts = [], []
    if not periods:
        return template, tiles, charts
    latest = periods[-1]
    previous = periods[-2] if len(periods) > 1 else None
    for kpi in TARGETS:
        row = by.get((kpi, latest, "period", template))
        if row is None:
            continue
        before = by.get((kpi, previous, "period", template)) if previous else None
        ytd = by.get((kpi, row["year"], "year_to_date", template))
        change = None if before is None or before["value"] is None or row["value"] is None else round(row["value"] - before["value"], 2)
        window = windows.get(latest) if kpi == "returns_within_three_months" else None
        tiles.append({
            **row, "name": TARGET_NAMES[kpi], "previous": before, "change": change, "ytd": ytd,
            # Returns may still arrive within three months of their deadline: until then the figure can rise.
            "open_until": window if window and window >= today().isoformat() else None,
        })
        charts.append(TrendChart(
            title=f"{TARGET_NAMES[kpi]}: % of expected returns, by period",
            x_labels=periods,
            series={TARGET_NAMES[kpi]: [(by.get((kpi, p, "period", template)) or {}).get("value") for p in periods]},
            y_title="%",
            target=row["target"],
            target_label=f"target ({'at least' if row['comparison'] == 'at_least' else 'above'} {row['target']:g}%)",
        ))
    return template, tiles, charts


def other_kpis(kpis: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The KPIs judged here other than the tiles' (Cheshire East's: timeliness, and per home outcomes
    reviews, continuity, rostering, Safe, Caring, Well-led, accuracy), each at its latest period."""
    latest: dict[tuple[str, str, str, str], dict[str, Any]] = {}
    for row in kpis:
        if row["kpi"] in TARGETS:
            continue
        key = (row["kpi_set"], row["kpi"], row["template"], row["span"])
        if key not in latest or row["period"] > latest[key]["period"]:
            latest[key] = row
    return sorted(latest.values(), key=lambda r: (r["kpi_set"], r["label"], r["template"], r["span"]))


def not_monitored(kpis: list[dict[str, Any]], summary: list[dict[str, Any]]) -> bool:
    """Returns were expected here but no KPI set judges them: their framework names none (never "breached")."""
    return not kpis and any(s.get("expected") for s in summary)


SUMMARY_FILTERS = (
    Filter("scope", "Compare by", choices=SCOPES[:-1], labels={"icb": "ICB"}),
    Filter("period", "Period", hint="For example 2025-11, or a year 2025-26 with year to date"),
    Filter("span", "Counting", choices=("period", "year_to_date")),
    Filter("template", "Return"),
)
SUMMARY_COLUMNS = (
    Column("scope_id", "Area", link=lambda r: "/app/returns?" + urlencode({"kpi_scope": r["scope"], "kpi_area": r["scope_id"]}) + "#kpis"),
    Column("home", "Home", sortable=False),
    Column("period", "Period", nowrap=True),
    Column("expected", "Expected", kind="number"),
    Column("received", "Received", kind="number"),
    Column("on_time", "On time", kind="number"),
    Column("late", "Late", kind="number"),
    Column("missed", "Missed", kind="number"),
    Column("overdue", "Overdue", kind="number"),
    Column("punctuality_percent", "By the deadline", kind="percent"),
    Column("within_three_months_percent", "Within three months", kind="percent"),
    Column("window_closes_on", "Window closes", kind="date"),
)
#: on the page, no column of home names unless the rows are homes, and no window (the download has it)
SUMMARY_SHOWN = tuple(c for c in SUMMARY_COLUMNS if c.key != "window_closes_on")
RETURN_FILTERS = (
    Filter("q", "Search", hint="CQC location id or framework"),
    Filter("received", "Received", choices=YES_NO),
    Filter("status", "Status", choices=STATUSES),
    Filter("period_from", "From period", hint="For example 2025-04"),
    Filter("period_to", "To period", hint="For example 2026-03"),
    Filter("icb", "ICB"),
    Filter("directorate", "Directorate"),
    Filter("provider", "Provider", hint="CQC provider id"),
    Filter("within_three_months", "Within three months", choices=YES_NO),
    Filter("template", "Return"),
)
RETURN_COLUMNS = (
    Column("home", "Home", sortable=False),
    Column("location", "CQC location"),
    Column("provider", "Provider"),
    Column("template", "Return"),
    Column("period", "Period", nowrap=True),
    Column("due_on", "Due", kind="date"),
    Column("status", "Status", kind="tag"),
    Column("submitted_on", "Received", kind="date"),
    Column("days_late", "Days late", kind="number"),
    Column("within_three_months", "Within three months", kind="words"),
    Column("icb", "ICB"),
    Column("directorate", "Directorate"),
)
#: what fits on the page (the download has every column, ids included)
RETURN_SHOWN = tuple(c for c in RETURN_COLUMNS if c.key not in ("location", "provider", "template", "icb"))

RUN_FILTERS = (
    Filter("service_failure", "Service failure (three or more)", choices=YES_NO),
    Filter("provider", "Provider", hint="CQC provider id"),
    Filter("location", "CQC location"),
    Filter("template", "Return"),
)
RUN_COLUMNS = (
    Column("home", "Home", sortable=False),
    Column("location", "CQC location", nowrap=True),
    Column("provider", "Provider"),
    Column("template", "Return"),
    Column("current_run", "Periods in a row not in time", kind="number"),
    Column("run_from", "From", nowrap=True),
    Column("run_to", "To", nowrap=True),
    Column("latest_period", "Latest period", nowrap=True),
    Column("service_failure", "Service failure"),
)
#: on the page a service failure is a red tag; the download keeps the yes/no
RUN_SHOWN = (*(c for c in RUN_COLUMNS if c.key not in ("provider", "template", "service_failure")),
             Column("failure", "Service failure", kind="tag", sortable=False))


def _rendered(request: Request[Any, Any, Any], listed: Listed, columns: Any, shown: Any, name: str, page: str, **context: Any) -> Response[Any]:
    kind = wanted_download(request)
    if kind and not listed.errors and not listed.refused:
        return download(listed, columns, kind, name)
    return render(request, page, status=listed.status, listed=listed, columns=shown, **context)


class ReturnPagesController(Controller):
    path = "/app/returns"
    include_in_schema = False

    @get("/", sync_to_thread=True, guards=MONITORING)
    def overview(self, request: Request[Any, Any, Any]) -> Response[Any]:
        errors: list[FieldError] = []
        scope, area = kpi_area(request, errors)
        as_at = parse_as_at(request.query_params.get("as_at") or None, [])
        kpis: list[dict[str, Any]] = []
        trend: list[dict[str, Any]] = []
        refused = None
        if not errors:
            try:
                kpis = read_rows(request, KPIS, {"scope": scope, "scope_id": area}, as_at)
                trend = read_rows(request, COMPLIANCE_SUMMARY, {"scope": scope, "scope_id": area}, as_at)
            except ProblemError as refusal:
                refused = refusal.detail
        template, tiles, charts = tiles_and_charts(kpis, trend, request.query_params.get("template"))
        latest = tiles[0]["period"] if tiles else None
        principal = principal_of(request)
        given = request.query_params
        fixed = {}
        if not given.get("scope"):
            fixed["scope"] = "home" if access.sees_only_its_own(principal.actor()) else "icb"
        if not given.get("span"):
            fixed["span"] = "period"
        if not given.get("period") and latest and not given.get("span"):
            fixed["period"] = latest
        if not given.get("template") and template:
            fixed["template"] = template
        everything = wanted_download(request) is not None
        listed = read_list(request, COMPLIANCE_SUMMARY, SUMMARY_FILTERS, SUMMARY_COLUMNS, fixed=fixed, default_sort="scope_id", everything=everything)
        # The form shows the choices in force, defaults included (they are in the links too).
        listed.asked.update({k: v for k, v in fixed.items() if k not in listed.asked})
        listed.errors[:0] = errors
        named(request, listed, "scope_id", only=lambda r: r["scope"] == "home")
        shown = [c for c in SUMMARY_SHOWN if c.key != "home" or listed.asked.get("scope") == "home"]
        return _rendered(
            request, listed, SUMMARY_COLUMNS, shown, "return-compliance-by-" + listed.asked.get("scope", "area"), "returns.html",
            title="Returns and KPIs", tab="overview", filters=SUMMARY_FILTERS, tiles=tiles, charts=charts,
            kpi_scope=scope, kpi_area=area, kpi_scope_name=SCOPE_NAMES.get(scope, scope), kpi_refused=refused,
            other_kpis=other_kpis(kpis), not_monitored=not_monitored(kpis, trend),
            return_template=template, scopes=SCOPES, scope_names=SCOPE_NAMES,
            compare_name=SCOPE_NAMES.get(listed.asked.get("scope", ""), "area"),
        )

    @get("/list", sync_to_thread=True, guards=MONITORING)
    def returns(self, request: Request[Any, Any, Any]) -> Response[Any]:
        listed = read_list(request, RETURN_COMPLIANCE, RETURN_FILTERS, RETURN_COLUMNS, default_sort="-period",
                           everything=wanted_download(request) is not None)
        named(request, listed)
        return _rendered(request, listed, RETURN_COLUMNS, RETURN_SHOWN, "returns", "returns_list.html", title="Returns", tab="list", filters=RETURN_FILTERS)

    @get("/missed-runs", sync_to_thread=True, guards=MONITORING)
    def missed_runs(self, request: Request[Any, Any, Any]) -> Response[Any]:
        listed = read_list(request, MISSED_RUNS, RUN_FILTERS, RUN_COLUMNS, default_sort="-current_run",
                           everything=wanted_download(request) is not None)
        named(request, listed)
        for row in listed.rows:
            row["failure"] = "service_failure" if row.get("service_failure") == "yes" else None
        return _rendered(request, listed, RUN_COLUMNS, RUN_SHOWN, "missed-runs", "returns_runs.html", title="Missed returns in a row", tab="runs", filters=RUN_FILTERS)
