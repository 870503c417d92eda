"""Hostile input over real HTTP (issue 13, findings 5 and 7): refused as 4xx problems, nothing recorded.

A small world is made through the API itself on each store: a competition open for tenders,
a care home imported from CQC and its provider. Then each request a hostile or careless
client could send: JSON nested deeper than any command needs, values no user means (sizes of
2^63 bytes, a lot listed 10,000 times, 20,000 lots, a deadline in 9999, vacancies for the
year 1), the same 401 for a revoked token as for an unknown one, two Authorization headers,
and a query parameter the route does not take (a typo must not widen the answer). And what
the schema-breaking fuzzing of every route (finding 8, `test_http_schemathesis.py`) found:
a time written as a number (read as seconds since 1970), a body that is not JSON (empty, or
not UTF-8 inside a string: a 500), a body over 1 MiB, refusals that named no field, and a
NUL character: in a query parameter a 500 on PostgreSQL, in a command's text recorded, and
then the read models stopped following the log there.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
import structlog.testing

from tests.command_bodies import competition_opening
from tests.conftest import postgres_schema, require_postgres
from tests.e2e.http_server import Server, running_server

pytestmark = pytest.mark.storage

LEAD = {"role": "procurement_lead", "org": "NEL-CSU", "user": "j.okafor"}
HOME = "1-8000000001"
PROVIDER = {"role": "provider", "org": HOME, "user": "u-home"}
COMPETITION = "BAD-INPUT-1"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


competition = competition_opening


def home_record() -> dict[str, Any]:
    return {
        "locationId": HOME, "providerId": "1-8000000900", "name": "Bad Input House", "registrationStatus": "Registered",
        "registrationDate": "2015-04-01", "numberOfBeds": 40, "careHome": "Y", "region": "London",
        "postalCode": "E1 1AA", "localAuthority": "Tower Hamlets",
        "gacServiceTypes": [{"name": "Nursing homes", "description": "Care home service with nursing"}],
    }


def make_world(server: Server) -> None:
    with server.client(**LEAD) as lead, server.client("admin", "NEL-CSU") as admin:
        assert lead.post("/commands", json=competition(COMPETITION)).status_code == 200
        criteria = {"type": "criteria.publish", "competition": COMPETITION, "financial_thresholds": {"min_credit_score": 40},
                    "criteria": [{"id": "T1", "title": "Quality", "panel": "technical", "weight": 100, "max_score": 5}]}
        assert lead.post("/commands", json=criteria).status_code == 200
        assert admin.post("/commands", json={"type": "location.import_cqc", "record": home_record()}).status_code == 200


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def server(request, tmp_path_factory):
    if request.param == "sqlite":
        with running_server(f"sqlite:///{tmp_path_factory.mktemp('bad-input')}/ledger.db") as s:
            make_world(s)
            yield s
        return
    require_postgres()
    with postgres_schema() as url, running_server(url) as s:
        make_world(s)
        yield s


def assert_problem(answer: Any, status: int | tuple[int, ...]) -> dict[str, Any]:
    statuses = status if isinstance(status, tuple) else (status,)
    assert answer.status_code in statuses, answer.text[:500]
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == answer.status_code and problem["detail"] and problem["type"].endswith(problem["code"])
    return problem


# ------------------------------------------------------------------ finding 5: deep JSON


@pytest.mark.parametrize("depth", [1_000, 5_000])
def test_json_nested_a_thousand_levels_deep_is_a_400_problem_and_one_short_log_line(server, depth):
    deep = "[" * depth + "]" * depth
    body = f'{{"type": "return.submit", "location": "{HOME}", "template": "london-aqp-care-home-monthly", ' \
           f'"period": "2026-01", "values": {{"a": {deep}}}}}'
    before = server.ledger.max_position()
    with structlog.testing.capture_logs() as logs, server.client(**PROVIDER) as home:
        answer = home.post("/commands", content=body.encode(), headers={"content-type": "application/json"})
    problem = assert_problem(answer, 400)
    assert problem["code"] == "json_too_deep"
    assert server.ledger.max_position() == before
    # No traceback for anybody to flood the log with: one warning naming the request, no exc_info.
    assert not [entry for entry in logs if entry.get("exc_info") or entry.get("log_level") in ("error", "critical")]
    assert [entry["event"] for entry in logs if entry.get("log_level") == "warning"] == ["json_too_deep"]


def test_json_as_deep_as_a_command_needs_is_still_accepted_as_far_as_the_rules_go(server):
    nested: Any = 1
    for _ in range(20):
        nested = [nested]
    with server.client(**PROVIDER) as home:
        answer = home.post("/commands", json={"type": "return.submit", "location": HOME, "template": "no-such-template",
                                              "period": "2026-01", "values": {"a": nested}})
    # Refused by the domain (there is no such template), not for its depth.
    assert answer.status_code in (404, 409, 422) and answer.json()["code"] != "json_too_deep"


# ------------------------------------------------------------------ finding 5: values without a bound


def tender(**changes: Any) -> dict[str, Any]:
    return {"type": "tender.submit", "competition": COMPETITION, "lots": ["NEL"], "content_sha256": "a" * 64,
            "size_bytes": 10_000, **changes}


def document(**changes: Any) -> dict[str, Any]:
    return {"type": "document.publish", "competition": COMPETITION, "document": "spec", "title": "Specification",
            "sha256": "b" * 64, "size_bytes": 10_000, **changes}


def vacancies(**changes: Any) -> dict[str, Any]:
    return {"type": "location.report_vacancies", "location": HOME, "date": NOW.date().isoformat(), "nursing": 1, **changes}


OUT_OF_BOUNDS = {
    # (who sends it, the command, the field the problem must name)
    "a document of 2^63 bytes": (LEAD, document(size_bytes=2**63), "size_bytes"),
    "a document of 2^64 bytes": (LEAD, document(size_bytes=2**64), "size_bytes"),
    "a tender of 2^63 bytes": (PROVIDER, tender(size_bytes=2**63), "size_bytes"),
    "a tender of 2^64 bytes": (PROVIDER, tender(size_bytes=2**64), "size_bytes"),
    "a tender listing one lot 10,000 times": (PROVIDER, tender(lots=["NEL"] * 10_000), "lots"),
    "a tender listing one lot twice": (PROVIDER, tender(lots=["NEL", "NEL"]), "lots"),
    "a competition with 20,000 lots": (
        LEAD, competition("BAD-INPUT-LOTS", lots=[{"id": f"L{i}", "name": f"Lot {i}"} for i in range(20_000)]), "lots"),
    "a competition listing one lot twice": (
        LEAD, competition("BAD-INPUT-TWICE", lots=[{"id": "NEL", "name": "North East London"}] * 2), "lots"),
    "a tender deadline in 9999": (LEAD, competition("BAD-INPUT-9999", tender_deadline="9999-01-01T12:00:00+00:00"), "tender_deadline"),
    "a tender deadline fifty years away": (
        LEAD, competition("BAD-INPUT-2076", tender_deadline=(NOW + timedelta(days=365 * 50)).isoformat()), "tender_deadline"),
    "vacancies for 0001-01-01": (PROVIDER, vacancies(date="0001-01-01"), "date"),
    "vacancies for ten years ago": (PROVIDER, vacancies(date=(NOW - timedelta(days=3650)).date().isoformat()), "date"),
}


@pytest.mark.parametrize("case", OUT_OF_BOUNDS)
def test_a_value_no_user_means_is_refused_naming_the_field_and_nothing_is_recorded(server, case):
    who, command, field = OUT_OF_BOUNDS[case]
    before = server.ledger.max_position()
    with server.client(**who) as client:
        answer = client.post("/commands", content=json.dumps(command).encode(), headers={"content-type": "application/json"})
    problem = assert_problem(answer, (400, 422))
    assert field in [f["field"] for f in problem["fields"]], problem
    assert server.ledger.max_position() == before


def test_the_same_values_within_their_bounds_are_recorded(server):
    with server.client(**LEAD) as lead, server.client(**PROVIDER) as home:
        published = lead.post("/commands", json=document(document="annex", size_bytes=2 * 2**30))
        reported = home.post("/commands", json=vacancies(nursing=2))
    assert published.status_code == 200, published.text
    assert reported.status_code == 200, reported.text


# ------------------------------------------------------------------ finding 7: tokens and headers


def test_a_revoked_token_and_an_unknown_one_get_the_same_401(server):
    token = server.token("auditor", "NEL-CSU", "revoked-auditor")
    server.app.state.service.tokens.revoke(token, reason="left")
    answers = []
    for candidate in (token, "y" * 43):
        with server.client(headers={"Authorization": f"Bearer {candidate}"}) as client:
            answers.append(client.get("/whoami"))
    revoked, unknown = (assert_problem(a, 401) for a in answers)
    assert revoked == unknown


def test_two_authorization_headers_are_refused(server):
    good = server.token("auditor", "NEL-CSU", "two-headers")
    for headers in ([("Authorization", f"Bearer {good}"), ("Authorization", "Bearer " + "z" * 43)],
                    [("Authorization", "Bearer " + "z" * 43), ("Authorization", f"Bearer {good}")],
                    [("Authorization", f"Bearer {good}"), ("Authorization", f"Bearer {good}")]):
        with server.client() as client:
            answer = client.get("/whoami", headers=headers)
        problem = assert_problem(answer, (400, 401))
        assert "Authorization" in problem["detail"]


# ------------------------------------------------------------------ finding 7: unknown query parameters


@pytest.mark.parametrize("role, path, params, unknown", [
    ("auditor", "/audit/index", {"subject": "1-8000000001"}, "subject"),
    ("auditor", "/events", {"after": 0, "afterr": 5}, "afterr"),
    ("auditor", "/competitions", {"sort": "reference", "stauts": "open"}, "stauts"),
    ("commissioner", "/locations", {"local_autority": "Camden"}, "local_autority"),
    ("auditor", f"/competitions/{COMPETITION}", {"asof": "2026-01-01T00:00:00Z"}, "asof"),
    ("auditor", "/whoami", {"verbose": "1"}, "verbose"),
])
def test_a_query_parameter_the_route_does_not_take_is_a_400_naming_it(server, role, path, params, unknown):
    with server.client(role, "NEL-CSU") as client:
        answer = client.get(path, params=params)
    problem = assert_problem(answer, 400)
    assert problem["code"] == "unknown_query_parameter"
    assert [f["field"] for f in problem["fields"]] == [f"query:{unknown}"]
    assert unknown in problem["detail"]


def test_the_parameters_a_route_does_take_are_still_accepted(server):
    with server.client("auditor", "NEL-CSU") as auditor:
        assert auditor.get("/events", params={"after": 0, "limit": 5}).status_code == 200
        assert auditor.get("/competitions", params={"sort": "reference", "limit": 5}).status_code == 200
        assert auditor.get("/audit/index", params={"limit": 5}).status_code == 200


# ------------------------------------------------------------------ finding 8: what the fuzzing found


@pytest.mark.parametrize("path", ["/competitions", f"/competitions/{COMPETITION}", "/audit/index", f"/locations/{HOME}"])
@pytest.mark.parametrize("as_of", ["0.5", "1767225600", "-1", "null", "", "2026"])
def test_a_time_that_is_not_written_as_one_is_a_422_naming_as_of(server, path, as_of):
    with server.client("auditor", "NEL-CSU") as auditor:
        answer = auditor.get(path, params={"as_of": as_of})
    problem = assert_problem(answer, 422)
    assert [(f["field"], f["rule"]) for f in problem["fields"]] == [("query:as_of", "format")]


def test_a_time_written_as_one_is_still_taken(server):
    # Written to the second, a time is up to a second earlier than now: the competition the
    # fixture created within that second would not exist yet as of it.
    time.sleep(1.05)
    now = datetime.now(timezone.utc)
    with server.client("auditor", "NEL-CSU") as auditor:
        for when in (now.isoformat(), now.strftime("%Y-%m-%dT%H:%M:%SZ")):
            assert auditor.get("/competitions", params={"as_of": when}).status_code == 200
            assert auditor.get(f"/competitions/{COMPETITION}", params={"as_of": when}).status_code == 200


@pytest.mark.parametrize("body, rule", [
    (b"", "required"),
    (b" \r\n", "required"),
    (b'{"type": "tenders.open", "competition": "\xff"}', "json"),  # a 500 before
    (b'{"type": "tenders.open", "competition": "BAD-INPUT-1"', "json"),
])
def test_a_body_that_is_not_json_is_a_400_naming_the_body(server, body, rule):
    before = server.ledger.max_position()
    with server.client(**LEAD) as lead:
        answer = lead.post("/commands", content=body, headers={"content-type": "application/json"})
    problem = assert_problem(answer, 400)
    assert problem["code"] == "malformed_json"
    assert [(f["field"], f["rule"]) for f in problem["fields"]] == [("body", rule)]
    assert server.ledger.max_position() == before


@pytest.mark.parametrize("body", [[competition("BAD-INPUT-LIST")], None, 1, "competition.open"])
def test_json_that_is_not_an_object_names_the_body_not_litestars_data(server, body):
    with server.client(**LEAD) as lead:
        answer = lead.post("/commands", content=json.dumps(body).encode(), headers={"content-type": "application/json"})
    problem = assert_problem(answer, 422)
    assert [(f["field"], f["rule"]) for f in problem["fields"]] == [("body", "type")]


def test_a_body_over_a_mebibyte_is_a_413_naming_the_body(server):
    before = server.ledger.max_position()
    with server.client(**LEAD) as lead:
        answer = lead.post("/commands", json=competition("BAD-INPUT-HUGE", title="x" * 1_100_000))
    problem = assert_problem(answer, 413)
    assert [(f["field"], f["rule"]) for f in problem["fields"]] == [("body", "max_size")]
    assert server.ledger.max_position() == before


@pytest.mark.parametrize("path, params", [
    ("/locations", {"local_authority": "Camden\x00"}),
    ("/audit/index", {"reference": "\x00"}),
    ("/competitions", {"q": "care\x00"}),
])
def test_a_nul_character_in_a_query_parameter_is_a_422_naming_it(server, path, params):
    with server.client("admin", "NEL-CSU") as admin:
        answer = admin.get(path, params=params)
    problem = assert_problem(answer, 422)
    assert [(f["field"], f["rule"]) for f in problem["fields"]] == [(f"query:{name}", "nul_character") for name in params]


def test_a_command_with_a_nul_character_in_its_text_is_refused_and_the_lists_keep_following(server):
    before = server.ledger.max_position()
    with server.client(**LEAD) as lead, server.client("auditor", "NEL-CSU") as auditor:
        refused = lead.post("/commands", json=competition("BAD-INPUT-NUL", title="Residential\x00care"))
        problem = assert_problem(refused, 422)
        assert [(f["field"], f["rule"]) for f in problem["fields"]] == [("title", "nul_character")]
        assert server.ledger.max_position() == before
        assert lead.post("/commands", json=competition("BAD-INPUT-AFTER-NUL")).status_code == 200
        listed = auditor.get("/competitions", params={"q": "BAD-INPUT-AFTER-NUL"}).json()
    assert [row["reference"] for row in listed["items"]] == ["BAD-INPUT-AFTER-NUL"]
