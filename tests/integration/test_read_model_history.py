"""The read models' history tables, on both stores: "as at a time" is a query, and an exact one.

Every read model that keeps history (all but the event index, whose rows carry their time)
writes each version of each row with the position and time from which it held and until
which. These tests read the tables as at many times, on a ledger of real commands followed in
awkward pages, and compare every table, every column, with the read model rebuilt from the
log up to that time; then they check the mark that says whether a store's history is whole.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

import pytest

from projections import follow, runner
from projections.catalogue import READ_MODELS
from projections.tables import OPEN, micros
from projections.views import HISTORY_SINCE
from tests.integration import monitoring_story
from tests.integration.machinery import apply, event_times, fresh_ledger

pytestmark = pytest.mark.storage

KEPT = [model for model in READ_MODELS.values() if model.keeps_history]


def every_row(view: Any, model: Any) -> dict[str, list[dict[str, Any]]]:
    """Every table of the read model, every column, by key: as `view` (live, as at, or replayed) reads it."""
    return {t.name: view.select(t.name, columns=("key", *t.names), order_by=("key",)) for t in model.tables}


def replayed_rows(ledger: Any, model: Any, at: datetime) -> dict[str, list[dict[str, Any]]]:
    with follow.scratch_view(model) as view:
        follow.catch_up(ledger, model(view), as_of=at)
        return every_row(view, model)


def scenario(name: str) -> Any:
    def build(ledger: Any) -> None:
        with open(f"scenarios/{name}", encoding="utf-8") as lines:
            apply(ledger, lines.read().splitlines())
    return build


#: ledgers of real commands whose times never go back, as a ledger on its own clock records them:
#: the monitoring story (returns, KPIs, quality, visits) and a London AQP procurement
WORLDS = {"monitoring": monitoring_story.build, "procurement": scenario("london-aqp-care-homes-2026.jsonl")}


@pytest.mark.parametrize("world", sorted(WORLDS))
def test_every_table_as_at_any_time_is_what_a_replay_up_to_then_gives(database_url, world):
    with fresh_ledger(database_url) as ledger:
        WORLDS[world](ledger)
        times = event_times(ledger)
        assert times == sorted(times)
        # Followed in uneven pages, some ending inside a command's events: half the read models
        # (a different half each time) in pages of 1, then 5, then 13, then all in pages of 40.
        rng = random.Random(17)
        live = runner.live_projections(ledger)
        for page_size in (1, 5, 13):
            follow.catch_up_many(ledger, rng.sample(live, len(live) // 2), page_size=page_size)
        follow.catch_up_many(ledger, live, page_size=40)
        asked = [times[0] - timedelta(days=1), times[-1] + timedelta(days=1)]
        for moment in rng.sample(times, 8):
            asked += [moment, moment - timedelta(microseconds=1)]
        for model in KEPT:
            view = follow.live_view(ledger, model)
            assert view.history_exact()
            for at in asked:
                assert every_row(view.as_at(at), model) == replayed_rows(ledger, model, at), f"{model.name} as at {at}"
            # After the last event, the history says what the tables say now.
            assert every_row(view.as_at(asked[1]), model) == every_row(view, model)


def test_a_back_dated_record_makes_the_history_inexact_for_the_read_models_it_reaches(database_url):
    with fresh_ledger(database_url) as ledger:
        # Contracts signed on 16 March recorded after homes added on 1 April (a scenario's dates).
        scenario("novation-after-sale.jsonl")(ledger)
        times = event_times(ledger)
        assert times != sorted(times)
        runner.catch_up_all(ledger, page_size=5)
        exact = {m.name: follow.live_view(ledger, m).history_exact() for m in KEPT}
        assert exact["contracts"] is False
        assert exact["competitions"] is True  # no competition event was back-dated
        # So is a rebuild's: it follows the same events.
        runner.rebuild(ledger, ["contracts", "competitions"])
        assert not opened_anew(ledger, READ_MODELS["contracts"]).history_exact()
        assert opened_anew(ledger, READ_MODELS["competitions"]).history_exact()


def test_each_row_has_one_open_version_and_its_versions_follow_on_without_gaps(database_url):
    with fresh_ledger(database_url) as ledger:
        monitoring_story.build(ledger)
        scenario("london-aqp-care-homes-2026.jsonl")(ledger)
        runner.catch_up_all(ledger, page_size=7)
        versions = 0
        for model in KEPT:
            view = follow.live_view(ledger, model)
            for table in model.tables:
                by_key: dict[str, list[tuple[Any, ...]]] = {}
                for version in view.final_versions(table):
                    by_key.setdefault(version[0], []).append(version)
                now = {r["key"]: r for r in view.select(table.name, columns=("key", *table.names))}
                for key, held in by_key.items():
                    versions += len(held)
                    *_, held_from, held_until, from_at, until_at = zip(*held, strict=True)
                    # Each ends after it began, and the next begins where it ended (or after a deletion).
                    assert all(f < u for f, u in zip(held_from[:-1], held_until[:-1], strict=True))
                    assert all(u <= f for u, f in zip(held_until[:-1], held_from[1:], strict=True))
                    assert None not in held_until[:-1] and OPEN not in until_at[:-1]
                    # (Times go back only where a record was back-dated: these two worlds' dates overlap.)
                    if view.history_exact():
                        assert all(f <= u for f, u in zip(from_at, until_at, strict=True))
                    # The last is open exactly when the row is in the table now, and then equals it.
                    if key in now:
                        assert held_until[-1] is None and until_at[-1] == OPEN
                        assert dict(zip(("key", *table.names), held[-1][:-4], strict=True)) == now[key]
                    else:
                        assert held_until[-1] is not None
                assert set(now) <= set(by_key)
        assert versions > 1000  # the stories move rows many times


def opened_anew(ledger: Any, model: Any) -> Any:
    """The read model's view as another process opening the store would make it (not the one kept)."""
    return follow._open_view(ledger, model)


