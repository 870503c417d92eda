"""RAG tables: quality-visit outcomes by category of home and year, as Nottingham reports them.

Seed 004 ("Outcome of visits") counts the Red, Amber and Green outcomes of the annual
quality monitoring visits by category of home (OP, PDSI, MH, LD) for 2014/15 and 2015/16,
noting that "only used homes that had scores for both years". A visit's outcome is the
domain's (`QualityVisit.Concluded`: the 43 indicators scored against the framework's RAG
thresholds).

Rules:
- **Year**: the financial year of the visit's date, named "2014-15" (1 April 2014 to 31
  March 2015), as the ledger names annual periods.
- **One outcome per home per year**: the latest concluded visit of that year (by visit date;
  for two on the same day, the one concluded last). A home visited twice counts once.
- **Category**: the home's category when the visit was scheduled (`QualityVisit.Scheduled`
  carries it), else its category when the visit concluded (`Location.CategorySet`), else
  "uncategorised".
- **Year-on-year change**: over the homes of the category with an outcome in both the year
  and the year before (seed 004's rule), this year's count minus last year's. Example, older
  people: 2014-15 R14 A16 G9 and 2015-16 R4 A22 G13 (39 homes in both) -> red_change -10,
  amber_change +6, green_change +4. A home whose category changed between the years is
  compared only in the total row.

Tables:

`rag_table` - one row per category and year, key "CATEGORY|YEAR" (and "total|YEAR"):
    category (older_people | mental_health | physical_disability_sensory_impairment |
    learning_disability | uncategorised | total), category_code (OP | MH | PDSI | LD | - |
    Total, seed 004's abbreviations), year, red, amber, green, homes (every home with an
    outcome that year), previous_year, homes_both_years, red_change, amber_change,
    green_change (null when no home had an outcome in both years).

`rag_visits` - one row per concluded visit, key the visit's reference
("LOCATION/quality-visit/DATE"): location, home_name, category, year, visit_date, rag,
    percent (of the maximum score), below_standard (indicators below the standard),
    concluded_on, counted ("yes" for the visit that gives the home's outcome for the year).

`rag_homes`, `rag_scheduled` and `rag_location_ids` are this read model's own lookups.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from domain.providers.location import Location
from domain.monitoring.quality_visits import QualityVisit
from projections import follow
from projections.monitoring import dumps, financial_year, loads
from projections.handlers import handles
from projections.read_model import TableReadModel
from projections.tables import INTEGER, REAL, Column, Page, Table
from projections.views import TableView

RAG = ("red", "amber", "green")
CODES = {
    "older_people": "OP",
    "mental_health": "MH",
    "physical_disability_sensory_impairment": "PDSI",
    "learning_disability": "LD",
    "uncategorised": "-",
    "total": "Total",
}
UNCATEGORISED, TOTAL = "uncategorised", "total"

TABLE = Table(
    "rag_table",
    (
        Column("outcomes", hidden=True),
        Column("category"),
        Column("category_code"),
        Column("year"),
        Column("red", INTEGER),
        Column("amber", INTEGER),
        Column("green", INTEGER),
        Column("homes", INTEGER),
        Column("previous_year"),
        Column("homes_both_years", INTEGER),
        Column("red_change", INTEGER),
        Column("amber_change", INTEGER),
        Column("green_change", INTEGER),
    ),
    order_by=("year", "category"),
    indexes=(("category",), ("year",)),
)
VISITS = Table(
    "rag_visits",
    (
        Column("location"),
        Column("home_name"),
        Column("category"),
        Column("year"),
        Column("visit_date"),
        Column("rag"),
        Column("percent", REAL),
        Column("below_standard", INTEGER),
        Column("concluded_on"),
        Column("counted"),
    ),
    order_by=("year", "location", "visit_date"),
    indexes=(("location",), ("year", "category"), ("rag",)),
)
#: per location: name, category and, per year, the visit counted {year: {"visit", "visit_date", "category", "rag"}}
HOMES = Table("rag_homes", (Column("name"), Column("category"), Column("years")))
#: visits scheduled, by the visit's id (its later events carry only the id)
SCHEDULED = Table("rag_scheduled", (Column("reference"), Column("location"), Column("category"), Column("visit_date")))
#: location references by id (Location events other than Imported carry only the id)
LOCATION_IDS = Table("rag_location_ids", (Column("location"),))


def previous_year(year: str) -> str:
    first = int(year[:4]) - 1
    return f"{first:04d}-{(first + 1) % 100:02d}"


def next_year(year: str) -> str:
    first = int(year[:4]) + 1
    return f"{first:04d}-{(first + 1) % 100:02d}"


def table_row(category: str, year: str, outcomes: dict[str, str], before: dict[str, str]) -> dict[str, Any]:
    """The RAG counts of a category's homes in a year, and the change over the homes in both years."""
    counts = {r: sum(1 for v in outcomes.values() if v == r) for r in RAG}
    both = sorted(set(outcomes) & set(before))
    row: dict[str, Any] = {
        "outcomes": dumps(outcomes),
        "category": category,
        "category_code": CODES.get(category, category),
        "year": year,
        **counts,
        "homes": len(outcomes),
        "previous_year": previous_year(year),
        "homes_both_years": len(both),
    }
    for r in RAG:
        row[f"{r}_change"] = (
            sum(1 for h in both if outcomes[h] == r) - sum(1 for h in both if before[h] == r) if both else None
        )
    return row


