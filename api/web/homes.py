"""The CMS list and a care home: where the beds are, and how each home is doing.

    GET /app/homes              the CMS list: every home the viewer may see, filtered, sorted, in pages,
                                as at a date; the list as filtered as CSV or XLSX (`?download=csv|xlsx`)
    GET /app/homes/{location}   a home: its CQC facts and ratings, vacancies over time, every quality
                                figure over time beside its areas', returns and punctuality, contracts,
                                suspensions, concerns and its people, as at a date (`?as_at=`)

For everybody signed in (`access.ALL_ROLES`, as the API's `/locations`). Each page reads what the
API reads for the same person, and nothing else:

- the list is the API's `read_models.LOCATIONS` (a provider sees only its own homes; the count of
  open concerns only those the Table's restricted column allows: for others it is not shown at all);
- a home is `api.http.homes.location_for`, the API's `GET /locations/{reference}`: a home the
  viewer may not see answers 404 with the API's sentence; concerns and the names of its people
  appear only as `location_view` gives them to this viewer;
- its quality figures and returns (`QUALITY_SERIES`, `RETURN_COMPLIANCE`, `COMPLIANCE_SUMMARY`)
  only for the roles the API lets read them (`access.MONITORING_READERS`), its areas' figures
  (`QUALITY_AREAS`) only for `access.AGGREGATE_READERS` (not providers), its contracts (the
  register, `CONTRACTS`) for `access.NOT_EVALUATORS`: a section the API would refuse is not drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

from litestar import Controller, Request, Response, get
from litestar.params import FromPath

from api.http.auth import principal_of, requires_role
from api.http.contracts import CONTRACTS
from api.http.homes import location_for
from api.http.problems import ProblemError
from api.http.read_models import COMPLIANCE_SUMMARY, LOCATIONS, QUALITY_AREAS, QUALITY_SERIES, RETURN_COMPLIANCE, STALE_AFTER_DAYS
from api.http.tables import today
from api.web.charts import Chart
from api.web.lists import Column, FieldError, Filter, as_at_moment, download, parse_as_at, read_list, read_rows, wanted_download
from api.web.templating import render
from domain import access
from domain.providers import vacancies as vacancy_rules
from domain.providers.location import BED_TYPES, CATEGORIES
from domain.providers.views import WITHHELD

#: CQC's overall ratings (the words CQC publishes)
RATINGS = ("Outstanding", "Good", "Requires improvement", "Inadequate")
BED_WORDS = {"nursing": "Nursing", "nursing_dementia": "Nursing dementia", "residential": "Residential", "residential_dementia": "Residential dementia"}
YES_NO = ("yes", "no")
#: homes on a page of the list
PAGE_SIZE = 25

FILTERS = (
    Filter("name", "Name contains"),
    Filter("postcode_district", "Postcode district", hint="The part before the space, for example N1"),
    Filter("local_authority", "Local authority", hint="As CQC names it, for example Camden"),
    Filter("icb", "ICB", hint="As CQC names it: select an ICB in the list to filter by it"),
    Filter("directorate", "Directorate", hint="The commissioners' area, for example Newham"),
    Filter("category", "Category", choices=CATEGORIES),
    Filter("rating", "CQC rating", choices=RATINGS),
    Filter("vacancies", "With vacancies of", choices=(*BED_TYPES, "any"),
           labels={**{b: w + " beds" for b, w in BED_WORDS.items()}, "any": "Any bed type"}),
    Filter("suspended", "Placements suspended", choices=YES_NO, labels={"yes": "Suspended", "no": "Not suspended"}),
    Filter("stale", "Vacancy report", choices=YES_NO,
           labels={"no": f"Up to date (at most {STALE_AFTER_DAYS} days old)", "yes": f"Out of date (over {STALE_AFTER_DAYS} days old)"}),
    Filter("on_framework", "On the framework", choices=YES_NO, labels={"yes": "On the framework", "no": "Not on the framework"}),
)


def home_address(location: str | None) -> str | None:
    return f"/app/homes/{quote(location, safe='')}" if location else None


def filtered_by(column: str) -> Callable[[dict[str, Any]], str | None]:
    """A cell that, selected, filters the list by its value (how to pick an ICB without typing its CQC name)."""
    return lambda row: "/app/homes?" + urlencode({column: row[column]}) if row.get(column) else None


def short_icb(name: str | None) -> str | None:
    """"NHS North Central London Integrated Care Board" as people say it: "North Central London"."""
    if not name:
        return name
    short = name.removeprefix("NHS ").removesuffix(" Integrated Care Board")
    return short if short else name


def provider_name(row: dict[str, Any]) -> str | None:
    # CQC gives no provider name, only (sometimes) a brand; otherwise its CQC provider id is all there is.
    brand = row.get("provider_brand")
    return brand.removeprefix("BRAND ") if brand else row.get("provider")


def reported(row: dict[str, Any]) -> str:
    age = row.get("vacancy_report_age_days")
    if age is None:
        return "Never reported"
    when = "Today" if age == 0 else "Yesterday" if age == 1 else f"{age} days ago" if age > 0 else "Ahead of the day asked"
    return when + (" (out of date)" if row.get("vacancies_stale") == "yes" else "")


def list_columns(sees_concerns: bool) -> list[Column]:
    columns = [
        Column("name", "Home", link=lambda r: home_address(r.get("location")), shown=lambda r: r.get("name") or r.get("location")),
        Column("provider", "Provider", shown=provider_name),
        Column("local_authority", "Local authority", link=filtered_by("local_authority")),
        Column("icb", "ICB", link=filtered_by("icb"), shown=lambda r: short_icb(r.get("icb"))),
        Column("category", "Category", kind="words"),
        Column("overall_rating", "CQC rating"),
        Column("beds", "Beds", kind="number"),
        *(Column(f"vacancies_{b}", w, kind="number", group="Vacancies") for b, w in BED_WORDS.items()),
        Column("vacancies_total", "All", kind="number", group="Vacancies"),
        Column("vacancies_day", "Reported", shown=reported, group="Vacancies"),
        Column("suspension_in_force", "Suspended", kind="tag", sortable=False,
               shown=lambda r: "suspended" if r.get("suspension_in_force") == "yes" else "No"),
        Column("on_framework", "On framework", shown=lambda r: {"yes": "Yes", "no": "No"}.get(r.get("on_framework") or "", "")),
    ]
    if sees_concerns:
        columns.append(Column("open_concerns", "Open concerns", kind="number"))
    return columns


def download_columns(sees_concerns: bool) -> list[Column]:
    """The list's columns with the facts a spreadsheet wants beside them (values, not the page's words)."""
    return [
        Column("location", "CQC location ID"), Column("name", "Home"), Column("provider", "CQC provider ID"),
        Column("provider_brand", "Provider brand"), Column("address", "Address"), Column("town", "Town"), Column("postcode", "Postcode"),
        Column("local_authority", "Local authority"), Column("icb", "ICB"), Column("commissioning_area", "Directorate"),
        Column("category", "Category"), Column("overall_rating", "CQC rating"), Column("rating_date", "Rating date"),
        Column("beds", "Beds", kind="number"),
        *(Column(f"vacancies_{b}", f"{w} vacancies", kind="number") for b, w in BED_WORDS.items()),
        Column("vacancies_total", "All vacancies", kind="number"), Column("vacancies_day", "Vacancies for day"),
        Column("vacancy_report_age_days", "Report age (days)", kind="number"), Column("vacancies_stale", "Report out of date"),
        Column("suspension_in_force", "Placements suspended"), Column("suspended_from", "Suspended from"),
        Column("suspended_until", "Suspended until"), Column("suspension_reason", "Suspension reason"),
        Column("on_framework", "On framework"), Column("framework_contracts", "Framework contracts"),
        *([Column("open_concerns", "Open concerns", kind="number")] if sees_concerns else []),
    ]


def sees_concern_counts(request: Request[Any, Any, Any]) -> bool:
    # The Table's own policy for its restricted column, so the page shows the column exactly when the API fills it.
    return LOCATIONS.restricted["open_concerns"](principal_of(request).actor())


class HomesController(Controller):
    path = "/app/homes"
    include_in_schema = False

    @get("/", sync_to_thread=True, guards=[requires_role(*access.ALL_ROLES)])
    def cms_list(self, request: Request[Any, Any, Any]) -> Response[Any]:
        concerns = sees_concern_counts(request)
        columns = list_columns(concerns)
        kind = wanted_download(request)
        listed = read_list(request, LOCATIONS, FILTERS, columns, default_sort="name", page_size=PAGE_SIZE,
                           everything=kind is not None)
        if kind and listed.status == 200:
            day = listed.as_at or today()
            return download(listed, download_columns(concerns), kind, f"care-homes-{day.isoformat()}")
        return render(request, "homes.html", status=listed.status, title="Care homes", listed=listed, filters=FILTERS,
                      columns=columns, stale_days=STALE_AFTER_DAYS)

    @get("/{location:str}", sync_to_thread=True, guards=[requires_role(*access.ALL_ROLES)])
    def care_home(self, request: Request[Any, Any, Any], location: FromPath[str]) -> Response[Any]:
        errors: list[FieldError] = []
        as_at = parse_as_at(request.query_params.get("as_at") or None, errors)
        if errors:
            raise ProblemError(400, "validation_failed", errors[0].message)
        day = as_at or today()
        home = location_for(request, location, as_at_moment(as_at) if as_at else None, today=day)
        role = principal_of(request).role
        page = HomePage(request, home, as_at, day)
        return render(
            request, "care_home.html", title=home["name"] or home["reference"], home=home, as_at=as_at, day=day,
            cms=page.cms(), vacancies=vacancy_history(home), suspensions=suspensions(home, day),
            quality=page.quality() if role in access.MONITORING_READERS else None,
            compares=role in access.AGGREGATE_READERS,
            returns=page.returns() if role in access.MONITORING_READERS else None,
            contracts=page.contracts() if role in access.NOT_EVALUATORS else None,
            withheld=WITHHELD, short_icb=short_icb, bed_words=BED_WORDS, period_words=period_words,
        )


class HomePage:
    """The read models' rows about one home, each read as its API route reads it for this person."""

    def __init__(self, request: Request[Any, Any, Any], home: dict[str, Any], as_at: date | None, day: date) -> None:
        self.request, self.home, self.as_at, self.day = request, home, as_at, day
        self.reference = home["reference"]
        self._cms: dict[str, Any] | None = None

    def rows(self, table: Any, **kwargs: Any) -> tuple[list[dict[str, Any]], str | None]:
        """The rows, or none and the API's sentence when it cannot give them as at the day (a long history)."""
        try:
            return read_rows(self.request, table, as_at=self.as_at, **kwargs), None
        except ProblemError as refusal:
            return [], refusal.detail

    def cms(self) -> dict[str, Any]:
        rows, refused = self.rows(LOCATIONS, filters={"location": self.reference})
        return {"row": rows[0] if rows else None, "refused": refused}

    def quality(self) -> dict[str, Any]:
        """Every metric the home returned in the last two years, with its areas' figures for the same months."""
        since = months_before(self.day, 23)
        series, refused = self.rows(QUALITY_SERIES, filters={"location": self.reference}, params={"period_from": since}, sort="period")
        if refused or not series:
            return {"refused": refused, "sections": [], "periods": [], "areas": []}
        latest = series[-1]
        # The areas the home's figures were counted in: those of its latest return (`projections.quality`).
        areas = [("directorate", latest.get("directorate")), ("icb", latest.get("icb")), ("all", "all")]
        area_rows: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]] = {}
        area_refused = None
        # Only the charted figure is set beside its areas: read only its rows.
        rated = [r["metric"] for r in series if r["rate_per_1000_bed_days"] is not None]
        asked = self.request.query_params.get("metric")
        chosen = asked if asked in rated else (rated[0] if rated else None)
        if chosen is not None and principal_of(self.request).role in access.AGGREGATE_READERS:
            for level, area in areas:
                if not area:
                    continue
                found, area_refused = self.rows(QUALITY_AREAS, filters={"level": level, "area": area, "metric": chosen},
                                                params={"period_from": since})
                area_rows[(level, area)] = {(r["metric"], r["period"]): r for r in found}
        return quality_sections(series, areas, area_rows, area_refused, chosen=chosen)

    def returns(self) -> dict[str, Any]:
        rows, refused = self.rows(RETURN_COMPLIANCE, filters={"location": self.reference}, sort="-period")
        summary, _ = self.rows(COMPLIANCE_SUMMARY, filters={"scope": "home", "scope_id": self.reference, "span": "year_to_date", "template": "all"},
                               sort="-period")
        return {"rows": rows, "refused": refused, "year": summary[0] if summary else None}

    def contracts(self) -> dict[str, Any]:
        cms = self.cms()
        row = cms["row"]
        if row is None:
            return {"rows": [], "refused": cms["refused"]}
        wanted = [r for r in (row.get("framework_contracts") or "").split("; ") if r]
        if not wanted:
            return {"rows": [], "refused": None}
        # The register is one row per contract, read whole by its API route too (a Python table).
        rows, refused = self.rows(CONTRACTS)
        return {"rows": [r for r in rows if r["reference"] in wanted], "refused": refused}


