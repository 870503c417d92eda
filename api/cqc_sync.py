"""Syncing CQC locations from the public API: the changes in a window, fetched and imported.

    changes = GET /public/v1/changes/location?startTimestamp=...Z&endTimestamp=...Z  (paginated)
    record  = GET /public/v1/locations/{id}                                         (per change)

Each changed location is fetched on its own and applied through `import_records` in batches,
one outcome per record. A record that cannot be fetched (timeout, 5xx after bounded retries
with exponential backoff and jitter, 429 beyond its bounded retries, 404, malformed JSON) is
reported "failed" with its reason, and the others are still fetched and applied.

The window's end is the sync's position (`process_positions`, name `cqc_sync`, in seconds since
the epoch), written only after every batch is applied, so the next sync starts where this one
ended. If any record could not be fetched the position is left where it was: the next sync asks
for the same window again (a re-import of an applied record is "unchanged" and records nothing),
so a transient failure never loses a change. A record the ledger refuses does not hold the
position back: asking again would give the same record, and a correction at CQC is itself a
later change.

The subscription key goes only into the `Ocp-Apim-Subscription-Key` header, and only to the
configured API's origin; it is never logged or put in a message.
"""

from __future__ import annotations

import http.client
import json
import random
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Literal
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urljoin, urlsplit
from urllib.request import Request, urlopen

import structlog
from msgspec import Struct

from api.cqc_import import import_records
from api.processes import ProcessPosition
from domain.kernel.metadata import Actor

DEFAULT_BASE_URL = "https://api.service.cqc.org.uk"
API_PREFIX = "/public/v1"
KEY_ENV = "AQP_CQC_API_KEY"
KEY_HEADER = "Ocp-Apim-Subscription-Key"
POSITION_NAME = "cqc_sync"
SYSTEM = Actor(id="cqc-sync", org="aqp-ledger", role="system")
#: the most bytes read from one response (a location record is a few kB)
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
#: a guard against a listing whose pages never end
MAX_PAGES = 10_000

log = structlog.get_logger("aqp.cqc_sync")

SyncOutcomeKind = Literal["recorded", "unchanged", "refused", "failed"]


class FetchFailed(Exception):
    """A request that did not give usable JSON, after any retries it deserved."""

    def __init__(self, code: str, message: str, attempts: int) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.attempts = attempts


class SyncError(Exception):
    """The sync could not run at all (no window, or the changes listing failed); nothing applied."""


class SyncOutcome(Struct, omit_defaults=True):
    #: the location's position in the changes listing (0-based)
    index: int
    outcome: SyncOutcomeKind
    location: str | None = None
    #: the events recorded (type names), when the outcome is "recorded"
    events: list[str] = []
    #: why: the domain error's code, or for "failed" the fetch's (http_404, http_503, timeout,
    #: rate_limited, malformed_json, connection_error...)
    code: str | None = None
    field: str | None = None
    message: str | None = None
    #: requests made for a record that failed
    attempts: int | None = None


class SyncReport(Struct):
    start: datetime
    end: datetime
    changed: int
    outcomes: list[SyncOutcome]
    #: whether the window's end was recorded as the position (no record failed to be fetched)
    position_recorded: bool

    def count(self, kind: SyncOutcomeKind) -> int:
        return sum(1 for o in self.outcomes if o.outcome == kind)

    @property
    def fetched(self) -> int:
        return sum(1 for o in self.outcomes if o.outcome != "failed")

    @property
    def ok(self) -> bool:
        return all(o.outcome in ("recorded", "unchanged") for o in self.outcomes)


def api_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ----------------------------------------------------------------------------- the client


