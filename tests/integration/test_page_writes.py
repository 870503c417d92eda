"""The page's fast paths, on both stores: rows inserted once, and a rebuild's view built in memory."""

from __future__ import annotations

from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from projections import follow
from projections.read_model import TableReadModel
from projections.tables import INTEGER, Column, MemoryPage, Page, Table

LINES = Table("page_lines", (Column("label"), Column("n", INTEGER)), order_by=("n",))
TOTALS = Table("page_totals", (Column("total", INTEGER),))


class Lines(TableReadModel):
    name = "page_lines"
    tables = (LINES, TOTALS)
    followed = ()
    # These tests write pages by hand, with no event to give each change a position and a time;
    # the history's own tests are in test_read_model_history.py.
    keeps_history = False

    def apply(self, event: Any, page: Page) -> None:  # pragma: no cover - rows are written directly here
        raise AssertionError("no events")


def set_total_behind_its_back(view: Any, key: str, total: int) -> None:
    with view.datastore.transaction(commit=True) as cursor:
        cursor.execute(view._sql(f"UPDATE {view.qualified(TOTALS.name)} SET total = ? WHERE key = ?"), (total, key))


def all_rows(view: Any, table: Table) -> list[dict[str, Any]]:
    return view.select(table.name, columns=("key", *table.names), order_by=("key",))


def test_inserted_rows_are_written_whole_and_a_second_insert_of_a_key_is_refused_with_its_page(ledger):
    view = follow.live_view(ledger, Lines)
    with view.page(Tracking(ledger.name, 1)) as page:
        page.insert(LINES.name, "a", {"label": "first", "n": 1})
        page.insert(LINES.name, "b", {"n": 2})  # columns not given are null
        assert page.get(LINES.name, "a") is None  # an inserted row bypasses the page's cache
        page.put(TOTALS.name, "all", {"total": 2})
    assert all_rows(view, LINES) == [{"key": "a", "label": "first", "n": 1}, {"key": "b", "label": None, "n": 2}]

    with pytest.raises(IntegrityError):
        with view.page(Tracking(ledger.name, 2)) as page:
            page.put(TOTALS.name, "all", {"total": 3})
            page.insert(LINES.name, "a", {"label": "again", "n": 3})
    assert all_rows(view, LINES)[0]["label"] == "first"
    assert view.select(TOTALS.name) == [{"total": 2}]  # the whole page rolled back...
    assert view.max_tracking_id(ledger.name) == 1  # ...with its position


def test_an_insert_with_a_column_the_table_lacks_is_refused():
    page = MemoryPage((LINES,))
    with pytest.raises(KeyError, match="no column colour"):
        page.insert(LINES.name, "a", {"colour": "red"})
    with pytest.raises(KeyError, match="no column colour"):
        page.insert(LINES.name, "a", {"colour": "red", "n": 1})  # as many keys as columns, not the same ones


def test_in_memory_pages_refuse_a_second_insert_of_a_key_as_the_stores_do():
    page = MemoryPage((LINES,))
    page.insert(LINES.name, "a", {"label": "first", "n": 1})
    page.commit()
    assert page.rows(LINES.name) == [{"label": "first", "n": 1}]
    page.insert(LINES.name, "a", {"label": "again", "n": 1})
    with pytest.raises(KeyError, match="already has a row"):
        page.commit()


def test_a_view_built_in_memory_keeps_its_rows_there_and_forgets_a_failed_page(ledger):
    view = follow.live_view(ledger, Lines)
    view.build_in_memory()
    with view.page(Tracking(ledger.name, 1), start=0) as page:
        page.put(TOTALS.name, "all", {"total": 1})
        page.put(TOTALS.name, "gone", {"total": 0})
        page.insert(LINES.name, "b", {"label": "second", "n": 2})
    with view.page(Tracking(ledger.name, 2), start=1) as page:
        assert page.get(TOTALS.name, "all") == {"key": "all", "total": 1}
        page.update(TOTALS.name, "all", total=2)
        page.delete(TOTALS.name, "gone")
        page.insert(LINES.name, "a", {"label": "first", "n": 1})

    with pytest.raises(RuntimeError):
        with view.page(Tracking(ledger.name, 3), start=2) as page:
            page.update(TOTALS.name, "all", total=99)
            raise RuntimeError("the page fails before it is kept")
    with pytest.raises(IntegrityError):
        with view.page(Tracking(ledger.name, 4), start=1):  # the position is 2: refused whole
            pass

    with view.page(Tracking(ledger.name, 4), start=2) as page:
        # The failed and the refused page left nothing.
        assert page.get(TOTALS.name, "all") == {"key": "all", "total": 2}
        assert page.get(TOTALS.name, "gone") is None
    assert view.max_tracking_id(ledger.name) == 4
    assert all_rows(view, TOTALS) == [] and all_rows(view, LINES) == []  # nothing written to the tables
    assert list(view.final_rows(TOTALS)) == [("all", 2)]
    assert list(view.final_rows(LINES)) == [("a", "first", 1), ("b", "second", 2)]  # in key order


def test_only_a_view_of_empty_tables_may_be_built_in_memory(ledger):
    view = follow.live_view(ledger, Lines)
    with view.page(Tracking(ledger.name, 1)) as page:
        page.put(TOTALS.name, "all", {"total": 1})
    with pytest.raises(ValueError, match="not empty"):
        view.build_in_memory()


def test_past_its_limit_a_view_built_in_memory_writes_its_rows_and_goes_on_in_its_tables(ledger, monkeypatch):
    view = follow.live_view(ledger, Lines)
    view.build_in_memory()
    monkeypatch.setattr(view, "IN_MEMORY_AT_MOST", 2)
    with view.page(Tracking(ledger.name, 1), start=0) as page:
        for n in range(3):
            page.put(TOTALS.name, f"t{n}", {"total": n})
    assert not view.in_memory
    assert view.max_tracking_id(ledger.name) == 1  # written with its rows
    assert all_rows(view, TOTALS) == [{"key": f"t{n}", "total": n} for n in range(3)]
    set_total_behind_its_back(view, "t2", 7)
    with view.page(Tracking(ledger.name, 2), start=1) as page:
        assert page.get(TOTALS.name, "t2") == {"key": "t2", "total": 7}  # read from the database
        page.put(TOTALS.name, "t3", {"total": 3})
    assert list(view.final_rows(TOTALS)) == [("t0", 0), ("t1", 1), ("t2", 7), ("t3", 3)]
