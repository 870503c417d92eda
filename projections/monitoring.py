"""What the monitoring read models (compliance, quality, exceptions, rag) need to know, kept from events.

A read model may only read its own tables and must take everything from events, so each of
the monitoring read models keeps its own copy of these lookups, under its own table prefix
(e.g. `compliance_homes`, `quality_homes`). The code is shared; the rows are not. Each part
declares its tables and a handler for each event it follows (`projections/handlers.py`), and
its `apply(event, page)` keeps them.

- `Directory`: who a home is. Per location (keyed by its CQC location id): its name, its
  provider (CQC provider id), the ICB/CCG and local authority CQC places it in (CQC's
  `onspdIcb*`, or `onspdCcg*` in older records: `Location.Imported` / `AreaChanged`), the
  directorate commissioners set (`Location.CommissioningAreaSet`: one of London's 32
  borough directorates, say), its category (`Location.CategorySet`) and registered beds
  (`Imported` / `BedsChanged`); and the contracts holding it (`Contract.HomeAdded` /
  `HomeRemoved`), each contract's framework and end (`Awarded`, `Extended`, `Terminated`,
  `Expired`), and each framework's monitoring regime: the return templates it requires
  (`Framework.Established`'s `monitoring["returns"]`).
- `Templates`: each return template's published definitions (`ReturnTemplate.Published` /
  `VersionPublished`): its frequency, deadline rule and metrics, by version (key
  "TEMPLATE|vN") and the latest (key "TEMPLATE"). A return is read with the version it was
  made against (a provider may still return version 1 after version 2 is published, and
  version 2 may relabel or drop a metric); what is owed from now on follows the latest.
- `ReturnIndex`: each return's location, template and period (`Return.Opened`), so the later
  events of the return (which carry only its id) can be placed.
- `Expectations`: which returns are owed although the ledger holds no record of them. A home
  on a contract under a framework whose monitoring lists a template owes that template's
  return for every period that ends on or after the day the home was added and starts on or
  before the day it was removed or the contract ended. Such a return is *overdue* once its
  deadline (the template's deadline rule, `domain.monitoring.periods.due_on`) is before the ledger's
  day. The ledger's day is the latest London day of any event this read model has applied
  (never the wall clock), so a rebuild or a replay as of any time gives the same rows; an
  obligation becomes overdue when the next followed event after its deadline is recorded
  (in practice the scheduler's daily `return.record_missed`).

Times are ISO 8601 text in UTC; days are ISO dates; a financial year is named "2026-27"
(1 April 2026 to 31 March 2027), as the annual return periods are.
"""

from __future__ import annotations

import calendar
import json
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

from domain.contracts.contract import Contract
from domain.contracts.framework import Framework
from domain.kernel.errors import DomainError
from domain.providers.location import Location, london_day
from domain.monitoring.returns import Return, ReturnTemplate
from domain.monitoring.periods import due_on, period_bounds, shift_period
from projections.handlers import Handlers, handles
from projections.memo import remembered
from projections.tables import INTEGER, Column, Page, Table

NEVER = "9999-12-31"


# ------------------------------------------------------------------ small helpers


