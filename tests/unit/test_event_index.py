"""The event index's rules: who did it, and whom or what each event concerns (no store, no clock)."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from domain.kernel.metadata import Actor, LedgerAggregate
from domain.kernel.personal import PersonalData
from projections.event_index import EventIndex, named_subjects
from projections.read_model import Replayed
from tests.unit import story
from tests.unit.story import as_
from tests.unit.test_contract_rules import AT, MANAGER, contract
from tests.unit.test_locations import HEAD_OFFICE, NOW, home, sync


def subjects(replayed: Replayed, **where: Any) -> set[tuple[str, str, str]]:
    return {
        (r["subject_kind"], r["subject"], r["relation"])
        for r in replayed.rows("event_subjects")
        if all(r[k] == v for k, v in where.items())
    }


def test_it_reads_every_stored_event_whatever_its_class():
    assert EventIndex.topics == ()
    assert EventIndex.followed == (LedgerAggregate.Event,)


def test_one_row_per_event_with_its_actor_and_ids_numbered_as_stored():
    c = story.evaluating()
    events = c.collect_events()
    t = Replayed(EventIndex).feed(events, first_position=101)
    rows = t.rows("event_index")
    assert [r["notification_id"] for r in rows] == list(range(101, 101 + len(events)))
    assert [(r["version"], r["event"]) for r in rows] == [(e.originator_version, type(e).__name__) for e in events]
    assert {(r["kind"], r["reference"]) for r in rows} == {("competition", "AQP-TEST")}
    declared = [r for r in rows if r["event"] == "ConflictsDeclared"]
    assert [(r["actor"], r["actor_org"], r["actor_role"]) for r in declared] == [
        ("patel", "ICB-NCL", "evaluator"), ("mensah", "ICB-NEL", "evaluator"), ("owusu", "ICB-NCL", "evaluator"),
    ]
    assert all(r["correlation_id"] == events[i].meta["correlation_id"] for i, r in enumerate(rows))
    assert all(r["causation_id"] and r["command"] == "test" for r in rows)
    (record,) = t.rows("event_records")
    assert (record["kind"], record["reference"], record["events"]) == ("competition", "AQP-TEST", len(events))


def test_competition_events_concern_their_bidders_and_evaluators():
    t = Replayed(EventIndex).feed(story.decided().collect_events(), first_position=1)
    assert subjects(t, event="TenderSubmitted", notification_id=3) == {
        ("competition", "AQP-TEST", "record"), ("organisation", "aster", "bidder"),
    }
    opened = subjects(t, event="TendersOpened")
    assert {s for s in opened if s[0] == "organisation"} == {("organisation", b, "bidder") for b in story.BIDDERS}
    scored = [r for r in t.rows("event_subjects") if r["event"] == "ScoreRecorded" and r["subject"] == "patel"]
    assert {r["relation"] for r in scored} == {"evaluator"} and len(scored) == 6
    decided = subjects(t, event="OutcomeDecided")
    assert {s[1] for s in decided if s[0] == "organisation"} == set(story.BIDDERS)
    appointed = subjects(t, event="EvaluatorAppointed")
    assert ("organisation", "ICB-NEL", "evaluator_org") in appointed and ("person", "mensah", "evaluator") in appointed


def test_a_location_concerns_its_provider_and_people_by_their_subject_id_only():
    loc = home()
    with as_(HEAD_OFFICE, NOW):
        loc.add_contact(
            contact="c-7", role="finance", name=PersonalData("c-7", "Grace Mensah"),
            email=PersonalData("c-7", "grace@example.org"), phone=None,
        )
    t = Replayed(EventIndex).feed(loc.collect_events(), first_position=1)
    imported = subjects(t, event="Imported")
    assert ("location", "1-101", "record") in imported and ("provider", "1-900", "provider") in imported
    assert any(kind == "person" and relation == "managers" for kind, _, relation in imported)
    assert subjects(t, event="ContactAdded") == {
        ("location", "1-101", "record"), ("provider", "1-900", "provider"), ("person", "c-7", "name"),
    }
    text = repr(t.page.store)
    assert "Grace" not in text and "grace@example.org" not in text and "Ruth" not in text


def test_a_change_of_provider_moves_the_location_and_concerns_both():
    loc = home()
    sync(loc, providerId="1-950")
    t = Replayed(EventIndex).feed(loc.collect_events())
    changed = subjects(t, event="ProviderChanged")
    assert {("provider", "1-950", "provider"), ("provider", "1-900", "previous_provider")} <= changed
    with as_(HEAD_OFFICE, NOW):
        loc.add_contact(contact="c-8", role="finance", name=PersonalData("c-8", "x"), email=None, phone=None)
    t.feed(loc.collect_events())
    providers = {s for s in subjects(t, event="ContactAdded") if s[0] == "provider"}
    assert providers == {("provider", "1-950", "provider")}


def test_a_contract_concerns_the_organisation_holding_it_even_after_a_novation():
    k = contract()
    with as_(MANAGER, AT):
        k.sign(signed_on=date(2026, 4, 10))
        k.novate(to_provider="birch", effective_from=date(2026, 9, 1))
        k.escalate(to_stage="requirement_to_improve", due=date(2026, 10, 1), reason="CQC rating", serious_breach=False)
    t = Replayed(EventIndex).feed(k.collect_events())
    awarded = subjects(t, event="Awarded")
    holder = next(s for s in awarded if s[2] == "provider")
    assert holder[0] == "organisation"
    assert {"framework", "competition"} <= {s[0] for s in awarded if s[0] == s[2]}
    # The new holder is the contract's provider from the novation on; the old one is named by it.
    novated = subjects(t, event="Novated")
    assert ("organisation", "birch", "provider") in novated and ("organisation", holder[1], "from_provider") in novated
    escalated = {s for s in subjects(t, event="Escalated") if s[0] == "organisation"}
    assert escalated == {("organisation", "birch", "provider")}


def test_named_subjects_ignore_values_that_are_not_references():
    with as_(story.LEAD, story.OPENED):
        c = story.opened()
    (opened, published) = c.collect_events()
    assert named_subjects("competition", opened) == []
    assert named_subjects("competition", published) == []


def test_an_event_driven_runner_gives_the_notification_id_from_its_tracking():
    from eventsourcing.persistence import Tracking

    from projections.follow import scratch_view

    (opened, _published) = story.opened().collect_events()
    with scratch_view(EventIndex) as view:
        EventIndex(view).process_event(opened, Tracking("ledger", 42))
        (row,) = view.select("event_index")
        assert (row["notification_id"], row["event"]) == (42, "Opened")
        assert view.max_tracking_id("ledger") == 42


def test_sealed_tenders_leave_no_trace_in_the_index_until_the_opening_then_appear_as_stored():
    c = story.tendered()
    with as_(Actor(id="bm@beech", org="beech", role="provider"), datetime(2026, 2, 15, tzinfo=timezone.utc)):
        c.withdraw_tender(bidder="beech", now=datetime(2026, 2, 15, tzinfo=timezone.utc))
    before_opening = c.collect_events()
    t = Replayed(EventIndex).feed(before_opening, first_position=1)
    shown = {name: t.rows(name) for name in ("event_index", "event_subjects", "event_records")}
    # Who tendered, how many did, and when: none of it in any table people read.
    assert [r["event"] for r in shown["event_index"]] == ["Opened", "CriteriaPublished"]
    assert not any(bidder in repr(shown) for bidder in story.BIDDERS)
    (record,) = shown["event_records"]
    assert record["events"] == 2 and record["last_recorded_at"] == before_opening[1].timestamp.isoformat()

    with as_(story.LEAD, story.AFTER_DEADLINE):
        c.open_tenders(now=story.AFTER_DEADLINE)
    (opening,) = c.collect_events()
    t.feed([opening], first_position=len(before_opening) + 1)
    rows = t.rows("event_index")
    assert [(r["notification_id"], r["event"]) for r in rows] == [
        (i, type(e).__name__) for i, e in enumerate([*before_opening, opening], start=1)
    ]
    submitted = [r for r in rows if r["event"] == "TenderSubmitted"]
    assert [r["actor_org"] for r in submitted] == list(story.BIDDERS)
    assert [r["recorded_at"] for r in submitted] == [e.timestamp.isoformat() for e in before_opening[2:5]]
    assert subjects(t, event="TenderWithdrawn") == {("competition", "AQP-TEST", "record"), ("organisation", "beech", "bidder")}
    (record,) = t.rows("event_records")
    assert record["events"] == len(before_opening) + 1
    assert t.page.store["event_sealed"] == {}
