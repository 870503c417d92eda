"""The contract register in the ledger's own database (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.utils import get_topic

from audit.replay import replay_projection
from domain.application import Ledger
from domain.contracts.contract import Contract
from domain.contracts.views import contract_state
from projections import runner
from projections.contract_register import (
    ContractRegister,
    catch_up,
    contract_register,
    open_view,
)
from tests.integration.machinery import apply, dying_half_way

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"
UTC = timezone.utc


def apply_scenario(ledger: Ledger, name: str) -> None:
    apply(ledger, (SCENARIOS / name).read_text().splitlines())


def notifications(ledger: Ledger, topics: Any) -> list[Any]:
    found: list[Any] = []
    while True:
        page = ledger.notification_log.select(start=found[-1].id if found else 0, limit=1000, topics=topics, inclusive_of_start=False)
        if not page:
            return found
        found += page


def contract_references(ledger: Ledger) -> list[str]:
    awarded = notifications(ledger, [get_topic(Contract.Awarded)])
    return sorted(ledger.mapper.to_domain_event(n).reference for n in awarded)


def row_from_state(state: dict[str, Any], modified_on: datetime) -> dict[str, Any]:
    """The row as `contract_state` says it should read."""
    return {
        "reference": state["reference"],
        "framework": state["framework"],
        "lot": state["lot"],
        "provider": state["provider"],
        "status": state["status"],
        "original_value": state["value"]["original"],
        "current_value": state["value"]["current"],
        "cumulative_variation": state["value"]["cumulative_variation"],
        "variations": len(state["variations"]),
        "escalation_stage": state["escalation"]["stage"],
        "referrals_suspended": "yes" if state["referrals_suspended"] else "no",
        "term_end": state["term"]["ends_on"],
        "last_event_at": modified_on.astimezone(UTC).isoformat(),
        "version": state["version"],
    }


def expected_rows(ledger: Ledger) -> list[dict[str, Any]]:
    rows = []
    for reference in contract_references(ledger):
        k = ledger.aggregate(Contract, reference)
        rows.append(row_from_state(contract_state(k), k.modified_on))
    return rows


def contract_events(ledger: Ledger) -> int:
    return len(notifications(ledger, ContractRegister.topics))


@pytest.fixture
def scenario_ledger(ledger: Ledger) -> Ledger:
    apply_scenario(ledger, "nottingham-escalation.jsonl")
    apply_scenario(ledger, "april-price-variation.jsonl")
    return ledger


def test_the_register_matches_contract_state_for_every_contract(scenario_ledger):
    ledger = scenario_ledger
    assert catch_up(ledger, page_size=11) == contract_events(ledger)
    rows = contract_register(ledger)
    assert len(rows) >= 4
    assert rows == expected_rows(ledger)
    meadowview = next(r for r in rows if r["reference"] == "NCC-RES-2026/CITY/meadowview-care")
    assert (meadowview["status"], meadowview["escalation_stage"], meadowview["referrals_suspended"]) == (
        "terminated", "final_notice_90_day", "yes",
    )
    assert any(r["variations"] > 0 and r["cumulative_variation"] > 0 for r in rows)


def test_catching_up_twice_changes_nothing(scenario_ledger):
    ledger = scenario_ledger
    catch_up(ledger)
    view = open_view(ledger)
    rows, position = view.rows(), view.max_tracking_id(ledger.name)
    assert position == ledger.max_position()
    assert catch_up(ledger) == 0
    assert view.rows() == rows and view.max_tracking_id(ledger.name) == position


def test_a_failure_half_way_through_a_page_leaves_neither_rows_nor_position_moved(scenario_ledger):
    ledger = scenario_ledger
    view = open_view(ledger)
    with dying_half_way(view) as written, pytest.raises(RuntimeError):
        catch_up(ledger, view, page_size=1000)
    assert len(written) > 1  # rows were written inside the transaction, then rolled back
    assert view.rows() == [] and (view.max_tracking_id(ledger.name) or 0) == 0

    assert catch_up(ledger, view) == contract_events(ledger)
    assert view.rows() == expected_rows(ledger)


def test_rebuild_gives_the_same_rows_and_position(scenario_ledger):
    ledger = scenario_ledger
    runner.catch_up_all(ledger)
    before = dict(runner.READ_MODELS)
    rows = {name: runner.follow.live_view(ledger, rm).rows() for name, rm in before.items()}
    seen: list[tuple[int, int]] = []
    for name in runner.READ_MODELS:
        positions = runner.rebuild(ledger, name, progress=lambda done, total: seen.append((done, total)), page_size=50)
        assert positions == {name: ledger.max_position()}
        assert runner.follow.live_view(ledger, before[name]).rows() == rows[name]
    assert runner.rebuild(ledger, progress=lambda done, total: seen.append((done, total))) == {
        name: ledger.max_position() for name in runner.READ_MODELS
    }
    assert {name: runner.follow.live_view(ledger, rm).rows() for name, rm in before.items()} == rows
    assert seen and seen[-1] == (ledger.max_position(), ledger.max_position())
    assert all(s.lag == 0 for s in runner.status(ledger))
    assert runner.catch_up_all(ledger) == {name: 0 for name in runner.READ_MODELS}


def test_status_shows_the_lag_and_the_follower_keeps_read_models_current(scenario_ledger):
    ledger = scenario_ledger
    statuses = {s.name: s for s in runner.status(ledger)}
    assert set(statuses) == set(runner.READ_MODELS)
    assert statuses["contracts"].position == 0 and statuses["contracts"].lag == ledger.max_position()
    follower = runner.ProjectionFollower(ledger)
    follower()
    assert all(s.lag == 0 for s in runner.status(ledger))
    assert contract_register(ledger) == expected_rows(ledger)


def test_replaying_the_register_as_of_a_time(scenario_ledger):
    ledger = scenario_ledger
    now = datetime(2100, 1, 1, tzinfo=UTC)
    assert replay_projection(ledger, "contracts", now) == expected_rows(ledger)
    assert replay_projection(ledger, "contracts", datetime(2000, 1, 1, tzinfo=UTC)) == []
    # The live tables were never touched.
    assert (open_view(ledger).max_tracking_id(ledger.name) or 0) == 0
