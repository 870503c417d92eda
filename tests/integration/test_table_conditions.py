"""A read-model table's SQL conditions and sort (what the HTTP lists push into SQL), on both stores.

`TableView.select`/`count` take `where` values as `(op, value)` tuples and `any_of` groups
besides plain equality, and a `sort` ordering as the API's Python tables do (nulls after the
values ascending, before them descending; ties in the natural order): the same rows, in the
same order, as filtering the whole table in Python would give.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from api.http.read_models import CMS_PARAMS, on_the_day, stale_cutoff
from api.http.tables import _sort_key
from api.tokens import Principal
from projections import follow
from projections.cms import HOMES as CMS_HOMES
from projections.cms import CmsList
from projections.read_model import TableReadModel
from projections.tables import INTEGER, Column, Table

pytestmark = pytest.mark.storage

HOMES = Table(
    "cond_homes",
    (Column("name"), Column("area"), Column("beds", INTEGER), Column("until")),
    order_by=("name",),
)


class Homes(TableReadModel):
    name = "cond_homes"
    tables = (HOMES,)
    followed = ()
    # Rows written by hand, with no event to give each change a position and a time.
    keeps_history = False

    def apply(self, event: Any, page: Any) -> None:  # pragma: no cover - rows are written directly here
        raise NotImplementedError


ROWS = [
    {"name": "Aster House", "area": "Camden", "beds": 60, "until": None},
    {"name": "Birch Lodge", "area": "Barnet", "beds": 30, "until": "2026-05-01"},
    {"name": "Cedar Court", "area": "Hackney", "beds": None, "until": "2026-03-01"},
    {"name": "Damson 100%_Care", "area": "Camden", "beds": 30, "until": None},
    {"name": "elm house", "area": None, "beds": 12, "until": "2026-04-15"},
]


@pytest.fixture
def view(ledger):
    view = follow.live_view(ledger, Homes)
    with view.page(Tracking(notification_id=1, application_name="test")) as page:
        for i, row in enumerate(ROWS):
            page.put(HOMES.name, f"k{i}", row)
    return view


def names(rows: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in rows]


def test_comparisons_lists_and_nulls(view):
    assert names(view.select(where={"beds": (">", 20)})) == ["Aster House", "Birch Lodge", "Damson 100%_Care"]
    assert names(view.select(where={"beds": ("<=", 30), "area": "Camden"})) == ["Damson 100%_Care"]
    assert names(view.select(where={"beds": ("is null", None)})) == ["Cedar Court"]
    assert names(view.select(where={"until": ("not null", None)})) == ["Birch Lodge", "Cedar Court", "elm house"]
    assert names(view.select(where={"area": ("in", ["Barnet", "Hackney"])})) == ["Birch Lodge", "Cedar Court"]
    assert names(view.select(where={"area": ("not in", ["Camden"])})) == ["Birch Lodge", "Cedar Court"]  # null is not "not in"
    assert view.select(where={"area": ("in", [])}) == []
    assert view.count(where={"area": ("!=", "Camden")}) == 2


def test_contains_is_a_case_insensitive_substring_with_wildcards_taken_literally(view):
    assert names(view.select(where={"name": ("contains", "HOUSE")})) == ["Aster House", "elm house"]
    assert names(view.select(where={"name": ("contains", "100%_")})) == ["Damson 100%_Care"]
    assert view.select(where={"name": ("contains", "%")}) != view.select()  # not a wildcard
    with pytest.raises(ValueError, match="not text"):
        view.select(where={"beds": ("contains", "3")})


def test_any_of_groups_each_need_one_option_and_an_empty_group_matches_nothing(view):
    # In force on 2026-04-01: no end date, or an end on or after it.
    in_force = view.select(any_of=(({"until": None}, {"until": (">=", "2026-04-01")}),))
    assert names(in_force) == ["Aster House", "Birch Lodge", "Damson 100%_Care", "elm house"]
    both = (({"area": "Camden"}, {"area": "Barnet"}), ({"beds": (">", 40)}, {"until": ("not null", None)}))
    assert names(view.select(any_of=both)) == ["Aster House", "Birch Lodge"]
    assert view.count(any_of=both) == 2
    assert view.select(any_of=((),)) == [] and view.count(any_of=((),)) == 0


@pytest.mark.parametrize("sort", ["beds", "-beds", "area", "-area", "until", "-until", "name", "-name"])
def test_sort_orders_as_the_api_orders_rows_in_python(view, sort):
    everything = view.select()
    column = sort.lstrip("-")
    expected = sorted(everything, key=_sort_key(column), reverse=sort.startswith("-"))
    assert view.select(sort=sort) == expected
    assert view.select(sort=sort, limit=2, offset=1) == expected[1:3]


def test_an_unknown_condition_or_column_is_refused(view):
    with pytest.raises(ValueError, match="not a condition"):
        view.select(where={"beds": ("~", 1)})
    with pytest.raises(KeyError):
        view.select(where={"secret": 1})
    with pytest.raises(KeyError):
        view.select(sort="-secret")


def test_the_cms_lists_day_conditions_in_sql_agree_with_the_columns_computed_for_the_day(ledger):
    """?suspended and ?stale (SQL) against suspension_in_force and vacancies_stale (Python), row by row."""
    day = date(2026, 6, 15)
    cases = {  # suspended, from, until, latest vacancy report's day
        "recorded, started, open-ended": ("yes", "2026-06-01", None, "2026-06-15"),
        "starts today": ("yes", "2026-06-15", None, "2026-06-12"),
        "starts tomorrow": ("yes", "2026-06-16", None, "2026-06-11"),
        "ends today": ("yes", "2026-06-01", "2026-06-15", None),
        "lapsed yesterday": ("yes", "2026-06-01", "2026-06-14", "2026-05-01"),
        "lifted": ("no", "2026-06-01", None, "2026-06-14"),
        "never": ("no", None, None, None),
    }
    view = follow.live_view(ledger, CmsList)
    with view.page(Tracking(notification_id=1, application_name="test")) as page:
        page.position, page.moment = 1, 0  # the CMS list keeps history: each change needs a position and a time
        for n, (name, (suspended, start, until, reported)) in enumerate(cases.items()):
            page.put(CMS_HOMES.name, f"k{n}", {"location": f"1-{n}", "name": name, "suspended": suspended, "suspended_from": start,
                                                "suspended_until": until, "vacancies_day": reported})
    rows = {r["name"]: on_the_day(Principal(user="u", org="o", role="admin", token_id="t"), r, day) for r in view.select(CMS_HOMES.name)}
    assert {n for n, r in rows.items() if r["suspension_in_force"] == "yes"} == {"recorded, started, open-ended", "starts today", "ends today"}
    assert rows["starts tomorrow"]["vacancy_report_age_days"] == 4 and rows["starts tomorrow"]["vacancies_stale"] == "yes"
    assert rows["starts today"]["vacancies_stale"] == "no" and rows["never"]["vacancies_stale"] is None
    assert stale_cutoff(day) == "2026-06-12"
    params = {p.name: p for p in CMS_PARAMS}
    for param, column in (("suspended", "suspension_in_force"), ("stale", "vacancies_stale")):
        for value in ("yes", "no"):
            found = params[param].conditions(value, day)
            selected = {r["name"] for r in view.select(CMS_HOMES.name, where=found.where, any_of=found.any_of)}
            assert selected == {n for n, r in rows.items() if r[column] == value}, (param, value)
