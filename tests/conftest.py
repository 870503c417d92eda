"""Storage fixtures: every test that touches an event store runs on SQLite and PostgreSQL.

PostgreSQL comes from AQP_TEST_DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test);
each test gets a schema of its own, dropped afterwards, so order never matters. Outside CI an
unreachable PostgreSQL skips those tests with one loud line in the summary; with CI=true it
fails them.

Hypothesis runs every property test with one profile, "aqp", registered here: no deadline
and no health check for slow data, so a slower or busier machine runs the same examples
instead of failing them (a test that wants more or fewer examples says so itself).
"""

from __future__ import annotations

import os
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from api.bootstrap import ledger_at, redact_url
from api.logging import configure_logging
from domain.application import Ledger

configure_logging(fmt="json", level="warning")

# On the profile Hypothesis chose for the run ("ci" under CI: derandomized, no example database).
settings.register_profile("aqp", settings.default, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("aqp")

PG_URL = os.environ.get("AQP_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
#: store -> kind of tampering -> trials run (reported at the end of the run)
TAMPER_TRIALS: defaultdict[str, Counter] = defaultdict(Counter)


@cache
def postgres_unavailable() -> str | None:
    try:
        with psycopg.connect(PG_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as err:
        return f"PostgreSQL at {redact_url(PG_URL)} is unreachable: {str(err).strip().splitlines()[0]}"
    return None


def with_schema(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}schema={schema}"


@pytest.fixture
def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/ledger.db"


def require_postgres() -> None:
    """Skip a PostgreSQL test when the server is unreachable; with CI=true, fail it instead."""
    problem = postgres_unavailable()
    if problem:
        if IN_CI:
            pytest.fail(f"{problem} (CI=true: PostgreSQL tests must run)")
        pytest.skip(problem)


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a schema of its own on the test PostgreSQL, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_schema(PG_URL, schema)
    finally:
        with psycopg.connect(PG_URL, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def postgres_url(request: pytest.FixtureRequest) -> Iterator[str]:
    require_postgres()
    with postgres_schema() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each test that touches storage runs once on each store."""
    return request.getfixturevalue(f"{request.param}_url")


@pytest.fixture
def ledger(database_url: str) -> Iterator[Ledger]:
    app = ledger_at(database_url)
    try:
        yield app
    finally:
        app.close()


#: what the summary reports, gathered from every test's report (in the one process that
#: prints it, whether the tests ran there or in pytest-xdist workers)
_TAMPER_SEEN: defaultdict[str, Counter] = defaultdict(Counter)
_PG_SKIPPED: list[str] = []


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):  # noqa: ARG001
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and TAMPER_TRIALS:
        # Carried by the report, so a worker's trials reach the summary.
        report.user_properties.append(("tamper_trials", {store: dict(kinds) for store, kinds in TAMPER_TRIALS.items()}))
        TAMPER_TRIALS.clear()


def pytest_runtest_logreport(report) -> None:
    for name, value in report.user_properties:
        if name == "tamper_trials":
            for store, kinds in value.items():
                _TAMPER_SEEN[store].update(kinds)
    if report.skipped and "PostgreSQL at" in str(report.longrepr):
        _PG_SKIPPED.append(report.nodeid)


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    for store, kinds in sorted(_TAMPER_SEEN.items()):
        counts = ", ".join(f"{kind} {n}" for kind, n in sorted(kinds.items()))
        terminalreporter.write_line(f"tamper trials on {store} (every one detected): {counts}")
    if _PG_SKIPPED:
        terminalreporter.write_line(
            f"!!! {len(_PG_SKIPPED)} PostgreSQL test(s) SKIPPED: {postgres_unavailable()} "
            "- set AQP_TEST_DATABASE_URL or start PostgreSQL; CI=true makes this a failure !!!",
            red=True,
            bold=True,
        )