class RagTables(TableReadModel):
    name = "rag"
    tables = (TABLE, VISITS, HOMES, SCHEDULED, LOCATION_IDS)

    @handles(Location.Imported)
    def imported(self, event: Location.Imported, page: Page) -> None:
        page.put(LOCATION_IDS.name, str(event.originator_id), {"location": event.reference})
        page.update(HOMES.name, event.reference, name=event.name)

    @handles(Location.Renamed)
    def renamed(self, event: Location.Renamed, page: Page) -> None:
        found = page.get(LOCATION_IDS.name, str(event.originator_id))
        if found is not None:
            page.update(HOMES.name, found["location"], name=event.name)

    @handles(Location.CategorySet)
    def category_set(self, event: Location.CategorySet, page: Page) -> None:
        found = page.get(LOCATION_IDS.name, str(event.originator_id))
        if found is not None:
            page.update(HOMES.name, found["location"], category=event.category)

    @handles(QualityVisit.Scheduled)
    def scheduled(self, event: QualityVisit.Scheduled, page: Page) -> None:
        page.put(
            SCHEDULED.name,
            str(event.originator_id),
            {"reference": event.reference, "location": event.location, "category": event.category, "visit_date": event.visit_date},
        )

    @handles(QualityVisit.Concluded)
    def concluded(self, event: QualityVisit.Concluded, page: Page) -> None:
        visit = page.get(SCHEDULED.name, str(event.originator_id))
        if visit is not None:
            self._concluded(page, event, visit)

    def _concluded(self, page: Page, event: Any, visit: dict[str, Any]) -> None:
        location = visit["location"]
        home = page.get(HOMES.name, location) or {}
        category = visit["category"] or home.get("category") or UNCATEGORISED
        year = financial_year(date.fromisoformat(visit["visit_date"]))
        outcome = event.outcome
        years = loads(home.get("years"), {})
        counted = years.get(year)
        replaces = counted is None or visit["visit_date"] >= counted["visit_date"]
        page.put(
            VISITS.name,
            visit["reference"],
            {
                "location": location,
                "home_name": home.get("name"),
                "category": category,
                "year": year,
                "visit_date": visit["visit_date"],
                "rag": outcome["rag"],
                "percent": outcome["percent"],
                "below_standard": len(outcome["below_standard"]),
                "concluded_on": event.concluded_on,
                "counted": "yes" if replaces else "no",
            },
        )
        if not replaces:
            return
        if counted is not None and counted["visit"] != visit["reference"]:
            page.update(VISITS.name, counted["visit"], counted="no")
        years[year] = {"visit": visit["reference"], "visit_date": visit["visit_date"], "category": category, "rag": outcome["rag"]}
        page.update(HOMES.name, location, years=dumps(years))
        touched = {category, TOTAL}
        if counted is not None:
            touched.add(counted["category"])
            self._set(page, counted["category"], year, location, None)
        self._set(page, category, year, location, outcome["rag"])
        self._set(page, TOTAL, year, location, outcome["rag"])
        for cat in sorted(touched):
            self._refresh(page, cat, year)
            self._refresh(page, cat, next_year(year))

    @staticmethod
    def _outcomes(page: Page, category: str, year: str) -> dict[str, str]:
        return loads((page.get(TABLE.name, f"{category}|{year}") or {}).get("outcomes"), {})

    def _set(self, page: Page, category: str, year: str, location: str, rag: str | None) -> None:
        outcomes = self._outcomes(page, category, year)
        if rag is None:
            outcomes.pop(location, None)
        else:
            outcomes[location] = rag
        page.update(TABLE.name, f"{category}|{year}", outcomes=dumps(outcomes))

    def _refresh(self, page: Page, category: str, year: str) -> None:
        key = f"{category}|{year}"
        if page.get(TABLE.name, key) is None:
            return
        outcomes = self._outcomes(page, category, year)
        if not outcomes:
            page.delete(TABLE.name, key)
            return
        page.put(TABLE.name, key, table_row(category, year, outcomes, self._outcomes(page, category, previous_year(year))))


def open_view(ledger: Any) -> TableView:
    return follow.live_view(ledger, RagTables)


def catch_up(ledger: Any, view: TableView | None = None, *, page_size: int | None = None) -> int:
    """Bring the RAG tables up to date with the ledger; returns the number of events applied."""
    return follow.catch_up(ledger, RagTables(view or open_view(ledger)), page_size=page_size)
