"""The HTTP API end to end: a real server on a loopback port, real HTTP, on both stores."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import structlog
import structlog.testing

from tests.command_bodies import competition_opening
from tests.e2e.http_server import running_server, world

pytestmark = pytest.mark.storage

LEAD = {"role": "procurement_lead", "org": "NEL-CSU", "user": "j.okafor"}


open_competition = competition_opening


@pytest.fixture
def server(database_url):
    with running_server(database_url) as s:
        yield s


@pytest.fixture
def populated(database_url):
    with running_server(database_url) as s:
        world(s.ledger)
        yield s


def test_a_command_over_http_is_recorded_with_the_principal_and_the_request_id_in_its_events(server):
    with server.client(**LEAD) as lead:
        sent = lead.post("/commands", json=open_competition("NEL-RES-1"), headers={"X-Request-ID": "req-0001"})
        assert sent.status_code == 200, sent.text
        assert sent.headers["x-request-id"] == "req-0001"
        result = sent.json()
        assert result["ok"] and result["events"][0]["type"] == "Competition.Opened"
        position = result["events"][0]["position"]
        feed = lead.get("/events", params={"after": position - 1, "limit": 1}).json()
    event = feed["items"][0]
    assert event["position"] == position
    assert event["actor"] == {"id": "j.okafor", "org": "NEL-CSU", "role": "procurement_lead"}
    assert event["correlation_id"] == "req-0001"
    assert event["data"]["reference"] == "NEL-RES-1"


def test_no_token_a_wrong_scheme_an_unknown_or_a_revoked_token_is_401_and_the_log_never_has_the_token(server):
    token = server.token("commissioner")
    assert server.app.state.service.tokens.revoke(token, reason="left").revoked_at
    unknown = "x" * 43
    with structlog.testing.capture_logs() as logs:
        for headers in ({}, {"Authorization": f"Basic {token}"}, {"Authorization": f"Bearer {unknown}"}, {"Authorization": f"Bearer {token}"}):
            with server.client(headers=headers) as anonymous:
                answer = anonymous.get("/competitions")
            assert answer.status_code == 401
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.headers["www-authenticate"].startswith("Bearer")
            assert answer.json()["code"] == "not_authenticated"
    failures = [entry for entry in logs if entry["event"] == "authentication_failed"]
    assert [f["reason"] for f in failures] == ["no_token", "malformed_authorization", "unknown_token", "revoked_token"]
    assert failures[-1]["token_id"].startswith("tok_")
    assert token not in repr(logs) and unknown not in repr(logs)


def test_a_retried_command_with_the_same_idempotency_key_returns_the_first_answer_and_records_nothing_new(server):
    key = str(uuid.uuid4())
    command = open_competition("NEL-RES-2")
    with server.client(**LEAD) as lead:
        first = lead.post("/commands", json=command, headers={"Idempotency-Key": key})
        before = server.ledger.max_position()
        # The same command, its fields in another order: the same request.
        again = lead.post("/commands", json=dict(reversed(command.items())), headers={"Idempotency-Key": key})
        # Without the key the same command is a new request: refused, the competition exists.
        fresh = lead.post("/commands", json=command)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert server.ledger.max_position() == before
    assert fresh.status_code == 409 and fresh.json()["code"] == "competition_exists"


def test_an_idempotency_key_is_the_principals_own_and_cannot_be_reused_for_another_request(server):
    key = "retry-me"
    with server.client(**LEAD) as lead, server.client("procurement_lead", "ICB-NCL", "t.adeyemi") as other:
        assert lead.post("/commands", json=open_competition("NEL-RES-3"), headers={"Idempotency-Key": key}).status_code == 200
        reused = lead.post("/commands", json=open_competition("NEL-RES-4"), headers={"Idempotency-Key": key})
        theirs = other.post("/commands", json=open_competition("NCL-RES-4"), headers={"Idempotency-Key": key})
        bad = lead.post("/commands", json=open_competition("NEL-RES-5"), headers={"Idempotency-Key": "has space"})
    assert reused.status_code == 422 and reused.json()["code"] == "idempotency_key_reused"
    assert theirs.status_code == 200 and theirs.json()["events"][0]["type"] == "Competition.Opened"
    assert bad.status_code == 422 and bad.json()["fields"][0]["field"] == "header:Idempotency-Key"


def test_bad_input_is_a_problem_naming_the_field_and_rule_never_a_500(server):
    with server.client(**LEAD) as lead:
        not_json = lead.post("/commands", content=b"{not json", headers={"content-type": "application/json"})
        unknown = lead.post("/commands", json={"type": "competition.reopen", "competition": "X"})
        wrong_type = lead.post("/commands", json=open_competition("NEL-RES-6") | {"moderation_spread": "two"})
        bad_pattern = lead.post("/commands", json=open_competition("has spaces"))
        domain_rule = lead.post("/commands", json=open_competition("NEL-RES-7", days=-1))
        forbidden = lead.post("/commands", json={"type": "tender.submit", "competition": "NEL-RES-6", "lots": ["NEL"],
                                                 "content_sha256": "a" * 64, "size_bytes": 10})
        missing = lead.post("/commands", json={"type": "tenders.open", "competition": "NOPE"})
    assert not_json.status_code == 400 and not_json.json()["code"] == "malformed_json"
    assert unknown.status_code == 422 and unknown.json()["fields"][0]["field"] == "type"
    assert wrong_type.status_code == 422
    assert wrong_type.json()["fields"][0] == {"field": "moderation_spread", "rule": "type", "message": "Expected `int`, got `str`"}
    assert bad_pattern.status_code == 422 and bad_pattern.json()["fields"][0]["rule"] == "pattern"
    assert domain_rule.status_code == 422 and domain_rule.json()["code"] == "deadline_in_past"
    assert domain_rule.json()["fields"][0]["field"] == "tender_deadline"
    assert forbidden.status_code == 403 and forbidden.json()["code"] == "not_permitted"
    assert missing.status_code == 404 and missing.json()["code"] == "competition_not_found"
    for answer in (not_json, unknown, wrong_type, bad_pattern, domain_rule, forbidden, missing):
        assert answer.headers["content-type"] == "application/problem+json"
        problem = answer.json()
        assert problem["status"] == answer.status_code and problem["type"].endswith(problem["code"]) and problem["detail"]


def test_resource_routes_build_the_same_commands_and_name_a_bad_path_value(populated):
    record = {"locationId": "1-1000000001", "providerId": "1-2000000001", "name": "Aster House Nursing Home",
              "registrationStatus": "Registered", "numberOfBeds": 40}
    with populated.client("system", "NEL-CSU", "cqc-sync") as cqc:
        assert cqc.post("/commands", json={"type": "location.import_cqc", "record": record}).status_code == 200
    with populated.client("provider", "1-1000000001", "u-aster-manager") as home:
        today = datetime.now(timezone.utc).date().isoformat()
        reported = home.post("/locations/1-1000000001/vacancies", json={"date": today, "nursing": 2, "residential": 1})
        bad_home = home.post("/locations/not-a-cqc-id/vacancies", json={"date": today})
        not_theirs = home.post("/locations/1-1000000002/vacancies", json={"date": today, "nursing": 1})
        negative = home.post("/locations/1-1000000001/vacancies", json={"date": today, "nursing": -1})
    assert reported.status_code == 200 and reported.json()["events"][0]["type"] == "Location.VacanciesReported"
    assert bad_home.status_code == 422 and bad_home.json()["fields"][0]["field"] == "path:location"
    assert not_theirs.status_code == 403 and not_theirs.json()["code"] == "not_your_location"
    assert negative.status_code == 422 and negative.json()["code"] == "negative_vacancies"


def test_a_provider_sees_only_its_own_contracts_homes_and_returns_and_anything_else_is_not_found(populated):
    with populated.client("provider", "aster-care-homes") as aster, populated.client("commissioner", "ICB-NCL") as icb:
        theirs = aster.get("/contracts").json()
        everyone = icb.get("/contracts").json()
        assert {r["provider"] for r in theirs["items"]} == {"aster-care-homes"}
        assert everyone["total"] > theirs["total"] >= 1
        other = next(r["reference"] for r in everyone["items"] if r["provider"] != "aster-care-homes")
        assert aster.get(f"/contracts/{other}").status_code == 404
        assert aster.get(f"/contracts/{theirs['items'][0]['reference']}").status_code == 200
        hidden = aster.get(f"/contracts/{other}").json()
        absent = aster.get("/contracts/NO-SUCH-CONTRACT").json()
        assert hidden["detail"].replace(other, "X") == absent["detail"].replace("NO-SUCH-CONTRACT", "X")
    with populated.client("provider", "1-1000000002", "u-birch-manager") as birch:
        assert birch.get("/locations/1-1000000001").status_code == 404
        assert birch.get("/returns/1-1000000001/london-aqp-care-home-monthly/1/2026-04").status_code == 404
        assert birch.get("/locations/1-1000000002").status_code == 200
    with populated.client("provider", "1-1000000001", "u-aster-manager") as aster_home:
        ret = aster_home.get("/returns/1-1000000001/london-aqp-care-home-monthly/1/2026-04")
        assert ret.status_code == 200 and ret.json()["location"] == "1-1000000001"


def test_a_contract_reads_as_it_stood_at_a_time(populated):
    with populated.client("contract_manager", "ICB-NCL") as manager:
        reference = manager.get("/contracts", params={"limit": 1}).json()["items"][0]["reference"]
        now = manager.get(f"/contracts/{reference}").json()
        before = manager.get(f"/contracts/{reference}", params={"as_of": "2026-01-01T00:00:00Z"})
        naive = manager.get(f"/contracts/{reference}", params={"as_of": "2026-06-01T00:00:00"})
        then = manager.get(f"/contracts/{reference}", params={"as_of": "2026-04-15T12:00:00Z"})
    assert now["reference"] == reference
    assert before.status_code == 404  # not awarded yet then
    assert naive.status_code == 422 and naive.json()["fields"][0]["field"] == "query:as_of"
    assert then.status_code == 200 and then.json()["version"] <= now["version"]


def test_a_contracts_answer_now_follows_every_change_to_it_and_to_its_frameworks_prices(populated):
    # The answer is kept between requests (by the contract's and the framework's versions and the day):
    # a change to either is in the very next read.
    with populated.client("contract_manager", "ICB-NCL") as manager, populated.client("commissioner", "ICB-NCL") as icb:
        reference = manager.get("/contracts", params={"limit": 1}).json()["items"][0]["reference"]
        day = manager.get(f"/contracts/{reference}").json()["rates"]["on"]
        # Ended, so the price change below varies it not: only the framework's version moves.
        ended = manager.post("/commands", json={"type": "contract.terminate", "contract": reference, "reason_kind": "mutual_agreement",
                                                "effective_on": day, "reason": "The provider and the ICB agreed to end it."})
        assert ended.status_code == 200, ended.text
        first = manager.get(f"/contracts/{reference}").json()
        assert first["status"] == "terminated" and manager.get(f"/contracts/{reference}").json() == first
        raised = {kind: pence + 125 for kind, pence in first["rates"]["rates"].items()}
        priced = icb.post("/commands", json={"type": "framework.set_prices", "framework": first["framework"], "effective_from": day,
                                              "rates": raised, "rationale": "A price review in force from today."})
        assert priced.status_code == 200, priced.text
        after = manager.get(f"/contracts/{reference}").json()
    assert first["rates"]["rates"] != raised and after["version"] == first["version"]
    assert after["rates"] == {**first["rates"], "effective_from": day, "rates": raised}


def test_the_contract_page_leaves_the_contracts_kept_answer_as_the_api_gives_it(populated):
    # The page and the API share one kept answer: what the page works out for itself (each
    # variation's running total, its ground in words) must not show up in the API's next answer.
    from tests.e2e.test_web_publication_tab import person

    with populated.client("contract_manager", "ICB-NCL") as manager, populated.client("commissioner", "ICB-NCL") as icb:
        reference = manager.get("/contracts", params={"limit": 1}).json()["items"][0]["reference"]
        rates = manager.get(f"/contracts/{reference}").json()["rates"]
        priced = icb.post("/commands", json={"type": "framework.set_prices", "framework": rates["framework"], "effective_from": rates["on"],
                                              "rates": {kind: pence + 50 for kind, pence in rates["rates"].items()},
                                              "rationale": "A price review in force from today."})
        assert priced.status_code == 200, priced.text
        before = manager.get(f"/contracts/{reference}").json()
    assert before["variations"]  # the price review varied it
    with person(populated, "contract_manager", "ICB-NCL") as browser:
        page = browser.get(f"/app/contracts/{reference}")
        assert page.status_code == 200 and "Variations" in page.text
    with populated.client("contract_manager", "ICB-NCL") as manager:
        assert manager.get(f"/contracts/{reference}").json() == before


def test_a_contracts_performance_failures_are_read_by_those_who_may_see_the_contract_now_and_as_of_a_time(populated):
    from tests.e2e.test_web_publication_tab import person

    aster_contract = "AQP-CH-2026/NCL/aster-care-homes"
    with populated.client("contract_manager", "ICB-NCL") as manager:
        other = next(r["reference"] for r in manager.get("/contracts", params={"limit": 500}).json()["items"] if r["provider"] != "aster-care-homes")
        empty = manager.get(f"/performance-records/{aster_contract}")
        before = datetime.now(timezone.utc).isoformat()
        recorded = manager.post("/commands", json={
            "type": "performance.record_critical_failure", "contract": aster_contract, "cause": "kpi-safe-2026-q2", "kind": "kpi_breach",
            "location": "1-1000000001", "description": "Safe KPI at 88% against 95% in the annual return.", "occurred_on": "2026-07-01"})
        assert recorded.status_code == 200, recorded.text
        now = manager.get(f"/performance-records/{aster_contract}")
        then = manager.get(f"/performance-records/{aster_contract}", params={"as_of": before})
        missing = manager.get("/performance-records/NO-SUCH/CONTRACT/here")
    with populated.client("provider", "aster-care-homes") as aster:
        own = aster.get(f"/performance-records/{aster_contract}")
        theirs = aster.get(f"/performance-records/{other}")
    with populated.client("evaluator", "NEL-CSU") as evaluator:
        refused = evaluator.get(f"/performance-records/{aster_contract}")
    assert empty.status_code == 200 and empty.json() == {"contract": aster_contract, "version": 0, "critical_failures": [], "service_failures": []}
    assert now.status_code == 200, now.text
    (failure,) = now.json()["critical_failures"]
    assert {k: failure[k] for k in ("cause", "kind", "location", "occurred_on")} == {
        "cause": "kpi-safe-2026-q2", "kind": "kpi_breach", "location": "1-1000000001", "occurred_on": "2026-07-01"}
    assert now.json()["service_failures"] == [] and then.json()["critical_failures"] == []
    assert own.json() == now.json()  # the provider sees its own contract's failures
    assert theirs.status_code == 404 and missing.status_code == 404 and refused.status_code == 403
    with person(populated, "contract_manager", "ICB-NCL") as browser:
        page = browser.get(f"/app/contracts/{aster_contract}")
        earlier = browser.get(f"/app/contracts/{aster_contract}", params={"as_at": (date.today() - timedelta(days=1)).isoformat()})
    assert page.status_code == 200 and "Critical performance failures" in page.text
    assert "Safe KPI at 88% against 95% in the annual return." in page.text and "A critical KPI breached" in page.text
    assert earlier.status_code == 200 and "No performance failures recorded by then" in earlier.text


def test_tables_are_filtered_sorted_paged_and_answer_csv(populated):
    with populated.client("commissioner", "ICB-NCL") as icb:
        page = icb.get("/contracts", params={"sort": "-provider", "limit": 2}).json()
        everything = icb.get("/contracts", params={"limit": 500}).json()
        awarded = icb.get("/contracts", params={"status": "awarded", "q": "aster"}).json()
        csv_answer = icb.get("/contracts", params={"sort": "provider"}, headers={"Accept": "text/csv"})
        bad_sort = icb.get("/contracts", params={"sort": "secret_column"})
        too_many = icb.get("/contracts", params={"limit": 501})
    providers = sorted((r["provider"] for r in everything["items"]), reverse=True)
    assert [r["provider"] for r in page["items"]] == providers[:2]
    assert page["total"] == everything["total"] and page["next_offset"] == 2
    assert awarded["total"] >= 1 and all("aster" in r["provider"] for r in awarded["items"])
    assert csv_answer.headers["content-type"].startswith("text/csv")
    lines = csv_answer.text.splitlines()
    assert lines[0].startswith("reference,framework,lot,provider,status") and len(lines) == everything["total"] + 1
    assert bad_sort.status_code == 422 and too_many.status_code == 422


def test_personal_data_and_concerns_are_shown_only_to_the_roles_that_need_them(populated):
    with populated.client("commissioner", "ICB-NCL") as icb:
        added = icb.post("/commands", json={"type": "location.share_concern", "location": "1-1000000001", "kind": "safeguarding",
                                            "summary": "A resident's family raised a concern about night staffing."})
        assert added.status_code == 200, added.text
    with populated.client("contract_manager", "ICB-NCL") as manager:
        contact = manager.post("/commands", json={"type": "location.add_contact", "location": "1-1000000001", "contact": "p-991",
                                                  "role": "registered manager", "name": "Ada Lovelace", "email": "ada@example.org"})
        assert contact.status_code == 200, contact.text
        seen = manager.get("/locations/1-1000000001").json()
    with populated.client("evaluator", "ICB-NCL") as evaluator:
        withheld = evaluator.get("/locations/1-1000000001").json()
    with populated.client("procurement_lead", "NEL-CSU") as lead:
        feed = lead.get("/events", params={"after": populated.ledger.max_position() - 2}).json()["items"]
    assert seen["contacts"]["p-991"]["name"] == "Ada Lovelace" and seen["concerns"]
    assert withheld["contacts"]["p-991"]["name"] == "[withheld]" and withheld["contacts"]["p-991"]["email"] is None
    assert withheld["concerns"] is None
    concern, contact_added = feed
    assert concern["withheld"] == "concern_restricted" and concern["data"] is None
    assert contact_added["data"]["name"] == "[withheld]"
    assert "Ada" not in json.dumps(feed) and "night staffing" not in json.dumps(feed)


def test_the_events_feed_keeps_tenders_sealed_until_opened_and_the_evaluation_working_from_commissioners(populated):
    with populated.client(**LEAD) as lead:
        assert lead.post("/commands", json=open_competition("NEL-RES-8")).status_code == 200
        criteria = {"type": "criteria.publish", "competition": "NEL-RES-8", "financial_thresholds": {},
                    "criteria": [{"id": "Q1", "title": "Quality", "panel": "technical", "weight": 100, "max_score": 5}]}
        assert lead.post("/commands", json=criteria).status_code == 200
    with populated.client("provider", "aster-care-homes", "bm-aster") as bidder:
        tendered = bidder.post("/competitions/NEL-RES-8/tenders", json={"lots": ["NEL"], "content_sha256": "b" * 64, "size_bytes": 2048})
        assert tendered.status_code == 200, tendered.text
        position = tendered.json()["events"][0]["position"]
    with populated.client("auditor", "NAO") as auditor:
        sealed = auditor.get("/events", params={"after": position - 1, "limit": 1}).json()["items"][0]
        assert auditor.get("/competitions/NEL-RES-8").json()["tenders"] == {"sealed": True, "count": 1}
        whole = auditor.get("/events", params={"limit": 1000}).json()["items"]
    with populated.client("commissioner", "ICB-NCL") as icb:
        as_commissioner = icb.get("/events", params={"limit": 1000}).json()["items"]
    assert sealed["type"] == "Competition.TenderSubmitted" and sealed["withheld"] == "sealed_until_tenders_opened"
    assert sealed["data"] is None and sealed["actor"] is None and "aster" not in json.dumps(sealed)
    opened_tenders = [e for e in whole if e["type"] == "Competition.TenderSubmitted" and e["withheld"] is None]
    assert opened_tenders, "tenders of the awarded competition are visible once opened"
    scores = [e for e in as_commissioner if e["type"] == "Competition.ScoreRecorded"]
    assert scores and all(e["data"] is None and e["withheld"] == "evaluation_working" for e in scores)
    assert all(e["data"] is not None for e in whole if e["type"] == "Competition.ScoreRecorded")


def test_checkpoints_and_a_proof_bundle_that_the_standalone_verifier_accepts(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("AQP_KEY_DIR", str(tmp_path / "keys"))
    from audit.checkpoints import KeyRing
    from audit.verifier.__main__ import check

    signer = KeyRing(tmp_path / "keys").init("aqp-ledger.test/log")  # where the server finds it (AQP_KEY_DIR)
    with running_server(database_url) as s:
        with s.client(**LEAD) as lead:
            position = lead.post("/commands", json=open_competition("NEL-RES-9")).json()["events"][0]["position"]
        with s.client("auditor", "NAO") as auditor:
            bundle = auditor.get(f"/audit/proofs/{position}")
            checkpoints = auditor.get("/audit/checkpoints").json()
            absent = auditor.get(f"/audit/proofs/{position + 1000}")
        with s.client("commissioner", "ICB-NCL") as icb:
            assert icb.get(f"/audit/proofs/{position}").status_code == 403
    assert bundle.status_code == 200, bundle.text
    assert checkpoints["total"] >= 1 and "— aqp-ledger.test/log " in checkpoints["items"][-1]["note"]
    assert absent.status_code == 404
    assert check(bundle.json(), [signer.verifier_key()]).startswith(f"OK: notification {position} ")
