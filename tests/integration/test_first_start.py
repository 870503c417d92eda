"""Several processes starting at once on a fresh store all open it (the first start of a deployment)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg

from api.cli import open_ledger
from tests.conftest import PG_URL, with_schema


@contextmanager
def fresh_stores(database_url: str, tmp_path, count: int) -> Iterator[list[str]]:
    if database_url.startswith("sqlite"):
        yield [f"sqlite:///{tmp_path}/fresh-{i}.db" for i in range(count)]
        return
    schemas = [f"t_fresh_{uuid.uuid4().hex[:12]}" for _ in range(count)]
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        for schema in schemas:
            conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield [with_schema(PG_URL, schema) for schema in schemas]
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for schema in schemas:
                conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_three_starting_together_on_a_fresh_store_all_open_it(database_url, tmp_path):
    # On PostgreSQL, concurrent CREATE ... IF NOT EXISTS / CREATE OR REPLACE FUNCTION collide
    # (unique violations, "tuple concurrently updated", deadlocks) about one start in two.
    with fresh_stores(database_url, tmp_path, 6) as urls:
        for url in urls:
            failures: list[str] = []

            def start(url: str = url) -> None:
                try:
                    ledger = open_ledger(url)
                    ledger.close()
                except BaseException as err:  # noqa: BLE001 - SystemExit included: open_ledger exits on failure
                    failures.append(repr(err))

            threads = [threading.Thread(target=start) for _ in range(3)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert failures == []
