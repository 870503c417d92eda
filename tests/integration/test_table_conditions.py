"""A read-model table's SQL conditions and sort (what the HTTP lists push into SQL), on both stores.

`TableView.select`/`count` take `where` values as `(op, value)` tuples and `any_of` groups
besides plain equality, and a `sort` ordering as the API's Python tables do (nulls after the
values ascending, before them descending; ties in the natural order): the same rows, in the
same order, as filtering the whole table in Python would give.
"""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import Tracking

from api.http.tables import _sort_key
from projections import follow
from projections.tables import INTEGER, Column, Table, TableReadModel

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
