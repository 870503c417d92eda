"""Return compliance: which returns were expected, which arrived, on time or within three months.

Seed 000 s.3.2 and s.6.2.1 (London AQP): "75% of AQP provider data returns by deadline and
over 95% of returns 3 months after deadline", and providers see "recent punctuality of report
completion"; seed 003 s.3.6 (Cheshire East): timeliness of submissions 95%, and "not submitted
... for three consecutive periods" is a service failure.

**What is expected.** A return (home x template x period) is expected when the ledger holds a
record of it - it was submitted (`Return.Opened` + `Submitted`) or recorded missed by the
scheduler or a contract manager (`Return.Missed`) - or when the home owes it under a framework
contract and its deadline has passed (see `projections/monitoring.py`, `Expectations`: a home
on a contract whose framework's monitoring lists the template owes it for every period it
was held; the deadline is the template's rule, the ledger's day is that of the latest event
applied, never the clock). Returns are counted per template whatever its version, as the
performance process counts missed periods.

**Statuses** of an expected return: `on_time` (submitted on or before its deadline, as the
`Submitted` event's `lateness` says: the domain computed the working-day deadline), `late`
(submitted after it, including a return first recorded missed), `missed` (recorded missed,
not received), `overdue` (owed under a contract, deadline passed, no record at all: the
scheduler has not recorded it missed yet), `due` (opened, not yet decided: never seen
between commands). *Within three months*: submitted no later than three calendar months
after the deadline (due 15 May -> by 15 August; due 30 November -> by 28 February).

Tables (keys are text; days ISO dates; percentages REAL, 0-100, two decimals; null when
there is nothing to divide by):

`return_compliance` - one row per expected return, key "LOCATION|TEMPLATE|PERIOD":
    location, provider, template, period, period_end, year (financial year of the period's
    end, "2026-27"), due_on, status, submitted_on, days_late (calendar days after the
    deadline; 0 when on time), on_time (yes/no, null until received), within_three_months
    (yes/no, null until received), three_months_after_due, missed_on (the day it was recorded
    missed), icb, local_authority, directorate, frameworks (comma-separated: the frameworks
    under which the home owed this template for the period), last_event_at.
    The home's provider, ICB/CCG, local authority, directorate and frameworks are those of
    the moment the return was first expected: a later novation or move does not rewrite who
    was responsible then.

`compliance_summary` - counts per scope, template and span, key
"SCOPE|SCOPE_ID|TEMPLATE|SPAN|PERIOD":
    scope: all | home | provider | icb | local_authority | directorate | framework;
    scope_id: "all", the location id, the CQC provider id, the ICB/CCG, the local authority,
    the directorate or the framework reference; template: a template, or "all" (year to
    date across every template: seed 003's "any information the provider is obliged to
    submit"); span: "period" (period = the template's period) or "year_to_date" (period =
    the financial year, "2026-27": every period ending in it that is expected so far);
    year; expected, received, on_time, late, within_three_months, missed, overdue (counts of
    returns); received_percent (received / expected), punctuality_percent (on_time /
    expected: a home's or provider's punctuality), within_three_months_percent
    (within_three_months / expected); window_closes_on (the latest three-months-after-due
    day of the returns counted: until then the within-three-months figure can still rise).
    Example: four homes owe April's return; two are on time, one arrives four days late,
    one is recorded missed -> expected 4, received 3, on_time 2, late 1, missed 1,
    punctuality 50.0, received 75.0, within three months 75.0 (so far).

`compliance_kpis` - the KPIs judged, key SUMMARY_KEY|KPI (or HOME_SCOPE_KEY|KPI, below):
    scope, scope_id, template, span, period, year, kpi_set, kpi, label, numerator,
    denominator, value (percent), comparison, target, outcome (met | breached), margin
    (percentage points, positive when better than the target), evaluated by the domain's
    `evaluate_kpi` with the targets of the KPI sets shipped with this code, each set's latest
    version (domain/monitoring/kpi_sets/; publishing new targets needs a rebuild of this read
    model). **A KPI judges a return only under the monitoring regime that includes it**: the
    KPI sets a framework's monitoring names (`Framework.Established`'s `monitoring["kpis"]`)
    judge the returns its homes owed under it (in a framework's own summary rows, that
    framework's sets only). A return owed under no framework naming a set is judged by none:
    a framework naming no KPI set has summary rows and no KPI rows ("not monitored by KPIs",
    never "breached"). Judged:
    - from the counts of returns expected, per summary row (the counts of the returns a set
      judges are kept in `compliance_kpi_counts`): London's returns_by_deadline (at least 75%:
      on_time / expected) and returns_within_three_months (above 95%: within_three_months /
      expected), seed 000 s.7; Cheshire East's timeliness_of_submissions (at least 95%: on_time
      / expected), seed 003 s.3.6 a). Example: punctuality 50.0 -> returns_by_deadline
      breached, margin -25.0.
    - from what a Cheshire East home's return says, per home (scope home, span period, the
      return's template and period; put again when the return is amended): outcome_reviews
      from the quarterly return, reviews evidencing an outcome achieved against 25% of the
      CEC funded residents rounded up (the measure's floor; more reviews count as the number
      required): 29 residents -> 8 required, 7 achieved -> 87.5 breached; and from the annual
      return the percentages the provider reports (seed 003 s.2.2.1): continuity_of_care_workers
      (85%), rostering (90%), and in version 2 of the annual return safe, caring, well_led (95%).
    - from the Council's spot checks of a home's returns (`Return.SpotChecked`, seed 003 s.3.6
      b): accuracy_of_submissions, the fields found accurate out of the fields checked, summed
      over the spot checks of returns for periods ending in the financial year (scope home,
      template all, span year_to_date, period the year): 19 of 20 -> 95.0 met.

`missed_runs` - per home and template, key "LOCATION|TEMPLATE":
    location, provider, template, latest_period, current_run (the number of consecutive
    periods, up to the latest expected one, whose return was not received by its deadline:
    late, missed or overdue), run_from, run_to (the run's first and last periods),
    service_failure ("yes" when current_run >= 3: seed 003 s.3.6). A period with no record
    and no obligation breaks a run. Example: June missed, July late, August overdue ->
    current_run 3, service_failure yes; September on time -> 0. (The contract's performance
    record counts only periods recorded missed; this counts any return not in by its
    deadline, in the seed's words "not submitted as per the required timescales".)

The other tables (`compliance_homes`, `_contracts`, `_frameworks`, `_framework_kpis`, `_kpi_counts`,
`_location_ids`, `_templates`, `_returns`, `_obligations`, `_clock`) are this read model's own lookups.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from domain.contracts.framework import Framework
from domain.monitoring.kpis import evaluate_kpi, parse_kpis, shipped_kpi_names, shipped_kpis
from domain.monitoring.returns import Return
from projections import follow
from projections.monitoring import (
    Directory,
    Expectations,
    ReturnIndex,
    Templates,
    add_months,
    dumps,
    financial_year,
    loads,
    percent,
    shift,
)
from projections.handlers import handles
from projections.memo import utc
from projections.read_model import TableReadModel
from projections.tables import INTEGER, REAL, Column, Page, Table
from projections.views import TableView

PREFIX = "compliance"
ON_TIME, LATE, MISSED, OVERDUE, DUE = "on_time", "late", "missed", "overdue", "due"
#: three or more consecutive periods not in by the deadline is a service failure (seed 003 s.3.6)
SERVICE_FAILURE_RUN = 3
WITHIN_MONTHS = 3

LONDON, CHESHIRE_EAST = "london-aqp-care-homes", "cheshire-east-accommodation-with-care"
#: each shipped KPI set's latest shipped version, by name: the targets every KPI row is judged by
KPI_SETS: dict[str, dict[str, Any]] = {name: parse_kpis(shipped_kpis(name)) for name in shipped_kpi_names()}
_INDICATORS = {(name, k["id"]): k for name, d in KPI_SETS.items() for k in d["indicators"]}

#: the KPIs measured from the counts of returns expected: (KPI set, indicator, the count that is its
#: numerator; the denominator is always `expected`)
KPI_MEASURES = (
    (LONDON, "returns_by_deadline", "on_time"),
    (LONDON, "returns_within_three_months", "within_three_months"),
    (CHESHIRE_EAST, "timeliness_of_submissions", "on_time"),
)
COUNTED = {s: tuple((k, n) for s2, k, n in KPI_MEASURES if s2 == s) for s, _, _ in KPI_MEASURES}
COUNTS = ("expected", "received", "on_time", "late", "within_three_months", "missed", "overdue")


def _outcome_reviews(values: dict[str, Any]) -> dict[str, int] | None:
    """Seed 003 s.2.2.1 a): reviews evidencing an outcome achieved, against 25% of the CEC funded
    residents on the quarter's first day rounded up (the measure's floor), capped at that number."""
    residents, achieved = values.get("cec_funded_residents"), values.get("outcome_reviews_with_outcome_achieved")
    if not isinstance(residents, int) or not isinstance(achieved, int) or isinstance(residents, bool) or residents <= 0:
        return None
    required = -(-residents * 25 // 100)
    return {"numerator": min(achieved, required), "denominator": required}


def _reported(metric: str) -> Any:
    """The percentage the provider reports for a KPI in a return (seed 003 s.2.2.1: "Providers must
    submit their KPIs in their Annual returns")."""

    def figures(values: dict[str, Any]) -> dict[str, Any] | None:
        value = values.get(metric)
        return None if value is None or isinstance(value, bool) else {"value": value}

    return figures


#: the KPIs judged from what a home's return says: (KPI set, indicator) -> (the return template,
#: the figures read from its values, or None when the return holds none)
REPORTED = {
    (CHESHIRE_EAST, "outcome_reviews"): ("cheshire-east-quarterly", _outcome_reviews),
    (CHESHIRE_EAST, "continuity_of_care_workers"): ("cheshire-east-annual", _reported("kpi_continuity_of_care_percent")),
    (CHESHIRE_EAST, "rostering"): ("cheshire-east-annual", _reported("kpi_rostering_percent")),
    (CHESHIRE_EAST, "safe"): ("cheshire-east-annual", _reported("kpi_safe_percent")),
    (CHESHIRE_EAST, "caring"): ("cheshire-east-annual", _reported("kpi_caring_percent")),
    (CHESHIRE_EAST, "well_led"): ("cheshire-east-annual", _reported("kpi_well_led_percent")),
}
REPORTED_TEMPLATES = {template for template, _ in REPORTED.values()}
#: the KPI judged from the Council's spot checks of returns (seed 003 s.3.6 b): fields found accurate / fields checked
SPOT_CHECKED = ((CHESHIRE_EAST, "accuracy_of_submissions"),)

RETURNS = Table(
    "return_compliance",
    (
        Column("location"),
        Column("provider"),
        Column("template"),
        Column("period"),
        Column("period_end"),
        Column("year"),
        Column("due_on"),
        Column("status"),
        Column("submitted_on"),
        Column("days_late", INTEGER),
        Column("on_time"),
        Column("within_three_months"),
        Column("three_months_after_due"),
        Column("missed_on"),
        Column("icb"),
        Column("local_authority"),
        Column("directorate"),
        Column("frameworks"),
        Column("last_event_at"),
    ),
    order_by=("location", "template", "period"),
    indexes=(("location",), ("provider",), ("template", "period"), ("status",), ("icb",), ("directorate",), ("year",)),
)
#: whose returns a summary row counts (scope, scope_id), of which template, over which span and period
SCOPE = ("scope", "scope_id", "template", "span", "period", "year")
SCOPE_COLUMNS = tuple(Column(c) for c in SCOPE)
SUMMARY = Table(
    "compliance_summary",
    (
        *SCOPE_COLUMNS,
        *(Column(c, INTEGER) for c in COUNTS),
        Column("received_percent", REAL),
        Column("punctuality_percent", REAL),
        Column("within_three_months_percent", REAL),
        Column("window_closes_on"),
    ),
    order_by=("scope", "scope_id", "template", "span", "period"),
    indexes=(("scope", "scope_id"), ("template", "period"), ("span", "year")),
)
KPIS = Table(
    "compliance_kpis",
    (
        *SCOPE_COLUMNS,
        Column("kpi_set"),
        Column("kpi"),
        Column("label"),
        Column("numerator", INTEGER),
        Column("denominator", INTEGER),
        Column("value", REAL),
        Column("comparison"),
        Column("target", REAL),
        Column("outcome"),
        Column("margin", REAL),
    ),
    order_by=("scope", "scope_id", "template", "span", "period", "kpi"),
    indexes=(("scope", "scope_id"), ("kpi", "outcome"), ("template", "period")),
)
#: the counts of the returns each KPI set judges, per summary row, key SUMMARY_KEY|KPI_SET (this read model's own)
KPI_COUNTS = Table(
    "compliance_kpi_counts",
    (*SCOPE_COLUMNS, Column("kpi_set"), *(Column(c, INTEGER) for c in COUNTS)),
)
#: the KPI sets each framework's monitoring names (`Framework.Established`'s `monitoring["kpis"]`; this read model's own)
FRAMEWORK_KPIS = Table("compliance_framework_kpis", (Column("kpi_sets"),))
RUNS = Table(
    "missed_runs",
    (
        Column("periods", hidden=True),
        Column("location"),
        Column("provider"),
        Column("template"),
        Column("latest_period"),
        Column("current_run", INTEGER),
        Column("run_from"),
        Column("run_to"),
        Column("service_failure"),
    ),
    order_by=("location", "template"),
    indexes=(("service_failure",), ("provider",)),
)


def counts(row: dict[str, Any] | None) -> Counter[str]:
    """What one return adds to the summaries."""
    if row is None:
        return Counter()
    return Counter(dict(zip(COUNTS, _count_values(row), strict=True)))


def _count_values(row: dict[str, Any] | None) -> tuple[int, ...]:
    """What one return adds to the summaries, in the order of `COUNTS` (zeros for no return): `_count`
    adds these up without a Counter."""
    if row is None:
        return (0, 0, 0, 0, 0, 0, 0)
    status = row["status"]
    return (
        1,
        int(status in (ON_TIME, LATE)),
        int(status == ON_TIME),
        int(status == LATE),
        int(row["within_three_months"] == "yes"),
        int(status == MISSED),
        int(status == OVERDUE),
    )


def scopes(row: dict[str, Any]) -> list[tuple[str, str]]:
    found = [("all", "all"), ("home", row["location"])]
    for scope in ("provider", "icb", "local_authority", "directorate"):
        if row[scope]:
            found.append((scope, row[scope]))
    found += [("framework", f) for f in (row["frameworks"] or "").split(",") if f]
    return found


def spans(row: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(template, span, period) of the summaries a return counts in."""
    return [
        (row["template"], "period", row["period"]),
        (row["template"], "year_to_date", row["year"]),
        ("all", "year_to_date", row["year"]),
    ]


def not_by_deadline(row: dict[str, Any]) -> bool | None:
    """Whether the return missed its deadline (None: not decided yet)."""
    return None if row["status"] == DUE else row["status"] in (LATE, MISSED, OVERDUE)


#: KPI results by (kpi set, kpi, numerator, denominator): see `_evaluated`
_EVALUATED: dict[tuple[str, str, int, int], dict[str, Any]] = {}


def _evaluated(kpi_set: str, kpi: str, numerator: int, denominator: int) -> dict[str, Any]:
    """`evaluate_kpi` of the shipped indicator, remembered: it is pure, and the same few counts
    recur across thousands of summary rows. Shared: read it, never change it."""
    key = (kpi_set, kpi, numerator, denominator)
    result = _EVALUATED.get(key)
    if result is None:
        if len(_EVALUATED) >= 100_000:
            _EVALUATED.clear()
        result = _EVALUATED[key] = evaluate_kpi(_INDICATORS[(kpi_set, kpi)], {"numerator": numerator, "denominator": denominator})
    return result


def kpi_row(scope: dict[str, Any], kpi_set: str, kpi: str, result: dict[str, Any], numerator: int | None, denominator: int | None) -> dict[str, Any]:
    """A `compliance_kpis` row: the KPI's result (`evaluate_kpi`) for one scope, template, span and period."""
    return {
        **{c: scope[c] for c in SCOPE},
        "kpi_set": kpi_set,
        "kpi": kpi,
        "label": _INDICATORS[(kpi_set, kpi)]["label"],
        "numerator": numerator,
        "denominator": denominator,
        "value": result["value"],
        "comparison": result["target"]["comparison"],
        "target": result["target"]["value"],
        "outcome": result["outcome"],
        "margin": result["margin"],
    }


def kpi_rows(summary: dict[str, Any], kpi_set: str) -> dict[str, dict[str, Any]]:
    """The KPIs of `kpi_set` measured from counts of returns, evaluated on the counts of the returns
    that set judges (one summary row's, `compliance_kpi_counts`), by kpi id (none when nothing was
    expected, or the set measures nothing from counts)."""
    if not summary["expected"]:
        return {}
    return {
        kpi: kpi_row(summary, kpi_set, kpi, _evaluated(kpi_set, kpi, summary[numerator], summary["expected"]), summary[numerator], summary["expected"])
        for kpi, numerator in COUNTED.get(kpi_set, ())
    }


def kpi_sets_judging(row: dict[str, Any], scope: str, scope_id: str, sets_of: Any) -> list[str]:
    """The KPI sets that judge a return in the summaries of (scope, scope_id): those named by the
    monitoring of the frameworks under which the home owed it (in a framework's own summary, that
    framework's only). A return owed under no framework that names a set is judged by none."""
    frameworks = [scope_id] if scope == "framework" else [f for f in (row["frameworks"] or "").split(",") if f]
    return sorted({s for f in frameworks for s in sets_of(f)})


def current_run(periods: dict[str, int], definition: dict[str, Any] | None) -> tuple[int, str | None, str | None]:
    """The run of periods not in by the deadline that ends at the latest period: (length, from, to)."""
    if not periods:
        return 0, None, None
    latest = max(periods)
    if not periods[latest] or definition is None:
        return (1, latest, latest) if periods[latest] else (0, None, None)
    first, length = latest, 0
    period = latest
    while periods.get(period):
        first, length = period, length + 1
        period = shift(definition, period, -1)
    return length, first, latest


#: the page's note of `missed_runs` rows as they stand: key -> (periods, the other columns)
_RUNS_NOTE = "compliance:missed_runs"
#: the page's note of `compliance_kpi_counts` rows as they stand: key -> row
_KPI_COUNTS_NOTE = "compliance:kpi_counts"


class ReturnCompliance(TableReadModel):
    name = "compliance"
    directory = Directory(PREFIX)
    templates = Templates(PREFIX)
    index = ReturnIndex(PREFIX)
    expectations = Expectations(PREFIX, directory, templates)
    tables = (
        RETURNS, SUMMARY, KPIS, RUNS, KPI_COUNTS, FRAMEWORK_KPIS,
        *directory.tables, *templates.tables, *index.tables, *expectations.tables,
    )

    # Every handler ends by looking for returns the event found overdue (`_after`).

    @handles(*(e for e in directory.followed if e is not Framework.Established))
    def directory_changed(self, event: Any, page: Page) -> None:
        self.directory.apply(event, page)
        self._after(event, page)

    @handles(Framework.Established)
    def framework_established(self, event: Framework.Established, page: Page) -> None:
        """The framework's monitoring regime: its templates (the directory's) and the KPI sets that judge its homes."""
        self.directory.apply(event, page)
        page.put(FRAMEWORK_KPIS.name, event.reference, {"kpi_sets": dumps(sorted(set(event.monitoring.get("kpis") or [])))})
        self._after(event, page)

    def kpi_sets_of(self, page: Page) -> Any:
        """framework -> the KPI sets its monitoring names (none: it is not monitored by KPIs)."""
        return lambda framework: loads((page.get(FRAMEWORK_KPIS.name, framework) or {}).get("kpi_sets"), [])

    @handles(*templates.followed)
    def template_published(self, event: Any, page: Page) -> None:
        self._after(event, page, template_changed=self.templates.apply(event, page))

    @handles(Return.Opened)
    def opened(self, event: Return.Opened, page: Page) -> None:
        self.index.apply(event, page)
        self._expect(page, event.location, event.template, event.period, event.period_start, event.period_end, event.due_on, DUE, event)
        self._after(event, page)

    @handles(Return.Submitted)
    def submitted(self, event: Return.Submitted, page: Page) -> None:
        found = self.index.get(page, event)
        if found is not None:
            lateness = event.lateness
            due = date.fromisoformat(lateness["due_on"])
            within = date.fromisoformat(lateness["submitted_on"]) <= add_months(due, WITHIN_MONTHS)
            self._change(
                page,
                found,
                event,
                status=ON_TIME if lateness["on_time"] else LATE,
                due_on=lateness["due_on"],
                submitted_on=lateness["submitted_on"],
                days_late=lateness["days_late"],
                on_time="yes" if lateness["on_time"] else "no",
                within_three_months="yes" if within else "no",
            )
            self._judge_reported(page, found, event.values)
        self._after(event, page)

    @handles(Return.Amended)
    def amended(self, event: Return.Amended, page: Page) -> None:
        found = self.index.get(page, event)
        if found is not None:
            self._judge_reported(page, found, event.values)
        self._after(event, page)

    @handles(Return.SpotChecked)
    def spot_checked(self, event: Return.SpotChecked, page: Page) -> None:
        """Accuracy (seed 003 s.3.6 b): the fields the Council found accurate out of those it checked,
        summed over the home's spot checks of returns for periods ending in the financial year."""
        found = self.index.get(page, event)
        if found is not None:
            row = page.get(RETURNS.name, f"{found['location']}|{found['template']}|{found['period']}")
            if row is not None:
                sets = kpi_sets_judging(row, "home", row["location"], self.kpi_sets_of(page))
                scope = {"scope": "home", "scope_id": row["location"], "template": "all", "span": "year_to_date", "period": row["year"], "year": row["year"]}
                for kpi_set, kpi in SPOT_CHECKED:
                    if kpi_set not in sets:
                        continue
                    key = f"home|{row['location']}|all|year_to_date|{row['year']}|{kpi}"
                    before = page.get(KPIS.name, key) or {}
                    numerator = (before.get("numerator") or 0) + len(event.fields_accurate)
                    denominator = (before.get("denominator") or 0) + len(event.fields_checked)
                    result = evaluate_kpi(_INDICATORS[(kpi_set, kpi)], {"numerator": numerator, "denominator": denominator})
                    page.put(KPIS.name, key, kpi_row(scope, kpi_set, kpi, result, numerator, denominator))
        self._after(event, page)

    def _judge_reported(self, page: Page, found: dict[str, Any], values: dict[str, Any]) -> None:
        """The KPIs judged from the figures a home's return gives (`REPORTED`), for the KPI sets that
        judge the home's return: one row per home, template and period, put again on an amendment."""
        if found["template"] not in REPORTED_TEMPLATES:
            return
        row = page.get(RETURNS.name, f"{found['location']}|{found['template']}|{found['period']}")
        if row is None:
            return
        sets = kpi_sets_judging(row, "home", row["location"], self.kpi_sets_of(page))
        scope = {"scope": "home", "scope_id": row["location"], "template": row["template"], "span": "period", "period": row["period"], "year": row["year"]}
        for (kpi_set, kpi), (template, read) in REPORTED.items():
            if template != row["template"] or kpi_set not in sets or (kpi_set, kpi) not in _INDICATORS:
                continue
            key = f"home|{row['location']}|{row['template']}|period|{row['period']}|{kpi}"
            figures = read(values)
            if figures is None:  # the return holds no figure for it (an earlier version of the template)
                page.delete(KPIS.name, key)
                continue
            # the template has checked the figures: a percentage is 0-100, a count 0 or more
            result = evaluate_kpi(_INDICATORS[(kpi_set, kpi)], figures)
            page.put(KPIS.name, key, kpi_row(scope, kpi_set, kpi, result, figures.get("numerator"), figures.get("denominator")))

    @handles(Return.Missed)
    def missed(self, event: Return.Missed, page: Page) -> None:
        found = self.index.get(page, event)
        if found is not None:
            self._change(page, found, event, status=MISSED, missed_on=event.missed_on)
        self._after(event, page)

    def _after(self, event: Any, page: Page, *, template_changed: bool = False) -> None:
        """The returns owed under contracts that are overdue once `event` has moved the ledger's day on."""
        self.expectations.after(event, page, self._overdue(event), template_changed=template_changed)

    # ------------------------------------------------------------------ returns

    def _overdue(self, event: Any) -> Any:
        """What to do with a return found overdue after `event` (which moved the ledger's day on)."""

        def expect(page: Page, location: str, template: str, period: str, start: str, end: str, due: str) -> None:
            self._expect(page, location, template, period, start, end, due, OVERDUE, event)

        return expect

    def _expect(
        self, page: Page, location: str, template: str, period: str, start: str, end: str, due: str, status: str, event: Any
    ) -> None:
        # An overdue return's last_event_at is the event after which the ledger saw it overdue.
        """A return becomes expected (or, if already expected, its record is now in the ledger)."""
        key = f"{location}|{template}|{period}"
        if page.get(RETURNS.name, key) is not None:
            if status == DUE:
                page.update(RETURNS.name, key, due_on=due, last_event_at=utc(event.timestamp))
            return
        home = self.directory.home(page, location)
        row = {
            "location": location,
            "provider": home.get("provider"),
            "template": template,
            "period": period,
            "period_end": end,
            "year": financial_year(date.fromisoformat(end)),
            "due_on": due,
            "status": status,
            "three_months_after_due": add_months(date.fromisoformat(due), WITHIN_MONTHS).isoformat(),
            "icb": home.get("icb_name") or home.get("icb_code"),
            "local_authority": home.get("local_authority"),
            "directorate": home.get("directorate"),
            "frameworks": ",".join(self.directory.frameworks_owed(page, location, template, start, end)) or None,
            "last_event_at": utc(event.timestamp),
        }
        page.put(RETURNS.name, key, row)
        self._count(page, None, page.get(RETURNS.name, key))

    def _change(self, page: Page, found: dict[str, Any], event: Any, **values: Any) -> None:
        key = f"{found['location']}|{found['template']}|{found['period']}"
        before = page.get(RETURNS.name, key)
        if before is None:
            return
        after = page.update(RETURNS.name, key, last_event_at=utc(event.timestamp), **values)
        self._count(page, before, dict(after))

    def _count(self, page: Page, before: dict[str, Any] | None, after: dict[str, Any]) -> None:
        """Move the summaries (and their KPIs) by the difference the return's change made.

        The counts move in the page's notes (its summary rows as they stand); their
        percentages and KPIs follow from the counts alone, so `finish` works them out and
        writes each row once per page, not after every return that moves it.
        """
        delta = [(c, a - b) for c, a, b in zip(COUNTS, _count_values(after), _count_values(before), strict=True) if a != b]
        work: dict[str, dict[str, Any]] = page.notes.setdefault(self.name, {})
        judged: dict[str, dict[str, Any]] = page.notes.setdefault(_KPI_COUNTS_NOTE, {})
        year, closes = after["year"], after["three_months_after_due"]
        sets_of = self.kpi_sets_of(page)
        for scope, scope_id in scopes(after):
            sets = kpi_sets_judging(after, scope, scope_id, sets_of)
            for template, span, period in spans(after):
                key = f"{scope}|{scope_id}|{template}|{span}|{period}"
                blank = {"scope": scope, "scope_id": scope_id, "template": template, "span": span, "period": period, "year": year}
                row = work.get(key)
                if row is None:
                    row = work[key] = page.get(SUMMARY.name, key) or {**blank, **{c: 0 for c in COUNTS}}
                for c, d in delta:
                    row[c] += d
                row["window_closes_on"] = max(row.get("window_closes_on") or "", closes)
                for kpi_set in sets:
                    set_key = f"{key}|{kpi_set}"
                    counted = judged.get(set_key)
                    if counted is None:
                        counted = judged[set_key] = page.get(KPI_COUNTS.name, set_key) or {**blank, "kpi_set": kpi_set, **{c: 0 for c in COUNTS}}
                    for c, d in delta:
                        counted[c] += d
        self._run(page, after)

    def finish(self, page: Page) -> None:
        for key, row in sorted(page.notes.pop(self.name, {}).items()):
            row["received_percent"] = percent(row["received"], row["expected"])
            row["punctuality_percent"] = percent(row["on_time"], row["expected"])
            row["within_three_months_percent"] = percent(row["within_three_months"], row["expected"])
            page.put(SUMMARY.name, key, row)
        for set_key, counted in sorted(page.notes.pop(_KPI_COUNTS_NOTE, {}).items()):
            page.put(KPI_COUNTS.name, set_key, counted)
            key = set_key.rsplit("|", 1)[0]
            evaluated = kpi_rows(counted, counted["kpi_set"])
            for kpi, _ in COUNTED.get(counted["kpi_set"], ()):
                if kpi in evaluated:
                    page.put(KPIS.name, f"{key}|{kpi}", evaluated[kpi])
                else:
                    page.delete(KPIS.name, f"{key}|{kpi}")
        for key, (periods, row) in page.notes.pop(_RUNS_NOTE, {}).items():
            page.put(RUNS.name, key, {**row, "periods": dumps(periods)})

    def _run(self, page: Page, row: dict[str, Any]) -> None:
        missed = not_by_deadline(row)
        if missed is None:
            return
        key = f"{row['location']}|{row['template']}"
        # The periods parsed once per page, kept in its notes and written by `finish`.
        runs: dict[str, tuple[dict[str, int], dict[str, Any]]] = page.notes.setdefault(_RUNS_NOTE, {})
        if key in runs:
            periods = runs[key][0]
        else:
            periods = loads((page.get(RUNS.name, key) or {}).get("periods"), {})
        periods[row["period"]] = int(missed)
        length, first, last = current_run(periods, self.templates.get(page, row["template"]))
        runs[key] = (
            periods,
            {
                "location": row["location"],
                "provider": row["provider"],
                "template": row["template"],
                "latest_period": max(periods),
                "current_run": length,
                "run_from": first,
                "run_to": last,
                "service_failure": "yes" if length >= SERVICE_FAILURE_RUN else "no",
            },
        )


def open_view(ledger: Any) -> TableView:
    return follow.live_view(ledger, ReturnCompliance)


def catch_up(ledger: Any, view: TableView | None = None, *, page_size: int | None = None) -> int:
    """Bring return compliance up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, ReturnCompliance(view or open_view(ledger)), page_size=page_size)