class CqcClient:
    """The CQC public API over urllib: bounded retries, a request rate, an injectable sleep."""

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        *,
        timeout: float = 10.0,
        attempts: int = 4,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        requests_per_minute: float | None = 600,
        per_page: int = 1000,
        sleep: Callable[[float], None] = time.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        base = base_url.rstrip("/").removesuffix(API_PREFIX)
        parts = urlsplit(base)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"{base_url!r} is not an http(s) URL, e.g. {DEFAULT_BASE_URL}")
        self.base = base
        self.origin = (parts.scheme, parts.netloc.lower())
        self._key = api_key
        self.timeout = timeout
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.interval = 60.0 / requests_per_minute if requests_per_minute else 0.0
        self.per_page = per_page
        self.sleep = sleep
        self.jitter = jitter
        self.clock = clock
        self._last_request: float | None = None

    def __repr__(self) -> str:  # never the key
        return f"CqcClient({self.base!r}, key={'set' if self._key else 'unset'})"

    # -- URLs

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        url = f"{self.base}{API_PREFIX}{path}"
        return f"{url}?{urlencode(params)}" if params else url

    def resolve(self, uri: str) -> str:
        """A `nextPageUri`: absolute, from the host's root, or relative to /public/v1."""
        if uri.startswith(("http://", "https://")):
            url = uri
        elif uri.startswith(API_PREFIX + "/"):
            url = urljoin(self.base + "/", uri)
        else:
            url = f"{self.base}{API_PREFIX}/{uri.lstrip('/')}"
        parts = urlsplit(url)
        if (parts.scheme, parts.netloc.lower()) != self.origin:
            # The key must go nowhere but the configured API.
            raise FetchFailed("foreign_next_page", f"the next page is on another host ({parts.netloc}); not followed", 0)
        return url

    # -- requests

    def _throttle(self) -> None:
        if self.interval and self._last_request is not None:
            wait = self._last_request + self.interval - self.clock()
            if wait > 0:
                self.sleep(wait)
        self._last_request = self.clock()

    def _backoff(self, attempt: int) -> float:
        base = min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))
        return base / 2 + base / 2 * self.jitter()  # "equal jitter": between half and all of it

    def get_json(self, url: str) -> tuple[Any, int]:
        """The JSON at `url`, and how many requests it took."""
        headers = {"Accept": "application/json", "User-Agent": "aqp-ledger-cqc-sync/1"}
        if self._key:
            headers[KEY_HEADER] = self._key
        where = urlsplit(url).path
        attempt = 0
        while True:
            attempt += 1
            self._throttle()
            retry_in: float | None = None
            try:
                with urlopen(Request(url, headers=headers, method="GET"), timeout=self.timeout) as response:
                    body = response.read(MAX_RESPONSE_BYTES + 1)
            except HTTPError as err:
                status = err.code
                retry_after = err.headers.get("Retry-After") if err.headers else None
                err.close()
                if status == 429:
                    wait = parse_retry_after(retry_after)
                    if wait is None:
                        wait = self._backoff(attempt)
                    if wait > self.max_retry_after:
                        raise FetchFailed(
                            "rate_limited", f"rate limited (HTTP 429); Retry-After {retry_after} is beyond the "
                            f"{self.max_retry_after:g}s this sync waits", attempt
                        ) from None
                    if attempt >= self.attempts:
                        raise FetchFailed("rate_limited", f"still rate limited (HTTP 429) after {attempt} attempts", attempt) from None
                    retry_in = wait
                elif status >= 500:
                    if attempt >= self.attempts:
                        raise FetchFailed(f"http_{status}", f"HTTP {status} from the API after {attempt} attempts", attempt) from None
                    retry_in = self._backoff(attempt)
                elif status == 404:
                    raise FetchFailed("http_404", "not found (HTTP 404)", attempt) from None
                else:
                    raise FetchFailed(f"http_{status}", f"HTTP {status} {err.reason or ''}".strip(), attempt) from None
                log.warning("cqc_request_retried", path=where, status=status, attempt=attempt, wait_s=round(retry_in, 3))
            except (TimeoutError, URLError, OSError, http.client.HTTPException) as err:
                reason = err.reason if isinstance(err, URLError) else err
                timed_out = isinstance(reason, TimeoutError) or "timed out" in str(reason)
                code = "timeout" if timed_out else "connection_error"
                what = f"timed out after {self.timeout:g}s" if timed_out else f"cannot connect: {reason}"
                if attempt >= self.attempts:
                    raise FetchFailed(code, f"{what} ({attempt} attempts)", attempt) from None
                retry_in = self._backoff(attempt)
                log.warning("cqc_request_retried", path=where, problem=code, attempt=attempt, wait_s=round(retry_in, 3))
            if retry_in is not None:
                self.sleep(retry_in)
                continue
            if len(body) > MAX_RESPONSE_BYTES:
                raise FetchFailed("too_large", f"the response is over {MAX_RESPONSE_BYTES} bytes", attempt)
            try:
                return json.loads(body), attempt
            except (ValueError, UnicodeDecodeError) as err:
                raise FetchFailed("malformed_json", f"malformed JSON: {err}", attempt) from None

    # -- the API

    def changed_locations(self, start: datetime, end: datetime) -> list[str]:
        """The ids of the locations changed in [start, end), over every page, each once."""
        params = {"startTimestamp": api_time(start), "endTimestamp": api_time(end), "perPage": self.per_page}
        url = self.url("/changes/location", params)
        ids: dict[str, None] = {}
        seen_urls: set[str] = set()
        page_number = 1
        for _ in range(MAX_PAGES):
            seen_urls.add(url)
            page, _attempts = self.get_json(url)
            if not isinstance(page, dict) or not isinstance(page.get("changes"), list):
                raise FetchFailed("malformed_listing", "the changes listing has no list of 'changes'", _attempts)
            for change in page["changes"]:
                if isinstance(change, str) and change:
                    ids.setdefault(change, None)
                elif isinstance(change, dict) and isinstance(change.get("locationId"), str):
                    ids.setdefault(change["locationId"], None)
            next_uri = page.get("nextPageUri")
            total = page.get("totalPages")
            current = page.get("page", page_number)
            if isinstance(next_uri, str) and next_uri:
                url = self.resolve(next_uri)
            elif isinstance(total, int) and isinstance(current, int) and current < total:
                url = self.url("/changes/location", params | {"page": current + 1})
            else:
                return list(ids)
            if url in seen_urls:
                raise FetchFailed("malformed_listing", "the changes listing points back at a page already read", 0)
            page_number = current + 1 if isinstance(current, int) else page_number + 1
        raise FetchFailed("malformed_listing", f"the changes listing runs past {MAX_PAGES} pages", 0)

    def location(self, location_id: str) -> tuple[dict[str, Any], int]:
        record, attempts = self.get_json(self.url(f"/locations/{quote(location_id, safe='')}"))
        if not isinstance(record, dict):
            raise FetchFailed("malformed_json", f"expected a JSON object, got {type(record).__name__}", attempts)
        return record, attempts


