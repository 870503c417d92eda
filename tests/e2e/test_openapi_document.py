"""The OpenAPI document is the API's contract: moving code must not change it.

`tests/fixtures/openapi.json` is the document main served at 22ebd46, before issue 12 moved
anything. The app's document must equal it apart from order and the generated examples (of keys, and of the items of
any list: a route or a union member listed elsewhere is the same contract). A change to the
API itself updates the fixture in the same commit, on purpose.

The document is made in a fresh interpreter, as a server starting makes it: its examples are
drawn from seeded generators that every app made earlier in a process moves on (another test
module makes one when it is collected), so a second document in one process differs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "openapi.json"

SERVED = """
import sys
import msgspec
from api.bootstrap import ledger_at
from api.http.app import create_app

ledger = ledger_at(sys.argv[1])
try:
    sys.stdout.write(msgspec.json.encode(create_app(ledger).openapi_schema.to_schema()).decode())
finally:
    ledger.close()
"""


#: Litestar fills response examples with random values (its factories share the process's
#: random state), so they differ from run to run and say nothing about the contract.
GENERATED = {"examples", "example"}


def unordered(value: object) -> object:
    if isinstance(value, dict):
        return {k: unordered(v) for k, v in sorted(value.items()) if k not in GENERATED}
    if isinstance(value, list):
        return sorted((unordered(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def test_the_openapi_document_is_unchanged_apart_from_order(tmp_path):
    made = subprocess.run(
        [sys.executable, "-c", SERVED, f"sqlite:///{tmp_path}/ledger.db"],
        capture_output=True, text=True, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120, check=True,
    )
    served = json.loads(made.stdout)
    assert unordered(served) == unordered(json.loads(FIXTURE.read_text()))
