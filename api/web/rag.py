"""The RAG table (seed 004): quality-visit outcomes by category of home and financial year.

    GET /app/rag           red, amber and green counts per category and year, with the change
                           since the year before over the homes visited in both (seed 004's
                           rule), and charts of them
    GET /app/rag/visits    the concluded visits behind it, one row each

For whom: the table is for `access.AGGREGATE_READERS` (never providers), as the API's `/rag`;
the visits are the API's `MONITORING_READERS` list, a provider seeing its own homes' visits
only (the table's own scoping). The rows are the API's (`RAG_TABLE`, `RAG_VISITS`); what they
mean is `projections/rag.py`'s. Red, amber and green are always written as words beside
their colour (a tag), never colour alone.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, get

from api.http.auth import requires_role
from api.http.read_models import RAG_TABLE, RAG_VISITS
from api.web.charts import RAG_COLOURS, Chart
from api.web.lists import Column, Filter, download, read_list, wanted_download
from api.web.templating import render
from domain import access
from projections.rag import CODES, RAG, TOTAL

#: seed 004's categories in its order, then the rest
CATEGORIES = ("older_people", "mental_health", "physical_disability_sensory_impairment", "learning_disability", "uncategorised", TOTAL)
CATEGORY_NAMES = {
    "older_people": "Older people", "mental_health": "Mental health",
    "physical_disability_sensory_impairment": "Physical disability and sensory impairment",
    "learning_disability": "Learning disability", "uncategorised": "Uncategorised", TOTAL: "All categories",
}
TABLE_COLUMNS = (
    Column("year", "Year"),
    Column("category", "Category", "words"),
    Column("category_code", "Code"),
    Column("red", "Red", "number"),
    Column("amber", "Amber", "number"),
    Column("green", "Green", "number"),
    Column("homes", "Homes with an outcome", "number"),
    Column("previous_year", "Compared with"),
    Column("homes_both_years", "Homes in both years", "number"),
    Column("red_change", "Change in red", "number"),
    Column("amber_change", "Change in amber", "number"),
    Column("green_change", "Change in green", "number"),
)
VISIT_COLUMNS = (
    Column("home_name", "Home", link=lambda r: f"/app/homes/{quote(r['location'], safe='')}" if r.get("location") else None),
    Column("category", "Category", "words"),
    Column("year", "Year"),
    Column("visit_date", "Visited", "date"),
    Column("rag", "Outcome", "tag"),
    Column("percent", "Score (% of maximum)", "number"),
    Column("below_standard", "Indicators below standard", "number"),
    Column("concluded_on", "Concluded", "date"),
    Column("counted", "Counted for the year", "tag"),
)
FILTERS = (
    Filter("year", "Financial year", hint="For example 2025-26"),
    Filter("category", "Category of home", choices=CATEGORIES),
)
VISIT_FILTERS = (
    Filter("q", "Home", hint="Part of its name"),
    Filter("year", "Financial year", hint="For example 2025-26"),
    Filter("category", "Category of home", choices=CATEGORIES),
    Filter("rag", "Outcome", choices=RAG),
    Filter("counted", "Counted for the year", choices=("yes", "no"), hint="Yes: the visit that gives the home's outcome"),
)


def change(value: int | None) -> str:
    """A year-on-year change as a board reads it: +6, −10, 0; – when not comparable."""
    if value is None:
        return "–"
    return f"+{value}" if value > 0 else f"−{-value}" if value < 0 else "0"


def charts(rows: list[dict[str, Any]]) -> list[Chart]:
    """The latest year's outcomes by category, and every year's outcomes of all categories."""
    years = sorted({r["year"] for r in rows})
    if not years:
        return []
    latest = years[-1]
    by_category = sorted((r for r in rows if r["year"] == latest and r["category"] != TOTAL), key=lambda r: CATEGORIES.index(r["category"])
                         if r["category"] in CATEGORIES else 99)
    found: list[Chart] = []
    if by_category:
        found.append(Chart(
            f"Visit outcomes in {latest} by category of home", [CODES.get(r["category"], r["category"]) for r in by_category],
            {word.capitalize(): [r[word] for r in by_category] for word in RAG}, y_title="homes", kind="bar", colours=RAG_COLOURS,
        ))
    totals = sorted((r for r in rows if r["category"] == TOTAL), key=lambda r: r["year"])
    if len(totals) > 1:
        found.append(Chart(
            "Visit outcomes of all categories, by year", [r["year"] for r in totals],
            {word.capitalize(): [r[word] for r in totals] for word in RAG}, y_title="homes", kind="bar", colours=RAG_COLOURS,
        ))
    return found


def grouped(rows: list[dict[str, Any]]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The rows by year, latest first, in seed 004's order of categories (the total last)."""
    order = {c: i for i, c in enumerate(CATEGORIES)}
    years = sorted({r["year"] for r in rows}, reverse=True)
    return [(y, sorted((r for r in rows if r["year"] == y), key=lambda r: order.get(r["category"], 98))) for y in years]


class RagController(Controller):
    path = "/app/rag"
    include_in_schema = False

    @get("/", sync_to_thread=True, guards=[requires_role(*access.AGGREGATE_READERS)])
    def table(self, request: Request[Any, Any, Any]) -> Response[Any]:
        # The whole table is small (a row per category and year): read whole, for the charts and the download.
        listed = read_list(request, RAG_TABLE, FILTERS, TABLE_COLUMNS, everything=True)
        kind = wanted_download(request)
        if kind and not listed.errors and not listed.refused:
            return download(listed, TABLE_COLUMNS, kind, "rag-table")
        return render(request, "rag.html", status=listed.status, title="RAG table", listed=listed, filters=FILTERS,
                      years=grouped(listed.rows), charts=charts(listed.rows), names=CATEGORY_NAMES, codes=CODES, change=change)

    @get("/visits", sync_to_thread=True, guards=[requires_role(*access.MONITORING_READERS)])
    def visits(self, request: Request[Any, Any, Any]) -> Response[Any]:
        kind = wanted_download(request)
        listed = read_list(request, RAG_VISITS, VISIT_FILTERS, VISIT_COLUMNS, default_sort="-visit_date", everything=kind is not None)
        if kind and not listed.errors and not listed.refused:
            return download(listed, VISIT_COLUMNS, kind, "quality-visits")
        return render(request, "list_page.html", status=listed.status, title="Quality visits",
                      intro="Every concluded quality monitoring visit, with its outcome. The visit counted for a year is the home's "
                            "latest of that year; it is the one the RAG table counts.",
                      crumbs=[{"href": "/app/rag", "text": "RAG table"}],
                      listed=listed, filters=VISIT_FILTERS, columns=VISIT_COLUMNS, caption="Quality visits")
