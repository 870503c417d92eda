"""The database itself refuses to change or remove stored events (each test on both stores)."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from audit.immutability import application_role_sql
from benchmarks.workload import LEAD, OPENED_AT, open_competition
from api.bootstrap import ledger_at
from domain.application import Ledger
from tests.integration.store_access import base_url, events_table, raw_connection, schema_of



def open_competitions(ledger: Ledger, n: int) -> None:
    for i in range(n):
        result = ledger.handle(open_competition(f"AQP-{i}"), LEAD, at=OPENED_AT)
        assert result.ok


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE {t} SET state = state",
        "UPDATE {t} SET topic = 'forged' WHERE originator_version = 1",
        "DELETE FROM {t}",
        "DELETE FROM {t} WHERE originator_version = 1",
    ],
)
def test_a_plain_update_or_delete_of_stored_events_fails(ledger, database_url, statement):
    open_competitions(ledger, 3)
    with raw_connection(database_url) as conn:
        with pytest.raises(Exception) as err:
            conn.execute(statement.format(t=events_table(database_url)))
        assert "immutable" in str(err.value) or "append-only" in str(err.value)
        assert conn.execute(f"SELECT COUNT(*) FROM {events_table(database_url)}").fetchone()[0] == 3


def test_truncate_is_refused_on_postgres(postgres_url):
    # SQLite has no TRUNCATE; DELETE FROM is its equivalent and is refused above.
    database_url = postgres_url
    ledger = ledger_at(database_url)
    open_competitions(ledger, 1)
    ledger.close()
    with raw_connection(database_url) as conn, pytest.raises(psycopg.Error, match="append-only"):
        conn.execute(f"TRUNCATE {events_table(database_url)}")


def test_sqlite_notification_ids_are_a_declared_autoincrement_rowid_so_vacuum_cannot_renumber_them(sqlite_url):
    # PostgreSQL's notification ids come from a bigserial column already.
    database_url = sqlite_url
    ledger = ledger_at(database_url)
    open_competitions(ledger, 3)
    before = [n.id for n in ledger.notification_log.select(start=1, limit=10)]
    with raw_connection(database_url) as conn:
        columns = {row[1]: row for row in conn.execute("PRAGMA table_info(stored_events)")}
        assert columns["rowid"][2] == "INTEGER" and columns["rowid"][5] == 1  # the primary key
        sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'stored_events'").fetchone()[0]
        assert "AUTOINCREMENT" in sql
        conn.execute("VACUUM")
    assert [n.id for n in ledger.notification_log.select(start=1, limit=10)] == before
    ledger.close()


def test_the_postgres_application_role_can_append_but_never_change_even_without_the_triggers(postgres_url):
    database_url = postgres_url
    owner = ledger_at(database_url)  # creates the tables as the owner
    owner.close()
    role = f"aqp_app_{uuid.uuid4().hex[:8]}"
    schema, table = schema_of(database_url), events_table(database_url)
    admin = psycopg.connect(base_url(database_url), autocommit=True)
    try:
        admin.execute(psycopg.sql.SQL("CREATE ROLE {} LOGIN").format(psycopg.sql.Identifier(role)))
        for statement in application_role_sql(schema, table, role):
            admin.execute(statement)
        app_url = base_url(database_url).replace("postgres@", f"{role}@", 1) + f"?schema={schema}"
        app = ledger_at(app_url, create_tables=False)
        try:
            open_competitions(app, 2)  # appends work through the SECURITY DEFINER lock function
        finally:
            app.close()
        # Even with the triggers gone, the role lacks the privileges.
        admin.execute(f'DROP TRIGGER aqp_refuse_change ON "{schema}"."{table}"')
        admin.execute(f'DROP TRIGGER aqp_refuse_truncate ON "{schema}"."{table}"')
        with psycopg.connect(base_url(database_url).replace("postgres@", f"{role}@", 1), autocommit=True) as conn:
            for statement in (f'UPDATE "{schema}"."{table}" SET topic = topic', f'DELETE FROM "{schema}"."{table}"', f'TRUNCATE "{schema}"."{table}"'):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)
    finally:
        admin.execute(psycopg.sql.SQL("DROP OWNED BY {}").format(psycopg.sql.Identifier(role)))
        admin.execute(psycopg.sql.SQL("DROP ROLE {}").format(psycopg.sql.Identifier(role)))
        admin.close()
