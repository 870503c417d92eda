"""Who commissions what (issue 13, finding 2): changes only where you commission, concern text
and a home's people only to its own commissioners, the pan-framework views to every commissioner.

Over real HTTP on both stores. A London framework names three ICBs, each commissioning its own
lot and the homes of its boroughs; three homes: one in Southwark (South East London), one in
Camden (North Central London), one in Hertfordshire (in nobody's area). Every world-building
command is sent by the people who would send it, over HTTP. Then the commissioners and
contract managers of the other ICBs try what the issue's hostile user did: each refusal is
`not_your_commission` and records nothing (the log's last position does not move); the
home's own commissioners do the same and are let through.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest

from tests.e2e.areas_world import (
    CAMDEN, CAMDEN_MANAGER, CONCERN, CONTACT_EMAIL, CONTACT_NAME, FRAMEWORK, HERTS, MANAGER_NAME, NCC_COMMISSIONER, NCL_COMMISSIONER,
    NCL_MANAGER, NEL_COMMISSIONER, NEL_MANAGER, SEL_COMMISSIONER, SEL_MANAGER, SOUTHWARK, build, contract, ok, refused,
)
from tests.e2e.http_server import running_server

pytestmark = pytest.mark.storage


@pytest.fixture
def served(database_url):
    with running_server(database_url) as server:
        build(server)
        yield server


def escalation(lot: str) -> dict[str, Any]:
    return {"type": "contract.escalate", "contract": contract(lot), "to_stage": "requirement_to_improve",
            "due": (date.today() + timedelta(days=30)).isoformat(), "reason": "Three missed returns"}


def test_a_contract_is_changed_only_by_the_commissioners_of_its_lot(served):
    for who in (SEL_MANAGER, SEL_COMMISSIONER, NEL_MANAGER, NCC_COMMISSIONER):
        answer = refused(served, who, escalation("NCL"))
        assert "ICB-NCL" in answer["detail"], answer
        refused(served, who, {"type": "contract.suspend_referrals", "contract": contract("NCL"), "from_date": date.today().isoformat(),
                              "reason": "Safeguarding"})
        refused(served, who, {"type": "risk.raise", "contract": contract("NCL"), "risk": "R1", "description": "Staffing", "impact": 3,
                              "likelihood": 3, "owner_role": "contract manager", "raised_on": date.today().isoformat()})
        refused(served, who, {"type": "contract.extend", "contract": contract("NCL"), "months": 6, "value_change": 0,
                              "rationale": "Bridging to the next round"})
        refused(served, who, {"type": "contract.terminate", "contract": contract("NCL"), "reason_kind": "default",
                              "effective_on": (date.today() + timedelta(days=90)).isoformat(), "reason": "Persistent failure"})
    # An award for a lot one does not commission is refused the same way.
    refused(served, SEL_MANAGER, {
        "type": "contract.award", "contract": "AQP-AREAS/NCL/2", "framework": FRAMEWORK, "competition": "AQP-AREAS-ACCREDITATION",
        "lot": "NCL", "provider": "1-700000100", "value": 1, "starts_on": date.today().isoformat(),
        "ends_on": (date.today() + timedelta(days=30)).isoformat(),
    })
    # A commissioner on no London framework sets none of its prices, and establishes none naming others only.
    refused(served, NCC_COMMISSIONER, {"type": "framework.set_prices", "framework": FRAMEWORK,
                                       "effective_from": (date.today() + timedelta(days=1)).isoformat(), "rates": {"nursing": 100_000}})
    # Nor may anybody take the SEL boroughs' homes by establishing a framework naming itself for them.
    before = served.ledger.max_position()
    with served.client(*NEL_COMMISSIONER) as client:
        taken = client.post("/commands", json={
            "type": "framework.establish", "framework": "NEL-TAKES-SOUTHWARK", "title": "x", "kind": "care_homes",
            "lots": [{"id": "NEL", "name": "North East London"}],
            "commissioners": [{"org": "ICB-NEL", "kind": "icb", "areas": ["Southwark"]}],
            "starts_on": date.today().isoformat(), "ends_on": (date.today() + timedelta(days=365)).isoformat(),
            "regime": "pcr2015", "escalation_ladder": "nottingham",
        })
    assert taken.status_code == 403 and taken.json()["code"] == "area_commissioned_by_another", taken.text
    assert served.ledger.max_position() == before
    ok(served, NCL_MANAGER, escalation("NCL"))
    ok(served, SEL_MANAGER, escalation("SEL"))


def test_a_home_is_changed_only_by_its_own_commissioners(served):
    for who in (NEL_COMMISSIONER, NEL_MANAGER, NCL_COMMISSIONER, NCC_COMMISSIONER):
        answer = refused(served, who, {"type": "location.share_concern", "location": SOUTHWARK, "kind": "safeguarding", "summary": "x"})
        assert "ICB-SEL" in answer["detail"], answer
        refused(served, who, {"type": "location.resolve_concern", "location": SOUTHWARK, "concern": "C001", "outcome": "closed"})
        refused(served, who, {"type": "location.set_category", "location": SOUTHWARK, "category": "older_people"})
        refused(served, who, {"type": "location.set_commissioning_area", "location": SOUTHWARK, "area": "Hackney"})
    refused(served, NEL_MANAGER, {"type": "location.add_contact", "location": SOUTHWARK, "contact": "p-x", "role": "central contact",
                                  "name": "Someone Else"})
    ok(served, SEL_COMMISSIONER, {"type": "location.set_category", "location": SOUTHWARK, "category": "older_people"})
    ok(served, SEL_MANAGER, {"type": "location.resolve_concern", "location": SOUTHWARK, "concern": "C001", "outcome": "Rota fixed"})


def test_a_home_in_nobodys_area_is_taken_on_by_naming_one_of_your_own_directorates(served):
    # Nobody commissions the Hertfordshire home yet: a change to it is nobody's.
    refused(served, NEL_COMMISSIONER, {"type": "location.share_concern", "location": HERTS, "kind": "safeguarding", "summary": "x"})
    # Naming another organisation's directorate takes on nothing.
    refused(served, SEL_COMMISSIONER, {"type": "location.set_commissioning_area", "location": HERTS, "area": "Hackney"})
    ok(served, NEL_COMMISSIONER, {"type": "location.set_commissioning_area", "location": HERTS, "area": "Hackney"})
    # From then on it is ICB-NEL's (and only ICB-NEL's) to change.
    refused(served, SEL_COMMISSIONER, {"type": "location.share_concern", "location": HERTS, "kind": "safeguarding", "summary": "x"})
    refused(served, SEL_COMMISSIONER, {"type": "location.set_commissioning_area", "location": HERTS, "area": "Southwark", "reason": "Ours"})
    ok(served, NEL_MANAGER, {"type": "location.share_concern", "location": HERTS, "kind": "safeguarding", "summary": "Fall on stairs"})


def text_of(answer: Any) -> str:
    assert answer.status_code == 200, answer.text
    return answer.text


def test_concern_text_and_a_homes_people_reach_only_its_own_commissioners(served):
    secrets = (MANAGER_NAME, CONTACT_NAME, CONTACT_EMAIL, CONCERN)
    for who in (NEL_COMMISSIONER, NEL_MANAGER, NCL_COMMISSIONER, NCC_COMMISSIONER):
        with served.client(*who) as client:
            home = client.get(f"/locations/{SOUTHWARK}").json()
            assert home["concerns"] is None and home["registered_managers"] == ["[withheld]"], (who, home)
            assert {c["name"] for c in home["contacts"].values()} == {"[withheld]"}
            feed = text_of(client.get("/events", params={"limit": 1000}))
            for secret in secrets:
                assert secret not in feed, (who, secret)
                assert secret not in json.dumps(home), (who, secret)
            # The pan-framework views stay theirs: every home on the CMS list, every contract.
            listed = {row["location"] for row in client.get("/locations", params={"limit": 100}).json()["items"]}
            assert {SOUTHWARK, CAMDEN, HERTS} <= listed, who
            contracts = {row["reference"] for row in client.get("/contracts", params={"limit": 100}).json()["items"]}
            assert {contract("NCL"), contract("SEL")} <= contracts, who
            assert client.get(f"/contracts/{contract('SEL')}").status_code == 200
    for who in (SEL_COMMISSIONER, SEL_MANAGER, ("auditor", "NAO", "a.nao")):
        with served.client(*who) as client:
            home = client.get(f"/locations/{SOUTHWARK}").json()
            assert home["concerns"]["C001"]["summary"] == CONCERN, who
            assert home["registered_managers"] == [MANAGER_NAME]
            assert {c["name"] for c in home["contacts"].values()} == {CONTACT_NAME}
            feed = text_of(client.get("/events", params={"limit": 1000}))
            for secret in secrets:
                assert secret in feed, (who, secret)
    # The Camden home's people are ICB-NCL's, not ICB-SEL's.
    with served.client(*SEL_COMMISSIONER) as client:
        assert client.get(f"/locations/{CAMDEN}").json()["registered_managers"] == ["[withheld]"]
    with served.client(*NCL_COMMISSIONER) as client:
        assert client.get(f"/locations/{CAMDEN}").json()["registered_managers"] == [CAMDEN_MANAGER]


def test_a_visit_to_your_own_home_does_not_reach_another_organisations_contract(served):
    # ICB-SEL places under its own contract a Camden home (ICB-NCL's by its borough).
    ok(served, SEL_MANAGER, {"type": "contract.add_home", "contract": contract("SEL"), "location": CAMDEN,
                             "effective_from": date.today().isoformat()})
    visit = {"type": "quality_visit.schedule", "location": CAMDEN, "visit_date": (date.today() + timedelta(days=7)).isoformat(),
             "visitors": ["ICB quality nurse"], "contract": contract("SEL")}
    # ICB-NCL may visit the home, but not under SEL's contract, whose improvement plan the visit's action plan would open.
    refused(served, NCL_MANAGER, visit)
    ok(served, NCL_MANAGER, {**visit, "contract": None})
