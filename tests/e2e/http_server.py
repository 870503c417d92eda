"""A real AQP Ledger API server for tests: uvicorn on a free loopback port, talked to over HTTP.

`running_server(url)` serves the app over the ledger opened as `aqp serve` opens it (with
its followers, and the settings of the environment) from a thread; `serve_process(url)` runs `aqp serve` as a separate
process, for what only a process can show (signals, several servers on one database).
`world(url)` fills a ledger with the example scenarios: the London AQP care-home competition
(awarded, contracts following) and the monthly returns (homes, returns, placement returns).
`AUTHORITIES` says which organisation runs each competition of that world and which it names
(acts for); `competition_copy` runs the example competition again under another reference up
to a chosen stage, for a test that needs a round still open, or tenders not yet opened.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.bootstrap import open_ledger
from api.http.app import create_app
from api.scenario import apply_lines
from api.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = [ROOT / "scenarios" / "london-aqp-care-homes-2026.jsonl", ROOT / "scenarios" / "monthly-returns.jsonl"]
LONDON_ICBS = ("ICB-NCL", "ICB-NEL", "ICB-NWL", "ICB-SEL", "ICB-SWL")
#: competition -> (its authority, the organisations it names): NEL-CSU runs the London round
#: for the five London ICBs; any other organisation's leads, commissioners, contract managers
#: and (unseated) evaluators find no such competition
AUTHORITIES: dict[str, tuple[str, tuple[str, ...]]] = {"AQP-CH-2026": ("NEL-CSU", LONDON_ICBS)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    base_url: str
    app: Any = None
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def ledger(self) -> Any:
        return self.app.state.service.ledger

    def token(self, role: str, org: str = "ORG-1", user: str | None = None) -> str:
        """A token for this principal (issued once, then reused)."""
        user = user or f"{role}-{org}".lower()
        key = f"{user}|{org}|{role}"
        if key not in self.tokens:
            self.tokens[key] = self.app.state.service.tokens.issue(user=user, org=org, role=role).token
        return self.tokens[key]

    def client(self, role: str | None = None, org: str = "ORG-1", user: str | None = None, headers: dict[str, str] | None = None) -> httpx.Client:
        auth = {"Authorization": f"Bearer {self.token(role, org, user)}"} if role else {}
        return httpx.Client(base_url=self.base_url, headers={**auth, **(headers or {})}, timeout=30)


@contextmanager
def running_server(database_url: str, **overrides: Any) -> Iterator[Server]:
    """The API over `database_url`, with the environment's settings but for `overrides` (e.g. `group_commit=True`)."""
    settings = Settings.from_env().replace(database_url=database_url, **overrides)
    app = create_app(open_ledger(settings, "api"), settings=settings, owns_ledger=True)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the API server did not start")
        time.sleep(0.02)
    try:
        yield Server(base_url=f"http://127.0.0.1:{port}", app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=30)


def every(client: Any, path: str, **params: Any) -> list[dict[str, Any]]:
    """Every row of a list, page by page."""
    rows: list[dict[str, Any]] = []
    offset: int | None = 0
    while offset is not None:
        answer = client.get(path, params={**params, "limit": 500, "offset": offset})
        assert answer.status_code == 200, answer.text
        rows += answer.json()["items"]
        offset = answer.json()["next_offset"]
    return rows


def world(ledger: Any) -> None:
    """The example scenarios, applied (every line must meet its expectation)."""
    for path in SCENARIOS:
        unmet = [o for o in apply_lines(ledger, path.read_text(encoding="utf-8").splitlines()) if not o.met]
        assert not unmet, f"{path.name}: {unmet[:3]}"


#: a home the CQC sync imports (`with_a_home`): Aster House, of the example scenarios' providers
HOME = "1-1000000001"


def with_a_home(server: Server) -> Server:
    """The example scenarios' world plus one care home the CQC sync imported, as the read-cache tests want it."""
    world(server.ledger)
    record = {"locationId": HOME, "providerId": "1-2000000001", "name": "Aster House Nursing Home",
              "registrationStatus": "Registered", "numberOfBeds": 40}
    with server.client("system", "NEL-CSU", "cqc-sync") as cqc:
        answer = cqc.post("/commands", json={"type": "location.import_cqc", "record": record})
        assert answer.status_code == 200, answer.text
    return server


def competition_copy(ledger: Any, reference: str, *, before: str) -> None:
    """The example competition (AQP-CH-2026, its authority's and bidders' lines at their own times)
    again as `reference`, up to the first line sending a `before` command that the rules accept."""
    example, = (p for p in SCENARIOS if p.name.startswith("london-aqp"))
    source = "AQP-CH-2026"
    lines = []
    for text in example.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        if line["command"].get("competition") != source:
            continue  # the framework: there already
        if line["command"]["type"] == before and "expect" not in line:
            break
        line["command"]["competition"] = reference
        lines.append(json.dumps(line))
    unmet = [o for o in apply_lines(ledger, lines) if not o.met]
    assert not unmet, f"{reference}: {unmet[:3]}"
    AUTHORITIES[reference] = AUTHORITIES[source]


def pa2023_copy(ledger: Any, reference: str) -> None:
    """The example competition again as `reference` under the Procurement Act 2023, to its award:
    opened with the Act's standstill, the contract award notice (UK6) published the day after the
    letters (Thursday 2 April 2026), so the standstill that notice begins runs to 15 April (across
    Easter, s.51), and the award the day after (the example's early award attempts are left out:
    their refusals were the letters' standstill)."""
    example, = (p for p in SCENARIOS if p.name.startswith("london-aqp"))
    source = "AQP-CH-2026"
    lead = {"id": "j.okafor", "org": "NEL-CSU", "role": "procurement_lead"}
    lines = []
    for text in example.read_text(encoding="utf-8").splitlines():
        line = json.loads(text)
        command = line["command"]
        if command.get("competition") != source:
            continue
        if command["type"] == "award.conclude" or command.get("notice_type") == "award_notice":
            continue
        if command["type"] == "competition.open":
            command["standstill_regime"] = "pa2023"
        command["competition"] = reference
        lines.append(json.dumps(line))
        if command["type"] == "outcome_letters.issue":
            lines.append(json.dumps({"actor": lead, "at": "2026-04-02T09:00:00Z", "command": {
                "competition": reference, "type": "notice.publish", "notice_type": "award_notice",
                "notice_reference": f"FTS-2026-UK6-{reference}", "published_on": "2026-04-02",
            }}))
    lines.append(json.dumps({"actor": lead, "at": "2026-04-16T12:00:00Z", "command": {"competition": reference, "type": "award.conclude"}}))
    unmet = [o for o in apply_lines(ledger, lines) if not o.met]
    assert not unmet, f"{reference}: {unmet[:3]}"
    AUTHORITIES[reference] = AUTHORITIES[source]


def wait_healthy(base: str, *, alive: Callable[[], bool], timeout: float = 30, interval: float = 0.02) -> bool:
    """Whether the server at `base` answers /health before it exits or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while alive() and time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(interval)
    return False


@contextmanager
def serve_process(database_url: str, *, env: dict[str, str] | None = None) -> Iterator[tuple[subprocess.Popen[str], str]]:
    """`aqp serve` as its own process; yields it and its base URL; SIGTERM on exit."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
        env={**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json", **(env or {})},
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    if not wait_healthy(base, alive=lambda: process.poll() is None):
        process.kill()
        raise RuntimeError(f"aqp serve did not start: {process.communicate()[1][-2000:]}")
    try:
        yield process, base
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
