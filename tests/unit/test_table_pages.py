"""The page's row rules, which every table read model relies on (no database)."""

from __future__ import annotations

import pytest

from projections.tables import INTEGER, Column, MemoryPage, Table

HOMES = Table("homes", (Column("name"), Column("beds", INTEGER), Column("icb")))


def test_put_replaces_the_whole_row_and_update_sets_only_what_it_names():
    page = MemoryPage([HOMES])
    page.put("homes", "1-101", {"name": "Aster House", "beds": 30, "icb": "NCL"})
    page.put("homes", "1-101", {"name": "Aster House", "beds": 32})
    assert page.get("homes", "1-101") == {"key": "1-101", "name": "Aster House", "beds": 32, "icb": None}
    row = page.update("homes", "1-101", icb="NEL")
    assert row == {"key": "1-101", "name": "Aster House", "beds": 32, "icb": "NEL"}
    assert page.update("homes", "1-202", beds=12) == {"key": "1-202", "name": None, "beds": 12, "icb": None}


def test_rows_handed_out_do_not_change_behind_the_reader():
    page = MemoryPage([HOMES])
    page.put("homes", "1-101", {"name": "Aster House", "beds": 30})
    got = page.get("homes", "1-101")
    got["beds"] = 99  # a handler mutating its copy changes nothing
    returned = page.update("homes", "1-101", icb="NCL")
    page.update("homes", "1-101", beds=31)
    assert (got["icb"], returned["beds"]) == (None, 30)
    assert page.get("homes", "1-101")["beds"] == 31


def test_a_deleted_row_is_gone_and_an_update_after_it_starts_afresh():
    page = MemoryPage([HOMES])
    page.put("homes", "1-101", {"name": "Aster House", "beds": 30, "icb": "NCL"})
    page.commit()
    page.delete("homes", "1-101")
    assert page.get("homes", "1-101") is None
    assert page.update("homes", "1-101", beds=5) == {"key": "1-101", "name": None, "beds": 5, "icb": None}
    page.delete("homes", "1-101")
    page.commit()
    assert page.store["homes"] == {}


def test_updates_build_on_the_stored_row_and_are_written_when_the_page_commits():
    page = MemoryPage([HOMES])
    page.put("homes", "1-101", {"name": "Aster House", "beds": 30})
    page.commit()
    page.update("homes", "1-101", beds=31)
    page.update("homes", "1-101", icb="NCL")
    assert page.store["homes"]["1-101"]["beds"] == 30  # nothing written before the page commits
    page.commit()
    assert page.store["homes"]["1-101"] == {"key": "1-101", "name": "Aster House", "beds": 31, "icb": "NCL"}


def test_columns_the_table_does_not_have_are_refused():
    page = MemoryPage([HOMES])
    with pytest.raises(KeyError, match="homes has no column postcode"):
        page.put("homes", "1-101", {"name": "Aster House", "postcode": "N1"})
    with pytest.raises(KeyError, match="homes has no column key_worker, postcode"):
        page.update("homes", "1-101", postcode="N1", key_worker="x")
    assert page.get("homes", "1-101") is None


def test_a_row_put_is_the_pages_own_copy():
    page = MemoryPage([HOMES])
    complete = {"key": "ignored", "name": "Aster House", "beds": 30, "icb": "NCL"}
    page.put("homes", "1-101", complete)
    complete["beds"] = 1  # the handler reusing its dict changes nothing
    assert page.get("homes", "1-101") == {"key": "1-101", "name": "Aster House", "beds": 30, "icb": "NCL"}
