"""Replay for auditors: aggregates and read models as of a time, and diffs (both stores)."""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone

import pytest

from audit.replay import (
    aggregate_kinds,
    describe_diff,
    diff,
    replay_projection,
    rows_as_csv,
    state_as_of,
    state_function,
)
from domain.kernel import data_subjects as c
from domain.kernel.errors import DomainError
from domain.kernel.metadata import Actor
from projections.competitions import COLUMNS, catch_up, competition_list
from tests.integration.store_access import raw_connection, schema_of
from tests.integration.test_competition_list import apply_example

UTC = timezone.utc
BEFORE_OPENING = datetime(2026, 2, 20, 13, tzinfo=UTC)  # after the deadline, before tenders.open
ADMIN = Actor(id="dpo", org="NEL-CSU", role="admin")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def live_tables(database_url: str) -> dict[str, str]:
    """Every table in the live database with a digest of its definition and content."""
    with raw_connection(database_url) as conn:
        if database_url.startswith("sqlite"):
            names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()]
        else:
            names = [
                r[0]
                for r in conn.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = ?", (schema_of(database_url),)
                ).fetchall()
            ]
        digests = {}
        for name in sorted(names):
            rows = sorted(repr(tuple(r)) for r in conn.execute(f'SELECT * FROM "{name}"').fetchall())
            digests[name] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return digests


def test_replay_as_of_a_time_before_tender_opening_shows_status_open_and_no_tender_count(ledger):
    apply_example(ledger)
    (row,) = replay_projection(ledger, "competitions", BEFORE_OPENING)
    assert row["reference"] == "AQP-CH-2026"
    assert row["status"] == "open" and row["tenders"] is None
    assert row["awarded_lots"] is None and row["awarded_bidders"] is None
    assert row["version"] is None  # each sealed tender moves the version: shown from the opening on
    assert state_as_of(ledger, "competition", "AQP-CH-2026", BEFORE_OPENING)["version"] > 2
    assert row["last_event_at"] <= BEFORE_OPENING.isoformat()

    (opened,) = replay_projection(ledger, "competitions", at("2026-02-23T09:00:00Z"))
    assert (opened["status"], opened["tenders"]) == ("evaluation", 13)
    assert replay_projection(ledger, "competitions", at("2025-12-31T00:00:00Z")) == []


def test_replay_does_not_create_or_change_any_table_in_the_live_database(database_url, ledger):
    apply_example(ledger)
    before = live_tables(database_url)
    assert "competitions" not in before
    replay_projection(ledger, "competitions", BEFORE_OPENING)
    assert live_tables(database_url) == before

    catch_up(ledger)  # now the live read model exists and is current
    with_live_list = live_tables(database_url)
    live_rows = competition_list(ledger)
    replay_projection(ledger, "competitions", BEFORE_OPENING)
    assert live_tables(database_url) == with_live_list
    assert competition_list(ledger) == live_rows and live_rows[0]["status"] == "awarded"


def test_replay_as_of_the_end_of_history_matches_the_live_list(ledger):
    apply_example(ledger)
    catch_up(ledger)
    assert replay_projection(ledger, "competitions", at("2100-01-01T00:00:00Z")) == competition_list(ledger)


def test_every_kind_of_aggregate_can_be_shown_as_of_a_time(ledger):
    apply_example(ledger)
    missing = [kind for kind, cls in aggregate_kinds().items() if state_function(cls) is None]
    assert missing == [], "define <kind>_state beside the aggregate, or register one in audit/replay.py"
    assert state_as_of(ledger, "competition", "AQP-CH-2026", BEFORE_OPENING) == ledger.show_competition(
        "AQP-CH-2026", as_of=BEFORE_OPENING
    )
    assert state_as_of(ledger, "competition", "AQP-CH-2026") == ledger.show_competition("AQP-CH-2026")

    erase = c.ErasePersonalData(subject="dr.a.patel", reason="Erasure request ER-7")
    assert ledger.handle(erase, ADMIN, at=at("2026-06-01T09:00:00Z")).ok
    assert ledger.handle(erase, ADMIN, at=at("2026-06-02T09:00:00Z")).ok
    subject = state_as_of(ledger, "data_subject", "dr.a.patel", at("2026-06-01T12:00:00Z"))
    assert (subject["reference"], subject["erasures"], subject["version"]) == ("dr.a.patel", 1, 1)
    assert state_as_of(ledger, "data_subject", "dr.a.patel")["erasures"] == 2

    with pytest.raises(DomainError) as err:
        state_as_of(ledger, "data_subject", "dr.a.patel", at("2026-05-01T00:00:00Z"))
    assert err.value.message == "There is no data subject dr.a.patel as of 2026-05-01T00:00:00+00:00."
    with pytest.raises(DomainError) as err:
        state_as_of(ledger, "spaceship", "S-1")
    assert err.value.code == "unknown_kind"
    assert err.value.message.startswith("There is no kind of record called spaceship; the kinds are competition, ")


