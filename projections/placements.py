"""Placements (seed 000 s.3.2-3.4): framework usage by commissioner and month, and rates paid.

Made from the homes' monthly placement returns (`PlacementReturn.Submitted`: one home, one
month, each placement under the home's local pseudonymous reference, the commissioning ICB,
bed type, weekly rate and dates), the framework's dated price schedules (`Framework.PricesSet`)
and the contracts that put homes on the framework (`Contract` HomeAdded, HomeRemoved,
Terminated, Expired). No personal data: returns carry no NHS number or name by design, and
nothing here adds one. Money is integer pence; dates are ISO text.

`placement_usage`: one row per framework, commissioner and month (key
"framework|commissioner|period"), over every placement returned under that framework:

- `framework`, `commissioner` (the placement's ICB or CCG), `period` (YYYY-MM);
- `homes`: homes whose return for the month lists a placement of this commissioner;
- `started` / `ended`: placements whose start / end date falls in the month;
- `active`: placements in care on at least one day of the month;
- `open_at_month_end`: placements still in care after the month's last day;
- `weekly_spend`: the sum of the weekly rates of the placements open at the month's end
  (pence a week: the run rate going into the next month);
- `care_days`: days in care in the month, charged from the start date up to but not
  including the end date (the day a resident leaves is not charged; the seed sets no rule);
- `month_spend`: what the month costs at the rates returned, pro rata by days,
  sum(weekly rate x days) / 7, rounded to the nearest penny (half up);
- `rate_exceptions`: placements at homes on the framework paid a rate other than the
  framework's (the rows of `placement_rate_exceptions` with home_on_framework "yes");
- `at_non_framework_homes`: active placements at homes that were not on the framework on
  the placement's pricing day (see below).

`placement_rate_exceptions`: one row per placement and month whose weekly rate differs from
the framework's price for its bed type on its pricing day (key "location|period|placement"):
`framework`, `location` (CQC id), `home` (its name, where the ledger has its CQC record),
`commissioner`, `period`, `placement` (the home's pseudonymous reference), `bed_type`,
`priced_on`, `framework_rate` and `paid_rate` (pence a week), `difference` (paid minus
framework: positive is overpaid), `explained` ("yes" when the home flagged the rate with an
explanation, whose text is not copied here), `home_on_framework` ("yes" when a live contract
under the framework listed the home on the pricing day; a home not on the framework agrees
its own rate, so "no" rows are spot purchases, not errors). A placement whose bed type has no
framework price on that day cannot be compared and has no row.

The pricing day is the later of the placement's start and the month's first day (the rate
being paid that month), and the price is the framework's schedule with the latest effective
date on or before it: as the domain validated the return.

`placement_non_framework_homes`: homes not on the framework that charge the framework's rate
(seed 000 s.3.4: invite them to join), one row per framework and home (key
"framework|location"): `framework`, `location`, `home`, `placements` (distinct placements
returned at exactly the framework rate while the home was not on the framework),
`commissioners` (their ICBs, joined with "; "), `first_period`, `last_period`.

Worked example: the London framework prices nursing at 99,750 pence a week from 2026-04-01.
Aster House (on the framework) returns April 2026 with AST-0007 (ICB-NCL, nursing, 99,750,
since 2025-11-03) and AST-0015 (ICB-NCL, residential at 84,000 from 2026-03-09, ended
2026-04-21). ICB-NCL's April row: homes 1, started 0, ended 1, active 2, open_at_month_end 1,
weekly_spend 99,750, care_days 30 + 20 = 50, month_spend (99,750 x 30 + 84,000 x 20) / 7 =
667,500. Had AST-0007 been paid 98,500, it would have a rate exception row: framework_rate
99,750, paid_rate 98,500, difference -1,250, priced_on 2026-04-01.

The price schedules, the homes' names, the contracts' homes and each home's spells on the
framework are kept in lookup tables of hidden columns, filled only from those events.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

from domain.contracts.contract import Contract
from domain.contracts.framework import Framework
from domain.providers.location import Location
from domain.monitoring.placement_returns import PlacementReturn
from domain.monitoring.periods import month_bounds
from projections import follow
from projections.handlers import handles
from projections.read_model import TableReadModel
from projections.tables import INTEGER, Column, Page, Table
from projections.views import TableView

USAGE = Table(
    "placement_usage",
    (
        Column("framework"),
        Column("commissioner"),
        Column("period"),
        Column("homes", INTEGER),
        Column("started", INTEGER),
        Column("ended", INTEGER),
        Column("active", INTEGER),
        Column("open_at_month_end", INTEGER),
        Column("weekly_spend", INTEGER),
        Column("care_days", INTEGER),
        Column("month_spend", INTEGER),
        Column("rate_exceptions", INTEGER),
        Column("at_non_framework_homes", INTEGER),
        #: sum of weekly rate x days in care (pence-days), kept whole so month_spend rounds once
        Column("rate_days", INTEGER, hidden=True),
    ),
    order_by=("framework", "commissioner", "period"),
    indexes=(("commissioner", "period"), ("period",), ("framework",)),
)
RATE_EXCEPTIONS = Table(
    "placement_rate_exceptions",
    (
        Column("framework"),
        Column("location"),
        Column("home"),
        Column("commissioner"),
        Column("period"),
        Column("placement"),
        Column("bed_type"),
        Column("priced_on"),
        Column("framework_rate", INTEGER),
        Column("paid_rate", INTEGER),
        Column("difference", INTEGER),
        Column("explained"),
        Column("home_on_framework"),
    ),
    order_by=("period", "location", "placement"),
    indexes=(("commissioner", "period"), ("location",), ("period",), ("home_on_framework",), ("framework",)),
)
NON_FRAMEWORK = Table(
    "placement_non_framework_homes",
    (
        Column("framework"),
        Column("location"),
        Column("home"),
        Column("placements", INTEGER),
        Column("commissioners"),
        Column("first_period"),
        Column("last_period"),
        Column("placement_references", hidden=True),
    ),
    order_by=("framework", "location"),
    indexes=(("framework",), ("location",)),
)
#: lookups (every column hidden), keyed by ledger id: a framework's price schedules
#: {effective_from: {bed_type: pence}}, a home's name, a contract's framework and homes
PRICES = Table("placement_prices", (Column("schedules", hidden=True),))
HOMES = Table("placement_homes", (Column("name", hidden=True),))
CONTRACTS = Table("placement_contracts", (Column("framework", hidden=True), Column("homes", hidden=True)))
#: a home's spells on a framework (key "framework|location"): [{"contract", "from", "to"}],
#: from inclusive, to exclusive (null: still on)
SPELLS = Table("placement_framework_spells", (Column("spells", hidden=True),))


def rate_on(schedules: dict[str, dict[str, int]], day: str, bed_type: str) -> int | None:
    """The framework's weekly price for `bed_type` on `day`: the latest schedule effective by then."""
    effective = [d for d in schedules if d <= day]
    return schedules[max(effective)].get(bed_type) if effective else None


