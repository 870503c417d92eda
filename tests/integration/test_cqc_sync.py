"""Syncing from the CQC API, against a local stand-in for it, on both stores.

The stand-in is a ThreadingHTTPServer on 127.0.0.1 serving the two shipped records, a changes
listing one id per page, and scripted failures per path. No test leaves this machine; the
injected sleep records the waits instead of waiting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

import msgspec
import pytest
from structlog.testing import capture_logs

from api.cqc_sync import KEY_HEADER, CqcClient, SyncError, SyncPosition, describe, sync
from api.bootstrap import ledger_at
from domain.kernel.metadata import Actor
from domain.providers.location import Location
from tests.unit.test_cqc_records import AGENCY, CARE_HOME, shipped_records

ROOT = Path(__file__).resolve().parents[2]
KEY = "sk-test-5e1d9c7a-never-log-me"
SYNC = Actor(id="cqc-sync", org="CSU", role="system")
SINCE = datetime(2026, 3, 1, tzinfo=UTC)
UNTIL = datetime(2026, 3, 2, tzinfo=UTC)
LATER = datetime(2026, 3, 3, tzinfo=UTC)
HOME_PATH = f"/public/v1/locations/{CARE_HOME}"
AGENCY_PATH = f"/public/v1/locations/{AGENCY}"


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    #: seconds to stall before answering (longer than the client's timeout: a timeout)
    delay: float = 0.0
    #: served every time, rather than once
    always: bool = False


class FakeCqc:
    """The CQC API's two endpoints, with failures scripted per path."""

    def __init__(self) -> None:
        self.records = shipped_records()
        self.changes = list(self.records)
        self.style = "next"  # "next": nextPageUri; "pages": page/totalPages only
        self.scripts: dict[str, list[Reply]] = {}
        self.requests: list[tuple[str, dict[str, list[str]], dict[str, str]]] = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self.handler())
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def script(self, path: str, *replies: Reply) -> None:
        self.scripts.setdefault(path, []).extend(replies)

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def listing_windows(self) -> list[tuple[str, str]]:
        return [
            (q["startTimestamp"][0], q["endTimestamp"][0])
            for path, q, _ in self.requests
            if path == "/public/v1/changes/location" and "page" not in q
        ]

    def reply(self, path: str, query: dict[str, list[str]]) -> Reply:
        with self.lock:
            queued = self.scripts.get(path)
            if queued:
                return queued[0] if queued[0].always else queued.pop(0)
        if path == "/public/v1/changes/location":
            return self.listing(query)
        if path.startswith("/public/v1/locations/"):
            record = self.records.get(path.rsplit("/", 1)[1])
            if record is None:
                return Reply(404, b'{"statusCode": 404, "message": "Resource not found"}')
            return Reply(200, json.dumps(record).encode())
        return Reply(404, b"{}")

    def listing(self, query: dict[str, list[str]]) -> Reply:
        page = int(query.get("page", ["1"])[0])
        total = len(self.changes)
        body: dict[str, Any] = {"total": total, "page": page, "perPage": 1, "totalPages": total}
        body["changes"] = self.changes[page - 1 : page]
        if self.style == "next" and page < total:
            rest = {k: v[0] for k, v in query.items() if k != "page"}
            body["nextPageUri"] = f"/changes/location?{urlencode(rest | {'page': page + 1})}"
        return Reply(200, json.dumps(body).encode())

    def handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                query = parse_qs(parts.query)
                with fake.lock:
                    fake.requests.append((parts.path, query, dict(self.headers.items())))
                reply = fake.reply(parts.path, query)
                if reply.delay and fake.release.wait(reply.delay):
                    return
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.body)))
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass  # the client gave up (a timeout)

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def cqc() -> Iterator[FakeCqc]:
    with FakeCqc() as fake:
        yield fake


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def client(cqc: FakeCqc, sleeps: list[float]) -> CqcClient:
    return CqcClient(cqc.base_url, KEY, timeout=0.3, requests_per_minute=None, sleep=sleeps.append, jitter=lambda: 0.5)


