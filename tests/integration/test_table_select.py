"""Reading a table read model: filters, order and pages read alike on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

from eventsourcing.persistence import Tracking

from projections import follow
from projections.read_model import TableReadModel
from projections.tables import INTEGER, Column, Page, Table

SAMPLES = Table("select_samples", (Column("label"), Column("n", INTEGER), Column("secret", hidden=True)), order_by=("label",))


class Samples(TableReadModel):
    name = "select_samples"
    tables = (SAMPLES,)
    followed = ()
    # Rows written by hand, with no event to give each change a position and a time.
    keeps_history = False

    def apply(self, event: Any, page: Page) -> None:  # pragma: no cover - rows are written directly here
        raise AssertionError("no events")


ROWS = {
    "k1": {"label": "b", "n": 2},
    "k2": {"label": None, "n": 1},
    "k3": {"label": "B", "n": None},
    "k4": {"label": "a", "n": 2},
    "k5": {"label": "b", "n": 3},
}


def filled(ledger: Any) -> Any:
    view = follow.live_view(ledger, Samples)
    with view.page(Tracking(ledger.name, 1)) as page:
        for key, row in ROWS.items():
            page.put(SAMPLES.name, key, {**row, "secret": "hidden"})
    return view


def test_ascending_puts_nulls_first_in_byte_order_and_ties_by_key(ledger):
    view = filled(ledger)
    assert [r["label"] for r in view.select()] == [None, "B", "a", "b", "b"]
    assert [r["n"] for r in view.select(order_by=("n",))] == [None, 1, 2, 2, 3]
    # ties (n = 2) follow the key: k1 before k4
    assert [r["label"] for r in view.select(order_by=("n",)) if r["n"] == 2] == ["b", "a"]


def test_descending_puts_nulls_last_on_both_stores(ledger):
    view = filled(ledger)
    assert [r["label"] for r in view.select(descending=True)] == ["b", "b", "a", "B", None]
    assert [r["n"] for r in view.select(order_by=("n",), descending=True)] == [3, 2, 2, 1, None]


def test_filters_pages_counts_and_hidden_columns(ledger):
    view = filled(ledger)
    assert view.count(where={"label": "b"}) == 2
    assert view.count(where={"label": None}) == 1
    assert [r["n"] for r in view.select(where={"label": "b"}, order_by=("n",))] == [2, 3]
    assert [r["label"] for r in view.select(limit=2, offset=1)] == ["B", "a"]
    assert all(set(r) == {"label", "n"} for r in view.rows())  # the hidden column is not shown


def test_a_page_moves_the_position_only_from_where_it_started(ledger):
    """Two followers over overlapping pages: the second to commit is refused whole, even when
    its page reaches further than the first's (else it would apply the overlap again)."""
    import pytest
    from eventsourcing.persistence import IntegrityError

    view = filled(ledger)  # position 1
    with view.page(Tracking(ledger.name, 7), start=1) as page:  # one follower: (1, 7]
        page.put(SAMPLES.name, "k6", {"label": "c", "n": 6})
    with pytest.raises(IntegrityError):
        with view.page(Tracking(ledger.name, 9), start=1) as page:  # the other, started at 1 too: (1, 9]
            page.put(SAMPLES.name, "k6", {"label": "c", "n": 60})
            page.put(SAMPLES.name, "k7", {"label": "d", "n": 7})
    assert view.max_tracking_id(ledger.name) == 7
    assert [(r["label"], r["n"]) for r in view.select(where={"label": ("in", ["c", "d"])})] == [("c", 6)]
    with view.page(Tracking(ledger.name, 9), start=7) as page:  # from where it now stands: accepted
        page.put(SAMPLES.name, "k7", {"label": "d", "n": 7})
    assert view.max_tracking_id(ledger.name) == 9
