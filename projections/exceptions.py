"""Exception reports: what commissioners should notice about a home (seed 000 s.6.2.3).

"Exception reporting includes notable changes in nursing homes in the CCG's local area
including: a change in home manager or a sharp rise/fall in a quality reporting metric, a
provider not reporting." Issue 14 adds CQC downgrades. One row per exception, key "LOCATION|KIND|TEMPLATE|METRIC|PERIOD" ("-" for
no metric; a manager change seen by the CQC sync is "LOCATION|manager_changed|cqc|-|N", N being
the location's event version, and so is a CQC downgrade, "LOCATION|cqc_downgrade|cqc|-|N"):

    location, home_name, provider, icb, directorate (where the home stood when the exception
    was raised), kind, template, metric, period, detail (a sentence, never a person's name),
    value (REAL: the metric's value this period), baseline (REAL: the mean it was compared
    with), raised_at, cleared_at (UTC; null while open), status (open | cleared).

Kinds:

- `manager_changed`: CQC's registered manager(s) of the home changed
  (`Location.RegisteredManagerChanged`, from the CQC sync), or the home said in its return
  that its manager changed (a `manager_changed_on` date in the return). The row says how
  many registered managers CQC lists now and since when none is registered, never who: the
  names are personal data (FOI s.40) and stay encrypted in the event. Period: the month of
  the change. These are notices: they do not clear.
- `sharp_rise` / `sharp_fall`: this period's value of a watched metric against the mean of
  the previous `window` periods of the same return (all of which must have been returned:
  a home without a full baseline is not judged). The rule is data, per metric (`RULES`):
  rise when value >= mean x (1 + rise_percent/100) AND value - mean >= min_change; fall
  when value <= mean x (1 - fall_percent/100) AND mean - value >= min_change. The default
  rule is window 3, rise 50%, fall 50%, min_change 3. Worked examples, falls:
    previous 10, 12, 14 (mean 12): 18 is a sharp rise (+50%, +6); 17 is not (+42%);
    6 is a sharp fall (-50%, -6); 7 is not (-42%).
    previous 1, 2, 3 (mean 2): 4 is not a rise (+100% but only +2 events); 5 is (+3).
    previous 0, 0, 0 (mean 0): 3 is a rise; 2 is not.
  Serious incidents notified to CQC are rarer, so their rule asks for +2 (min_change 2).
  An exception clears when an amendment of the period or of its baseline means the rule no
  longer holds (cleared_at: that amendment), and opens again if a later one restores it.
- `not_reporting`: a return not received by its deadline: recorded missed
  (`Return.Missed`), or owed under a framework contract with its deadline passed and no
  record at all (see `projections/monitoring.py`, `Expectations`). Metric: null. It clears
  when the return is submitted (cleared_at: the submission), the detail saying how late.
- `cqc_downgrade`: CQC's current overall rating of the home recorded worse than the one before
  it (`Location.RatingRecorded` or `RatedInadequate` with `current`, from the CQC sync), on the
  scale Outstanding > Good > Requires improvement > Inadequate. The rating before is the
  event's `previous_overall`, or, when that is off the scale ("Insufficient evidence to
  rate"), the last rating on the scale this read model saw for the home. A home's first rating
  is no downgrade; a rating at the same level raises nothing; a historic rating set CQC lists
  for the first time (not current) is not judged. Period: the month of CQC's report (of the
  event, if the report has no date). An upgrade clears every open downgrade of the home
  (cleared_at: the upgrade), the detail saying to what; a later downgrade raises a new row.

The other tables (`exceptions_ratings`: per home, the last overall rating on the scale and its
open downgrades; `exceptions_homes`, `_contracts`, `_frameworks`, `_location_ids`,
`_templates`, `_returns`, `_history`, `_obligations`, `_clock`) are this read model's own
lookups; `exceptions_history` keeps each watched metric's values by period for the rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from domain.kernel.errors import DomainError
from domain.providers.location import Location, london_day
from domain.monitoring.returns import Return
from projections import follow
from projections.handlers import handles
from projections.memo import utc
from projections.monitoring import Directory, Expectations, ReturnIndex, Templates, dumps, loads, shift
from projections.read_model import TableReadModel
from projections.tables import REAL, Column, Page, Table
from projections.views import TableView

PREFIX = "exceptions"
MANAGER_CHANGED, SHARP_RISE, SHARP_FALL, NOT_REPORTING = "manager_changed", "sharp_rise", "sharp_fall", "not_reporting"
CQC_DOWNGRADE = "cqc_downgrade"
KINDS = (MANAGER_CHANGED, SHARP_RISE, SHARP_FALL, NOT_REPORTING, CQC_DOWNGRADE)
#: CQC's overall ratings, best first (others, such as "Insufficient evidence to rate", are off the scale)
CQC_SCALE = ("Outstanding", "Good", "Requires improvement", "Inadequate")
OPEN, CLEARED = "open", "cleared"


@dataclass(frozen=True)
class Rule:
    """When a metric's value is a sharp rise or fall against the mean of the previous periods."""

    window: int = 3
    rise_percent: int = 50
    fall_percent: int = 50
    min_change: int = 3

    def judge(self, value: int, previous: list[int]) -> str | None:
        """SHARP_RISE, SHARP_FALL or None; `previous` holds the `window` values before, all present.

        Compared in whole numbers (value x window against the sum) so a boundary is exact.
        """
        total, n = sum(previous), self.window
        if value * n * 100 >= total * (100 + self.rise_percent) and value * n - total >= self.min_change * n:
            return SHARP_RISE
        if value * n * 100 <= total * (100 - self.fall_percent) and total - value * n >= self.min_change * n:
            return SHARP_FALL
        return None