def outcomes_of(report: Any) -> list[tuple[str | None, str]]:
    return [(o.location, o.outcome) for o in report.outcomes]


# ------------------------------------------------------------------------------ the window


def test_a_sync_imports_both_changed_records_and_records_the_window_end_as_its_position(ledger, cqc, client):
    report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert outcomes_of(report) == [(CARE_HOME, "recorded"), (AGENCY, "recorded")]
    assert report.outcomes[0].events == ["Location.Imported", "Provider.Imported"]
    assert ledger.aggregate(Location, CARE_HOME).name == "Lucerne House"
    assert ledger.aggregate(Location, AGENCY).name == "Allied Healthcare Bournemouth"
    assert cqc.listing_windows() == [("2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z")]
    assert report.position_recorded and SyncPosition(ledger).get() == UNTIL
    assert report.ok


def test_a_second_sync_over_the_same_window_records_nothing_new(ledger, cqc, client):
    sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    position = ledger.max_position()
    again = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert outcomes_of(again) == [(CARE_HOME, "unchanged"), (AGENCY, "unchanged")]
    assert ledger.max_position() == position
    assert again.ok


def test_the_next_sync_without_since_starts_at_the_previous_end_even_in_a_fresh_process(ledger, database_url, cqc, client):
    sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    fresh = ledger_at(database_url)
    try:
        report = sync(fresh, client, SYNC, until=LATER)
        assert (report.start, report.end) == (UNTIL, LATER)
        assert SyncPosition(fresh).get() == LATER
    finally:
        fresh.close()
    assert cqc.listing_windows()[-1] == ("2026-03-02T00:00:00Z", "2026-03-03T00:00:00Z")


def test_since_overrides_the_recorded_position(ledger, cqc, client):
    sync(ledger, client, SYNC, since=SINCE, until=LATER)
    report = sync(ledger, client, SYNC, since=SINCE, until=datetime(2026, 3, 4, tzinfo=UTC))
    assert report.start == SINCE
    assert cqc.listing_windows()[-1][0] == "2026-03-01T00:00:00Z"


def test_the_first_sync_needs_since_and_an_empty_window_is_refused(ledger, cqc, client):
    with pytest.raises(SyncError, match="--since"):
        sync(ledger, client, SYNC, until=UNTIL)
    with pytest.raises(SyncError, match="empty"):
        sync(ledger, client, SYNC, since=UNTIL, until=UNTIL)
    assert cqc.requests == []


def test_a_listing_paginated_by_page_numbers_alone_is_followed_too(ledger, cqc, client):
    cqc.style = "pages"
    report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert outcomes_of(report) == [(CARE_HOME, "recorded"), (AGENCY, "recorded")]
    pages = [q.get("page", ["1"])[0] for path, q, _ in cqc.requests if path == "/public/v1/changes/location"]
    assert pages == ["1", "2"]


def test_records_are_applied_in_batches_with_one_outcome_each_in_listing_order(ledger, cqc, client):
    seen = []
    report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL, batch_size=1, on_outcome=seen.append)
    assert [(o.index, o.location) for o in seen] == [(0, CARE_HOME), (1, AGENCY)]
    assert seen == report.outcomes


# ------------------------------------------------------------------------------ robustness


def test_a_429_with_retry_after_is_waited_out_then_retried(ledger, cqc, client, sleeps):
    cqc.script(HOME_PATH, Reply(429, b'{"message": "Rate limit is exceeded"}', {"Retry-After": "7"}))
    report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert outcomes_of(report) == [(CARE_HOME, "recorded"), (AGENCY, "recorded")]
    assert sleeps == [7.0]
    assert cqc.paths().count(HOME_PATH) == 2
    assert report.position_recorded


