"""The rebuild's swap replaces the live tables whole: afterwards they have exactly the indexes
they had (made afresh, with the same names), and nothing of the swap is left beside them."""

from __future__ import annotations

from typing import Any

from audit.store import SqlStore
from projections import runner
from tests.integration.test_contract_register import apply_scenario


def schema_objects(ledger: Any) -> set[tuple[str, ...]]:
    """(kind, name, table, definition) of every table and index in the ledger's database."""
    store = SqlStore(ledger)
    with store.transaction(commit=False) as sql:
        if store.sqlite:
            rows = sql.query("SELECT type, name, tbl_name, sql FROM sqlite_master WHERE type IN ('table', 'index')")
            return {(r["type"], r["name"], r["tbl_name"], r["sql"] or "") for r in rows}
        schema = store.datastore.schema
        tables = sql.query("SELECT tablename FROM pg_tables WHERE schemaname = ?", (schema,))
        indexes = sql.query("SELECT indexname, tablename, indexdef FROM pg_indexes WHERE schemaname = ?", (schema,))
        return {("table", r["tablename"], r["tablename"], "") for r in tables} | {
            ("index", r["indexname"], r["tablename"], r["indexdef"]) for r in indexes
        }


def test_a_rebuild_leaves_the_same_tables_and_indexes(ledger):
    apply_scenario(ledger, "nottingham-escalation.jsonl")
    runner.catch_up_all(ledger)
    before = schema_objects(ledger)
    assert any(kind == "index" and name.endswith("_idx") for kind, name, _t, _d in before)
    runner.rebuild(ledger)
    assert schema_objects(ledger) == before
    runner.rebuild(ledger, "event_index")
    assert schema_objects(ledger) == before
