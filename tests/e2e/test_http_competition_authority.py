"""A competition belongs to its authority and the organisations it names (issue 13, finding 1).

Over real HTTP on the example world: NEL-CSU runs AQP-CH-2026 for the five London ICBs
(`http_server.AUTHORITIES`). The procurement leads of two other CSUs (SWL-CSU, SEL-CSU) try
every kind of thing a lead does to a competition, at a stage where the rules would accept it
from its own lead: each is answered as an unknown reference would be (404, the same detail)
and records nothing (the notification log's last position does not move). The authority's
own lead, and a lead of an organisation it names, then do the same and are let through.
Reads alike: the record, its evaluation trail, as of a past time, and the competition list.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from domain.kernel.errors import NotFound
from domain.kernel.metadata import Actor
from tests.e2e.http_server import AUTHORITIES, LONDON_ICBS, Server, competition_copy, running_server, world

pytestmark = pytest.mark.storage

OWN = ("procurement_lead", "NEL-CSU", "j.okafor")
NAMED = ("procurement_lead", "ICB-NEL", "t.adeyemi")
#: leads of a second and a third CSU
OUTSIDERS = (("procurement_lead", "SWL-CSU", "p.swl"), ("procurement_lead", "SEL-CSU", "p.sel"))
OPEN_ROUND, UNOPENED, SCORED = "NEL-OPEN-1", "AQP-CH-COPY-B", "AQP-CH-COPY-C"


@pytest.fixture
def served(database_url):
    with running_server(database_url) as s:
        world(s.ledger)
        competition_copy(s.ledger, UNOPENED, before="tenders.open")
        competition_copy(s.ledger, SCORED, before="outcome.decide")
        yield s


def post(server: Server, who: tuple[str, str, str], command: dict[str, Any]) -> Any:
    with server.client(*who) as client:
        return client.post("/commands", json=command)


def refused_as_absent(server: Server, command: dict[str, Any]) -> None:
    """Each outsider gets what an unknown reference gets, and nothing is recorded."""
    unknown = post(server, OWN, {**command, "competition": "NO-SUCH-ROUND"})
    assert unknown.status_code == 404, unknown.text
    for outsider in OUTSIDERS:
        before = server.ledger.max_position()
        answer = post(server, outsider, command)
        assert answer.status_code == 404, (outsider, command["type"], answer.text)
        assert answer.json()["code"] == unknown.json()["code"] == "competition_not_found"
        assert answer.json()["detail"].replace(command["competition"], "X") == unknown.json()["detail"].replace("NO-SUCH-ROUND", "X")
        assert server.ledger.max_position() == before, f"{outsider} {command['type']} recorded an event"


def ok(answer: Any) -> None:
    assert answer.status_code == 200, answer.text


def open_round(server: Server) -> None:
    """A round still open for tenders (deadlines ahead of today), with a question waiting for its answer."""
    now = datetime.now(timezone.utc)
    ok(post(server, OWN, {
        "type": "competition.open", "competition": OPEN_ROUND, "title": "Residential care", "procedure": "open",
        "standstill_regime": "pcr2015", "lots": [{"id": "NEL", "name": "North East London"}],
        "clarification_deadline": (now + timedelta(days=20)).isoformat(), "tender_deadline": (now + timedelta(days=30)).isoformat(),
    }))
    ok(post(server, ("provider", "aster-care-homes", "bm-aster"), {
        "type": "clarification.ask", "competition": OPEN_ROUND, "question": "Aster asks: is the weekly rate inclusive of FNC?",
    }))


def test_leads_of_other_authorities_can_do_nothing_to_a_competition_and_nothing_is_recorded(served):
    open_round(served)
    document = {"type": "document.publish", "competition": OPEN_ROUND, "document": "ADDENDUM", "title": "Addendum 1",
                "sha256": "e" * 64, "size_bytes": 1200}
    answer = {"type": "clarification.answer", "competition": OPEN_ROUND, "clarification": "Q001",
              "published_question": "Is the weekly rate inclusive of FNC?", "answer": "No: FNC is paid on top."}
    appoint = {"type": "evaluator.appoint", "competition": OPEN_ROUND, "evaluator": "p.swl-evaluator",
               "evaluator_org": "SWL-CSU", "panel": "technical"}
    cancel = {"type": "competition.cancel", "competition": OPEN_ROUND, "reason": "Withdrawn by the authority"}
    for command in (document, answer, appoint, cancel):
        refused_as_absent(served, command)
    # Naming matters: an ICB this round does not name is an outsider to it too.
    assert post(served, NAMED, cancel).status_code == 404
    for command in (document, answer, appoint):
        ok(post(served, OWN, command))

    # Tenders not yet opened: a lead of a named ICB may open them, no other authority's.
    opening = {"type": "tenders.open", "competition": UNOPENED}
    refused_as_absent(served, opening)
    ok(post(served, NAMED, opening))

    # Everything scored and moderated: the outcome is the authority's to decide.
    decide = {"type": "outcome.decide", "competition": SCORED}
    refused_as_absent(served, decide)
    refused_as_absent(served, {"type": "compliance.record", "competition": SCORED, "bidder": "aster-care-homes",
                               "check": "insurance", "passed": False, "note": "Certificate lapsed"})
    # Nor may another authority award a contract off it by hand (a competition the ledger does
    # not hold may still be named: contracts awarded outside it, as the scenarios' accreditations).
    award = {"type": "contract.award", "contract": f"{SCORED}/NCL/aster-care-homes", "framework": "AQP-NH-LONDON",
             "competition": SCORED, "lot": "NCL", "provider": "aster-care-homes", "value": 0,
             "starts_on": "2026-12-01", "ends_on": "2027-11-30"}
    for outsider in OUTSIDERS:
        before = served.ledger.max_position()
        awarded = post(served, outsider, award)
        assert awarded.status_code == 404 and awarded.json()["code"] == "competition_not_found", awarded.text
        assert served.ledger.max_position() == before
    ok(post(served, OWN, decide))
    ok(post(served, OWN, cancel))


def test_an_evaluator_of_another_organisation_without_a_seat_finds_no_such_competition(served):
    declaring = {"type": "conflict.declare", "competition": SCORED,
                 "declarations": [{"bidder": "aster-care-homes", "conflicted": False}]}
    before = served.ledger.max_position()
    with served.client("evaluator", "SWL-CSU", "e.swl") as stranger:
        answer = stranger.post("/commands", json=declaring)
        view = stranger.get(f"/competitions/{SCORED}")
    assert answer.status_code == 404 and answer.json()["code"] == "competition_not_found", answer.text
    assert view.status_code == 404
    assert served.ledger.max_position() == before
    # An evaluator of a named ICB who is not on the panels: the rules' own answer, as before.
    with served.client("evaluator", "ICB-NEL", "x.nobody") as unseated:
        assert unseated.post("/commands", json=declaring).json()["code"] == "evaluator_not_appointed"
    # Appointed by the authority with their own organisation, the seat lets them in.
    ok(post(served, OWN, {"type": "evaluator.appoint", "competition": SCORED, "evaluator": "e.swl", "evaluator_org": "SWL-CSU",
                          "panel": "technical"}))
    with served.client("evaluator", "SWL-CSU", "e.swl") as seated:
        assert seated.get(f"/competitions/{SCORED}").status_code == 200
        assert seated.get(f"/competitions/{SCORED}/evaluation").status_code == 200
        ok(seated.post("/commands", json=declaring))
        assert SCORED in {r["reference"] for r in seated.get("/competitions").json()["items"]}


def test_leads_commissioners_and_contract_managers_of_other_organisations_read_nothing_of_it(served):
    authority, named = AUTHORITIES["AQP-CH-2026"]
    assert authority == "NEL-CSU" and set(named) == set(LONDON_ICBS)
    references = ("AQP-CH-2026", SCORED)
    strangers = (*OUTSIDERS, ("commissioner", "NCC", "c.ncc"), ("contract_manager", "NCC", "m.ncc"), ("evaluator", "SEL-CSU", "e.sel"))
    with served.client(*OWN) as own:
        unknown = own.get("/competitions/NO-SUCH-ROUND").json()
        unknown_trail = own.get("/competitions/NO-SUCH-ROUND/evaluation").json()
    for who in strangers:
        with served.client(*who) as client:
            for reference in references:
                for path, absent in ((f"/competitions/{reference}", unknown), (f"/competitions/{reference}/evaluation", unknown_trail)):
                    answer = client.get(path)
                    assert answer.status_code == 404, (who, path, answer.text)
                    assert answer.json()["detail"].replace(reference, "X") == absent["detail"].replace("NO-SUCH-ROUND", "X")
                assert client.get(f"/competitions/{reference}", params={"as_of": "2026-03-20T12:00:00Z"}).status_code == 404
            listed = client.get("/competitions", params={"limit": 500}).json()
            assert listed["total"] == 0 and listed["items"] == [], who
            assert len(client.get("/competitions", headers={"Accept": "text/csv"}).text.splitlines()) <= 1, who
            assert client.get("/competitions", params={"as_of": "2026-03-20T12:00:00Z"}).json()["total"] == 0, who
            if who[0] != "evaluator":  # evaluators do not follow the feed at all
                feed = client.get("/events", params={"limit": 1000}).json()["items"]
                rounds = [e for e in feed if e["aggregate"] == "competition"]
                assert rounds and all(e["withheld"] == "another_authoritys_competition" and e["data"] is None and e["actor"] is None
                                      for e in rounds), who
    # The authority, the organisations it names and the oversight roles see it; bidders as before.
    for who in (OWN, NAMED, ("commissioner", "ICB-SEL", "c.sel"), ("contract_manager", "ICB-NCL", "m.ncl"), ("auditor", "NAO", "a.nao"),
                ("provider", "aster-care-homes", "bm-aster")):
        with served.client(*who) as client:
            for reference in references:
                assert client.get(f"/competitions/{reference}").status_code == 200, (who, reference)
            listed = {r["reference"] for r in client.get("/competitions", params={"limit": 500}).json()["items"]}
            assert set(references) <= listed, who
            if who[0] != "provider":
                feed = client.get("/events", params={"limit": 1000}).json()["items"]
                assert not [e for e in feed if e["withheld"] == "another_authoritys_competition"], who
    with served.client(*NAMED) as lead:
        assert lead.get(f"/competitions/{SCORED}/evaluation").status_code == 200


def test_the_cli_shows_a_viewer_of_another_authority_no_such_competition(served):
    outsider = Actor(id="p.swl", org="SWL-CSU", role="procurement_lead")
    with pytest.raises(NotFound) as absent:
        served.ledger.show_competition("NO-SUCH-ROUND", viewer=outsider)
    with pytest.raises(NotFound) as theirs:
        served.ledger.show_competition("AQP-CH-2026", viewer=outsider)
    assert theirs.value.code == absent.value.code
    assert str(theirs.value).replace("AQP-CH-2026", "X") == str(absent.value).replace("NO-SUCH-ROUND", "X")
    assert served.ledger.show_competition("AQP-CH-2026", viewer=Actor(id="c", org="ICB-SWL", role="commissioner"))["authority"] == "NEL-CSU"