def months_before(day: date, months: int) -> str:
    """The month `months` before `day`'s, as a period ("2025-01")."""
    index = day.year * 12 + day.month - 1 - months
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def period_words(period: str) -> str:
    """"2025-05" as "May 2025" (another period, e.g. a quarter, as it is)."""
    try:
        return date.fromisoformat(period + "-01").strftime("%b %Y")
    except ValueError:
        return period


AREA_WORDS = {"directorate": "{area} (directorate)", "icb": "{area} ICB", "all": "All homes reporting"}


def quality_sections(
    series: list[dict[str, Any]],
    areas: list[tuple[str, str | None]],
    area_rows: dict[tuple[str, str], dict[tuple[str, str], dict[str, Any]]],
    area_refused: str | None,
    chosen: str | None = None,
) -> dict[str, Any]:
    """The home's figures grouped by the return's sections: each metric's values over the months (a
    table), and for one metric counted per 1,000 bed-days (`chosen`, else the first) a chart of the
    home's rate beside its areas'. One chart, not one per metric: a dozen drawings made the page
    ten times the weight of any other, and the figures of every metric are in the tables."""
    periods = sorted({r["period"] for r in series})
    shown_periods = periods[-12:]
    by_metric: dict[str, dict[str, Any]] = {}
    for r in series:
        metric = by_metric.setdefault(r["metric"], {"metric": r["metric"], "label": r["label"], "unit": r["unit"], "section": r["section"],
                                                    "values": {}, "rates": {}})
        metric["values"][r["period"]] = r["value"]
        if r["rate_per_1000_bed_days"] is not None:
            metric["rates"][r["period"]] = r["rate_per_1000_bed_days"]
    names = [(level, area, AREA_WORDS[level].format(area=short_icb(area) if level == "icb" else area)) for level, area in areas
             if area and (level, area) in area_rows]
    sections: dict[str, dict[str, Any]] = {}
    for metric in by_metric.values():
        section = sections.setdefault(metric["section"] or "Other", {"name": metric["section"] or "Other", "metrics": []})
        section["metrics"].append(metric)
    rated = [m for m in by_metric.values() if m["rates"]]
    shown = next((m for m in rated if m["metric"] == chosen), rated[0] if rated else None)
    chart = None
    if shown is not None:
        lines = {"This home": [shown["rates"].get(p) for p in periods]}
        for level, area, words in names:
            found = area_rows[(level, area)]
            lines[words] = [(found.get((shown["metric"], p)) or {}).get("rate_per_1000_bed_days") for p in periods]
        chart = Chart(f"{shown['label']}: per 1,000 bed-days, this home beside its areas", [period_words(p) for p in periods], lines,
                      y_title="per 1,000 bed-days", from_zero=True)
    return {"refused": None, "area_refused": area_refused, "sections": list(sections.values()), "periods": shown_periods,
            "period_words": {p: period_words(p) for p in periods}, "areas": [w for _l, _a, w in names],
            "rated": [(m["metric"], m["label"]) for m in rated], "chosen": shown["metric"] if shown else None, "chart": chart}


