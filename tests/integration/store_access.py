"""Raw access to a test store, bypassing the ledger: how tamper and immutability tests get in."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, urlparse

import psycopg

from domain.application import Ledger


def events_table(database_url: str) -> str:
    if database_url.startswith("sqlite"):
        return "stored_events"
    return f"{Ledger.name.lower()}_events"


def schema_of(database_url: str) -> str:
    return parse_qs(urlparse(database_url).query)["schema"][0]


def base_url(database_url: str) -> str:
    return database_url.split("?")[0]


@contextmanager
def raw_connection(database_url: str) -> Iterator[Any]:
    """A DB-API connection in autocommit mode, with `?` placeholders on both stores."""
    if database_url.startswith("sqlite"):
        conn = sqlite3.connect(urlparse(database_url).path[1:], isolation_level=None)
        try:
            yield conn
        finally:
            conn.close()
    else:
        with psycopg.connect(base_url(database_url), autocommit=True) as conn:
            conn.execute(f'SET search_path TO "{schema_of(database_url)}"')
            yield _QmarkConnection(conn)


class _QmarkConnection:
    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: tuple = ()) -> Any:
        # Without parameters, "%" in the SQL (LIKE patterns) must not be read as a placeholder.
        return self.conn.execute(sql.replace("?", "%s"), params) if params else self.conn.execute(sql)
