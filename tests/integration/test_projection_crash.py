"""Crash test: `aqp projections run --follow`, killed with SIGKILL again and again, loses nothing.

A ledger is filled with a few thousand events from copies of the scenario files (contracts
following awards, as in production). The follower, `aqp projections run --follow`, runs in
a process of its own with small pages, so kills land mid-work. For the 50 kills it is forked
from the test with the application already imported (`api.cli.main` with the command's
arguments), since a fresh interpreter takes most of a second to start; the last run is the
real executable. Each time the follower has said it is following, the test applies the next
slice of one more scenario copy (new commands arriving while it works), waits a random
moment and kills it with SIGKILL, then starts it again. After 50 kills the last follower
catches up and is stopped with SIGTERM, which must exit 0. Then every catalogued read
model's rows (every table and column) and position must equal a clean rebuild from zero:
nothing lost, nothing applied twice (the contract register adds up variations, so a
variation applied twice would show). Both stores.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from api.scenario import apply_lines, describe
from benchmarks.history import copy_of, scenario_files, scenario_history
from api.bootstrap import ledger_at
from projections import runner
from projections.catalogue import READ_MODELS
from tests.e2e.test_cli import AQP, ROOT
from tests.integration.machinery import live_state, rebuilt_state

KILLS = 50
HISTORY_EVENTS = 2000
#: what the follower prints once its tables exist and it is about to catch up
READY = b'"projections_following"'


def start_follower(database_url: str, log: Path, page_size: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AQP_DATABASE_URL": database_url, "AQP_LOG_FORMAT": "json", "AQP_LOG_LEVEL": "info"}
    with log.open("wb") as err:
        return subprocess.Popen(
            [*AQP, "projections", "run", "--follow", "--page-size", str(page_size), "--poll-interval", "0.05"],
            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err,
        )


def _run_cli(argv: list[str], log: Path) -> None:
    """In the forked child: the `aqp` command's own `main`, its stderr to the log."""
    with log.open("wb") as err, open(os.devnull, "wb") as out:
        os.dup2(err.fileno(), 2)
        os.dup2(out.fileno(), 1)
    sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115 - the child's whole life
    sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
    os.environ.update(AQP_LOG_FORMAT="json", AQP_LOG_LEVEL="info")
    from api.cli import main  # noqa: PLC0415 - imported before the fork already

    sys.exit(main(argv))


def fork_follower(database_url: str, log: Path, page_size: int) -> multiprocessing.Process:
    """`aqp projections run --follow` in a forked process: the same code as the executable
    without importing the whole application again (0.7 s a start), so 50 kills stay quick."""
    argv = ["--database-url", database_url, "projections", "run", "--follow", "--page-size", str(page_size), "--poll-interval", "0.05"]
    process = multiprocessing.get_context("fork").Process(target=_run_cli, args=(argv, log), daemon=True)
    process.start()
    return process


def wait_until_following(process: subprocess.Popen[bytes] | multiprocessing.Process, log: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not log.exists() or READY not in log.read_bytes():
        code = process.poll() if isinstance(process, subprocess.Popen) else process.exitcode
        assert code is None, f"the follower exited with {code}: {log.read_text() if log.exists() else ''}"
        assert time.monotonic() < deadline, f"the follower did not start: {log.read_text()}"
        time.sleep(0.01)


def slices(lines: list[str], n: int) -> list[list[str]]:
    size = -(-len(lines) // n)
    return [lines[i : i + size] for i in range(0, len(lines), size)]


def test_killing_the_follower_at_random_moments_loses_nothing_and_applies_nothing_twice(database_url, tmp_path):
    started = time.monotonic()
    rng = random.Random(20260105)
    ledger = ledger_at(database_url)
    process: subprocess.Popen[bytes] | None = None
    try:
        scenario_history(ledger, HISTORY_EVENTS)  # attaches the processes: contracts follow awards
        built = ledger.max_position()
        # One more copy of every scenario arrives a slice per run of the follower.
        arriving = [line for path in scenario_files() for line in copy_of(path.read_text().splitlines(), 999)]
        pending = slices(arriving, KILLS)

        mid_work = 0
        for kill in range(KILLS):
            log = tmp_path / f"follower-{kill}.log"
            forked = fork_follower(database_url, log, page_size=rng.choice((1, 1, 2, 3)))
            try:
                wait_until_following(forked, log)
                if kill < len(pending):
                    missed = [o for o in apply_lines(ledger, pending[kill]) if not o.met]
                    assert not missed, describe(missed[0])
                time.sleep(rng.uniform(0, 0.04))
                os.kill(forked.pid, signal.SIGKILL)
                forked.join(timeout=30)
                assert forked.exitcode == -signal.SIGKILL
            finally:
                if forked.is_alive():
                    forked.kill()
                    forked.join()
            if any(s.lag for s in runner.status(ledger)):
                mid_work += 1

        # The last follower is the real executable: it catches up and is stopped gracefully.
        log = tmp_path / "follower-last.log"
        process = start_follower(database_url, log, page_size=7)
        wait_until_following(process, log)
        end = ledger.max_position()
        for name in READ_MODELS:
            runner.wait_for(ledger, name, end, timeout=60)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, log.read_text()
        process = None
        assert b'"projections_stopped"' in log.read_bytes()

        assert live_state(ledger) == rebuilt_state(ledger)
        assert {s.name: s.position for s in runner.status(ledger)} == {name: end for name in READ_MODELS}
        print(
            f"\ncrash test on {database_url.split(':')[0]}: {KILLS} SIGKILLs ({mid_work} with read models behind), "
            f"{built} events before, {end} after, {time.monotonic() - started:.1f} s"
        )
        assert mid_work >= KILLS // 2  # most kills landed while there was work to do
    finally:
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        ledger.close()
