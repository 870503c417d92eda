"""What the tests of the read-model machinery share: fresh ledgers per example, full table contents."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

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


def contents(view: Any, model: Any) -> dict[str, list[dict[str, Any]]]:
    """Every table of a read model, every column (hidden ones too), in key order."""
    return {t.name: view.select(t.name, columns=("key", *t.names), order_by=("key",)) for t in model.tables}


def live_state(ledger: Ledger) -> dict[str, tuple[int, dict[str, list[dict[str, Any]]]]]:
    """Each catalogued read model's position and contents, as the live tables hold them."""
    state = {}
    for name, model in READ_MODELS.items():
        view = follow.live_view(ledger, model)
        state[name] = (view.max_tracking_id(ledger.name) or 0, contents(view, model))
    return state


def rebuilt_state(ledger: Ledger, page_size: int | None = None) -> dict[str, tuple[int, dict[str, list[dict[str, Any]]]]]:
    """The same, built from zero in a scratch store by one fresh catch-up (the live tables untouched)."""
    with follow.scratch_store() as datastore:
        projections = [model(follow.scratch_view_in(datastore, model)) for model in READ_MODELS.values()]
        follow.catch_up_many(ledger, projections, page_size=page_size)
        return {
            p.name: (p.view.max_tracking_id(ledger.name) or 0, contents(p.view, type(p))) for p in projections
        }
