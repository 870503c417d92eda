"""Quality dashboards: every quality-return metric over time, per home and aggregated by area.

Seed 000 s.6.2.3: monthly dashboards "at a range of levels: individual dashboards for every
AQP nursing home; aggregate dashboards at CCG level; aggregate dashboards at CCG Directorate
(32) level; a pan-London overview", showing quality over time.

**Metrics.** Every count or percentage metric of the template version a return was made
against (that version's definition, as published, even when a later version relabels or
drops a metric: e.g. the London AQP care-home monthly return's
falls, pressure ulcers, infection outbreaks, safeguarding alerts, hospital admissions,
ambulance call-outs, complaints, staffing). Text, yes/no, date and choice answers are not
series. Values are as last submitted or amended (an amendment replaces the figure; the
earlier one stays in the return's history, not here).

**Rates per 1,000 bed-days**, for the metrics that count events or people affected in the
period (`RATED` below: falls, residents who fell, pressure ulcers, outbreaks, residents
infected, serious incidents, unplanned admissions, ambulance call-outs, complaints,
safeguarding alerts; Cheshire East's incidents, accidents, admissions, care concerns and
safeguarding enquiries): rate = value / bed-days x 1,000. Bed-days are the home's
*registered beds* (CQC's `numberOfBeds`, as the ledger knew it when the return was first
submitted: `Location.Imported` / `BedsChanged`) x the days in the period. Why not occupied
bed-days: the return does not ask for them, and its `residents` counts everyone resident at
any time in the month, so residents x days would overstate exposure for homes with turnover;
registered beds are known for every home from CQC, the same basis for every home and month,
and let a 30-bed home be compared with a 90-bed one. (A home with empty beds has a somewhat
lower rate than on occupied bed-days; the raw counts are beside the rates.) Example: 60
beds, April (30 days) -> 1,800 bed-days; 14 falls -> 7.78 per 1,000 bed-days. A home with no
known beds has no rate and no bed-days in the aggregates. Stock figures (residents, staff,
vacancies) and home-care returns (no beds; their fair exposure would be hours delivered)
have no rate.

Tables:

`quality_series` - one row per home, template, metric and period, key
"LOCATION|TEMPLATE|METRIC|PERIOD":
    location, home_name, provider, icb (ICB/CCG as CQC places the home), directorate (the
    commissioning area set by commissioners), template, section, metric, label, unit, period,
    period_start, value (REAL: a count, or a percentage for percent metrics), bed_days,
    rate_per_1000_bed_days, amended (yes/no), received_at (when first submitted, UTC).

`quality_areas` - the same metric aggregated, key "LEVEL|AREA|TEMPLATE|METRIC|PERIOD":
    level: icb | directorate | framework | all ("all" is the pan-framework overview: every
    home that returned); area: the ICB/CCG, directorate, framework reference or "all";
    template, section, metric, label, unit, period, homes (homes reporting the metric), total
    (sum of their values), mean (total / homes: for a percentage, the mean of the homes'
    percentages), bed_days (of the homes with known beds), rate_per_1000_bed_days (their
    total / their bed-days x 1,000). Example: two homes in NCL report 14 falls (60 beds) and
    6 falls (30 beds) for April -> homes 2, total 20, mean 10.0, bed_days 2,700, rate 7.41.
    A home's ICB/CCG, directorate and frameworks are those of the moment its return for the
    period was first submitted (the frameworks under which it owed that template then).

The other tables (`quality_homes`, `_contracts`, `_frameworks`, `_location_ids`,
`_templates`, `_returns`, `_received`) are this read model's own lookups.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.monitoring.returns import Return
from projections import follow
from projections.handlers import handles
from projections.memo import utc
from projections.monitoring import Directory, ReturnIndex, Templates, dumps, loads, shared
from projections.read_model import TableReadModel
from projections.tables import INTEGER, REAL, Column, Page, Table
from projections.views import TableView

PREFIX = "quality"
SERIES_TYPES = ("count", "percent")
#: metrics whose rate per 1,000 bed-days is the fair comparison between homes (see module doc)
RATED = frozenset(
    {
        "falls",
        "residents_who_fell",
        "pressure_ulcers_total",
        "pu_grade3_acquired",
        "pu_grade4_acquired",
        "pu_ungradable_acquired",
        "outbreaks_total",
        "residents_infected",
        "serious_incidents_cqc",
        "hospital_admissions",
        "ambulance_callouts",
        "complaints_received",
        "complaints_upheld",
        "safeguarding_alerts",
        # Cheshire East's 4-weekly return
        "incidents",
        "accidents",
        "care_concerns_raised",
        "enquiries_commenced",
    }
)
#: templates whose homes have beds (home-care branches have none)
BED_TEMPLATES = frozenset({"london-aqp-care-home-monthly", "cheshire-east-4-weekly", "cheshire-east-quarterly"})

#: which metric of which template, and for which period, a row is about
METRIC_COLUMNS = tuple(Column(c) for c in ("template", "section", "metric", "label", "unit", "period"))
SERIES = Table(
    "quality_series",
    (
        Column("location"),
        Column("home_name"),
        Column("provider"),
        Column("icb"),
        Column("directorate"),
        *METRIC_COLUMNS,
        Column("period_start"),
        Column("value", REAL),
        Column("bed_days", INTEGER),
        Column("rate_per_1000_bed_days", REAL),
        Column("amended"),
        Column("received_at"),
    ),
    order_by=("location", "template", "metric", "period"),
    indexes=(("location", "metric"), ("metric", "period"), ("icb",), ("directorate",), ("provider",)),
)
AREAS = Table(
    "quality_areas",
    (
        Column("rated_total", REAL, hidden=True),
        Column("level"),
        Column("area"),
        *METRIC_COLUMNS,
        Column("homes", INTEGER),
        Column("total", REAL),
        Column("mean", REAL),
        Column("bed_days", INTEGER),
        Column("rate_per_1000_bed_days", REAL),
    ),
    order_by=("level", "area", "template", "metric", "period"),
    indexes=(("level", "area"), ("metric", "period")),
)
#: per return id: the values as they stand and where the home stood when it first returned
RECEIVED = Table(
    "quality_received",
    (
        Column("values_json"),
        Column("bed_days", INTEGER),
        Column("home_name"),
        Column("provider"),
        Column("icb"),
        Column("directorate"),
        Column("frameworks"),
        Column("received_at"),
    ),
)


def rate(value: float | None, bed_days: int | None) -> float | None:
    if value is None or not bed_days:
        return None
    return round(1000 * value / bed_days, 2)


#: a row of `quality_areas` not yet read in this page
_UNREAD: Any = object()


def series_metrics(definition: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    return {m["id"]: m for m in (definition or {}).get("metrics", []) if m["type"] in SERIES_TYPES}


class QualityDashboards(TableReadModel):
    name = "quality"
    directory = Directory(PREFIX)
    templates = Templates(PREFIX)
    index = ReturnIndex(PREFIX)
    tables = (SERIES, AREAS, RECEIVED, *directory.tables, *templates.tables, *index.tables)

    @handles(*directory.followed)
    def directory_changed(self, event: Any, page: Page) -> None:
        self.directory.apply(event, page)

    @handles(*templates.followed)
    def template_published(self, event: Any, page: Page) -> None:
        self.templates.apply(event, page)

    @handles(Return.Opened)
    def opened(self, event: Return.Opened, page: Page) -> None:
        self.index.apply(event, page)

    @handles(Return.Submitted, Return.Amended)
    def values_returned(self, event: Any, page: Page) -> None:
        found = self.index.get(page, event)
        if found is not None:
            self._values(page, event, found)

    def _values(self, page: Page, event: Any, found: dict[str, Any]) -> None:
        rid = str(event.originator_id)
        received = page.get(RECEIVED.name, rid)
        if received is None:
            received = self._first(page, event, found)
        before = loads(received["values_json"], {})
        after = dict(event.values)
        metrics = series_metrics(self.templates.get(page, found["template"], found["template_version"]))
        amended = isinstance(event, Return.Amended)
        # What every metric's rows share, worked out once per event rather than once per metric.
        template, period = found["template"], found["period"]
        areas = [("all", "all")]
        areas += [(level, received[level]) for level in ("icb", "directorate") if received[level]]
        areas += [("framework", f) for f in shared(received["frameworks"], [])]
        areas_keyed = [(level, area, f"{level}|{area}|{template}|") for level, area in areas]
        series = {
            "location": found["location"],
            "home_name": received["home_name"],
            "provider": received["provider"],
            "icb": received["icb"],
            "directorate": received["directorate"],
            "template": template,
            "period": period,
            "period_start": found["period_start"],
            "amended": "yes" if amended else "no",
            "received_at": received["received_at"],
        }
        prefix = f"{found['location']}|{template}|"
        work = page.notes.setdefault(self.name, {})
        for metric_id, metric in metrics.items():
            old, new = before.get(metric_id), after.get(metric_id)
            if old == new:
                continue
            self._series(page, prefix, series, received, metric, new)
            if old is not None:
                self._areas(page, work, areas_keyed, template, period, received, metric, old, -1)
            if new is not None:
                self._areas(page, work, areas_keyed, template, period, received, metric, new, +1)
        page.update(RECEIVED.name, rid, values_json=dumps(after))

    def _first(self, page: Page, event: Any, found: dict[str, Any]) -> dict[str, Any]:
        """Where the home stood when this return first arrived (kept, so amendments move the same sums)."""
        home = self.directory.home(page, found["location"])
        start, end = date.fromisoformat(found["period_start"]), date.fromisoformat(found["period_end"])
        beds = home.get("beds") if found["template"] in BED_TEMPLATES else None
        row = {
            "values_json": None,
            "bed_days": beds * ((end - start).days + 1) if beds else None,
            "home_name": home.get("name"),
            "provider": home.get("provider"),
            "icb": home.get("icb_name") or home.get("icb_code"),
            "directorate": home.get("directorate"),
            "frameworks": dumps(
                self.directory.frameworks_owed(page, found["location"], found["template"], found["period_start"], found["period_end"])
            ),
            "received_at": utc(event.timestamp),
        }
        page.put(RECEIVED.name, str(event.originator_id), row)
        return row

    def _series(
        self, page: Page, prefix: str, series: dict[str, Any], received: dict[str, Any], metric: dict[str, Any], value: Any
    ) -> None:
        metric_id = metric["id"]
        key = f"{prefix}{metric_id}|{series['period']}"
        if value is None:
            page.delete(SERIES.name, key)
            return
        bed_days = received["bed_days"] if metric_id in RATED else None
        row = series.copy()
        row["section"] = metric["section"]
        row["metric"] = metric_id
        row["label"] = metric["label"]
        row["unit"] = metric["unit"]
        row["value"] = value
        row["bed_days"] = bed_days
        row["rate_per_1000_bed_days"] = rate(value, bed_days)
        page.put(SERIES.name, key, row)

    def _areas(
        self,
        page: Page,
        work: dict[str, dict[str, Any] | None],
        areas: list[tuple[str, str, str]],
        template: str,
        period: str,
        received: dict[str, Any],
        metric: dict[str, Any],
        value: Any,
        sign: int,
    ) -> None:
        """Add (sign +1) or take away (-1) one home's value in every area it counts in.

        `areas`: (level, area, the start of its rows' keys). The sums move in `work` (the page's
        rows of `quality_areas` as they stand, None for a row with no home left), step by step
        exactly as they would one event after another; `finish` writes them, with their mean
        and rate, once per page.
        """
        metric_id = metric["id"]
        rated = metric_id in RATED
        bed_days = received["bed_days"] if rated else None
        step = sign * value
        suffix = f"{metric_id}|{period}"
        for level, area, prefix in areas:
            key = prefix + suffix
            row = work.get(key, _UNREAD)
            if row is _UNREAD:
                row = work[key] = page.get(AREAS.name, key)
            if row is None:
                row = work[key] = {
                    "level": level,
                    "area": area,
                    "template": template,
                    "section": metric["section"],
                    "metric": metric_id,
                    "label": metric["label"],
                    "unit": metric["unit"],
                    "period": period,
                    "homes": 0,
                    "total": 0,
                    "rated_total": 0,
                    "bed_days": 0 if rated else None,
                }
            homes = row["homes"] = row["homes"] + sign
            if homes == 0:
                work[key] = None  # deleted: a later home starts the row afresh
                continue
            # Rounded at each step so that percentages added and taken away leave no float dust
            # (a sum of whole numbers is one already: round(n, 4) is n).
            total = row["total"] + step
            row["total"] = total if type(total) is int else round(total, 4)
            if bed_days:
                row["bed_days"] += sign * bed_days
                total = row["rated_total"] + step
                row["rated_total"] = total if type(total) is int else round(total, 4)

    def finish(self, page: Page) -> None:
        for key, row in page.notes.pop(self.name, {}).items():
            if row is None:
                page.delete(AREAS.name, key)
                continue
            row["mean"] = round(row["total"] / row["homes"], 2)
            row["rate_per_1000_bed_days"] = rate(row["rated_total"], row["bed_days"])
            page.put(AREAS.name, key, row)


def open_view(ledger: Any) -> TableView:
    return follow.live_view(ledger, QualityDashboards)


def catch_up(ledger: Any, view: TableView | None = None, *, page_size: int | None = None) -> int:
    """Bring the quality dashboards up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, QualityDashboards(view or open_view(ledger)), page_size=page_size)
