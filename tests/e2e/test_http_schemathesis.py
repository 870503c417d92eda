"""Schemathesis over the whole API: no server error, no answer that breaks the OpenAPI, and
input that breaks it refused as a problem that records nothing.

The server runs for real (uvicorn on a loopback port, the example world loaded) and the
schema is read from it, `/schema/openapi.json`. Every operation gets generated requests that
the schema allows, each sent by a principal the route lets through: an admin, or for the
three routes only providers may use (a tender, vacancies, a return) a home's provider, whose
bodies the guard would otherwise refuse unread. Each answer must not be a 5xx, must have a
documented status and content type, and its body and headers must match the schema.
Schema-valid requests that the domain then refuses (an unknown reference: 404; a rule: 409)
are fine: the checks are about errors and conformance, not about every request succeeding.

Then requests that break the schema, for every operation, on each store (a server of its own
over the same world): schemathesis's negative mode, which writes wrong types, leaves out
required fields and parameters, goes past minimums, maximums and lengths, adds unknown
properties and query parameters, puts bad values in the path, and tries methods and content
types the operation does not take; and beside it, bodies that are not JSON at all (cut
short, with bytes after the end, not UTF-8, empty), and a query parameter for the operations
that take nothing (schemathesis finds nothing in them to break). The answers keep the rules above, and three more: input that breaks the schema is refused (4xx:
schemathesis's `negative_data_rejection`); a refusal is an `application/problem+json`
problem, which names the field at fault and the rule it broke when the request's own content
is what is wrong (400, 413, 415, 422); and a refused request records nothing (the ledger's
`max_position()` does not move).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from api.http.app import create_app
from api.http.access import ROUTE_ROLES
from api.bootstrap import ledger_at
from tests.conftest import postgres_schema, require_postgres
from tests.e2e.http_server import Server, running_server, world

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
# Schemathesis 4 mixes schema-breaking cases in unless told otherwise: here only valid ones, the
# breaking ones being the refusal test's (below), with the checks that fit them.
schema = schemathesis.openapi.from_dict(DOCUMENT, config=SchemathesisConfig.from_dict({"generation": {"mode": "positive"}}))


#: a home of the example world, as whose provider the provider-only routes are sent
PROVIDER_ORG = "1-1000000001"
#: "METHOD /path" as the OpenAPI document writes it -> the roles the route lets through
ROLES = {re.sub(r":[^}]+}", "}", route): roles for route, roles in ROUTE_ROLES.items()}


def may_use(method: str, path: str) -> tuple[str, str]:
    """The role and organisation to send an operation as: admin where the route lets admins through
    (and on the public routes, which take any token), else the route's role."""
    roles = ROLES.get(f"{method.upper()} {path}", ("admin",))
    role = "admin" if "admin" in roles else roles[0]
    return role, PROVIDER_ORG if role == "provider" else "NEL-CSU"


def authorization_for(server: Server, case: Any) -> dict[str, str]:
    role, org = may_use(case.method, case.path)
    return {"Authorization": f"Bearer {server.token(role, org, f'schemathesis-{role}')}"}


def client_for(server: Server, operation: str) -> httpx.Client:
    role, org = may_use(*operation.split(" ", 1))
    return server.client(role, org, f"schemathesis-{role}")


@schema.parametrize()
@settings(max_examples=30, suppress_health_check=list(HealthCheck))
def test_the_api_never_fails_and_always_answers_as_its_schema_says(case, live):
    case.call_and_validate(base_url=live.base_url, headers=authorization_for(live, case), checks=CHECKS)


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
            if path in ("/health", "/ready") or path.startswith("/ocds/"):
                assert operation.get("security") == [{}], path  # anonymous allowed (the OCDS feed is public data)
                continue
            responses = operation["responses"]
            assert "401" in responses, f"{method} {path}"
            assert "application/problem+json" in responses["401"]["content"], f"{method} {path}"


# ------------------------------------------------------------------ requests that break the schema

#: statuses that refuse the request's own content, whose problem must name the field and the rule
CONTENT_REFUSED = {400, 413, 415, 422}
PROBLEM_JSON = "application/problem+json"

#: the operations that take no parameter and no body: nothing for schemathesis to break (it
#: skips them), so their one way to be wrong, a query parameter, is tried below
TAKES_NOTHING = sorted(
    f"{method.upper()} {path}"
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
    if not operation.get("parameters") and "requestBody" not in operation
)

