"""The OpenAPI document is the API's contract: moving code must not change it.

`tests/fixtures/openapi.json` is the document main served at 22ebd46, before issue 12 moved
anything. The app's document must equal it apart from order and the generated examples (of keys, and of the items of
any list: a route or a union member listed elsewhere is the same contract). A change to the
API itself updates the fixture in the same commit, on purpose.
"""

from __future__ import annotations

import json
from pathlib import Path

import msgspec

from api.http.app import create_app
from domain.application import Ledger

FIXTURE = Path(__file__).resolve().parent.parent / "fixtures" / "openapi.json"


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
    ledger = Ledger.from_database_url(f"sqlite:///{tmp_path}/ledger.db")
    try:
        served = msgspec.json.decode(msgspec.json.encode(create_app(ledger).openapi_schema.to_schema()))
    finally:
        ledger.close()
    assert unordered(served) == unordered(json.loads(FIXTURE.read_text()))