def parse_retry_after(value: str | None) -> float | None:
    """Retry-After in seconds, or as an HTTP date; None if absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


# ---------------------------------------------------------------------------- the position


class SyncPosition:
    """The end of the last applied window, in `process_positions` (seconds since the epoch)."""

    def __init__(self, ledger: Any, name: str = POSITION_NAME) -> None:
        self.name = name
        self._position = ProcessPosition(ledger, name)

    def get(self) -> datetime | None:
        seconds = self._position.get()
        return None if seconds is None else datetime.fromtimestamp(seconds, UTC)

    def set(self, end: datetime) -> None:
        self._position.set(int(end.timestamp()))


# -------------------------------------------------------------------------------- the sync


def sync(
    ledger: Any,
    client: CqcClient,
    actor: Actor = SYSTEM,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    batch_size: int = 50,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    on_outcome: Callable[[SyncOutcome], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SyncReport:
    """Fetch and import the locations changed since `since` (default: the last sync's end).

    Raises SyncError, applying nothing, if there is no window or the changes listing fails.
    """
    position = SyncPosition(ledger)
    start = since or position.get()
    if start is None:
        raise SyncError("no previous sync is recorded in this ledger; give --since TIME for the first one")
    end = (until or now()).astimezone(UTC).replace(microsecond=0)
    start = start.astimezone(UTC)
    if start >= end:
        raise SyncError(f"the window is empty: it starts at {api_time(start)}, not before its end {api_time(end)}")
    try:
        ids = client.changed_locations(start, end)
    except FetchFailed as err:
        raise SyncError(f"the changes listing for {api_time(start)} to {api_time(end)} failed: {err.message}") from None
    log.info("cqc_sync_window", start=api_time(start), end=api_time(end), changed=len(ids))
    correlation_id = f"cqc-sync-{api_time(start)}-{api_time(end)}-{uuid.uuid4().hex[:8]}"
    outcomes: list[SyncOutcome] = []

    def emit(outcome: SyncOutcome) -> None:
        outcomes.append(outcome)
        if on_outcome:
            on_outcome(outcome)

    for first in range(0, len(ids), max(1, batch_size)):
        batch = list(enumerate(ids[first : first + batch_size], start=first))
        fetched: list[tuple[int, dict[str, Any]]] = []
        failed: dict[int, SyncOutcome] = {}
        for index, location_id in batch:
            try:
                record, _ = client.location(location_id)
                fetched.append((index, record))
            except FetchFailed as err:
                failed[index] = SyncOutcome(
                    index=index, outcome="failed", location=location_id, code=err.code, message=err.message, attempts=err.attempts
                )
            if progress:
                progress(index + 1, len(ids))
        applied = import_records(ledger, [record for _, record in fetched], actor, now(), correlation_id=correlation_id)
        by_index = {index: result for (index, _), result in zip(fetched, applied, strict=True)}
        for index, location_id in batch:
            if index in failed:
                emit(failed[index])
                continue
            result = by_index[index]
            emit(
                SyncOutcome(
                    index=index,
                    outcome=result.outcome,
                    location=result.location or location_id,
                    events=result.events,
                    code=result.code,
                    field=result.field,
                    message=result.message,
                )
            )
    recorded = not any(o.outcome == "failed" for o in outcomes)
    if recorded:
        position.set(end)
    return SyncReport(start=start, end=end, changed=len(ids), outcomes=outcomes, position_recorded=recorded)


def describe(report: SyncReport) -> Iterable[str]:
    """The summary a person reads on stderr."""
    yield (
        f"cqc sync {api_time(report.start)} to {api_time(report.end)}: {report.changed} changed, "
        f"{report.fetched} fetched, {report.count('recorded')} recorded, {report.count('unchanged')} unchanged, "
        f"{report.count('refused')} refused, {report.count('failed')} failed"
    )
    for o in report.outcomes:
        if o.outcome == "failed":
            yield f"record {o.index} ({o.location}): failed: {o.message}"
        elif o.outcome == "refused":
            yield f"record {o.index} ({o.location or 'no location id'}): refused: {o.code} at {o.field}: {o.message}"
    if report.position_recorded:
        yield f"position recorded: the next sync starts at {api_time(report.end)}"
    else:
        yield f"position not advanced: the next sync asks again from {api_time(report.start)}"
