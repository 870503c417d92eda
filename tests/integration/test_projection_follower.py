"""Following the log continuously, and reading your own writes (each test on both stores)."""

from __future__ import annotations

import threading
import time

import pytest

from benchmarks.workload import LEAD, OPENED_AT, open_competition
from domain.kernel import command_types as c
from projections import follow, runner
from projections.catalogue import READ_MODELS
from tests.integration.machinery import live_state, rebuilt_state


def test_a_command_result_names_the_position_of_the_last_event_it_stored(ledger):
    first = ledger.handle(open_competition("AQP-POS-1"), LEAD, at=OPENED_AT)
    assert first.ok and first.position == first.events[-1].position == ledger.max_position() == 1
    second = ledger.handle(open_competition("AQP-POS-2"), LEAD, at=OPENED_AT)
    assert second.position == 2
    refused = ledger.handle(open_competition("AQP-POS-2"), LEAD, at=OPENED_AT)
    assert not refused.ok and refused.position is None
    # Existing callers see nothing new unless they look: a refusal still encodes without it.
    assert c.CommandResult(ok=False).position is None


def test_the_follower_keeps_every_read_model_current_until_told_to_stop(ledger, database_url):
    # On PostgreSQL the poll is a minute away: only the insert's NOTIFY can wake the follower
    # in time. SQLite has no notifications, so there it polls.
    postgres = database_url.startswith("postgresql")
    poll = 60.0 if postgres else 0.05
    stop = threading.Event()
    outcome: dict[str, object] = {}
    thread = threading.Thread(
        target=lambda: outcome.update(applied=runner.follow_forever(ledger, stop, poll_interval=poll, page_size=2))
    )
    thread.start()
    try:
        for i in range(6):
            result = ledger.handle(open_competition(f"AQP-FOLLOW-{i}"), LEAD, at=OPENED_AT)
            # Read-your-writes: the list shows the competition once it has reached the command.
            assert runner.wait_for(ledger, "competitions", result.position, timeout=10) >= result.position
            references = [r["reference"] for r in follow.live_view(ledger, READ_MODELS["competitions"]).rows()]
            assert f"AQP-FOLLOW-{i}" in references
        runner.wait_for(ledger, "contracts", ledger.max_position(), timeout=10)
    finally:
        asked = time.monotonic()
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert time.monotonic() - asked < 2  # a stop does not wait for the poll
    assert {n: outcome["applied"][n] for n in ("competitions", "contracts")} == {"competitions": 6, "contracts": 0}
    assert live_state(ledger) == rebuilt_state(ledger)


def test_a_stopped_follower_finishes_its_page_and_leaves_the_rest_for_next_time(ledger):
    for i in range(9):
        assert ledger.handle(open_competition(f"AQP-STOP-{i}"), LEAD, at=OPENED_AT).ok
    stop = threading.Event()
    pages: list[int] = []
    projections = runner.live_projections(ledger)

    def stop_after_two_pages(done: int, _total: int) -> None:
        pages.append(done)
        if len(pages) == 2:
            stop.set()

    follow.catch_up_many(ledger, projections, page_size=2, progress=stop_after_two_pages, should_stop=stop.is_set)
    # Two pages of two: the list stopped after its fourth event; the register has had nothing
    # to write yet (a page with nothing for it is not written until the end of the log).
    positions = {s.name: s.position for s in runner.status(ledger)}
    assert {n: positions[n] for n in ("competitions", "contracts")} == {"competitions": 4, "contracts": 0}
    assert positions["event_index"] == 4  # a read model that follows everything stopped at the same page
    applied = runner.catch_up_all(ledger)
    assert {n: applied[n] for n in ("competitions", "contracts")} == {"competitions": 5, "contracts": 0}
    assert live_state(ledger) == rebuilt_state(ledger)


def test_waiting_for_a_position_the_read_model_has_not_reached_times_out_clearly(ledger):
    result = ledger.handle(open_competition("AQP-WAIT"), LEAD, at=OPENED_AT)
    started = time.monotonic()
    with pytest.raises(runner.ReadModelBehind) as behind:
        runner.wait_for(ledger, "competitions", result.position, timeout=0.2)
    assert 0.2 <= time.monotonic() - started < 2
    assert (behind.value.name, behind.value.wanted, behind.value.reached) == ("competitions", 1, 0)
    assert "competitions has reached position 0, not 1, after 0.2 s" in str(behind.value)
    assert isinstance(behind.value, TimeoutError)
    # Nothing to wait for: a command that stored nothing, or a position already reached.
    assert runner.wait_for(ledger, "competitions", None, timeout=0) == 0
    runner.catch_up_all(ledger)
    assert runner.wait_for(ledger, "competitions", result.position, timeout=0) == 1
    with pytest.raises(KeyError, match="no read model called nosuch"):
        runner.wait_for(ledger, "nosuch", 1)


def test_the_follower_writes_every_read_model_in_one_transaction_and_gives_way_to_another_process(ledger):
    follower = runner.ProjectionFollower(ledger)
    for i in range(3):
        assert ledger.handle(open_competition(f"AQP-ONE-{i}"), LEAD, at=OPENED_AT).ok
    # One command's page for all ten read models: one commit, so a failure in the last one
    # leaves the first ones unwritten too.
    last = follower.projections[-1]
    process_page = last.process_page

    def fail(*args, **kwargs):
        raise RuntimeError("the last read model failed")

    last.process_page = fail  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        follower()
    assert all(s.position == 0 for s in runner.status(ledger))
    last.process_page = process_page  # type: ignore[method-assign]

    # Another process has already brought the competition list to the end: the shared
    # transaction is refused whole, and each read model then goes on from its own position.
    other = READ_MODELS["competitions"](follow.live_view(ledger, READ_MODELS["competitions"]))
    assert follow.catch_up(ledger, other) == 3
    follower()
    assert all(s.lag == 0 for s in runner.status(ledger))
    assert live_state(ledger) == rebuilt_state(ledger)
