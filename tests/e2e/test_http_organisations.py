"""The route x role x organisation matrix (issue 13, finding 8): three organisations per role.

`test_http_authorisation.py` asks every route as every role, each acting for one organisation,
which is how a lead of another CSU could cancel a competition and an ICB escalate another's
contract unseen. Here every role acts for three organisations in turn: the one whose records
are asked about (A) and two others (B, C). The records are the example world's (AQP-CH-2026,
run by NEL-CSU for the five London ICBs, with its panels) and the areas world's
(`tests/e2e/areas_world.py`: the Southwark home and the SEL lot's contract are ICB-SEL's).

What each organisation should get is worked out here from those worlds' facts (who runs the
competition and whom it names, who sits on its panels, whose area holds the home, which lot the
contract is, who runs the home and holds the contract), not from `domain/access.py`; only
which role may use a route at all comes from the route matrix, as in the one-organisation
test. Reads: a record absent to an organisation is 404, one it may read is 200, and the
concern text and the home's people appear exactly where the facts say. Commands: let through
(any answer but 401/403/404: the rules may still refuse) or refused (403/404) with nothing
recorded.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from api.http.access import ROUTE_ROLES
from domain.commands import AnyCommand
from domain.contracts import commands as k
from domain.kernel.metadata import Actor
from projections import runner
from projections.foi import FoiRequests
from domain.kernel.dispatch import HANDLERS
from domain.kernel.metadata import ROLES
from domain.procurement import commands as c
from domain.providers import commands as pc
from tests.e2e import areas_world
from tests.e2e.areas_world import CONCERN, CONTACT_NAME, MANAGER_NAME, SOUTHWARK, contract
from tests.e2e.http_server import LONDON_ICBS, Server, running_server, world
from tests.e2e.test_http_authorisation import REQUESTS

pytestmark = pytest.mark.storage

#: each role's three organisations: A (whose records are asked about) first
ORGANISATIONS: dict[str, tuple[str, str, str]] = {
    "procurement_lead": ("NEL-CSU", "SWL-CSU", "SEL-CSU"),
    "commissioner": ("ICB-SEL", "ICB-NCL", "NCC"),
    "contract_manager": ("ICB-SEL", "ICB-NEL", "NCC"),
    # dr.a.patel sits on AQP-CH-2026's technical panel, appointed with ICB-NCL
    "evaluator": ("ICB-NCL", "SEL-CSU", "NCC"),
    # the Southwark home itself, another home (the example world's Aster House), a bidder's head office
    "provider": (SOUTHWARK, "1-1000000001", "aster-care-homes"),
    "auditor": ("NAO", "ICO", "NEL-CSU"),
    "foi_officer": ("NEL-CSU", "ICB-SEL", "NCC"),
    "admin": ("aqp-ledger", "NEL-CSU", "ICB-SEL"),
    "system": ("aqp-ledger", "NEL-CSU", "ICB-NCL"),
}
assert set(ORGANISATIONS) == set(ROLES)

# ------------------------------------------------------------------ the worlds' facts

COMPETITION = "AQP-CH-2026"
#: AQP-CH-2026's authority and the organisations it names
COMPETITION_PARTIES = {"NEL-CSU", *LONDON_ICBS}
#: (evaluator id, organisation appointed with) on its panels
SEATED = {("dr.a.patel", "ICB-NCL")}
#: the Southwark home: whose area holds it, who runs it
HOME_COMMISSIONERS, HOME_RUN_BY = {"ICB-SEL"}, {SOUTHWARK, "1-700000100"}
#: the SEL lot's contract: who commissions it, who holds it
CONTRACT, CONTRACT_COMMISSIONERS, CONTRACT_HOLDER = contract("SEL"), {"ICB-SEL"}, "1-700000100"
FRAMEWORK_COMMISSIONERS = {"ICB-NCL", "ICB-SEL", "ICB-NEL"}
OVERSIGHT = {"auditor", "foi_officer", "admin", "system"}
#: an FOI request NEL-CSU received: its FOI officers' and admins' alone
FOI_REQUEST, FOI_AUTHORITY, FOI_REQUESTER = "FOI-NEL-0001", "NEL-CSU", "Wilhelmina Requester"


def user(role: str, org: str) -> str:
    return "dr.a.patel" if role == "evaluator" else f"{role}-{org}".lower()


def sees_competition(role: str, org: str) -> bool:
    if role in ("procurement_lead", "commissioner", "contract_manager"):
        return org in COMPETITION_PARTIES
    if role == "evaluator":
        return (user(role, org), org) in SEATED
    return True  # bidders and the oversight


def commissions_home(role: str, org: str) -> bool:
    return role in ("commissioner", "contract_manager") and org in HOME_COMMISSIONERS


def reads_concerns(role: str, org: str) -> bool:
    return role in ("auditor", "admin") or commissions_home(role, org)


def reads_homes_people(role: str, org: str) -> bool:
    return reads_concerns(role, org) or (role == "provider" and org in HOME_RUN_BY)


def handles_foi_request(role: str, org: str) -> bool:
    return role in ("foi_officer", "admin") and org == FOI_AUTHORITY


def route_allows(route: str, role: str) -> bool:
    return role in ROUTE_ROLES[route]


# ------------------------------------------------------------------ the requests about A's records

TODAY = date.today()
#: routes asked about organisation A's records (the rest as in the one-organisation matrix)
ABOUT_A: dict[str, tuple[str, str, dict | None]] = {
    **REQUESTS,
    "GET /competitions/{reference:str}": ("GET", f"/competitions/{COMPETITION}", None),
    "GET /competitions/{reference:str}/evaluation": ("GET", f"/competitions/{COMPETITION}/evaluation", None),
    "GET /locations/{reference:str}": ("GET", f"/locations/{SOUTHWARK}", None),
    "GET /contracts/{reference:path}": ("GET", f"/contracts/{CONTRACT}", None),
    "GET /performance-records/{reference:path}": ("GET", f"/performance-records/{CONTRACT}", None),
    "GET /frameworks/{reference:str}": ("GET", f"/frameworks/{areas_world.FRAMEWORK}", None),
    "POST /locations/{location:str}/vacancies": ("POST", f"/locations/{SOUTHWARK}/vacancies", {"date": TODAY.isoformat(), "nursing": 2}),
    "GET /foi-requests/{reference:str}": ("GET", f"/foi-requests/{FOI_REQUEST}", None),
    # refused by the rules (part 2 has no decision) where let through: nothing is recorded either way
    "POST /foi-requests/{reference:str}/response": ("POST", f"/foi-requests/{FOI_REQUEST}/response", {
        "sent_on": TODAY.isoformat(), "decisions": [{"part": 1, "outcome": "not_held"}]}),
}
FOI_POSTS = {"POST /foi-requests", "POST /foi-requests/{reference:str}/response"}


def expected_read(route: str, role: str, org: str) -> int | None:
    """The status the facts call for, or None where any answer past the guard will do."""
    if not route_allows(route, role):
        return 403
    if route == "GET /competitions/{reference:str}":
        return 200 if sees_competition(role, org) else 404
    if route == "GET /competitions/{reference:str}/evaluation":
        # the evaluation's working: the running authority's leads, its seated evaluators, auditors and admins
        return 200 if sees_competition(role, org) and role in ("procurement_lead", "evaluator", "auditor", "admin") else 404
    if route == "GET /locations/{reference:str}":
        return 404 if role == "provider" and org not in HOME_RUN_BY else 200
    if route in ("GET /contracts/{reference:path}", "GET /performance-records/{reference:path}"):
        return 404 if role == "provider" and org != CONTRACT_HOLDER else 200
    if route == "GET /frameworks/{reference:str}":
        return 200
    if route == "GET /foi-requests/{reference:str}":
        return 200 if handles_foi_request(role, org) else 404
    return None


#: commands on A's records: (command, roles the command is for, may (role, org) -> bool)
COMMANDS: list[tuple[dict[str, Any], type, Any]] = [
    ({"type": "contract.escalate", "contract": CONTRACT, "to_stage": "requirement_to_improve",
      "due": (TODAY + timedelta(days=30)).isoformat(), "reason": "Three missed returns"},
     k.EscalateContract, lambda role, org: org in CONTRACT_COMMISSIONERS),
    ({"type": "risk.raise", "contract": CONTRACT, "risk": "R-MATRIX", "description": "Night staffing", "impact": 3, "likelihood": 3,
      "owner_role": "contract manager", "raised_on": TODAY.isoformat()},
     k.RaiseRisk, lambda role, org: org in CONTRACT_COMMISSIONERS if role != "provider" else org == CONTRACT_HOLDER),
    ({"type": "location.share_concern", "location": SOUTHWARK, "kind": "safeguarding", "summary": "Unexplained bruising"},
     pc.ShareConcern, lambda role, org: org in HOME_COMMISSIONERS),
    ({"type": "location.set_category", "location": SOUTHWARK, "category": "older_people"},
     pc.SetLocationCategory, lambda role, org: org in HOME_COMMISSIONERS),
    ({"type": "location.add_contact", "location": SOUTHWARK, "contact": "p-matrix", "role": "deputy manager", "name": "Matrix Person"},
     pc.AddLocationContact, lambda role, org: org in HOME_RUN_BY if role == "provider" else role == "admin" or org in HOME_COMMISSIONERS),
    ({"type": "framework.set_prices", "framework": areas_world.FRAMEWORK, "effective_from": (TODAY + timedelta(days=10)).isoformat(),
      "rates": {"nursing": 100_000}},
     k.SetFrameworkPrices, lambda role, org: org in FRAMEWORK_COMMISSIONERS),
    ({"type": "tenders.open", "competition": COMPETITION}, c.OpenTenders, lambda role, org: sees_competition(role, org)),
    ({"type": "competition.cancel", "competition": COMPETITION, "reason": "Cancelled by the matrix"},
     c.CancelCompetition, lambda role, org: sees_competition(role, org)),
    ({"type": "score.record", "competition": COMPETITION, "bidder": "aster-care-homes", "criterion": "T1", "score": 1,
      "justification": "Matrix"},
     c.RecordScore, lambda role, org: sees_competition(role, org)),
]


@pytest.fixture
def worlds(database_url):
    with running_server(database_url) as server:
        world(server.ledger)
        areas_world.build(server)
        officer = Actor(id=user("foi_officer", FOI_AUTHORITY), org=FOI_AUTHORITY, role="foi_officer")
        received = server.ledger.handle(msgspec.convert({
            "type": "foi.receive", "request": FOI_REQUEST, "received_on": (TODAY - timedelta(days=3)).isoformat(), "channel": "email",
            "requester_name": FOI_REQUESTER, "requester_address": "a@example.org", "parts": ["The award report", "The scores"]},
            AnyCommand), officer)
        assert received.ok, received.error
        runner.wait_for(server.ledger, FoiRequests.name, received.position, timeout=20)
        yield server


def client_for(server: Server, role: str, org: str):
    return server.client(role, org, user(role, org))


def test_every_route_as_every_role_of_three_organisations_answers_as_the_facts_say(worlds):
    before = worlds.ledger.max_position()
    checked = 0
    for role, orgs in ORGANISATIONS.items():
        for org in orgs:
            with client_for(worlds, role, org) as client:
                for route, (method, url, body) in ABOUT_A.items():
                    if method == "POST":
                        continue  # the commands: below, one by one
                    answer = client.request(method, url, json=body)
                    who = f"{route} as {role} of {org}"
                    assert answer.status_code < 500, f"{who}: {answer.text}"
                    wanted = expected_read(route, role, org)
                    if wanted is None:
                        assert answer.status_code not in (401, 403), f"{who}: {answer.text}"
                    else:
                        assert answer.status_code == wanted, f"{who} got {answer.status_code}, wanted {wanted}: {answer.text}"
                    checked += 1
                    if answer.status_code == 200:
                        contents(route, role, org, whole_feed(client) if route == "GET /events" else answer.json())
    assert checked == sum(1 for m, _, _ in ABOUT_A.values() if m == "GET") * sum(len(o) for o in ORGANISATIONS.values())
    assert worlds.ledger.max_position() == before, "a read recorded something"


def whole_feed(client: Any) -> dict[str, Any]:
    """Every page of the events feed, as one."""
    items, after = [], 0
    while True:
        page = client.get("/events", params={"after": after, "limit": 1000}).json()
        items += page["items"]
        if not page["items"] or page["next_after"] >= page["last_position"]:
            return {"items": items}
        after = page["next_after"]


def contents(route: str, role: str, org: str, body: Any) -> None:
    """What a 200 may hold: the concern text and the home's people only where the facts say."""
    text = json.dumps(body)
    who = f"{route} as {role} of {org}"
    if route == "GET /locations/{reference:str}":
        assert (body["concerns"] is not None) == reads_concerns(role, org), who
        assert (MANAGER_NAME in text) == reads_homes_people(role, org), who
        assert (CONTACT_NAME in text) == reads_homes_people(role, org), who
    if route == "GET /events":
        assert (CONCERN in text) == reads_concerns(role, org), who
        assert CONTACT_NAME not in text or reads_homes_people(role, org), who
        rounds = [e for e in body["items"] if e["aggregate"] == "competition"]
        assert rounds, who
        absent = {e["withheld"] == "another_authoritys_competition" for e in rounds}
        assert absent == {not sees_competition(role, org)}, who
    if route == "GET /foi-requests/{reference:str}":
        assert FOI_REQUESTER in text, who
    if route in ("GET /foi-requests", "GET /foi-requests/disclosure-log"):
        assert {r["received_by"] for r in body["items"]} <= {org}, who
    if route == "GET /foi-requests":
        assert ([r["reference"] for r in body["items"]] == [FOI_REQUEST]) == handles_foi_request(role, org), who
    if route == "GET /events":
        assert (FOI_REQUESTER in text) == handles_foi_request(role, org), who
        foi = [e for e in body["items"] if e["aggregate"] == "foi_request"]
        assert foi and all((e["data"] is None) != handles_foi_request(role, org) for e in foi), who
    if route == "GET /competitions":
        assert (COMPETITION in {r["reference"] for r in body["items"]}) == sees_competition(role, org), who
    if route == "GET /contracts" and role == "provider":
        assert {r["provider"] for r in body["items"]} <= {org}, who
    if route == "GET /locations" and role == "provider":
        assert {r["location"] for r in body["items"]} <= {org}, who


