"""ocdsmerge's own reference fixtures through the path that compiles our records (`audit.ocds.compiled_release`)."""

from __future__ import annotations

import json

import pytest

from audit import ocds
from tests.shared import shared_file

FIXTURES = shared_file("ocds", "merge-fixtures", "1.1")
CASES = sorted(p.stem for p in FIXTURES.glob("*.json") if not p.stem.endswith(("-compiled", "-versioned")))


def test_every_reference_case_is_found():
    assert len(CASES) == 17


@pytest.mark.parametrize("case", CASES)
def test_our_compilation_gives_ocdsmerges_expected_compiled_release(case):
    releases = json.loads((FIXTURES / f"{case}.json").read_text(encoding="utf-8"))
    expected = json.loads((FIXTURES / f"{case}-compiled.json").read_text(encoding="utf-8"))
    assert ocds.compiled_release(releases) == expected
