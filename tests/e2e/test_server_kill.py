"""Kill -9 of the API server during a burst of commands, 20 times per store (issue 13, finding 8).

`aqp serve` runs as a process on the store, signing a checkpoint every 25 events. A client
thread sends a burst of 150 commands, each with its own Idempotency-Key and X-Request-ID (so
its events carry that id as their correlation id): new competitions opened, vacancy reports
and contacts (personal data, a key each) for two homes. The test SIGKILLs the server at a
random moment, often while a command is being applied, and starts it again; the client
sends every command whose answer it did not receive again, with the same key and request
id, until it is answered. After 20 kills the last server is the real `aqp serve` executable
(the others are forked from a process that has imported the application once, the same code
without paying 1-2 s of imports a start), and the client finishes the burst. Then:

- every command was answered 200 and recorded exactly once: one event per command, carrying
  its request id, at the version its answer names, and nothing else was recorded;
- `aqp audit verify` passes (after `aqp audit checkpoint` signs the events the last kill
  left unsigned);
- every read model, caught up, equals a rebuild from zero.

It prints the figures: kills, commands, retries, how many retries found their command
already recorded (killed after the commit, before the answer), and the time.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.bootstrap import ledger_at
from api.scenario import apply_lines
from api.tokens import TokenStore
from audit.checkpoints import KeyRing
from projections import follow
from projections.catalogue import READ_MODELS
from tests.e2e.http_server import ROOT, free_port, wait_healthy
from tests.integration.machinery import live_state, rebuilt_state

pytestmark = pytest.mark.storage

KILLS = 20
COMMANDS = 150
HOMES = ("1-1000000001", "1-1000000002")
ORIGIN = "aqp-ledger.test/log"


@dataclass
class Sent:
    """One command of the burst, as the client sends it (again, until it is answered)."""

    request_id: str
    key: str
    token: str
    body: dict[str, Any]
    attempts: int = 0
    status: int | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    replayed: bool = False


def burst(tokens: dict[str, str], rng: random.Random) -> list[Sent]:
    today = datetime.now(timezone.utc).date()
    commands = []
    for n in range(COMMANDS):
        kind = n % 3
        home = HOMES[n % 2]
        if kind == 0:
            now = datetime.now(timezone.utc)
            body: dict[str, Any] = {
                "type": "competition.open", "competition": f"KILL-{n:04d}", "title": "Residential care", "procedure": "open",
                "standstill_regime": "pcr2015", "lots": [{"id": "L1", "name": "Lot 1"}],
                "clarification_deadline": (now + timedelta(days=20)).isoformat(), "tender_deadline": (now + timedelta(days=30)).isoformat(),
            }
            token = tokens["lead"]
        elif kind == 1:
            # A day of its own at its home: a report applied twice would be a second event.
            i = n // 3
            home = HOMES[i % 2]
            day = today - timedelta(days=i // 2)
            body = {"type": "location.report_vacancies", "location": home, "date": day.isoformat(), "nursing": rng.randint(0, 9), "residential": rng.randint(0, 9)}
            token = tokens[home]
        else:
            body = {"type": "location.add_contact", "location": home, "contact": f"c-{n:04d}", "role": "deputy manager", "name": f"Person {n}"}
            token = tokens["admin"]
        commands.append(Sent(request_id=f"kill-{uuid.uuid4().hex}", key=f"key-{n:04d}-{uuid.uuid4().hex[:8]}", token=token, body=body))
    return commands


class Client(threading.Thread):
    """Sends the burst in order; a command whose answer does not come is sent again once the server is back."""

    def __init__(self, commands: list[Sent]) -> None:
        super().__init__(daemon=True)
        self.commands = commands
        self.base: str | None = None
        self.up = threading.Event()
        self.answered = 0
        #: attempts whose answer never came (the server was killed while they were in flight)
        self.lost = 0
        self.in_request = False
        #: how long the last answered command took, seconds
        self.latency = 0.02
        self.failure: BaseException | None = None

    def run(self) -> None:
        try:
            for sent in self.commands:
                while sent.status is None:
                    self.up.wait()
                    self._send(sent)
        except BaseException as err:  # noqa: BLE001 - reported by the test
            self.failure = err

    def _send(self, sent: Sent) -> None:
        headers = {"Authorization": f"Bearer {sent.token}", "Idempotency-Key": sent.key, "X-Request-ID": sent.request_id}
        sent.attempts += 1
        self.in_request = True
        began = time.monotonic()
        try:
            answer = httpx.post(f"{self.base}/commands", json=sent.body, headers=headers, timeout=30)
        except httpx.TransportError:
            self.in_request = False
            self.lost += 1
            time.sleep(0.005)  # the server is gone (or not back yet): wait for the next one
            return
        self.in_request = False
        self.latency = time.monotonic() - began
        sent.status, sent.answer = answer.status_code, answer.json()
        sent.replayed = answer.headers.get("Idempotent-Replayed") == "true"
        self.answered += 1


def _serve(argv: list[str], log: str, env: dict[str, str]) -> None:
    """In the forked child: the `aqp` command's own `main` in the test's environment, its output to the log."""
    os.environ.clear()
    os.environ.update(env)  # the fork server was started with whatever environment the first test had
    with open(log, "ab") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    from api.cli import main  # noqa: PLC0415 - imported by the fork server already

    sys.exit(main(argv))


def answering(base: str, alive: Any, log: Path) -> None:
    """The server answers /health; else the test fails with the end of its log."""
    assert wait_healthy(base, alive=alive), f"the server did not start, or exited: {log.read_text()[-2000:]}"


def aqp(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "api.cli", *args], capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)


def prepare(database_url: str, keys: Path) -> dict[str, str]:
    """Two homes, the signing key and the tokens the burst is sent with."""
    KeyRing(keys).init(ORIGIN)
    ledger = ledger_at(database_url)
    try:
        imports = [
            json.dumps({
                "actor": {"id": "cqc-sync", "org": "NEL-CSU", "role": "system"},
                "at": (datetime.now(timezone.utc) - timedelta(days=400)).isoformat(),
                "command": {"type": "location.import_cqc", "record": {
                    "locationId": home, "providerId": f"1-20000000{n}", "name": f"Home {n}", "registrationStatus": "Registered",
                    "careHome": "Y", "numberOfBeds": 60,
                }},
            })
            for n, home in enumerate(HOMES)
        ]
        missed = [o for o in apply_lines(ledger, imports) if not o.met]
        assert not missed, missed
        store = TokenStore(ledger)
        tokens = {home: store.issue(user=f"manager-{home}", org=home, role="provider").token for home in HOMES}
        tokens["lead"] = store.issue(user="j.okafor", org="NEL-CSU", role="procurement_lead").token
        tokens["admin"] = store.issue(user="dpo", org="NEL-CSU", role="admin").token
        return tokens
    finally:
        ledger.close()


def test_killing_the_server_during_a_burst_of_commands_loses_nothing_and_doubles_nothing(database_url, tmp_path):
    started = time.monotonic()
    rng = random.Random(20261302)
    keys = tmp_path / "keys"
    env = {
        **os.environ, "AQP_DATABASE_URL": database_url, "AQP_KEY_DIR": str(keys), "AQP_LOG_FORMAT": "json",
        "AQP_LOG_LEVEL": "warning", "AQP_CHECKPOINT_EVERY_EVENTS": "25",
    }
    tokens = prepare(database_url, keys)
    before = _positions(database_url)
    commands = burst(tokens, rng)
    client = Client(commands)

    forks = multiprocessing.get_context("forkserver")
    forks.set_forkserver_preload(["api.cli", "api.serve", "api.http"])
    last: subprocess.Popen[str] | None = None
    kills_mid_command = 0
    restarts: list[float] = []
    try:
        client.start()
        for kill in range(KILLS):
            port, log = free_port(), tmp_path / f"server-{kill}.log"
            server = forks.Process(target=_serve, args=(["serve", "--port", str(port)], str(log), env), daemon=True)
            restarted = time.monotonic()
            server.start()
            answering(f"http://127.0.0.1:{port}", server.is_alive, log)
            restarts.append(time.monotonic() - restarted)
            client.base = f"http://127.0.0.1:{port}"
            answered = client.answered
            client.up.set()
            # Let a few commands through, then kill at a random moment of the next one.
            until = answered + rng.randint(1, 8)
            while client.answered < until and client.is_alive():
                time.sleep(0.001)
            time.sleep(rng.uniform(0, 1.2) * client.latency)
            client.up.clear()
            lost = client.lost
            os.kill(server.pid, signal.SIGKILL)
            server.join(timeout=30)
            assert server.exitcode == -signal.SIGKILL
            deadline = time.monotonic() + 5  # the client hears the connection drop
            while client.in_request and time.monotonic() < deadline:
                time.sleep(0.002)
            kills_mid_command += client.lost > lost
        assert client.failure is None, client.failure

        # The last server is the real executable; the client finishes the burst against it.
        port, log = free_port(), tmp_path / "server-last.log"
        with log.open("w") as out:
            last = subprocess.Popen([sys.executable, "-m", "api.cli", "serve", "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=out, text=True)
        answering(f"http://127.0.0.1:{port}", lambda: last.poll() is None, log)
        client.base = f"http://127.0.0.1:{port}"
        client.up.set()
        client.join(timeout=120)
        assert not client.is_alive() and client.failure is None, client.failure
        killed_in = time.monotonic() - started
        last.send_signal(signal.SIGTERM)
        assert last.wait(timeout=30) in (0, -signal.SIGTERM), log.read_text()[-2000:]  # uvicorn re-raises the signal it handled
        last = None
    finally:
        client.up.set()
        if last is not None and last.poll() is None:
            last.kill()
            last.wait()

    # Every command answered, and recorded exactly once: one event carrying its request id.
    assert [(s.body["type"], s.status, s.answer) for s in commands if s.status != 200] == []
    recorded = _recorded(database_url, after=before)
    by_request = Counter(correlation for correlation, _ in recorded)
    assert {s.request_id: by_request[s.request_id] for s in commands if by_request[s.request_id] != 1} == {}
    assert len(recorded) == len(commands)  # and nothing else
    versions = {correlation: version for correlation, version in recorded}
    assert all(s.answer["events"][0]["version"] == versions[s.request_id] for s in commands)

    checkpoint = aqp("audit", "checkpoint", env=env)
    assert checkpoint.returncode == 0, checkpoint.stderr
    verified = aqp("audit", "verify", env=env)
    assert verified.returncode == 0, verified.stdout + verified.stderr

    ledger = ledger_at(database_url)
    try:
        follow.catch_up_many(ledger, [model(follow.live_view(ledger, model)) for model in READ_MODELS.values()])
        assert live_state(ledger) == rebuilt_state(ledger)
    finally:
        ledger.close()

    retried = [s for s in commands if s.attempts > 1]
    print(
        f"\nkill test on {database_url.split(':')[0]}: {KILLS} SIGKILLs ({kills_mid_command} with a command in flight), "
        f"{len(commands)} commands, {sum(s.attempts - 1 for s in commands)} retries of {len(retried)} commands "
        f"({sum(s.replayed for s in commands)} answered from their key: recorded before the kill), "
        f"{time.monotonic() - started:.1f} s ({killed_in:.1f} s to the end of the burst, a restart {statistics.median(restarts):.2f} s)"
    )
    assert kills_mid_command >= KILLS // 4  # the kills did land while commands were being applied


def _positions(database_url: str) -> int:
    ledger = ledger_at(database_url)
    try:
        return ledger.max_position()
    finally:
        ledger.close()


def _recorded(database_url: str, *, after: int) -> list[tuple[str, int]]:
    """(correlation id, version) of every event stored after position `after`."""
    ledger = ledger_at(database_url)
    try:
        found = []
        for n in ledger.recorder.select_notifications(start=after, limit=100_000, inclusive_of_start=False):
            event = ledger.mapper.to_domain_event(n)
            found.append((event.meta["correlation_id"], event.originator_version))
        return found
    finally:
        ledger.close()