def test_diff_between_two_times_lists_the_changed_paths_and_the_events_between(ledger):
    apply_example(ledger)
    result = diff(ledger, "competition", "AQP-CH-2026", at("2026-02-22T00:00:00Z"), at("2026-02-24T00:00:00Z"))
    summary = [(ch["path"], ch["change"], ch.get("from"), ch.get("to")) for ch in result["changes"]]
    assert ("status", "changed", "open", "evaluation") in summary
    assert ("version", "changed", 23, 28) in summary
    assert ("timetable.opened_at", "changed", None, "2026-02-23T09:00:00+00:00") in summary
    assert {p for p, kind, _, _ in summary if kind == "added"} == {
        'evaluators["dr.a.patel"]', 'evaluators["s.mensah"]', 'evaluators["r.hughes"]', 'evaluators["m.owusu"]'
    }
    assert len(summary) == 7

    events = result["events"]
    assert [e["version"] for e in events] == [24, 25, 26, 27, 28]
    assert [e["type"] for e in events] == ["Competition.TendersOpened"] + ["Competition.EvaluatorAppointed"] * 4
    assert all(e["actor"] == {"id": "j.okafor", "org": "NEL-CSU", "role": "procurement_lead"} for e in events)
    assert events[0]["timestamp"] == "2026-02-23T09:00:00+00:00" and events[0]["command"] == "tenders.open"
    stored = {n.originator_version: n.id for n in ledger.notification_log.select(start=1, limit=1000)}
    assert [e["notification_id"] for e in events] == [stored[v] for v in range(24, 29)]

    text = describe_diff(result)
    assert "  status: open -> evaluation\n" in text
    assert f"  #{stored[24]}  v24  2026-02-23T09:00:00+00:00  Competition.TendersOpened  by j.okafor (NEL-CSU, procurement_lead)" in text


def test_diff_shows_a_resubmitted_tender_as_changed_fields_and_a_first_one_as_added(ledger):
    apply_example(ledger)
    first = diff(ledger, "competition", "AQP-CH-2026", at("2026-02-02T00:00:00Z"), at("2026-02-02T12:00:00Z"))
    assert [(ch["path"], ch["change"]) for ch in first["changes"]] == [
        ("version", "changed"),
        ("tenders.aster-care-homes", "added"),
    ]
    assert first["events"][0]["actor"]["org"] == "aster-care-homes"

    again = diff(ledger, "competition", "AQP-CH-2026", at("2026-02-19T00:00:00Z"), at("2026-02-20T00:00:00Z"))
    paths = {ch["path"] for ch in again["changes"]}
    assert {"tenders.aster-care-homes.content_sha256", "tenders.aster-care-homes.submission"} <= paths
    assert [e["type"] for e in again["events"]] == ["Competition.TenderSubmitted"]  # the 16:01 retry recorded nothing


def test_diff_from_before_an_aggregate_existed_shows_everything_added(ledger):
    apply_example(ledger)
    result = diff(ledger, "competition", "AQP-CH-2026", at("2026-01-01T00:00:00Z"), at("2026-01-05T09:00:00Z"))
    assert result["from_version"] is None and result["to_version"] == 1
    assert {ch["change"] for ch in result["changes"]} == {"added"}
    assert [e["type"] for e in result["events"]] == ["Competition.Opened"]


def test_diff_refuses_times_in_the_wrong_order_and_unknown_records(ledger):
    apply_example(ledger)
    with pytest.raises(DomainError) as err:
        diff(ledger, "competition", "AQP-CH-2026", at("2026-03-01T00:00:00Z"), at("2026-02-01T00:00:00Z"))
    assert err.value.code == "times_reversed"
    with pytest.raises(DomainError) as err:
        diff(ledger, "competition", "NOPE", at("2026-02-01T00:00:00Z"), at("2026-03-01T00:00:00Z"))
    assert err.value.code == "competition_not_found"


def test_replayed_rows_export_as_csv_with_a_header_even_when_empty(ledger):
    apply_example(ledger)
    text = rows_as_csv(replay_projection(ledger, "competitions", BEFORE_OPENING), COLUMNS)
    header, line = text.splitlines()
    assert header.split(",") == list(COLUMNS)
    assert ",open,3,2026-02-20T12:00:00+00:00,,,," in line
    assert rows_as_csv([], COLUMNS) == ",".join(COLUMNS) + "\n"
