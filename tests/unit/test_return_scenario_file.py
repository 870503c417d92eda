"""The monthly returns scenario file is exactly what its generator writes (edit the generator, not the file)."""

import subprocess
import sys
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_the_committed_monthly_returns_scenario_matches_its_generator():
    generated = subprocess.run(
        [sys.executable, str(SCENARIOS / "make_monthly_returns.py")], capture_output=True, text=True, check=True
    ).stdout
    assert generated == (SCENARIOS / "monthly-returns.jsonl").read_text()
