"""What the read-model tests share: fresh ledgers per example, scenario lines applied, full
table contents, a page that dies half way."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from api.scenario import apply_lines
from api.bootstrap import ledger_at
from domain.application import Ledger
from projections import follow
from projections.catalogue import READ_MODELS
from tests.conftest import postgres_schema


@contextmanager
def fresh_url(database_url: str) -> Iterator[str]:
    """An empty store beside the test's own (hypothesis runs many examples in one test)."""
    if urlparse(database_url).scheme == "sqlite":
        yield database_url.replace("ledger.db", f"ledger-{uuid.uuid4().hex[:12]}.db")
        return
    with postgres_schema() as url:
        yield url


@contextmanager
def fresh_ledger(database_url: str) -> Iterator[Ledger]:
    with fresh_url(database_url) as url:
        ledger = ledger_at(url)
        try:
            yield ledger
        finally:
            ledger.close()


def apply(ledger: Ledger, lines: list[str]) -> None:
    """Apply scenario lines; every line must do what it expects (the lines that did not are the failure)."""
    outcomes = list(apply_lines(ledger, lines))
    assert [(o.line, o.result) for o in outcomes if not o.met] == []


def event_times(ledger: Ledger) -> list[datetime]:
    """The time of every event in the log, in log order (for choosing as-of moments)."""
    found, start = [], 1
    while notifications := ledger.notification_log.select(start=start, limit=ledger.log_section_size):
        found += [ledger.mapper.to_domain_event(n).timestamp for n in notifications]
        start = notifications[-1].id + 1
    return found


@contextmanager
def dying_half_way(view: Any) -> Iterator[list[dict[str, Any]]]:
    """Each page the view writes writes its rows, then the process dies (RuntimeError) before
    the commit; yields the rows written, so a test can see they were written and rolled back."""
    written: list[dict[str, Any]] = []
    write = view._write

    def write_then_fail(cursor: Any, table: Any, upserts: Any, deletes: Any) -> None:
        write(cursor, table, upserts, deletes)
        written.extend(upserts)
        raise RuntimeError("the projection process died half way through the page")

    view._write = write_then_fail
    try:
        yield written
    finally:
        del view._write


def contents(view: Any, model: Any) -> dict[str, list[Any]]:
    """Every table of a read model, every column (hidden ones too), in key order; and where the
    view keeps history, every version in each table's history (by key, then time)."""
    found: dict[str, list[Any]] = {t.name: view.select(t.name, columns=("key", *t.names), order_by=("key",)) for t in model.tables}
    if view.keeps_history:
        found |= {t.history_name: list(view.final_versions(t)) for t in model.tables}
    return found


def live_contents(ledger: Ledger, model: Any) -> dict[str, list[dict[str, Any]]]:
    """`contents` of the read model's live tables."""
    return contents(follow.live_view(ledger, model), model)


def live_state(ledger: Ledger) -> dict[str, tuple[int, dict[str, list[dict[str, Any]]]]]:
    """Each catalogued read model's position and contents, as the live tables hold them."""
    return {
        name: (follow.live_view(ledger, model).max_tracking_id(ledger.name) or 0, live_contents(ledger, model))
        for name, model in READ_MODELS.items()
    }


def rebuilt_state(ledger: Ledger, page_size: int | None = None) -> dict[str, tuple[int, dict[str, list[dict[str, Any]]]]]:
    """The same, built from zero in a scratch store by one fresh catch-up (the live tables untouched)."""
    with follow.scratch_store() as datastore:
        projections = [model(follow.scratch_view_in(datastore, model)) for model in READ_MODELS.values()]
        follow.catch_up_many(ledger, projections, page_size=page_size)
        return {
            p.name: (p.view.max_tracking_id(ledger.name) or 0, contents(p.view, type(p))) for p in projections
        }
