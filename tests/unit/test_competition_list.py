"""The competition list's handlers, event by event (pure: no store, no clock)."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


from domain.kernel.data_subjects import DataSubject
from domain.procurement.competition import Competition
from projections.competitions import COLUMNS, CompetitionList, competition_events
from projections.tables import MemoryPage
from tests.unit.story import LEAD, as_, in_standstill, opened, tendered

AFTER_STANDSTILL = datetime(2026, 5, 1, 9, tzinfo=timezone.utc)


def fold(events: list[Any], page: MemoryPage | None = None) -> dict[str, dict[str, Any]]:
    """What the list's rules make of the events, in memory (no store)."""
    page = page or MemoryPage(CompetitionList.tables)
    for event in events:
        CompetitionList.__new__(CompetitionList).apply(event, page)  # the rules need no view
    page.commit()
    return page.store["competitions"]


def only_row(rows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (row,) = rows.values()
    return row


def test_an_opened_competition_is_a_new_row_with_every_column():
    c = opened()
    (opened_event, _criteria) = c.collect_events()
    rows = fold([opened_event])
    assert list(rows) == [str(c.id)]
    row = rows[str(c.id)]
    assert set(row) == {"key", *COLUMNS}
    assert row["status"] == "open" and row["lots"] == 2 and row["reference"] == c.reference
    assert row["tender_deadline"] == "2026-02-20T12:00:00+00:00"
    assert row["tenders"] is None and row["awarded_lots"] is None


def test_a_sealed_tender_changes_nothing_in_the_row_so_it_never_says_how_many_or_when():
    c = tendered()
    events = c.collect_events()
    page = MemoryPage(CompetitionList.tables)
    for event in events:
        before = dict(only_row(page.store["competitions"])) if page.store["competitions"] else None
        fold([event], page)
        after = only_row(page.store["competitions"])
        if isinstance(event, (Competition.TenderSubmitted, Competition.TenderWithdrawn)):
            assert after == before
    row = only_row(page.store["competitions"])
    # Before the opening the version would count the tenders (each moves it), so it is not shown.
    assert row["tenders"] is None and row["version"] is None
    last_public = [e for e in events if not isinstance(e, Competition.TenderSubmitted)][-1]
    assert row["last_event_at"] == last_public.timestamp.isoformat()
    assert not {Competition.TenderSubmitted, Competition.TenderWithdrawn} & set(CompetitionList.followed)


def test_from_the_opening_the_version_is_the_competitions_own():
    c = in_standstill()
    row = only_row(fold(c.collect_events()))
    assert row["version"] == c.version and row["tenders"] == 3


def test_the_list_follows_a_competition_to_its_award():
    c = in_standstill()
    with as_(LEAD, AFTER_STANDSTILL):
        c.conclude_award(now=AFTER_STANDSTILL)
    row = only_row(fold(c.collect_events()))
    assert row["status"] == c.status == "awarded"
    assert row["tenders"] == 3
    awarded = {lot: bidders for lot, bidders in c.award["awards"].items() if bidders}
    assert row["awarded_lots"] == len(awarded)
    assert row["awarded_bidders"] == len({b for bidders in awarded.values() for b in bidders})
    assert (row["version"], row["last_event_at"]) == (c.version, AFTER_STANDSTILL.isoformat())


def test_an_upheld_challenge_puts_the_row_back_into_evaluation_and_a_dismissed_one_does_not():
    for outcome, status in (("upheld", "evaluation"), ("dismissed", "standstill")):
        c = in_standstill()
        with as_(LEAD, datetime(2026, 4, 2, tzinfo=timezone.utc)):
            ch = c.receive_challenge(bidder="beech", kind="challenge", grounds="The scores were not moderated.")
            c.resolve_challenge(challenge=ch, outcome=outcome, decision="Reviewed by the panel.", now=c.modified_on)
        assert only_row(fold(c.collect_events()))["status"] == c.status == status


def test_a_cancelled_competition_shows_as_cancelled():
    c = tendered()
    with as_(LEAD, datetime(2026, 2, 15, tzinfo=timezone.utc), reason="Market conditions changed."):
        c.cancel(reason="Market conditions changed.")
    assert only_row(fold(c.collect_events()))["status"] == "cancelled"


def test_the_list_follows_every_competition_event_but_the_sealed_tenders_and_no_other():
    sealed = {Competition.TenderSubmitted, Competition.TenderWithdrawn}
    assert set(CompetitionList.followed) == set(competition_events()) - sealed
    with as_(LEAD, datetime(2026, 1, 1, tzinfo=timezone.utc)):
        subject = DataSubject.first_erasure(subject="p-1", reason="request FOI-1")
    (erased,) = subject.collect_events()
    assert not isinstance(erased, CompetitionList.followed)
    assert len(CompetitionList.topics) == len(set(CompetitionList.topics)) == len(competition_events()) - len(sealed)