refusals = schemathesis.openapi.from_dict(DOCUMENT, config=SchemathesisConfig.from_dict({
    "generation": {
        "mode": "negative",
        # The token is the test's (a principal the route lets through): a generated, broken
        # Authorization header would be replaced by it, and the case counted as refused data accepted.
        "with-security-parameters": False,
    },
    # schemathesis's list, and 413: the API refuses a body over 1 MiB as such (documented for every
    # body). A 5xx stays in it, as in schemathesis's own: it is not_a_server_error's to report.
    "checks": {"negative_data_rejection": {"expected-statuses": [
        "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]}},
})).exclude(name=TAKES_NOTHING)


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def served(request, tmp_path_factory):
    """A server per store, over the example world."""
    if request.param == "sqlite":
        with running_server(f"sqlite:///{tmp_path_factory.mktemp('refusals')}/ledger.db") as server:
            world(server.ledger)
            yield server
        return
    require_postgres()
    with postgres_schema() as url, running_server(url) as server:
        world(server.ledger)
        yield server


def records_nothing_when_refused(server: Server, before: int):
    """A check: a refused request (4xx) leaves the ledger where it was."""

    def a_refused_request_records_nothing(ctx: Any, response: Any, case: Any) -> None:
        moved = server.ledger.max_position() - before
        if response.status_code >= 400 and moved:
            raise AssertionError(f"Answered {response.status_code} yet recorded {moved} event(s)")

    return a_refused_request_records_nothing


def a_refusal_is_a_problem_naming_what_is_wrong(ctx: Any, response: Any, case: Any) -> None:
    status = response.status_code
    if not 400 <= status < 500:
        return
    media = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    assert media == PROBLEM_JSON, f"a {status} answered {media or 'no content type'}, not {PROBLEM_JSON}"
    problem = response.json()
    assert problem["status"] == status, f"the problem says {problem['status']}, the answer {status}"
    assert problem["code"] and problem["detail"] and problem["type"].endswith(problem["code"]), problem
    if status in CONTENT_REFUSED:
        fields = problem.get("fields") or []
        assert fields, f"a {status} ({problem['code']}) names no field: {problem['detail']}"
        assert all(f["field"] and f["rule"] for f in fields), fields


REFUSAL_CHECKS = [*CHECKS, negative_data_rejection, a_refusal_is_a_problem_naming_what_is_wrong]


@pytest.mark.storage
@refusals.parametrize()
@settings(max_examples=15, suppress_health_check=list(HealthCheck))
def test_a_request_that_breaks_the_schema_is_refused_as_a_problem_and_records_nothing(case, served):
    headers = authorization_for(served, case)
    # First, before any check that sends a request of its own (a content type's control request).
    checks = [records_nothing_when_refused(served, served.ledger.max_position()), *REFUSAL_CHECKS]
    case.call_and_validate(base_url=served.base_url, headers=headers, checks=checks)


@pytest.mark.storage
@pytest.mark.parametrize("operation", TAKES_NOTHING)
def test_an_operation_that_takes_nothing_refuses_a_query_parameter_naming_it(served, operation):
    before = served.ledger.max_position()
    with client_for(served, operation) as client:
        answer = client.request(*operation.split(" ", 1), params={"limit": "5"})
    assert answer.status_code == 400 and answer.headers["content-type"] == PROBLEM_JSON, answer.text[:300]
    assert [f["field"] for f in answer.json()["fields"]] == ["query:limit"]
    assert served.ledger.max_position() == before


#: the operations that take a JSON body, as "POST /path"
BODIES = sorted(
    f"{method.upper()} {path}"
    for path, operations in DOCUMENT["paths"].items()
    for method, operation in operations.items()
    if "application/json" in operation.get("requestBody", {}).get("content", {})
)
A_COMMAND = b'{"type": "tenders.open", "competition": "AQP-CH-2026"}'


def is_not_json(body: bytes) -> bool:
    try:
        msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError):
        return True
    return False


#: what a careless or hostile client sends as JSON: a body cut short, one with something after it,
#: JavaScript rather than JSON, text that is not UTF-8, nothing at all, any bytes
BROKEN_JSON = st.one_of(
    st.integers(0, len(A_COMMAND) - 1).map(lambda n: A_COMMAND[:n]),
    st.binary(min_size=1, max_size=20).map(lambda tail: A_COMMAND + tail),
    st.sampled_from([b"{'type': 'tenders.open'}", b'{"type": NaN}', b'{"type": "tenders.open",}', b"\xef\xbb\xbf{}",
                     b'{"type": "\xff"}', b"null null", b"", b" \r\n"]),
    st.binary(max_size=200),
).filter(is_not_json)


@pytest.mark.storage
@pytest.mark.parametrize("operation", BODIES)
@given(body=BROKEN_JSON)
@settings(max_examples=25, suppress_health_check=list(HealthCheck))
def test_a_body_that_is_not_json_is_a_400_naming_the_body_and_records_nothing(served, operation, body):
    method, path = operation.split(" ", 1)
    before = served.ledger.max_position()
    with client_for(served, operation) as client:
        answer = client.request(method, re.sub(r"{[^}]+}", "X", path), content=body, headers={"content-type": "application/json"})
    assert answer.status_code == 400 and answer.headers["content-type"] == PROBLEM_JSON, answer.text[:300]
    problem = answer.json()
    assert problem["code"] == "malformed_json" and [f["field"] for f in problem["fields"]] == ["body"], problem
    assert served.ledger.max_position() == before