def test_a_retry_after_longer_than_the_sync_waits_is_reported_without_waiting(ledger, cqc, sleeps):
    cqc.script(HOME_PATH, Reply(429, b"{}", {"Retry-After": "3600"}))
    client = CqcClient(cqc.base_url, KEY, requests_per_minute=None, sleep=sleeps.append, max_retry_after=60)
    report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert outcomes_of(report) == [(CARE_HOME, "failed"), (AGENCY, "recorded")]
    assert report.outcomes[0].code == "rate_limited" and "3600" in (report.outcomes[0].message or "")
    assert sleeps == []


def test_a_5xx_that_persists_is_reported_for_that_record_and_the_other_record_is_applied(ledger, cqc, client, sleeps):
    cqc.script(HOME_PATH, Reply(503, b"Service Unavailable", always=True))
    report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert outcomes_of(report) == [(CARE_HOME, "failed"), (AGENCY, "recorded")]
    failed = report.outcomes[0]
    assert (failed.code, failed.attempts) == ("http_503", 4)
    assert cqc.paths().count(HOME_PATH) == 4
    assert sleeps == [0.375, 0.75, 1.5]  # exponential, each between half and all of 0.5 * 2^n (jitter 0.5)
    assert ledger.aggregate(Location, AGENCY).name == "Allied Healthcare Bournemouth"
    # A record not yet fetched holds the position back: the next sync asks for the window again.
    assert not report.position_recorded and SyncPosition(ledger).get() is None
    assert not report.ok
    assert any("failed: HTTP 503" in line for line in describe(report))


def test_a_5xx_that_clears_is_retried_and_the_position_is_recorded(ledger, cqc, client, sleeps):
    cqc.script(AGENCY_PATH, Reply(502), Reply(500))
    report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert outcomes_of(report) == [(CARE_HOME, "recorded"), (AGENCY, "recorded")]
    assert sleeps == [0.375, 0.75]
    assert report.position_recorded


def test_a_timeout_is_reported_for_that_record(ledger, cqc, sleeps):
    cqc.script(AGENCY_PATH, Reply(200, b"{}", delay=5, always=True))
    client = CqcClient(cqc.base_url, KEY, timeout=0.2, attempts=2, requests_per_minute=None, sleep=sleeps.append)
    report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert outcomes_of(report) == [(CARE_HOME, "recorded"), (AGENCY, "failed")]
    failed = report.outcomes[1]
    assert (failed.code, failed.attempts) == ("timeout", 2)
    assert "timed out after 0.2s" in (failed.message or "")
    assert len(sleeps) == 1


def test_malformed_json_for_one_record_is_reported_and_the_other_record_is_applied(ledger, cqc, client):
    cqc.script(HOME_PATH, Reply(200, b'{"locationId": "1-1258', always=True))
    report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert outcomes_of(report) == [(CARE_HOME, "failed"), (AGENCY, "recorded")]
    assert report.outcomes[0].code == "malformed_json"
    assert cqc.paths().count(HOME_PATH) == 1  # not retried


def test_a_location_not_found_is_reported_and_the_others_carry_on(ledger, cqc, client):
    cqc.changes = [CARE_HOME, "1-000000001", AGENCY]
    report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert outcomes_of(report) == [(CARE_HOME, "recorded"), ("1-000000001", "failed"), (AGENCY, "recorded")]
    assert (report.outcomes[1].code, report.outcomes[1].attempts) == ("http_404", 1)


def test_a_record_the_ledger_refuses_is_reported_and_does_not_hold_the_position_back(ledger, cqc, client):
    cqc.records[CARE_HOME]["numberOfBeds"] = "seventy-five"
    report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert outcomes_of(report) == [(CARE_HOME, "refused"), (AGENCY, "recorded")]
    assert (report.outcomes[0].code, report.outcomes[0].field) == ("cqc_record_invalid", "numberOfBeds")
    assert report.position_recorded and not report.ok


def test_a_failed_changes_listing_applies_nothing_and_keeps_the_position(ledger, cqc, client):
    sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    position = ledger.max_position()
    cqc.script("/public/v1/changes/location", Reply(500, always=True))
    with pytest.raises(SyncError, match="HTTP 500"):
        sync(ledger, client, SYNC, until=LATER)
    assert ledger.max_position() == position
    assert SyncPosition(ledger).get() == UNTIL


