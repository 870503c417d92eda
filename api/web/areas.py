"""Area dashboards: quality over time for each ICB, directorate, framework and all homes, and
placements, rates and non-framework homes (seed 000/001 s.6.2.3, s.3.2, s.3.4).

    GET /app/areas                          every area with a dashboard, and the placement pages
    GET /app/areas/{level}/{area}           one area: a metric over time beside all homes, the
                                            area among the others of its level, and its homes
    GET /app/areas/placements               placement usage and spend by commissioner and month
    GET /app/areas/rate-exceptions          placements paid a rate other than the framework's
    GET /app/areas/non-framework-homes      homes off the framework charging the framework's rate

For whom: the aggregate pages are for `access.AGGREGATE_READERS` (commissioners, contract
managers, auditors, FOI officers, admins; never providers), as the API's
`/dashboards/quality/areas`, `/placements/usage` and `/placements/non-framework-homes` are.
Rate exceptions are the API's `MONITORING_READERS` list: a provider sees the rows of its own
homes there, as through the API (the table's own scoping). Every figure is read through the
API's tables (`api/http/read_models.py`), so nothing appears here that the API withholds.

What a dashboard shows of a metric: the rate per 1,000 registered bed-days where the metric
counts events or people affected (`projections.quality.RATED`: homes of any size compare
fairly), else the mean of the homes' figures (staff, residents, percentages). Only the rows a
chart draws are read (level, area, metric and the latest month are SQL filters), and a past
"as at" day replays the read model once for the whole page.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from api.http.auth import requires_role
from api.http.problems import ProblemError, not_found
from api.http.read_models import NON_FRAMEWORK_HOMES, PLACEMENT_USAGE, QUALITY_AREAS, QUALITY_SERIES, RATE_EXCEPTIONS
from api.web.charts import Chart
from api.web.lists import (
    PAGE_SIZE, Column, FieldError, Filter, Listed, download, parse_as_at, read_list, rows_of, table_view, wanted_download,
)
from api.web.templating import render
from domain import access
from domain.providers.location import BED_TYPES
from projections.quality import RATED

#: the levels of `quality_areas`, as people name them (singular, plural)
LEVELS = {
    "icb": ("ICB", "ICBs"),
    "directorate": ("directorate", "directorates"),
    "framework": ("framework", "frameworks"),
    "all": ("all homes", "all homes"),
}
OVERALL = ("all", "all")
#: the metric a dashboard opens on: falls are what steering boards ask about first (seed 001)
DEFAULT_METRIC = "falls"


def month(period: str) -> str:
    """2025-04 -> Apr 2025 (a chart's axis has room for little more)."""
    try:
        return date.fromisoformat(period + "-01").strftime("%b %Y")
    except ValueError:
        return period


def month_name(period: str | None) -> str:
    """2025-04 -> April 2025 (in a sentence)."""
    try:
        return date.fromisoformat(f"{period}-01").strftime("%B %Y")
    except (TypeError, ValueError):
        return period or ""


def heading(level: str) -> str:
    """A level's heading: ICBs, Directorates, Frameworks, All homes (pan-London)."""
    if level == "all":
        return "All homes (pan-London overview)"
    plural = LEVELS[level][1]
    return plural if level == "icb" else plural.capitalize()


def area_href(level: str, area: str) -> str:
    return f"/app/areas/{level}/{quote(area, safe='')}"


def homes_href(level: str, area: str) -> str:
    """The care homes list (the CMS list's page) filtered to this area's homes."""
    if level == "icb":
        return "/app/homes?" + urlencode({"icb": area})
    if level == "directorate":
        return "/app/homes?" + urlencode({"directorate": area})
    if level == "framework":
        return "/app/homes?" + urlencode({"on_framework": "yes"})
    return "/app/homes"


def area_name(level: str, area: str) -> str:
    return "All homes" if level == "all" else area


def short_name(level: str, area: str) -> str:
    """An area as a chart's legend or axis has room for: "NHS North East London Integrated Care
    Board" -> "North East London ICB" (the page's heading and tables keep the full name)."""
    name = area_name(level, area)
    if level == "icb":
        name = name.removeprefix("NHS ").replace("Integrated Care Board", "ICB")
    return name


def measure(metric: str) -> tuple[str, str]:
    """The column a metric is compared on, and its words."""
    if metric in RATED:
        return "rate_per_1000_bed_days", "rate per 1,000 bed-days"
    return "mean", "mean per home"


def latest_period(request: Request[Any, Any, Any], view: Any) -> str | None:
    newest = rows_of(request, QUALITY_AREAS, view, {"level": "all", "area": "all"}, sort="-period", limit=1)
    return newest[0]["period"] if newest else None


def refused_or_errors(asked: dict[str, str], as_at: date | None, errors: list[FieldError], refused: str | None = None) -> Listed:
    """A `Listed` carrying only what went wrong, for the `_list.html` error summary."""
    return Listed([], 0, 1, 1, asked, None, as_at, errors, refused)


# ------------------------------------------------------------------ the index


def index_context(request: Request[Any, Any, Any], as_at: date | None) -> dict[str, Any]:
    """Every area with figures in the latest month, by level, with its homes reporting."""
    with table_view(request, QUALITY_AREAS, as_at) as view:
        period = latest_period(request, view)
        if period is None:
            return {"period": None, "levels": []}
        # One metric's rows for the month name every area once (a residents count is in every
        # return; the first metric of the month otherwise).
        metrics = rows_of(request, QUALITY_AREAS, view, {"level": "all", "area": "all", "period": period})
        names = {m["metric"] for m in metrics}
        metric = "residents" if "residents" in names else DEFAULT_METRIC if DEFAULT_METRIC in names else min(names)
        rows = rows_of(request, QUALITY_AREAS, view, {"metric": metric, "period": period})
    levels = []
    for level in LEVELS:
        found = sorted((r for r in rows if r["level"] == level), key=lambda r: r["area"])
        if found:
            levels.append({"level": level, "name": heading(level), "areas": [
                {"name": area_name(level, r["area"]), "href": area_href(level, r["area"]), "homes": r["homes"]} for r in found
            ]})
    return {"period": period, "latest": month_name(period), "levels": levels}


# ------------------------------------------------------------------ one area


HOME_COLUMNS = (
    Column("home_name", "Home", link=lambda r: f"/app/homes/{quote(r['location'], safe='')}"),
    Column("value", "Figure", "number"),
    Column("bed_days", "Bed-days", "number"),
    Column("rate_per_1000_bed_days", "Rate per 1,000 bed-days", "number"),
)
AREA_COLUMNS = (
    Column("level", "Level"),
    Column("area", "Area"),
    Column("label", "Metric"),
    Column("unit", "Unit"),
    Column("period", "Month"),
    Column("homes", "Homes reporting", "number"),
    Column("total", "Total", "number"),
    Column("mean", "Mean per home", "number"),
    Column("bed_days", "Bed-days", "number"),
    Column("rate_per_1000_bed_days", "Rate per 1,000 bed-days", "number"),
)


def dashboard(request: Request[Any, Any, Any], level: str, area: str) -> dict[str, Any]:
    """What one area's dashboard shows (see the module docstring); raises 404 for an area that is not there."""
    if level not in LEVELS or len(area) > 200:
        raise not_found("such area")
    given = {k: v for k, v in request.query_params.items() if v != ""}
    errors: list[FieldError] = []
    as_at = parse_as_at(given.get("as_at"), errors)
    asked = {k: given[k] for k in ("metric", "as_at") if k in given and len(given[k]) <= 200}
    context: dict[str, Any] = {"level": level, "area": area, "name": area_name(level, area), "level_words": LEVELS[level],
                               "homes_href": homes_href(level, area), "asked": asked, "as_at": as_at,
                               "level_heading": heading(level),
                               "kind": {"icb": "ICB", "directorate": "Directorate", "framework": "Framework", "all": "Pan-London overview"}[level]}
    try:
        with table_view(request, QUALITY_AREAS, as_at) as view:
            if not rows_of(request, QUALITY_AREAS, view, {"level": level, "area": area}, limit=1):
                raise not_found("such area")
            period = latest_period(request, view)
            metrics = sorted(rows_of(request, QUALITY_AREAS, view, {"level": "all", "area": "all", "period": period or ""}),
                             key=lambda m: m["label"])
            context["metrics"] = metrics
            names = {m["metric"] for m in metrics}
            metric = given.get("metric") or (DEFAULT_METRIC if DEFAULT_METRIC in names else min(names, default=""))
            if metric not in names:
                errors.append(FieldError("metric", "Choose a measure from the list"))
            if errors:
                context["problems"] = refused_or_errors(asked, as_at, errors)
                return context
            column, words = measure(metric)
            chosen = next(m for m in metrics if m["metric"] == metric)
            mine = rows_of(request, QUALITY_AREAS, view, {"level": level, "area": area, "metric": metric})
            overall = [] if (level, area) == OVERALL else rows_of(request, QUALITY_AREAS, view, {"level": "all", "area": "all", "metric": metric})
            # The month's rows of the metric at every level (about 40), the level kept here: asked with the
            # level too, the database walks the level's index for its natural order, every month of it.
            peers = [r for r in rows_of(request, QUALITY_AREAS, view, {"metric": metric, "period": period}) if r["level"] == level]
            homes: list[dict[str, Any]] = []
            if level in ("icb", "directorate"):
                # The month's homes of the metric (one row each), the area kept here: asked with the ICB too,
                # the database walks the ICB's index, every metric and month of its homes.
                homes = [r for r in rows_of(request, QUALITY_SERIES, view, {"metric": metric, "period": period},
                                            sort="-rate_per_1000_bed_days" if metric in RATED else "-value") if r[level] == area]
    except ProblemError as refusal:
        if refusal.status == 404:
            raise
        context["problems"] = refused_or_errors(asked, as_at, errors, refusal.detail)
        return context
    context.update(metric=metric, label=chosen["label"], unit=chosen["unit"], measure=words, column=column, period=period,
                   mine=mine, overall=overall, peers=peers, homes=homes, latest=month_name(period))
    periods = sorted({r["period"] for r in (*mine, *overall)})
    by = {(r["area"], r["period"]): r[column] for r in (*mine, *overall)}
    series = {short_name(level, area): [by.get((area, p)) for p in periods]}
    if overall:
        series["All homes"] = [by.get(("all", p)) for p in periods]
    context["over_time"] = Chart(
        title=f"{chosen['label']}: {words}, by month", x_labels=[month(p) for p in periods], series=series,
        y_title=words, from_zero=True,
    )
    # Lowest first: a horizontal bar chart draws its first bar at the bottom, so the highest is on top.
    ranked = sorted((r for r in peers if r[column] is not None), key=lambda r: r[column])
    if len(ranked) > 1:
        labels = [short_name(level, r["area"]) for r in ranked]
        context["side_by_side"] = Chart(
            title=f"{chosen['label']} in {month(period)}: {words}, the {LEVELS[level][1]} side by side",
            x_labels=labels, series={words.capitalize(): [r[column] for r in ranked]}, kind="hbar",
            highlight=short_name(level, area), height=max(240, 28 * len(ranked) + 90),
        )
    return context


# ------------------------------------------------------------------ placements


def commissioner_choices(request: Request[Any, Any, Any]) -> tuple[str, ...]:
    """The commissioners with placements (a small table: a row per framework, commissioner and month)."""
    with table_view(request, PLACEMENT_USAGE, None) as view:
        return tuple(sorted({r["commissioner"] for r in rows_of(request, PLACEMENT_USAGE, view, {}) if r["commissioner"]}))


#: every column, for the downloads
USAGE_COLUMNS = (
    Column("framework", "Framework"),
    Column("commissioner", "Commissioner"),
    Column("period", "Month"),
    Column("homes", "Homes", "number"),
    Column("started", "Started", "number"),
    Column("ended", "Ended", "number"),
    Column("active", "Active in the month", "number"),
    Column("open_at_month_end", "Open at month end", "number"),
    Column("weekly_spend", "Weekly spend at month end", "pounds"),
    Column("care_days", "Care days", "number"),
    Column("month_spend", "Month spend", "pounds"),
    Column("rate_exceptions", "Rate exceptions", "number"),
    Column("at_non_framework_homes", "At non-framework homes", "number"),
)
#: what the page's table shows of them: a screen's width (the framework, care days and the run rate are in the downloads)
USAGE_SHOWN = tuple(c for c in USAGE_COLUMNS if c.key not in ("framework", "started", "ended", "care_days", "open_at_month_end"))
EXCEPTION_COLUMNS = (
    Column("home", "Home", link=lambda r: f"/app/homes/{quote(r['location'], safe='')}" if r.get("location") else None),
    Column("commissioner", "Commissioner"),
    Column("period", "Month"),
    Column("placement", "Placement"),
    Column("bed_type", "Bed type", "words"),
    Column("framework_rate", "Framework rate (weekly)", "pounds"),
    Column("paid_rate", "Paid rate (weekly)", "pounds"),
    Column("difference", "Difference", "pounds"),
    Column("explained", "Explained", "tag"),
    Column("home_on_framework", "Home on the framework", "tag"),
)
NON_FRAMEWORK_COLUMNS = (
    Column("home", "Home", link=lambda r: f"/app/homes/{quote(r['location'], safe='')}" if r.get("location") else None),
    Column("framework", "Framework"),
    Column("placements", "Placements at the framework rate", "number"),
    Column("commissioners", "Commissioners"),
    Column("first_period", "First month"),
    Column("last_period", "Last month"),
)
YES_NO = ("yes", "no")


def usage_charts(rows: list[dict[str, Any]]) -> list[Chart]:
    """Month spend and placements active, one line per commissioner, over the months listed."""
    periods = sorted({r["period"] for r in rows})
    commissioners = sorted({r["commissioner"] for r in rows})
    spend: dict[tuple[str, str], float] = {}
    active: dict[tuple[str, str], int] = {}
    for r in rows:  # several frameworks' rows of one commissioner and month add up
        key = (r["commissioner"], r["period"])
        spend[key] = spend.get(key, 0) + (r["month_spend"] or 0) / 100_000  # pence -> £ thousands
        active[key] = active.get(key, 0) + (r["active"] or 0)
    labels = [month(p) for p in periods]
    return [
        Chart("Month spend by commissioner (£ thousands)", labels,
              {c: [round(spend[(c, p)], 1) if (c, p) in spend else None for p in periods] for c in commissioners},
              y_title="£ thousands in the month", from_zero=True),
        Chart("Placements active in the month, by commissioner", labels,
              {c: [active.get((c, p)) for p in periods] for c in commissioners}, y_title="placements", from_zero=True),
    ]


def paged(listed: Listed, size: int = PAGE_SIZE) -> Listed:
    """One page of a list read whole (for its chart), as `read_list` would have paged it."""
    pages = max(1, -(-listed.total // size))
    page = min(listed.page, pages)
    return Listed(listed.rows[(page - 1) * size : page * size], listed.total, page, pages, listed.asked, listed.sort, listed.as_at,
                  listed.errors, listed.refused)


class AreasController(Controller):
    path = "/app/areas"
    include_in_schema = False

    @get("/", sync_to_thread=True, guards=[requires_role(*access.AGGREGATE_READERS)])
    def index(self, request: Request[Any, Any, Any]) -> Response[Any]:
        errors: list[FieldError] = []
        as_at = parse_as_at(request.query_params.get("as_at") or None, errors)
        asked = {"as_at": as_at.isoformat()} if as_at else {}
        if errors:
            return render(request, "areas.html", status=400, title="Areas", problems=refused_or_errors(asked, None, errors), levels=[])
        try:
            context = index_context(request, as_at)
        except ProblemError as refusal:
            problems = refused_or_errors(asked, as_at, [], refusal.detail)
            return render(request, "areas.html", status=problems.status, title="Areas", problems=problems, levels=[])
        return render(request, "areas.html", title="Areas", as_at=as_at, asked=asked, **context)

    @get("/placements", sync_to_thread=True, guards=[requires_role(*access.AGGREGATE_READERS)])
    def placements(self, request: Request[Any, Any, Any]) -> Response[Any]:
        filters = (
            Filter("commissioner", "Commissioner", choices=commissioner_choices(request)),
            Filter("period", "Month", hint="For example 2025-04"),
        )
        listed = read_list(request, PLACEMENT_USAGE, filters, USAGE_COLUMNS, default_sort=None, everything=True)
        kind = wanted_download(request)
        if kind and not listed.errors and not listed.refused:
            return download(listed, USAGE_COLUMNS, kind, "placement-usage")
        charts = usage_charts(listed.rows) if listed.rows else []
        return render(request, "area_placements.html", status=listed.status, title="Placements: usage and spend",
                      listed=paged(listed), filters=filters, columns=USAGE_SHOWN, charts=charts)

    @get("/rate-exceptions", sync_to_thread=True, guards=[requires_role(*access.MONITORING_READERS)])
    def rate_exceptions(self, request: Request[Any, Any, Any]) -> Response[Any]:
        filters = (
            Filter("q", "Home or placement", hint="Part of its name or reference"),
            Filter("commissioner", "Commissioner", hint="For example ICB-NCL"),
            Filter("period", "Month", hint="For example 2025-04"),
            Filter("bed_type", "Bed type", choices=tuple(BED_TYPES)),
            Filter("explained", "Explained by the home", choices=YES_NO),
            Filter("home_on_framework", "Home on the framework", choices=YES_NO,
                   hint="No: a spot purchase, its rate agreed with the home"),
        )
        kind = wanted_download(request)
        listed = read_list(request, RATE_EXCEPTIONS, filters, EXCEPTION_COLUMNS, default_sort="-period", everything=kind is not None)
        if kind and not listed.errors and not listed.refused:
            return download(listed, EXCEPTION_COLUMNS, kind, "rate-exceptions")
        return render(request, "list_page.html", status=listed.status, title="Rate exceptions",
                      intro="Placements whose weekly rate differs from the framework's price for their bed type on their pricing day. "
                            "A positive difference is paid above the framework rate.",
                      listed=listed, filters=filters, columns=EXCEPTION_COLUMNS, caption="Placements paid another rate")

    @get("/non-framework-homes", sync_to_thread=True, guards=[requires_role(*access.AGGREGATE_READERS)])
    def non_framework_homes(self, request: Request[Any, Any, Any]) -> Response[Any]:
        filters = (Filter("q", "Home", hint="Part of its name"), Filter("framework", "Framework", hint="For example AQP-CH-LONDON"))
        kind = wanted_download(request)
        listed = read_list(request, NON_FRAMEWORK_HOMES, filters, NON_FRAMEWORK_COLUMNS, everything=kind is not None)
        if kind and not listed.errors and not listed.refused:
            return download(listed, NON_FRAMEWORK_COLUMNS, kind, "non-framework-homes")
        return render(request, "list_page.html", status=listed.status, title="Homes off the framework at the framework rate",
                      intro="Homes that were not on the framework when they charged exactly its rate: homes to invite to join it (seed 000 s.3.4).",
                      listed=listed, filters=filters, columns=NON_FRAMEWORK_COLUMNS, caption="Homes to invite onto the framework")

    @get("/{level:str}/{area:str}", sync_to_thread=True, guards=[requires_role(*access.AGGREGATE_READERS)])
    def area(self, request: Request[Any, Any, Any], level: FromPath[str], area: FromPath[str]) -> Response[Any]:
        context = dashboard(request, level, area)
        problems = context.get("problems")
        kind = wanted_download(request)
        if kind and problems is None:
            which = request.query_params.get("table")
            if which == "homes":
                rows, columns, name = context["homes"], HOME_COLUMNS, f"{level}-{area}-{context['metric']}-homes"
            else:
                # the figures the charts draw: this area and all homes by month, and its level's areas in the latest month
                seen = {(r["level"], r["area"], r["period"]) for r in (*context["mine"], *context["overall"])}
                rows = [*context["mine"], *context["overall"],
                        *(r for r in context["peers"] if (r["level"], r["area"], r["period"]) not in seen)]
                columns, name = AREA_COLUMNS, f"{level}-{area}-{context['metric']}"
            listed = Listed(rows, len(rows), 1, 1, {}, None, context["as_at"])
            return download(listed, columns, kind, "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in name.lower())[:80])
        status = problems.status if problems is not None else 200
        return render(request, "area.html", status=status, title=f"{context['name']}: quality over time", **context,
                      home_columns=HOME_COLUMNS)