def on_framework(spells: list[dict[str, Any]], day: str) -> bool:
    return any(s["from"] <= day and (s["to"] is None or day < s["to"]) for s in spells)


def month_facts(placement: dict[str, Any], period: str) -> dict[str, Any]:
    """How one returned placement counts in its month (see the module doc for each rule)."""
    first, last = month_bounds(period)
    return _month_facts(placement, first, last, last + timedelta(days=1))


def _month_facts(placement: dict[str, Any], first: date, last: date, after: date) -> dict[str, Any]:
    """`month_facts` for a month already bounded (a return's placements share its month; `after` is its next day)."""
    start = date.fromisoformat(placement["start_date"])
    end = date.fromisoformat(placement["end_date"]) if placement.get("end_date") else None
    charged_from = max(start, first)
    charged_to = min(end, after) if end else after
    days = max((charged_to - charged_from).days, 0)
    return {
        "started": first <= start <= last,
        "ended": end is not None and first <= end <= last,
        "active": start <= last and (end is None or end >= first),
        "open_at_month_end": start <= last and (end is None or end > last),
        "days": days,
        "priced_on": charged_from.isoformat(),
    }


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


#: row keys of frameworks and homes by (kind, reference) (see `_id_key`)
_ID_KEYS: dict[tuple[type, str], str] = {}


def _id_key(aggregate: Any, reference: str) -> str:
    """str(aggregate.id_for(reference)) (a uuid5 of the reference, so the same every time), remembered. Bounded."""
    found = _ID_KEYS.get((aggregate, reference))
    if found is None:
        if len(_ID_KEYS) >= 20_000:
            _ID_KEYS.clear()
        found = _ID_KEYS[aggregate, reference] = str(aggregate.id_for(reference))
    return found