def set_history_since(view: Any, since: int) -> None:
    with view.datastore.transaction(commit=True) as cursor:
        cursor.execute(view._sql(f"UPDATE {view.qualified(HISTORY_SINCE)} SET since = ? WHERE read_model = ?"), (since, view.tracking_table_name))


def test_a_store_filled_before_it_kept_history_says_so_until_a_rebuild_makes_it_whole(database_url):
    with fresh_ledger(database_url) as ledger:
        monitoring_story.build(ledger, until=monitoring_story.MOMENTS[40])
        runner.catch_up_all(ledger)
        model = READ_MODELS["cms"]
        view = follow.live_view(ledger, model)
        assert view.history_exact()
        # As a store whose tables were filled before history was kept finds itself: the mark
        # says from which position the history holds.
        set_history_since(view, 12)
        assert not opened_anew(ledger, model).history_exact()
        runner.rebuild(ledger, "cms")
        fresh = opened_anew(ledger, model)
        assert fresh.history_exact()
        at = monitoring_story.MOMENTS[20]
        assert every_row(fresh.as_at(at), model) == replayed_rows(ledger, model, at)


def test_a_new_store_marks_its_history_whole_and_one_with_rows_marks_where_it_began(database_url):
    with fresh_ledger(database_url) as ledger:
        model = READ_MODELS["contracts"]
        view = follow.live_view(ledger, model)
        with view.datastore.transaction(commit=True) as cursor:
            cursor.execute(view._sql(f"SELECT since FROM {view.qualified(HISTORY_SINCE)} WHERE read_model = ?"), (view.tracking_table_name,))
            assert cursor.fetchone()["since"] == 0
            # A store that has no mark yet, with the read model at position 9: its history begins there.
            cursor.execute(view._sql(f"DELETE FROM {view.qualified(HISTORY_SINCE)} WHERE read_model = ?"), (view.tracking_table_name,))
            cursor.execute(view._sql(f"INSERT INTO {view.qualified(view.tracking_table_name)} (application_name, notification_id) VALUES (?, ?)"),
                           (ledger.name, 9))
        again = opened_anew(ledger, model)
        assert not again.history_exact()
        with again.datastore.transaction(commit=False) as cursor:
            cursor.execute(again._sql(f"SELECT since FROM {again.qualified(HISTORY_SINCE)} WHERE read_model = ?"), (again.tracking_table_name,))
            assert cursor.fetchone()["since"] == 9


def test_times_are_whole_microseconds_since_1970_whatever_the_zone():
    from datetime import timezone

    assert micros(datetime(1970, 1, 1, tzinfo=timezone.utc)) == 0
    assert micros(datetime(2026, 3, 31, 23, 59, 59, 999999, tzinfo=timezone.utc)) + 1 == micros(datetime(2026, 4, 1, tzinfo=timezone.utc))
    assert micros(datetime(2026, 4, 1, 1, tzinfo=timezone(timedelta(hours=1)))) == micros(datetime(2026, 4, 1, tzinfo=timezone.utc))
    assert micros(datetime.max.replace(tzinfo=timezone.utc)) < OPEN