def test_requests_are_spaced_to_stay_within_600_a_minute(ledger, cqc, sleeps):
    client = CqcClient(cqc.base_url, KEY, sleep=sleeps.append, clock=lambda: 1000.0)  # time stands still
    sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert len(cqc.requests) == 4  # two listing pages, two records
    assert sleeps == pytest.approx([0.1, 0.1, 0.1])


# ------------------------------------------------------------------------------ the key


def test_the_key_reaches_the_server_and_never_appears_in_the_logs_or_output(ledger, cqc, client):
    cqc.script(HOME_PATH, Reply(503), Reply(404))
    with capture_logs() as logs:
        report = sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert cqc.requests and all(headers.get(KEY_HEADER) == KEY for _, _, headers in cqc.requests)
    assert any(entry["event"] == "cqc_request_retried" for entry in logs)  # the retry was logged...
    said = repr(logs) + msgspec.json.encode(report).decode() + "\n".join(describe(report)) + repr(client)
    assert KEY not in said  # ...without the key


def test_a_next_page_on_another_host_is_not_followed_so_the_key_goes_nowhere_else(ledger, cqc, client):
    evil = json.dumps({"changes": [CARE_HOME], "page": 1, "totalPages": 2, "nextPageUri": "http://192.0.2.1/steal?page=2"})
    cqc.script("/public/v1/changes/location", Reply(200, evil.encode()))
    with pytest.raises(SyncError, match="another host"):
        sync(ledger, client, SYNC, since=SINCE, until=UNTIL)
    assert SyncPosition(ledger).get() is None


# ------------------------------------------------------------------------------ the command


def aqp(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "AQP_DATABASE_URL": database_url,
        "AQP_LOG_FORMAT": "json",
        "AQP_LOG_LEVEL": "debug",
        "AQP_CQC_API_KEY": KEY,
    }
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=120, check=False)


def test_aqp_cqc_sync_imports_reports_and_the_next_run_starts_at_the_previous_end(database_url, cqc):
    first = aqp("cqc", "sync", "--base-url", cqc.base_url, "--since", "2026-03-01T00:00:00Z", database_url=database_url)
    assert first.returncode == 0, first.stderr
    results = [json.loads(line) for line in first.stdout.splitlines()]
    assert [(r["location"], r["outcome"]) for r in results] == [(CARE_HOME, "recorded"), (AGENCY, "recorded")]
    assert "2 changed, 2 fetched, 2 recorded, 0 unchanged, 0 refused, 0 failed" in first.stderr
    (start, end) = cqc.listing_windows()[0]
    assert start == "2026-03-01T00:00:00Z"
    assert all(headers.get(KEY_HEADER) == KEY for _, _, headers in cqc.requests)

    cqc.script(AGENCY_PATH, Reply(404, b"{}", always=True))
    time.sleep(max(0.0, datetime.fromisoformat(end).timestamp() + 1.05 - time.time()))  # a new second
    second = aqp("cqc", "sync", "--base-url", cqc.base_url, database_url=database_url)
    assert second.returncode == 1, second.stderr
    assert cqc.listing_windows()[1][0] == end  # without --since: where the first ended
    results = [json.loads(line) for line in second.stdout.splitlines()]
    assert [(r["location"], r["outcome"]) for r in results] == [(CARE_HOME, "unchanged"), (AGENCY, "failed")]
    assert f"record 1 ({AGENCY}): failed: not found (HTTP 404)" in second.stderr
    assert f"position not advanced: the next sync asks again from {end}" in second.stderr
    for run in (first, second):
        assert KEY not in run.stdout and KEY not in run.stderr


def test_aqp_cqc_sync_without_a_previous_sync_or_since_says_what_to_do(database_url, cqc):
    run = aqp("cqc", "sync", "--base-url", cqc.base_url, database_url=database_url)
    assert run.returncode == 1
    assert "give --since TIME" in run.stderr
    assert cqc.requests == []
