"""Exactness under random histories: incremental read models equal a rebuild from zero.

Hypothesis draws a history of real commands (tests/integration/random_history.py) with
catch-ups of random subsets of the catalogued read models, in random page sizes, between
them. However the catch-ups fell, once every read model has caught up its rows (every
table, every column, hidden ones too) and position must equal those built from zero in one
fresh pass, and `runner.rebuild` swapping fresh tables in must change nothing, whether it
held the rows in memory or spilled them to its scratch tables. Each full
catch-up along the way is also a snapshot of the past: replaying the read model as of that
moment must give exactly the rows it had then, and so must reading the history tables as at
that moment; the history tables themselves (every version of every row) must equal those
of a build from zero and of each rebuild, whatever the pages were. Runs for every read
model in the catalogue, on both stores.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, note, settings

from audit.replay import replay_projection
from projections import follow, runner
from projections.catalogue import READ_MODELS
from projections.views import TableView
from tests.integration.machinery import fresh_ledger, live_state, rebuilt_state
from tests.integration.random_history import CatchUp, History, steps

PROFILE = settings(max_examples=50, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


@PROFILE
@given(history=steps)
def test_read_models_caught_up_in_any_pattern_equal_a_rebuild_from_zero(database_url, history):
    with fresh_ledger(database_url) as ledger:
        story = History(ledger)
        story.start()
        models = list(READ_MODELS.values())
        live = runner.live_projections(ledger)
        snapshots = []
        for step in history:
            if isinstance(step, CatchUp):
                chosen = sorted({i % len(live) for i in step.which})
                follow.catch_up_many(ledger, [live[i] for i in chosen], page_size=step.page_size)
                if len(chosen) == len(live):
                    snapshots.append((story.at, {m.name: follow.live_view(ledger, m).rows() for m in models}))
            else:
                story.send(step)
        note(f"accepted {story.accepted}; refused {story.refused}")
        assert ledger.max_position() == story.stored  # refused commands stored nothing

        follow.catch_up_many(ledger, live, page_size=3)
        incremental = live_state(ledger)
        assert {name: position for name, (position, _) in incremental.items()} == {
            name: story.stored for name in READ_MODELS
        }
        assert incremental == rebuilt_state(ledger)

        assert runner.rebuild(ledger, page_size=4) == {name: story.stored for name in READ_MODELS}
        assert live_state(ledger) == incremental
        # A rebuild with more rows than it may hold in memory goes on in its scratch tables.
        held, TableView.IN_MEMORY_AT_MOST = TableView.IN_MEMORY_AT_MOST, 5
        try:
            assert runner.rebuild(ledger, page_size=4) == {name: story.stored for name in READ_MODELS}
        finally:
            TableView.IN_MEMORY_AT_MOST = held
        assert live_state(ledger) == incremental

        for at, rows in snapshots:
            assert {m.name: replay_projection(ledger, m.name, at) for m in models} == rows, f"as of {at}"
            # The same past read from the history tables the live ones keep (after two rebuilds).
            kept = [m for m in models if m.keeps_history]
            assert {m.name: follow.live_view(ledger, m).as_at(at).rows() for m in kept} == {m.name: rows[m.name] for m in kept}, f"as at {at}"
