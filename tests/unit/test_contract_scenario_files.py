"""Each contract scenario file is exactly what its generator writes (edit the generator, not the file)."""

import subprocess
import sys
from pathlib import Path

import pytest

SCENARIOS = Path(__file__).resolve().parents[2] / "scenarios"


@pytest.mark.parametrize(
    ("generator", "scenario"),
    [
        ("make_nottingham_escalation.py", "nottingham-escalation.jsonl"),
        ("make_april_price_variation.py", "april-price-variation.jsonl"),
        ("make_novation_after_sale.py", "novation-after-sale.jsonl"),
        ("make_nhse_call_off.py", "nhse-call-off.jsonl"),
    ],
)
def test_the_committed_scenario_matches_its_generator(generator, scenario):
    generated = subprocess.run([sys.executable, str(SCENARIOS / generator)], capture_output=True, text=True, check=True).stdout
    assert generated == (SCENARIOS / scenario).read_text()
