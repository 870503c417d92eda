"""`?as_of=` over HTTP answered from the read models' history, on both stores: a real server.

The lists' "as at a time" is a query of the history tables the read models keep (every
version of every row, with when it held), so it answers at any date however long the log:
here the server would replay at most 10 events per request, and the ledger holds hundreds.
The ledger is the London AQP procurement, recorded in order of time as a ledger on its own
clock records it; each answer must equal the read model rebuilt from the log up to then.
"""

from __future__ import annotations

import json
from datetime import timedelta, timezone

import pytest

from audit.replay import replay_projection
from tests.conftest import postgres_schema, require_postgres
from tests.e2e.commissioner_world import apply
from tests.e2e.http_server import ROOT, every, running_server
from tests.integration.machinery import event_times

pytestmark = pytest.mark.storage

#: list path -> its read model
LISTS = {"/contracts": "contracts", "/competitions": "competitions", "/locations": "cms"}


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request, tmp_path_factory):
    lines = (ROOT / "scenarios" / "london-aqp-care-homes-2026.jsonl").read_text(encoding="utf-8").splitlines()
    if request.param == "sqlite":
        with running_server(f"sqlite:///{tmp_path_factory.mktemp('as-of')}/ledger.db") as server:
            apply(server.ledger, lines)
            yield server
        return
    require_postgres()
    with postgres_schema() as url, running_server(url) as server:
        apply(server.ledger, lines)
        yield server


def test_every_list_as_of_any_time_is_the_read_model_rebuilt_up_to_then_however_long_the_log(served, monkeypatch):
    monkeypatch.setattr(served.app.state.service, "replay_max_events", 10)  # AQP_API_REPLAY_MAX_EVENTS=10
    times = event_times(served.ledger)
    assert len(times) > 200 and times == sorted(times)
    asked = [times[0] - timedelta(days=1), times[len(times) // 3], times[len(times) // 2] - timedelta(microseconds=1), times[-1]]
    answered = 0
    with served.client("auditor", "NAO") as auditor:
        for path, name in LISTS.items():
            for moment in asked:
                stamp = moment.astimezone(timezone.utc).isoformat()
                rows = every(auditor, path, as_of=stamp)
                expected = replay_projection(served.ledger, name, moment)
                # The homes' list adds columns worked out on the day asked about; the rest are stored.
                stored = [{c: r[c] for c in expected[0]} for r in rows] if expected else rows
                assert sorted(stored, key=json.dumps) == sorted(expected, key=json.dumps), f"{path} as of {stamp}"
                answered += len(rows)
    assert answered > 0
