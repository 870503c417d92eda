"""FOI requests over real HTTP, on SQLite and PostgreSQL: each authority's FOI officers see their own alone."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.http.tables import today
from domain.foi.clock import due_date, working_days_left
from projections import runner
from projections.foi import FoiRequests
from tests.e2e.http_server import running_server

pytestmark = pytest.mark.storage

RECEIVED = today() - timedelta(days=60)
REQUEST = {
    "request": "FOI-0042", "received_on": RECEIVED.isoformat(), "channel": "web_form", "requester_name": "Ada Requester",
    "requester_address": "ada@example.org", "parts": ["Contracts awarded under AQP-CH-2026", "Each bidder's scores"],
}


@pytest.fixture
def server(database_url):
    with running_server(database_url) as s:
        yield s


def wait_for(server, result: dict) -> None:
    runner.wait_for(server.ledger, FoiRequests.name, result["position"], timeout=20)


def test_the_foi_officer_of_the_receiving_authority_sees_the_request_overdue_and_another_authoritys_gets_404(server):
    with server.client("foi_officer", "LBC") as lbc, server.client("foi_officer", "RBK") as rbk, \
            server.client("admin", "LBC") as lbc_admin, server.client("commissioner", "LBC") as commissioner:
        received = lbc.post("/foi-requests", json=REQUEST)
        assert received.status_code == 200, received.text
        due = due_date(RECEIVED)
        assert received.json()["value"] == {"request": "FOI-0042", "due_on": due.isoformat()}
        wait_for(server, received.json())

        listed = lbc.get("/foi-requests").json()
        assert [(r["reference"], r["status"], r["due_on"]) for r in listed["items"]] == [("FOI-0042", "overdue", due.isoformat())]
        assert listed["items"][0]["working_days_left"] == working_days_left(due, today()) < 0
        one = lbc.get("/foi-requests/FOI-0042")
        assert one.status_code == 200
        assert one.json()["requester"] == {"name": "Ada Requester", "address": "ada@example.org"}
        assert lbc_admin.get("/foi-requests/FOI-0042").status_code == 200

        assert rbk.get("/foi-requests/FOI-0042").status_code == 404
        assert "Ada" not in rbk.get("/foi-requests/FOI-0042").text
        assert rbk.get("/foi-requests").json()["items"] == []
        before = server.ledger.max_position()
        answer = rbk.post("/foi-requests/FOI-0042/response", json={"sent_on": today().isoformat(), "decisions": []})
        assert answer.status_code == 404
        assert answer.json()["code"] == "foi_request_not_found"
        assert server.ledger.max_position() == before

        for path in ("/foi-requests", "/foi-requests/FOI-0042", "/foi-requests/disclosure-log"):
            assert commissioner.get(path).status_code == 403, path
        # Nor does the events feed tell a commissioner who asked, or what.
        feed = commissioner.get("/events").json()
        foi = [e for e in feed["items"] if e["aggregate"] == "foi_request"]
        assert foi and all(e["data"] is None and e["actor"] is None for e in foi)
        assert "Ada" not in commissioner.get("/events").text


def test_a_response_without_a_decision_on_every_part_is_refused_naming_it_and_records_nothing(server):
    with server.client("foi_officer", "LBC") as lbc:
        assert lbc.post("/foi-requests", json=REQUEST).status_code == 200
        before = server.ledger.max_position()
        sent_on = today().isoformat()
        refused = lbc.post("/foi-requests/FOI-0042/response", json={"sent_on": sent_on, "decisions": [
            {"part": 1, "outcome": "released_in_full", "released": "The contract register"}]})
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "part_without_decision"
        assert "Part 2" in refused.json()["detail"]
        assert server.ledger.max_position() == before

        sent = lbc.post("/foi-requests/FOI-0042/response", json={"sent_on": sent_on, "decisions": [
            {"part": 1, "outcome": "released_in_full", "released": "The contract register"},
            {"part": 2, "outcome": "not_held"}]})
        assert sent.status_code == 200, sent.text
        assert sent.json()["value"]["late"] is True
        wait_for(server, sent.json())
        log = lbc.get("/foi-requests/disclosure-log").json()["items"]
        assert [(r["part"], r["outcome"], r["sent_on"]) for r in log] == [(1, "released_in_full", sent_on), (2, "not_held", sent_on)]
        assert lbc.get("/foi-requests").json()["items"][0]["status"] == "answered"