DEFAULT_RULE = Rule()
#: the metrics watched for sharp changes (by metric id, in any template), each with its rule
RULES: dict[str, Rule] = {
    "falls": DEFAULT_RULE,
    "residents_who_fell": DEFAULT_RULE,
    "pressure_ulcers_total": DEFAULT_RULE,
    "pressure_ulcers": DEFAULT_RULE,
    "outbreaks_total": DEFAULT_RULE,
    "residents_infected": DEFAULT_RULE,
    "infections": DEFAULT_RULE,
    "serious_incidents_cqc": Rule(min_change=2),
    "hospital_admissions": DEFAULT_RULE,
    "ambulance_callouts": DEFAULT_RULE,
    "complaints_received": DEFAULT_RULE,
    "safeguarding_alerts": DEFAULT_RULE,
    "missed_visits": DEFAULT_RULE,
    "leavers": DEFAULT_RULE,
    "vacancies": DEFAULT_RULE,
    # Cheshire East's 4-weekly return
    "incidents": DEFAULT_RULE,
    "accidents": DEFAULT_RULE,
    "care_concerns_raised": DEFAULT_RULE,
    "enquiries_commenced": DEFAULT_RULE,
    "staff_left": DEFAULT_RULE,
}

EXCEPTIONS = Table(
    "exceptions",
    (
        Column("location"),
        Column("home_name"),
        Column("provider"),
        Column("icb"),
        Column("directorate"),
        Column("kind"),
        Column("template"),
        Column("metric"),
        Column("period"),
        Column("detail"),
        Column("value", REAL),
        Column("baseline", REAL),
        Column("raised_at"),
        Column("cleared_at"),
        Column("status"),
    ),
    order_by=("raised_at", "location", "kind"),
    indexes=(("location",), ("kind", "status"), ("icb", "status"), ("directorate", "status"), ("status",)),
)
#: per home, template and watched metric: {period: value}
HISTORY = Table(f"{PREFIX}_history", (Column("values_json"),))
#: per home (CQC location id): its last overall rating on the scale, and the keys of its open downgrades (JSON list)
RATINGS = Table(f"{PREFIX}_ratings", (Column("overall"), Column("open_json")))
#: the page's notes of `exceptions_history`: key -> its values as they stand (None: no row), and the keys changed
_HISTORY_NOTE, _CHANGED_NOTE = "exceptions:history", "exceptions:history_changed"