def financial_year(day: date) -> str:
    """The financial year a day falls in: 2026-05-31 -> "2026-27"; 2027-03-31 -> "2026-27"."""
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first:04d}-{(first + 1) % 100:02d}"


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later, or the month's last day (31 Jan + 1 -> 28/29 Feb)."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def period_of(definition: dict[str, Any], day: date) -> str:
    """The name of the template's period that contains `day` (the inverse of `period_bounds`)."""
    frequency = definition["frequency"]
    if frequency == "monthly":
        return f"{day.year:04d}-{day.month:02d}"
    if frequency == "quarterly":
        first = day.year if day.month >= 4 else day.year - 1
        return f"{first:04d}-Q{((day.month - 4) % 12) // 3 + 1}"
    if frequency == "annual":
        return financial_year(day)
    anchor = date.fromisoformat(definition["anchor"])
    return (anchor + timedelta(days=28 * ((day - anchor).days // 28))).isoformat()


def loads(text: str | None, default: Any) -> Any:
    return default if text is None else json.loads(text)


#: parsed JSON by its text, for `shared`
_SHARED: dict[str, Any] = {}


def shared(text: str | None, default: Any) -> Any:
    """As `loads`, parsed once per distinct text and the value shared: read it, never change it.

    For values read far more often than they change: a return template's definition (read by
    every return, for its periods and metrics) and a return's frameworks (read once per metric
    and area). The memo is bounded and only a cache: the same text, the same value.
    """
    if text is None:
        return default
    value = _SHARED.get(text)
    if value is None:
        if len(_SHARED) >= 20_000:
            _SHARED.clear()
        value = _SHARED[text] = json.loads(text)
    return value


#: `period_bounds`, `shift_period` and `due_on` results by what they depend on (see `bounds`)
_BOUNDS: dict[tuple[Any, ...], tuple[date, date]] = {}
_SHIFTED: dict[tuple[Any, ...], str] = {}
_DEADLINES: dict[tuple[Any, ...], date] = {}
_REMEMBER_AT_MOST = 100_000


def bounds(definition: dict[str, Any], period: str) -> tuple[date, date]:
    """`domain.monitoring.periods.period_bounds`, remembered.

    The period functions are pure and read nothing of a definition but its frequency and
    anchor (and `due_on` its deadline rule, over the fixed working-day calendar), while the
    monitoring read models ask the same few questions of them tens of thousands of times
    (every baseline of every watched metric, every obligation on every rescan). The memos are
    bounded and only caches; an error (an invalid period, a day beyond the calendar) is raised
    each time, never remembered.
    """
    key = (definition["frequency"], definition.get("anchor"), period)
    return remembered(_BOUNDS, key, _REMEMBER_AT_MOST, period_bounds, definition, period)


def shift(definition: dict[str, Any], period: str, steps: int) -> str:
    """`domain.monitoring.periods.shift_period`, remembered (see `bounds`)."""
    key = (definition["frequency"], definition.get("anchor"), period, steps)
    return remembered(_SHIFTED, key, _REMEMBER_AT_MOST, shift_period, definition, period, steps)


def deadline(definition: dict[str, Any], period: str) -> date:
    """`domain.monitoring.periods.due_on`, remembered (see `bounds`)."""
    rule = definition.get("deadline") or {}
    key = (definition["frequency"], definition.get("anchor"), rule.get("rule"), rule.get("days"), period)
    return remembered(_DEADLINES, key, _REMEMBER_AT_MOST, due_on, definition, period)


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


#: `dumps(sorted(loads(text)))` by text, for `_sorted_text`
_SORTED_TEXT: dict[str, str] = {}


def _sorted_text(text: str | None) -> str:
    """`dumps(sorted(loads(text, [])))`, worked out once per distinct text (the clock's list of
    obligations, rewritten unchanged after nearly every event)."""
    key = "" if text is None else text
    found = _SORTED_TEXT.get(key)
    if found is None:
        if len(_SORTED_TEXT) >= 1_000:
            _SORTED_TEXT.clear()
        found = _SORTED_TEXT[key] = dumps(sorted(loads(text, [])))
    return found


def percent(numerator: int, denominator: int) -> float | None:
    return None if not denominator else round(100 * numerator / denominator, 2)


# ------------------------------------------------------------------ Directory

class Directory(Handlers):
    """Homes, the contracts holding them and the frameworks' monitoring regimes (see module doc)."""

    def __init__(self, prefix: str) -> None:
        self.homes = f"{prefix}_homes"
        self.contracts = f"{prefix}_contracts"
        self.frameworks = f"{prefix}_frameworks"
        # Location events other than Imported carry only the aggregate's id.
        self.location_ids = f"{prefix}_location_ids"
        self.tables = (
            Table(
                self.homes,
                (
                    Column("name"),
                    Column("provider"),
                    Column("icb_code"),
                    Column("icb_name"),
                    Column("local_authority"),
                    Column("directorate"),
                    Column("category"),
                    Column("beds", INTEGER),
                    #: contract id -> {"reference", "framework", "from", "removed"}
                    Column("contracts"),
                ),
            ),
            Table(self.contracts, (Column("reference"), Column("framework"), Column("ends_on"), Column("ended_on"))),
            Table(self.frameworks, (Column("templates"),)),
            Table(self.location_ids, (Column("location"),)),
        )

    @handles(Location.Imported)
    def imported(self, event: Location.Imported, page: Page) -> None:
        page.put(self.location_ids, str(event.originator_id), {"location": event.reference})
        page.update(self.homes, event.reference, name=event.name, provider=event.provider, beds=event.beds, **self._area(event.area))

    def _home_changed(self, event: Any, page: Page, **values: Any) -> None:
        location = self._location(page, event)
        if location is not None:
            page.update(self.homes, location, **values)

    @handles(Location.Renamed)
    def renamed(self, event: Location.Renamed, page: Page) -> None:
        self._home_changed(event, page, name=event.name)

    @handles(Location.ProviderChanged)
    def provider_changed(self, event: Location.ProviderChanged, page: Page) -> None:
        self._home_changed(event, page, provider=event.provider)

    @handles(Location.AreaChanged)
    def area_changed(self, event: Location.AreaChanged, page: Page) -> None:
        self._home_changed(event, page, **self._area(event.area))

    @handles(Location.BedsChanged)
    def beds_changed(self, event: Location.BedsChanged, page: Page) -> None:
        self._home_changed(event, page, beds=event.beds)

    @handles(Location.CategorySet)
    def category_set(self, event: Location.CategorySet, page: Page) -> None:
        self._home_changed(event, page, category=event.category)

    @handles(Location.CommissioningAreaSet)
    def commissioning_area_set(self, event: Location.CommissioningAreaSet, page: Page) -> None:
        self._home_changed(event, page, directorate=event.area)

    @handles(Framework.Established)
    def framework_established(self, event: Framework.Established, page: Page) -> None:
        page.put(self.frameworks, event.reference, {"templates": dumps(list(event.monitoring.get("returns") or []))})

    @handles(Contract.Awarded)
    def contract_awarded(self, event: Contract.Awarded, page: Page) -> None:
        page.put(
            self.contracts,
            str(event.originator_id),
            {"reference": event.reference, "framework": event.framework, "ends_on": event.ends_on},
        )

    @handles(Contract.Extended)
    def contract_extended(self, event: Contract.Extended, page: Page) -> None:
        page.update(self.contracts, str(event.originator_id), ends_on=event.new_end)

    @handles(Contract.Terminated)
    def contract_terminated(self, event: Contract.Terminated, page: Page) -> None:
        page.update(self.contracts, str(event.originator_id), ended_on=event.effective_on)

    @handles(Contract.Expired)
    def contract_expired(self, event: Contract.Expired, page: Page) -> None:
        page.update(self.contracts, str(event.originator_id), ended_on=event.ended_on)

    @handles(Contract.HomeAdded)
    def home_added(self, event: Contract.HomeAdded, page: Page) -> None:
        cid = str(event.originator_id)
        contract = page.get(self.contracts, cid)
        if contract is None:
            return
        held = self._held(page, event.location)
        held[cid] = {"reference": contract["reference"], "framework": contract["framework"], "from": event.effective_from, "removed": None}
        page.update(self.homes, event.location, contracts=dumps(held))

    @handles(Contract.HomeRemoved)
    def home_removed(self, event: Contract.HomeRemoved, page: Page) -> None:
        cid = str(event.originator_id)
        if page.get(self.contracts, cid) is None:
            return
        held = self._held(page, event.location)
        if cid in held:
            held[cid]["removed"] = event.effective_from
        page.update(self.homes, event.location, contracts=dumps(held))

    def _held(self, page: Page, location: str) -> dict[str, dict[str, Any]]:
        """The contracts that have held the home, by contract id (a copy, to change and write back)."""
        return loads((page.get(self.homes, location) or {}).get("contracts"), {})

    @staticmethod
    def _area(area: dict[str, Any]) -> dict[str, Any]:
        return {
            "icb_code": area.get("icb_code"),
            "icb_name": area.get("icb_name"),
            "local_authority": area.get("local_authority"),
        }

    def _location(self, page: Page, event: Any) -> str | None:
        found = page.get(self.location_ids, str(event.originator_id))
        return None if found is None else found["location"]

    def home(self, page: Page, location: str) -> dict[str, Any]:
        """The home's row (all null for a home the ledger has not imported)."""
        return page.get(self.homes, location) or {}

    def holdings(self, page: Page, location: str) -> list[dict[str, Any]]:
        """The contracts that have held the home: framework, contract and the days it was held (from, until)."""
        found = []
        for cid, held in sorted(shared(self.home(page, location).get("contracts"), {}).items()):
            contract = page.get(self.contracts, cid) or {}
            ends = [d for d in (held["removed"], contract.get("ended_on"), contract.get("ends_on")) if d]
            found.append(
                {"contract": cid, "reference": held["reference"], "framework": held["framework"], "from": held["from"], "until": min(ends, default=NEVER)}
            )
        return found

    def frameworks_owed(self, page: Page, location: str, template: str, start: str, end: str) -> list[str]:
        """The frameworks under which the home owes `template`'s return for the period [start, end]."""
        owed = set()
        for held in self.holdings(page, location):
            if held["from"] <= end and held["until"] >= start and template in self.templates_of(page, held["framework"]):
                owed.add(held["framework"])
        return sorted(owed)

    def templates_of(self, page: Page, framework: str) -> list[str]:
        """The templates the framework's monitoring requires (shared: read it, never change it)."""
        return shared((page.get(self.frameworks, framework) or {}).get("templates"), [])


# ------------------------------------------------------------------ Templates


class Templates(Handlers):
    """Each return template's published definitions: every version, and the latest."""

    def __init__(self, prefix: str) -> None:
        self.table = f"{prefix}_templates"
        self.tables = (Table(self.table, (Column("version", INTEGER), Column("definition"))),)

    @handles(ReturnTemplate.Published, ReturnTemplate.VersionPublished)
    def published(self, event: Any, page: Page) -> bool:
        """Keep the definition; True when it is a template's newest version."""
        definition = event.definition
        row = {"version": definition["version"], "definition": dumps(definition)}
        page.put(self.table, f"{definition['template']}|v{definition['version']}", row)
        current = page.get(self.table, definition["template"])
        if current is not None and current["version"] >= definition["version"]:
            return False
        page.put(self.table, definition["template"], row)
        return True

    def get(self, page: Page, template: str, version: int | None = None) -> dict[str, Any] | None:
        """The definition of `version` (the latest when None)."""
        row = page.get(self.table, template if version is None else f"{template}|v{version}")
        return None if row is None else shared(row["definition"], None)  # callers only read it


# ------------------------------------------------------------------ ReturnIndex


class ReturnIndex(Handlers):
    """Each return's location, template, version, period and days, by the return's id."""

    def __init__(self, prefix: str) -> None:
        self.table = f"{prefix}_returns"
        columns = (
            Column("location"),
            Column("template"),
            Column("template_version", INTEGER),
            Column("period"),
            Column("period_start"),
            Column("period_end"),
            Column("due_on"),
        )
        self.tables = (Table(self.table, columns),)

    @handles(Return.Opened)
    def opened(self, event: Return.Opened, page: Page) -> None:
        page.put(
            self.table,
            str(event.originator_id),
            {
                "location": event.location,
                "template": event.template,
                "template_version": event.template_version,
                "period": event.period,
                "period_start": event.period_start,
                "period_end": event.period_end,
                "due_on": event.due_on,
            },
        )

    def get(self, page: Page, event: Any) -> dict[str, Any] | None:
        return page.get(self.table, str(event.originator_id))


# ------------------------------------------------------------------ Expectations

#: (page, location, template, period, period_start, period_end, due_on) -> None
Overdue = Callable[[Page, str, str, str, str, str, str], None]


class Expectations:
    """Returns owed under framework contracts and overdue by the ledger's day (see module doc)."""

    def __init__(self, prefix: str, directory: Directory, templates: Templates) -> None:
        self.directory = directory
        self.templates = templates
        self.obligations = f"{prefix}_obligations"
        self.clock = f"{prefix}_clock"
        self.tables = (
            # key: contract id|location|template
            Table(self.obligations, (Column("next_period"), Column("next_due"))),
            # one row, "clock": the ledger's day, the earliest next deadline, every obligation's key
            Table(self.clock, (Column("day"), Column("next_check"), Column("obligations"))),
        )

    def day(self, page: Page) -> str | None:
        return (page.get(self.clock, "clock") or {}).get("day")

    def after(self, event: Any, page: Page, overdue: Overdue, *, template_changed: bool = False) -> None:
        """Keep obligations current after `event` (applied to the directory first) and raise what fell overdue."""
        clock = page.get(self.clock, "clock") or {"day": None, "next_check": None, "obligations": "[]"}
        keys: list[str] = shared(clock["obligations"], [])  # read only: copied before a key is added
        written = None  # the obligations' text to write when no key was added
        today = london_day(event.timestamp).isoformat()
        day = max(clock["day"] or today, today)
        new: list[str] = []
        if isinstance(event, Contract.HomeAdded):
            contract = page.get(self.directory.contracts, str(event.originator_id))
            if contract is not None:
                for template in self.directory.templates_of(page, contract["framework"]):
                    key = f"{event.originator_id}|{event.location}|{template}"
                    if key not in keys:
                        if not new:
                            keys = list(keys)
                        keys.append(key)
                        new.append(key)
        if not new:
            written = _sorted_text(clock["obligations"])
        next_check = clock["next_check"]
        # A full look is needed when a deadline may have passed, or when a definition or a
        # contract's end changed; otherwise only the obligations this event created.
        rescan = template_changed or isinstance(event, Contract.Extended) or next_check is None or next_check < day
        scan: Iterable[str] = keys if rescan else new
        if rescan:
            next_check = NEVER
        for key in scan:
            due = self._advance(page, key, day, overdue)
            if due is not None and due < next_check:
                next_check = due
        obligations = dumps(sorted(keys)) if written is None else written
        page.put(self.clock, "clock", {"day": day, "next_check": next_check, "obligations": obligations})

    def _advance(self, page: Page, key: str, day: str, overdue: Overdue) -> str | None:
        """Raise the obligation's periods whose deadline is before `day`; the next deadline to watch."""
        contract_id, location, template = key.split("|")
        row = page.get(self.obligations, key) or {"next_period": None, "next_due": None}
        definition = self.templates.get(page, template)
        held = next((h for h in self.directory.holdings(page, location) if h["contract"] == contract_id), None)
        if definition is None or held is None:
            return None
        period = row["next_period"] or period_of(definition, date.fromisoformat(held["from"]))
        due: str | None = None
        try:
            while True:
                start, end = (d.isoformat() for d in bounds(definition, period))
                if start > held["until"]:
                    due = None  # no longer held; an extension of the contract looks again
                    break
                due = deadline(definition, period).isoformat()
                if due >= day:
                    break
                overdue(page, location, template, period, start, end, due)
                period = shift(definition, period, 1)
        except DomainError:
            # Beyond the working-day calendar the ledger knows: nothing can be said to be overdue there.
            due = None
        row.update(next_period=period, next_due=due)
        page.put(self.obligations, key, row)
        return due
