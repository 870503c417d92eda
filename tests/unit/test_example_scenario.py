"""The example scenario file is exactly what its generator writes (edit the generator, not the file)."""

import subprocess
import sys
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


def test_the_committed_scenario_matches_its_generator():
    generated = subprocess.run(
        [sys.executable, str(SCENARIOS / "make_london_aqp.py")], capture_output=True, text=True, check=True
    ).stdout
    assert generated == (SCENARIOS / "london-aqp-care-homes-2026.jsonl").read_text()
