"""Several processes starting at once on a fresh store all open it (the first start of a deployment)."""

from __future__ import annotations

import threading
from contextlib import ExitStack

from api.bootstrap import open_ledger
from api.settings import Settings
from tests.integration.machinery import fresh_url


def test_three_starting_together_on_a_fresh_store_all_open_it(database_url):
    # On PostgreSQL, concurrent CREATE ... IF NOT EXISTS / CREATE OR REPLACE FUNCTION collide
    # (unique violations, "tuple concurrently updated", deadlocks) about one start in two.
    with ExitStack() as stores:
        for url in [stores.enter_context(fresh_url(database_url)) for _ in range(6)]:
            failures: list[str] = []

            def start(url: str = url) -> None:
                try:
                    open_ledger(Settings(database_url=url), "api").close()
                except BaseException as err:  # noqa: BLE001 - any failure to open is one
                    failures.append(repr(err))

            threads = [threading.Thread(target=start) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert failures == []
