"""Schemathesis over the whole API: no server error, and no answer that breaks the OpenAPI.

The server runs for real (uvicorn on a loopback port, the example world loaded) and the
schema is read from it, `/schema/openapi.json`. Every operation gets generated requests, as
an admin (the role that may use every route); each answer must not be a 5xx, must have a
documented status and content type, and its body and headers must match the schema.
Schema-valid requests that the domain then refuses (an unknown reference: 404; a rule: 409)
are fine: the checks are about errors and conformance, not about every request succeeding.
"""

from __future__ import annotations

import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.http import create_app
from api.bootstrap import ledger_at
from tests.e2e.http_server import running_server, world

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance, response_headers_conformance]


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with running_server(f"sqlite:///{tmp_path_factory.mktemp('schemathesis')}/ledger.db") as server:
        world(server.ledger)
        yield server


def openapi_document() -> dict:
    """The OpenAPI document as the app generates it (the live server serves the same: checked below)."""
    ledger = ledger_at("sqlite:///:memory:")
    try:
        # As served: through JSON (the generated document holds example values as objects).
        return msgspec.json.decode(msgspec.json.encode(create_app(ledger).openapi_schema.to_schema()))
    finally:
        ledger.close()


# Loaded when the module is collected: schemathesis's lazy `from_fixture` does not work with
# pytest 9 (it sets a private attribute of the test item), so the cases are generated from the
# document the code produces and sent to the running server.
DOCUMENT = openapi_document()
schema = schemathesis.openapi.from_dict(DOCUMENT)


@schema.parametrize()
@settings(max_examples=30, suppress_health_check=list(HealthCheck))
def test_the_api_never_fails_and_always_answers_as_its_schema_says(case, live):
    token = live.token("admin", "NEL-CSU", "schemathesis")
    case.call_and_validate(base_url=live.base_url, headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def without_examples(value):
    """The document less its example values (generated afresh each time)."""
    if isinstance(value, dict):
        return {k: without_examples(v) for k, v in value.items() if k not in ("example", "examples")}
    if isinstance(value, list):
        return [without_examples(v) for v in value]
    return value


def test_the_server_serves_the_document_the_cases_were_made_from(live):
    with live.client() as anonymous:
        assert without_examples(anonymous.get("/schema/openapi.json").json()) == without_examples(DOCUMENT)


def test_the_openapi_document_describes_every_route_with_its_problems(live):
    with live.client() as anonymous:
        document = anonymous.get("/schema/openapi.json").json()
    assert document["components"]["securitySchemes"]["BearerToken"]["scheme"] == "bearer"
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if path in ("/health", "/ready"):
                assert operation.get("security") == [{}], path  # anonymous allowed
                continue
            responses = operation["responses"]
            assert "401" in responses, f"{method} {path}"
            assert "application/problem+json" in responses["401"]["content"], f"{method} {path}"