class Placements(TableReadModel):
    name = "placements"
    tables = (USAGE, RATE_EXCEPTIONS, NON_FRAMEWORK, PRICES, HOMES, CONTRACTS, SPELLS)

    @handles(Framework.PricesSet)
    def prices_set(self, event: Framework.PricesSet, page: Page) -> None:
        row = page.get(PRICES.name, str(event.originator_id)) or {}
        schedules = json.loads(row.get("schedules") or "{}")
        schedules[event.effective_from] = dict(event.rates)
        page.put(PRICES.name, str(event.originator_id), {"schedules": _json(schedules)})

    @handles(Location.Imported, Location.Renamed)
    def named(self, event: Any, page: Page) -> None:
        page.put(HOMES.name, str(event.originator_id), {"name": event.name})

    # ------------------------------------------------------------ framework spells

    @handles(Contract.Awarded)
    def contract_awarded(self, event: Contract.Awarded, page: Page) -> None:
        page.put(CONTRACTS.name, str(event.originator_id), {"framework": event.framework, "homes": "[]"})

    @handles(Contract.HomeAdded)
    def home_added(self, event: Contract.HomeAdded, page: Page) -> None:
        key = str(event.originator_id)
        contract = page.get(CONTRACTS.name, key)
        if contract is None:  # pragma: no cover - every contract event follows its award
            return
        framework = contract["framework"]
        spells = self._spells(page, framework, event.location)
        # A spell names the contract by its ledger id: the events after the award carry no reference.
        spells.append({"contract": key, "from": event.effective_from, "to": None})
        self._keep_spells(page, framework, event.location, spells)
        page.update(CONTRACTS.name, key, homes=_json(sorted({*json.loads(contract["homes"]), event.location})))

    @handles(Contract.HomeRemoved)
    def home_removed(self, event: Contract.HomeRemoved, page: Page) -> None:
        key = str(event.originator_id)
        contract = page.get(CONTRACTS.name, key)
        if contract is None:  # pragma: no cover - every contract event follows its award
            return
        self._close(page, contract["framework"], event.location, key, event.effective_from)
        page.update(CONTRACTS.name, key, homes=_json([h for h in json.loads(contract["homes"]) if h != event.location]))

    @handles(Contract.Terminated)
    def terminated(self, event: Contract.Terminated, page: Page) -> None:
        # A terminated contract ends on its effective day.
        self._ended(event, page, event.effective_on)

    @handles(Contract.Expired)
    def expired(self, event: Contract.Expired, page: Page) -> None:
        # An expired one ran to the end of its last day.
        self._ended(event, page, _next_day(event.ended_on))

    def _ended(self, event: Any, page: Page, ends: str) -> None:
        key = str(event.originator_id)
        contract = page.get(CONTRACTS.name, key)
        if contract is None:  # pragma: no cover - every contract event follows its award
            return
        for location in json.loads(contract["homes"]):
            self._close(page, contract["framework"], location, key, ends)
        page.update(CONTRACTS.name, key, homes=_json([]))

    @staticmethod
    def _spells(page: Page, framework: str, location: str) -> list[dict[str, Any]]:
        row = page.get(SPELLS.name, f"{framework}|{location}")
        return json.loads(row["spells"]) if row else []

    @staticmethod
    def _keep_spells(page: Page, framework: str, location: str, spells: list[dict[str, Any]]) -> None:
        page.put(SPELLS.name, f"{framework}|{location}", {"spells": _json(spells)})

    def _close(self, page: Page, framework: str, location: str, contract: str, on: str) -> None:
        spells = self._spells(page, framework, location)
        for spell in spells:
            if spell["contract"] == contract and spell["to"] is None:
                spell["to"] = max(on, spell["from"])
        self._keep_spells(page, framework, location, spells)

    # ------------------------------------------------------------ placement returns

    @handles(PlacementReturn.Submitted)
    def placement_return(self, event: PlacementReturn.Submitted, page: Page) -> None:
        prices = page.get(PRICES.name, _id_key(Framework, event.framework))
        schedules = json.loads(prices["schedules"]) if prices else {}
        spelled = page.get(SPELLS.name, f"{event.framework}|{event.location}")
        spells = json.loads(spelled["spells"]) if spelled else []
        named = page.get(HOMES.name, _id_key(Location, event.location))
        home = named["name"] if named else None
        first, last = month_bounds(event.period)
        after = last + timedelta(days=1)
        usage: dict[str, dict[str, Any]] = {}
        # Most of a return's placements are priced on the month's first day: look each price and
        # membership up once per day (and bed type), not once per placement.
        prices_on: dict[tuple[str, str], int | None] = {}
        member_on: dict[str, bool] = {}
        for placement in event.placements:
            facts = _month_facts(placement, first, last, after)
            commissioner = placement["icb"]
            priced_on = facts["priced_on"]
            priced = (priced_on, placement["bed_type"])
            if priced in prices_on:
                expected = prices_on[priced]
            else:
                expected = prices_on[priced] = rate_on(schedules, *priced)
            paid = placement["weekly_rate"]
            member = member_on.get(priced_on)
            if member is None:
                member = member_on[priced_on] = on_framework(spells, priced_on)
            totals = usage.get(commissioner)
            if totals is None:
                totals = usage[commissioner] = _zero_usage()
            totals["started"] += facts["started"]
            totals["ended"] += facts["ended"]
            totals["active"] += facts["active"]
            totals["open_at_month_end"] += facts["open_at_month_end"]
            totals["weekly_spend"] += paid if facts["open_at_month_end"] else 0
            totals["care_days"] += facts["days"]
            totals["rate_days"] += paid * facts["days"]
            totals["at_non_framework_homes"] += facts["active"] and not member
            if expected is not None and paid != expected:
                totals["rate_exceptions"] += member
                page.put(
                    RATE_EXCEPTIONS.name,
                    f"{event.location}|{event.period}|{placement['reference']}",
                    {
                        "framework": event.framework,
                        "location": event.location,
                        "home": home,
                        "commissioner": commissioner,
                        "period": event.period,
                        "placement": placement["reference"],
                        "bed_type": placement["bed_type"],
                        "priced_on": facts["priced_on"],
                        "framework_rate": expected,
                        "paid_rate": paid,
                        "difference": paid - expected,
                        "explained": "yes" if (placement.get("rate_explanation") or "").strip() else "no",
                        "home_on_framework": "yes" if member else "no",
                    },
                )
            elif expected is not None and not member:
                self._at_framework_rate(page, event, home, placement)
        for commissioner, totals in usage.items():
            self._add_usage(page, event.framework, commissioner, event.period, totals)

    @staticmethod
    def _add_usage(page: Page, framework: str, commissioner: str, period: str, totals: dict[str, int]) -> None:
        key = f"{framework}|{commissioner}|{period}"
        row = page.get(USAGE.name, key) or {
            "framework": framework, "commissioner": commissioner, "period": period, "homes": 0, **_zero_usage()
        }
        row["homes"] += 1  # a home returns a month once, so each return adds one home
        for column, value in totals.items():
            row[column] += int(value)
        row["month_spend"] = (2 * row["rate_days"] + 7) // 14  # rate_days / 7, half up, in whole numbers
        page.put(USAGE.name, key, row)

    @staticmethod
    def _at_framework_rate(page: Page, event: Any, home: str | None, placement: dict[str, Any]) -> None:
        key = f"{event.framework}|{event.location}"
        row = page.get(NON_FRAMEWORK.name, key) or {
            "framework": event.framework, "location": event.location, "first_period": event.period, "placement_references": "[]",
        }
        references = sorted({*json.loads(row["placement_references"]), placement["reference"]})
        commissioners = sorted({*(row.get("commissioners") or "").split("; "), placement["icb"]} - {""})
        row.update(
            home=home or row.get("home"),
            placements=len(references),
            placement_references=_json(references),
            commissioners="; ".join(commissioners),
            first_period=min(row["first_period"], event.period),
            last_period=max(row.get("last_period") or event.period, event.period),
        )
        page.put(NON_FRAMEWORK.name, key, row)


def _zero_usage() -> dict[str, int]:
    return {
        "started": 0,
        "ended": 0,
        "active": 0,
        "open_at_month_end": 0,
        "weekly_spend": 0,
        "care_days": 0,
        "month_spend": 0,
        "rate_exceptions": 0,
        "at_non_framework_homes": 0,
        "rate_days": 0,
    }


def _next_day(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def open_view(ledger: Any) -> TableView:
    """The placement tables in the ledger's own database."""
    return follow.live_view(ledger, Placements)


def catch_up(ledger: Any, view: TableView | None = None, *, page_size: int | None = None) -> int:
    """Bring the placement tables up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, Placements(view or open_view(ledger)), page_size=page_size)
