"""A column added to a read model's table reaches a store whose table was made before it.

The event index's subjects gained `named` (what an event's content names, withheld with it);
a ledger whose index was built before must keep following and serving: opening the view adds
the column (null in the rows already there, which the readers' redaction treats as named:
withheld until `aqp projections rebuild event_index` fills it), and new events write it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from domain.application import Ledger
from projections import follow
from projections.event_index import SUBJECTS, EventIndex
from tests.integration.machinery import apply

pytestmark = pytest.mark.storage

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "london-aqp-care-homes-2026.jsonl"


def _table_as_it_was(ledger: Ledger) -> None:
    """The subjects table as the store made it before `named` was added."""
    datastore = ledger.recorder.datastore
    schema = getattr(datastore, "schema", None)
    table = f'"{schema}"."{SUBJECTS.name}"' if schema else SUBJECTS.name
    columns = ", ".join(f"{c.name} {'BIGINT' if c.type == 'integer' else 'TEXT'}" for c in SUBJECTS.columns if c.name != "named")
    with datastore.transaction(commit=True) as cursor:
        cursor.execute(f"CREATE TABLE {table} (key TEXT PRIMARY KEY, {columns})")


def test_a_table_made_before_a_column_was_added_gets_it_and_the_read_model_keeps_following(ledger):
    _table_as_it_was(ledger)
    lines = SCENARIO.read_text().splitlines()
    apply(ledger, lines[:40])
    view = follow.live_view(ledger, EventIndex)
    assert follow.catch_up(ledger, EventIndex(view)) > 0
    rows = view.select(SUBJECTS.name, columns=("event", "relation", "named"), where={"kind": "competition"})
    assert rows and {r["named"] for r in rows} == {0, 1}
    assert all(r["named"] == (0 if r["relation"] == "record" else 1) for r in rows)