class ExceptionReports(TableReadModel):
    name = "exceptions"
    directory = Directory(PREFIX)
    templates = Templates(PREFIX)
    index = ReturnIndex(PREFIX)
    expectations = Expectations(PREFIX, directory, templates)
    tables = (EXCEPTIONS, HISTORY, RATINGS, *directory.tables, *templates.tables, *index.tables, *expectations.tables)

    # Every handler but the opening's ends by looking for returns the event found overdue (`_after`).

    @handles(*directory.followed)
    def directory_changed(self, event: Any, page: Page) -> None:
        self.directory.apply(event, page)
        self._after(event, page)

    @handles(*templates.followed)
    def template_published(self, event: Any, page: Page) -> None:
        self._after(event, page, template_changed=self.templates.apply(event, page))

    @handles(Location.RegisteredManagerChanged)
    def manager_changed(self, event: Location.RegisteredManagerChanged, page: Page) -> None:
        self._manager_changed(page, event)
        self._after(event, page)

    # Both named: the topics read are the followed classes' own, and a fall to Inadequate has its own.
    @handles(Location.RatingRecorded, Location.RatedInadequate)
    def rating_recorded(self, event: Location.RatingRecorded, page: Page) -> None:
        if event.current:
            self._rated(page, event)
        self._after(event, page)

    @handles(Return.Opened)
    def opened(self, event: Return.Opened, page: Page) -> None:
        # A return is opened and submitted in one command: overdue returns are looked for after
        # the submission, so one arriving late is not first reported as missing.
        self.index.apply(event, page)

    @handles(Return.Submitted)
    def submitted(self, event: Return.Submitted, page: Page) -> None:
        found = self.index.get(page, event)
        if found is not None:
            self._received(page, event, found)
            self._values(page, event, found)
        self._after(event, page)

    @handles(Return.Amended)
    def amended(self, event: Return.Amended, page: Page) -> None:
        found = self.index.get(page, event)
        if found is not None:
            self._values(page, event, found)
        self._after(event, page)

    @handles(Return.Missed)
    def missed(self, event: Return.Missed, page: Page) -> None:
        found = self.index.get(page, event)
        if found is not None:
            self._not_reporting(page, event, found["location"], found["template"], found["period"], found["due_on"])
        self._after(event, page)

    def _after(self, event: Any, page: Page, *, template_changed: bool = False) -> None:
        """Not reporting: the returns owed under contracts that are overdue once `event` has moved the ledger's day on."""
        self.expectations.after(event, page, self._overdue(event), template_changed=template_changed)

    # ------------------------------------------------------------------ rows

    def _raise(self, page: Page, key: str, location: str, at: Any, **values: Any) -> None:
        """Open (or reopen) an exception, keeping when it was first raised."""
        existing = page.get(EXCEPTIONS.name, key)
        if existing is not None:
            page.update(EXCEPTIONS.name, key, cleared_at=None, status=OPEN, **values)
            return
        home = self.directory.home(page, location)
        page.put(
            EXCEPTIONS.name,
            key,
            {
                "location": location,
                "home_name": home.get("name"),
                "provider": home.get("provider"),
                "icb": home.get("icb_name") or home.get("icb_code"),
                "directorate": home.get("directorate"),
                "raised_at": utc(at),
                "status": OPEN,
                **values,
            },
        )

    def _clear(self, page: Page, key: str, at: Any, **values: Any) -> None:
        existing = page.get(EXCEPTIONS.name, key)
        if existing is not None and existing["status"] == OPEN:
            page.update(EXCEPTIONS.name, key, cleared_at=utc(at), status=CLEARED, **values)

    # ------------------------------------------------------------------ manager

    def _manager_changed(self, page: Page, event: Any) -> None:
        found = page.get(self.directory.location_ids, str(event.originator_id))
        if found is None:
            return
        day = london_day(event.timestamp)
        count = len(event.managers)
        if count:
            detail = f"CQC's registered manager changed; CQC lists {count} registered manager{'s' if count > 1 else ''} now."
        else:
            since = f" since {event.absent_since}" if event.absent_since else ""
            detail = f"CQC lists no registered manager{since}."
        self._raise(
            page,
            f"{found['location']}|{MANAGER_CHANGED}|cqc|-|{event.originator_version}",
            found["location"],
            event.timestamp,
            kind=MANAGER_CHANGED,
            period=f"{day.year:04d}-{day.month:02d}",
            detail=detail,
        )

    # ------------------------------------------------------------------ CQC downgrades

    def _rated(self, page: Page, event: Location.RatingRecorded) -> None:
        found = page.get(self.directory.location_ids, str(event.originator_id))
        if found is None:
            return
        location = found["location"]
        held = page.get(RATINGS.name, location) or {}
        before = event.previous_overall if event.previous_overall in CQC_SCALE else held.get("overall")
        now = event.rating.get("overall")
        open_keys: list[str] = loads(held.get("open_json"), None) or []
        report_date = event.rating.get("report_date")
        report = f" (report of {_long_date(report_date)})" if report_date else ""
        if now not in CQC_SCALE or before not in CQC_SCALE:
            pass  # off the scale (neither a fall nor a rise; the last rating on it stays the one compared), or a first rating
        elif CQC_SCALE.index(now) > CQC_SCALE.index(before):
            key = f"{location}|{CQC_DOWNGRADE}|cqc|-|{event.originator_version}"
            day = date.fromisoformat(report_date[:10]) if report_date else london_day(event.timestamp)
            self._raise(
                page, key, location, event.timestamp, kind=CQC_DOWNGRADE, period=f"{day.year:04d}-{day.month:02d}",
                detail=f"CQC's overall rating fell from {before} to {now}{report}.",
            )
            open_keys.append(key)
        elif CQC_SCALE.index(now) < CQC_SCALE.index(before):
            for key in open_keys:
                existing = page.get(EXCEPTIONS.name, key)
                if existing is not None:
                    self._clear(page, key, event.timestamp, detail=f"{existing['detail']} Cleared: CQC rated it {now}{report}.")
            open_keys = []
        last = now if now in CQC_SCALE else before
        if last is not None or open_keys:
            page.put(RATINGS.name, location, {"overall": last, "open_json": dumps(open_keys) if open_keys else None})

    # ------------------------------------------------------------------ not reporting

    def _not_reporting_key(self, location: str, template: str, period: str) -> str:
        return f"{location}|{NOT_REPORTING}|{template}|-|{period}"

    def _overdue(self, event: Any) -> Any:
        def raise_overdue(page: Page, location: str, template: str, period: str, start: str, end: str, due: str) -> None:
            key = self._not_reporting_key(location, template, period)
            if page.get(EXCEPTIONS.name, key) is None and not self._returned(page, location, template, period):
                self._raise(
                    page, key, location, event.timestamp, kind=NOT_REPORTING, template=template, period=period,
                    detail=f"The {template} return for {period} was due on {due} and has not been received.",
                )

        return raise_overdue

    def _returned(self, page: Page, location: str, template: str, period: str) -> bool:
        return period in (self._history(page, f"{location}|{template}|received") or {})

    # ------------------------------------------------------------------ history

    @staticmethod
    def _history(page: Page, key: str) -> dict[str, Any] | None:
        """A row of `exceptions_history` as it stands, parsed once per page (None: no row).

        Change it in place and `_changed` it: `finish` writes it once per page."""
        found = page.notes.setdefault(_HISTORY_NOTE, {})
        if key in found:
            return found[key]
        history = found[key] = loads((page.get(HISTORY.name, key) or {}).get("values_json"), None)
        return history

    @staticmethod
    def _changed(page: Page, key: str, history: dict[str, Any]) -> None:
        page.notes[_HISTORY_NOTE][key] = history
        page.notes.setdefault(_CHANGED_NOTE, set()).add(key)

    def finish(self, page: Page) -> None:
        found = page.notes.pop(_HISTORY_NOTE, {})
        for key in sorted(page.notes.pop(_CHANGED_NOTE, ())):
            page.put(HISTORY.name, key, {"values_json": dumps(found[key])})

    def _not_reporting(self, page: Page, event: Any, location: str, template: str, period: str, due: str) -> None:
        key = self._not_reporting_key(location, template, period)
        detail = f"The {template} return for {period} was due on {due}; recorded missed on {event.missed_on}."
        if page.get(EXCEPTIONS.name, key) is None:
            self._raise(page, key, location, event.timestamp, kind=NOT_REPORTING, template=template, period=period, detail=detail)
        else:
            page.update(EXCEPTIONS.name, key, detail=detail)

    def _received(self, page: Page, event: Any, found: dict[str, Any]) -> None:
        key = f"{found['location']}|{found['template']}|received"
        received = self._history(page, key)
        if received is None:
            received = {}
        received[found["period"]] = event.lateness["submitted_on"]
        self._changed(page, key, received)
        lateness = event.lateness
        exception = self._not_reporting_key(found["location"], found["template"], found["period"])
        existing = page.get(EXCEPTIONS.name, exception)
        if existing is not None:
            self._clear(
                page,
                exception,
                event.timestamp,
                detail=f"{existing['detail']} Received on {lateness['submitted_on']}, {lateness['days_late']} days late.",
            )

    # ------------------------------------------------------------------ sharp changes

    def _values(self, page: Page, event: Any, found: dict[str, Any]) -> None:
        location, template, period = found["location"], found["template"], found["period"]
        self._manager_reported(page, event, found)
        # The periods of the version the return was made against (a later version may change them).
        definition = self.templates.get(page, template, found["template_version"])
        if definition is None:
            return
        for metric, rule in RULES.items():
            value = event.values.get(metric)
            key = f"{location}|{template}|{metric}"
            history = self._history(page, key)
            if history is None and value is None:
                continue
            if history is None:
                history = {}
            if history.get(period) == value:
                continue
            if value is None:
                history.pop(period, None)
            else:
                history[period] = value
            self._changed(page, key, history)
            # A changed value is judged itself and is part of the next periods' baselines.
            judged = period
            try:
                for _ in range(rule.window + 1):
                    if judged in history or judged == period:
                        self._judge(page, event, location, template, metric, rule, definition, history, judged)
                    judged = shift(definition, judged, 1)
            except DomainError:
                continue

    def _judge(
        self,
        page: Page,
        event: Any,
        location: str,
        template: str,
        metric: str,
        rule: Rule,
        definition: dict[str, Any],
        history: dict[str, Any],
        period: str,
    ) -> None:
        value = history.get(period)
        previous = [history.get(shift(definition, period, -step)) for step in range(rule.window, 0, -1)]
        verdict = None
        if isinstance(value, int) and all(isinstance(v, int) for v in previous):
            verdict = rule.judge(value, previous)  # type: ignore[arg-type]
        for kind in (SHARP_RISE, SHARP_FALL):
            key = f"{location}|{kind}|{template}|{metric}|{period}"
            if kind == verdict:
                mean = round(sum(previous) / rule.window, 2)  # type: ignore[arg-type]
                shown = f"{mean:g}"
                change = round(100 * (value - mean) / mean) if mean else None  # type: ignore[operator]
                by = f" ({change:+d}%)" if change is not None else ""
                self._raise(
                    page, key, location, event.timestamp, kind=kind, template=template, metric=metric, period=period,
                    value=value, baseline=mean,
                    detail=(
                        f"{metric.replace('_', ' ').capitalize()} {value} in {period} against a mean of {shown} over the "
                        f"previous {rule.window} periods{by}."
                    ),
                )
            else:
                existing = page.get(EXCEPTIONS.name, key)
                if existing is not None and existing["status"] == OPEN:
                    now = "no longer returned" if value is None else f"now {value}"
                    self._clear(page, key, event.timestamp, detail=f"{existing['detail']} Amended ({now}): the rule no longer holds.")

    def _manager_reported(self, page: Page, event: Any, found: dict[str, Any]) -> None:
        changed_on = event.values.get("manager_changed_on")
        if not changed_on:
            return
        day = date.fromisoformat(changed_on)
        key = f"{found['location']}|{MANAGER_CHANGED}|{found['template']}|-|{found['period']}"
        if page.get(EXCEPTIONS.name, key) is None:
            self._raise(
                page, key, found["location"], event.timestamp, kind=MANAGER_CHANGED, template=found["template"],
                period=f"{day.year:04d}-{day.month:02d}",
                detail=f"The home reported in its {found['period']} return that its manager changed on {changed_on}.",
            )


MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December")


def _long_date(iso: str) -> str:
    """2025-03-12 -> 12 March 2025 (English whatever the locale)."""
    day = date.fromisoformat(iso[:10])
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


def open_view(ledger: Any) -> TableView:
    return follow.live_view(ledger, ExceptionReports)


def catch_up(ledger: Any, view: TableView | None = None, *, page_size: int | None = None) -> int:
    """Bring the exception reports up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, ExceptionReports(view or open_view(ledger)), page_size=page_size)
