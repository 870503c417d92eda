"""The event index over real commands (each test on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from audit.replay import replay_projection
from domain.application import Ledger
from projections import follow, runner
from projections.event_index import EventIndex
from tests.integration.machinery import apply, live_contents

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
UTC = timezone.utc
FILES = ("monthly-returns.jsonl", "novation-after-sale.jsonl", "london-aqp-care-homes-2026.jsonl")


def script() -> list[str]:
    return [line for name in FILES for line in (SCENARIOS / name).read_text().splitlines()]


def stored(ledger: Ledger) -> list[tuple[int, Any]]:
    found: list[Any] = []
    while page := ledger.notification_log.select(start=found[-1].id + 1 if found else 1, limit=500):
        found += page
    return [(n.id, ledger.mapper.to_domain_event(n)) for n in found]


def view(ledger: Ledger) -> Any:
    return follow.live_view(ledger, EventIndex)


def catch_up(ledger: Ledger, page_size: int | None = None) -> int:
    return follow.catch_up(ledger, EventIndex(view(ledger)), page_size=page_size)


@pytest.fixture
def busy(ledger: Ledger) -> Ledger:
    apply(ledger, script())
    return ledger


def test_every_stored_event_is_indexed_with_its_notification_id_and_actor(busy):
    ledger = busy
    events = stored(ledger)
    assert catch_up(ledger, page_size=40) == len(events) == ledger.max_position()
    rows = view(ledger).select("event_index")
    assert [(r["notification_id"], r["event"], r["version"]) for r in rows] == [
        (nid, type(e).__name__, e.originator_version) for nid, e in events
    ]
    for row, (_nid, event) in zip(rows, events, strict=True):
        actor = event.meta["actor"]
        assert (row["actor"], row["actor_org"], row["actor_role"]) == (actor["id"], actor["org"], actor["role"])
        assert (row["correlation_id"], row["causation_id"]) == (event.meta["correlation_id"], event.meta["causation_id"])
        assert row["recorded_at"] == event.timestamp.astimezone(UTC).isoformat()
    kinds = {r["kind"] for r in rows}
    assert {"competition", "contract", "framework", "location", "return"} <= kinds
    assert all(r["reference"] for r in rows)


def test_a_subjects_history_and_an_actors_actions(busy):
    ledger = busy
    catch_up(ledger)
    v = view(ledger)
    # Everything about one bidder, in log order: its tender, the opening, declarations, the outcome...
    about = v.select("event_subjects", where={"subject": "fernbank-nursing-homes"}, order_by=("notification_id",))
    events = [r["event"] for r in about]
    assert events[0] == "TenderSubmitted"
    assert {"TendersOpened", "EvaluationClarificationIssued", "OutcomeDecided", "AwardConcluded"} <= set(events)
    # The bidder's answer to a clarification does not name the bidder: it is found by who sent it.
    answered = v.select("event_index", where={"event": "EvaluationClarificationAnswered"})
    assert [r["actor_org"] for r in answered] == ["fernbank-nursing-homes"]
    assert [r["notification_id"] for r in about] == sorted(r["notification_id"] for r in about)
    # What one evaluator did, and what concerns them.
    did = v.select("event_index", where={"actor": "dr.a.patel"})
    assert did and {r["event"] for r in did} <= {"ConflictsDeclared", "ScoreRecorded"}
    concerns = v.count("event_subjects", where={"subject_kind": "person", "subject": "dr.a.patel"})
    assert concerns >= len([r for r in did if r["event"] == "ScoreRecorded"])
    # A return concerns its home and the home's registered provider.
    returned = v.select("event_subjects", where={"kind": "return", "relation": "location's provider"})
    assert returned and all(r["subject_kind"] == "provider" for r in returned)
    # A contract after its novation concerns the new holder.
    records = v.select("event_records", where={"kind": "contract"})
    assert records and all(r["events"] >= 1 for r in records)


def test_incremental_catch_up_equals_a_rebuild(ledger):
    lines = script()
    for part in (lines[: len(lines) // 2], lines[len(lines) // 2 :]):
        apply(ledger, part)
        catch_up(ledger, page_size=13)
        assert catch_up(ledger, page_size=13) == 0
    caught_up = live_contents(ledger, EventIndex)
    assert len(caught_up["event_index"]) == ledger.max_position()
    assert runner.rebuild(ledger, "event_index", page_size=64) == {"event_index": ledger.max_position()}
    assert live_contents(ledger, EventIndex) == caught_up


def test_replaying_the_index_as_of_a_past_time(busy):
    ledger = busy
    as_of = datetime(2026, 2, 1, tzinfo=UTC)
    past = replay_projection(ledger, "event_index", as_of)
    expected = [(nid, type(e).__name__) for nid, e in stored(ledger) if e.timestamp <= as_of]
    assert expected and [(r["notification_id"], r["event"]) for r in past] == expected
    subjects = replay_projection(ledger, "event_index", as_of, table="event_subjects")
    assert {r["notification_id"] for r in subjects} == {nid for nid, _ in expected}