def test_every_command_on_an_organisations_records_is_let_through_only_for_it(worlds):
    for command, command_type, may in COMMANDS:
        roles = HANDLERS[command_type][0]
        for role, orgs in ORGANISATIONS.items():
            for org in orgs:
                who = f"{command['type']} as {role} of {org}"
                allowed = role in roles and (role in OVERSIGHT or may(role, org))
                before = worlds.ledger.max_position()
                with client_for(worlds, role, org) as client:
                    answer = client.post("/commands", json=command)
                assert answer.status_code < 500, f"{who}: {answer.text}"
                if allowed:
                    assert answer.status_code not in (401, 403, 404), f"{who} was refused: {answer.text}"
                else:
                    assert answer.status_code in (403, 404), f"{who} got {answer.status_code}: {answer.text}"
                    assert worlds.ledger.max_position() == before, f"{who} recorded an event"


#: the routes that record something for a provider, and the organisations the facts let through:
#: the Southwark home and its head office; Aster House (the example world's) and its group; any bidder
PROVIDER_POSTS = {
    "POST /locations/{location:str}/vacancies": HOME_RUN_BY,
    "POST /returns": {"1-1000000001", "1-2000000001"},
    "POST /competitions/{reference:str}/tenders": None,
}


def test_a_providers_routes_record_only_for_the_home_it_runs_and_tenders_for_any_bidder(worlds):
    assert set(PROVIDER_POSTS) == {route for route, (method, _, _) in ABOUT_A.items() if method == "POST"} - {"POST /commands", *FOI_POSTS}
    for route, runs in PROVIDER_POSTS.items():
        method, url, body = ABOUT_A[route]
        for role, orgs in ORGANISATIONS.items():
            for org in orgs:
                before = worlds.ledger.max_position()
                with client_for(worlds, role, org) as client:
                    answer = client.request(method, url, json=body)
                who = f"{route} as {role} of {org}"
                assert answer.status_code < 500, f"{who}: {answer.text}"
                if role == "provider" and (runs is None or org in runs):
                    assert answer.status_code not in (401, 403, 404), f"{who}: {answer.text}"
                else:
                    assert answer.status_code in (403, 404), f"{who}: {answer.text}"
                    assert worlds.ledger.max_position() == before, who


def test_an_foi_request_is_answered_only_by_its_own_authoritys_officers_and_admins(worlds):
    method, url, body = ABOUT_A["POST /foi-requests/{reference:str}/response"]
    for role, orgs in ORGANISATIONS.items():
        for org in orgs:
            before = worlds.ledger.max_position()
            with client_for(worlds, role, org) as client:
                answer = client.request(method, url, json=body)
            who = f"the FOI response as {role} of {org}"
            if handles_foi_request(role, org):
                assert answer.status_code == 422 and answer.json()["code"] == "part_without_decision", f"{who}: {answer.text}"
            else:
                assert answer.status_code == (404 if route_allows("POST /foi-requests/{reference:str}/response", role) else 403), who
            assert worlds.ledger.max_position() == before, who