def vacancy_history(home: dict[str, Any]) -> dict[str, Any]:
    """The home's vacancy reports (kept on its record, one a day): the latest, and a chart of the
    last 26 weeks with one point a week (the week's last report) so it stays readable."""
    reports = home.get("vacancies") or {}
    days = sorted(reports)
    if not days:
        return {"latest": None, "chart": None, "reports": 0}
    weeks: dict[tuple[int, int], str] = {}
    for d in days:
        weeks[date.fromisoformat(d).isocalendar()[:2]] = d  # the later day of a week replaces the earlier
    chosen = [weeks[w] for w in sorted(weeks)][-26:]
    lines: dict[str, list[float | None]] = {
        BED_WORDS[b]: [reports[d]["counts"].get(b) for d in chosen] for b in BED_TYPES
    }
    lines["All vacancies"] = [reports[d]["total"] for d in chosen]
    chart = Chart("Vacancies by bed type: the last report of each week", [date.fromisoformat(d).strftime("%-d %b %Y") for d in chosen],
                  lines, y_title="beds")
    latest_day = days[-1]
    return {"latest": {"day": latest_day, **reports[latest_day]}, "chart": chart, "reports": len(days), "first": days[0]}


def suspensions(home: dict[str, Any], day: date) -> list[dict[str, Any]]:
    """The home's voluntary suspensions, newest first, each with where it stands on the day (`domain.providers.vacancies`)."""
    found = []
    iso = day.isoformat()
    for s in reversed(home.get("suspensions") or []):
        lifted = s.get("lifted_on") is not None and s["lifted_on"] <= iso
        if vacancy_rules.suspension_in_force(day, first_day=s["from_date"], last_day=s["to_date"], lifted=lifted):
            state = "in force"
        elif lifted:
            state = "lifted"
        elif s["from_date"] > iso:
            state = "starts later"
        else:
            state = "ended"
        found.append({**s, "state": state})
    return found
