"""`aqp demo` and `aqp run` as a person runs them: real processes against real stores."""

from __future__ import annotations

import json

from tests.e2e.test_cli import aqp


def test_aqp_demo_builds_a_small_ledger_prints_its_figures_and_the_ledger_verifies(database_url):
    built = aqp("demo", "--scale", "london", "--years", "1", "--homes", "12", "--seed", "2", database_url=database_url)
    assert built.returncode == 0, built.stderr
    figures = json.loads(built.stdout)
    assert figures["refused"] == 0 and figures["homes"] == 12 and figures["commands"] > 500
    assert "London 2025-2025" in built.stderr  # progress, per phase
    verified = aqp("audit", "verify", database_url=database_url)
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK:")
    again = aqp("demo", "--scale", "london", "--years", "1", "--homes", "12", database_url=database_url)
    assert again.returncode == 2
    assert "builds only into an empty ledger" in again.stderr


def test_aqp_run_shows_the_figures_of_a_london_demo_already_built(tmp_path):
    url = f"sqlite:///{tmp_path}/var/ledger.db"
    built = aqp("demo", "--years", "1", "--homes", "10", "--quiet", database_url=url)
    assert built.returncode == 0, built.stderr
    shown = aqp("run", database_url=url)
    assert shown.returncode == 0, shown.stderr
    assert "already in" in shown.stderr
    figures = json.loads(shown.stdout)
    assert figures["homes"] == 10 and figures["events"] == json.loads(built.stdout)["events"]


def test_aqp_run_refuses_a_ledger_holding_something_else(tmp_path):
    url = f"sqlite:///{tmp_path}/ledger.db"
    assert aqp("example", database_url=url).returncode == 0
    run = aqp("run", database_url=url)
    assert run.returncode == 1
    assert "no London demo" in run.stderr and "aqp example" in run.stderr


def test_aqp_demo_rejects_years_the_calendar_does_not_cover(tmp_path):
    run = aqp("demo", "--years", "9", database_url=f"sqlite:///{tmp_path}/l.db")
    assert run.returncode == 2
    assert "1 to 8 years" in run.stderr
