"""The competition list in the ledger's own database (each test runs on SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from eventsourcing.persistence import IntegrityError, Tracking

from domain.procurement import commands as c
from domain.kernel import data_subjects
from api.bootstrap import ledger_at
from domain.application import Ledger
from domain.kernel.metadata import Actor
from domain.procurement.competition import Competition
from projections.competitions import (
    CompetitionList,
    catch_up,
    competition_list,
    open_view,
)
from tests.integration.machinery import apply, dying_half_way

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "london-aqp-care-homes-2026.jsonl"
LEAD = Actor(id="lead", org="CSU", role="procurement_lead")
UTC = timezone.utc


def apply_example(ledger: Ledger, lines: list[str] | None = None) -> None:
    apply(ledger, lines if lines is not None else SCENARIO.read_text().splitlines())


def open_competition(ledger: Ledger, reference: str) -> None:
    result = ledger.handle(
        c.OpenCompetition(
            competition=reference,
            title=f"Round {reference}",
            procedure="open",
            standstill_regime="pa2023",
            lots=[c.LotSpec(id="L1", name="London"), c.LotSpec(id="L2", name="Kent")],
            clarification_deadline=datetime(2026, 2, 1, tzinfo=UTC),
            tender_deadline=datetime(2026, 2, 20, 12, tzinfo=UTC),
        ),
        LEAD,
        at=datetime(2026, 1, 5, 9, tzinfo=UTC),
    )
    assert result.ok, result.error


def cancel(ledger: Ledger, reference: str) -> None:
    result = ledger.handle(
        c.CancelCompetition(competition=reference, reason="The budget was withdrawn."),
        LEAD,
        at=datetime(2026, 1, 6, 9, tzinfo=UTC),
    )
    assert result.ok, result.error


def competition_events(ledger: Ledger) -> int:
    """How many stored events the list follows (the scenario records other kinds too)."""
    return len(ledger.notification_log.select(start=1, limit=1000, topics=CompetitionList.topics))


def row_from_aggregate(ledger: Ledger, reference: str) -> dict[str, Any]:
    """The row as the aggregate itself says it should read."""
    comp = ledger.competition(reference)
    live = [b for b, t in comp.tenders.items() if t["status"] == "submitted"]
    awarded = {lot: bidders for lot, bidders in (comp.award or {}).get("awards", {}).items() if bidders}
    return {
        "reference": comp.reference,
        "title": comp.title,
        "authority": comp.authority,
        "acting_for": " ".join(comp.acting_for) or None,
        "procedure": comp.procedure,
        "standstill_regime": comp.standstill_regime,
        "status": comp.status,
        "lots": len(comp.lots),
        "tender_deadline": comp.tender_deadline.astimezone(UTC).isoformat(),
        "tenders": len(live) if comp.opened_at else None,
        "awarded_lots": len(awarded) if comp.award else None,
        "awarded_bidders": len({b for bs in awarded.values() for b in bs}) if comp.award else None,
        "last_event_at": last_public_event_at(ledger, reference),
        # Before the opening the version would count the sealed tenders, so the list shows none.
        "version": comp.version if comp.opened_at else None,
    }


def last_public_event_at(ledger: Ledger, reference: str) -> str:
    """The time of the competition's latest event other than a tender's (tenders are sealed)."""
    sealed = (Competition.TenderSubmitted, Competition.TenderWithdrawn)
    events = [e for e in ledger.events.get(Competition.id_for(reference)) if not isinstance(e, sealed)]
    return events[-1].timestamp.astimezone(UTC).isoformat()


def test_the_live_competition_list_matches_the_aggregates_after_the_example_scenario(ledger):
    apply_example(ledger)
    open_competition(ledger, "AQP-ZZ-OPEN")
    open_competition(ledger, "AQP-AA-CANCELLED")
    cancel(ledger, "AQP-AA-CANCELLED")

    assert catch_up(ledger) == competition_events(ledger)

    references = ["AQP-AA-CANCELLED", "AQP-CH-2026", "AQP-ZZ-OPEN"]
    rows = competition_list(ledger)
    assert rows == [row_from_aggregate(ledger, ref) for ref in references]
    example = rows[1]
    assert (example["status"], example["tenders"], example["awarded_lots"], example["awarded_bidders"]) == ("awarded", 13, 3, 10)
    assert [r["status"] for r in rows] == ["cancelled", "awarded", "open"]
    assert rows[2]["tenders"] is None


def test_catching_up_twice_changes_nothing_and_pages_give_the_same_list(ledger):
    apply_example(ledger)
    # The last event is one the list does not follow; its position is recorded all the same.
    erase = data_subjects.ErasePersonalData(subject="nobody", reason="Erasure request ER-1")
    assert ledger.handle(erase, Actor(id="dpo", org="CSU", role="admin"), at=datetime(2026, 6, 1, tzinfo=UTC)).ok
    assert catch_up(ledger, page_size=7) == competition_events(ledger)  # many pages, a transaction each
    view = open_view(ledger)
    rows, position = view.rows(), view.max_tracking_id(ledger.name)
    assert position == ledger.max_position()

    assert catch_up(ledger) == 0
    assert view.rows() == rows and view.max_tracking_id(ledger.name) == position


def test_a_new_process_catches_up_from_where_the_list_stopped(database_url):
    lines = SCENARIO.read_text().splitlines()
    first = ledger_at(database_url)
    try:
        apply_example(first, lines[:60])
        applied_first = catch_up(first)
        apply_example(first, lines[60:])
    finally:
        first.close()
    second = ledger_at(database_url)
    try:
        assert applied_first + catch_up(second) == competition_events(second)
        assert open_view(second).max_tracking_id(second.name) == second.max_position()
        assert competition_list(second) == [row_from_aggregate(second, "AQP-CH-2026")]
    finally:
        second.close()


def test_a_failure_half_way_through_a_page_leaves_neither_rows_nor_position_moved(ledger):
    open_competition(ledger, "AQP-A")
    catch_up(ledger)
    view = open_view(ledger)
    rows_before, position_before = view.rows(), view.max_tracking_id(ledger.name)
    open_competition(ledger, "AQP-B")
    cancel(ledger, "AQP-A")

    with dying_half_way(view) as written, pytest.raises(RuntimeError):
        catch_up(ledger, view)
    assert sorted(r["reference"] for r in written) == ["AQP-A", "AQP-B"]  # rows written inside the transaction...
    assert view.rows() == rows_before  # ...and rolled back with it
    assert view.max_tracking_id(ledger.name) == position_before

    assert catch_up(ledger, view) == 2
    assert [(r["reference"], r["status"]) for r in view.rows()] == [("AQP-A", "cancelled"), ("AQP-B", "open")]


def test_a_page_whose_position_is_already_recorded_writes_nothing(ledger):
    open_competition(ledger, "AQP-A")
    catch_up(ledger)
    view = open_view(ledger)
    rows_before = view.rows()
    with pytest.raises(IntegrityError):
        with view.page(Tracking(ledger.name, view.max_tracking_id(ledger.name))) as page:
            page.put("competitions", "00000000-0000-0000-0000-000000000001", {"reference": "AQP-GHOST", "status": "open"})
    assert view.rows() == rows_before


def test_two_processes_catching_up_at_once_apply_each_event_once(database_url, ledger):
    open_competition(ledger, "AQP-A")
    open_competition(ledger, "AQP-B")
    cancel(ledger, "AQP-A")
    other = ledger_at(database_url)
    try:
        mine, theirs = open_view(ledger), open_view(other)
        # The other process read the position (nothing yet), then this one caught up first.
        reads: list[str] = []
        real = theirs.max_tracking_id

        def stale_then_real(name: str) -> int | None:
            reads.append(name)
            return None if len(reads) == 1 else real(name)

        theirs.max_tracking_id = stale_then_real  # type: ignore[method-assign]
        assert catch_up(ledger, mine) == 3
        assert catch_up(other, theirs) == 0  # its page is refused whole; it resumes from the new position
        assert len(reads) == 2
        assert [(r["reference"], r["status"], r["last_event_at"]) for r in mine.rows()] == [
            ("AQP-A", "cancelled", "2026-01-06T09:00:00+00:00"),
            ("AQP-B", "open", "2026-01-05T09:00:00+00:00"),
        ]
    finally:
        other.close()
