"""A small London world of who commissions what, sent over HTTP by the people who would send it.

A framework names three ICBs, each commissioning its own lot and the homes of its boroughs
(its directorates); three homes run by one provider: one in Southwark (South East London),
one in Camden (North Central London), one in Hertfordshire (in nobody's area); a contract for
the NCL lot and one for the SEL lot, awarded by each ICB's contract manager; the Southwark
home has a central contact (personal data) and a concern shared by ICB-SEL.
Used by tests/e2e/test_http_areas.py and the organisation matrix (test_http_organisations.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.e2e.http_server import Server

FRAMEWORK = "LDN-AQP-AREAS"
SOUTHWARK, CAMDEN, HERTS = "1-700000001", "1-700000002", "1-700000003"
CAMDEN_MANAGER = "Ruth Adeyemi"
MANAGER_NAME, CONTACT_NAME, CONTACT_EMAIL = "Grace Okonkwo", "Dan Mensah", "dan.mensah@peckham-rye.example"
CONCERN = "Night staffing fell below the agreed plan twice this month"

SEL_COMMISSIONER = ("commissioner", "ICB-SEL", "c.sel")
SEL_MANAGER = ("contract_manager", "ICB-SEL", "m.sel")
NCL_COMMISSIONER = ("commissioner", "ICB-NCL", "c.ncl")
NCL_MANAGER = ("contract_manager", "ICB-NCL", "m.ncl")
NEL_COMMISSIONER = ("commissioner", "ICB-NEL", "c.nel")
NEL_MANAGER = ("contract_manager", "ICB-NEL", "m.nel")
#: a council on no London framework
NCC_COMMISSIONER = ("commissioner", "NCC", "c.ncc")


def cqc_record(location: str, name: str, authority: str, postcode: str, manager: str) -> dict[str, Any]:
    return {
        "locationId": location, "providerId": "1-700000100", "name": name, "registrationStatus": "Registered",
        "careHome": "Y", "numberOfBeds": 40, "localAuthority": authority, "region": "London" if authority != "Hertfordshire" else "East",
        "postalCode": postcode, "type": "Social Care Org",
        "regulatedActivities": [{"name": "Accommodation for persons who require nursing or personal care", "contacts": [
            {"personGivenName": manager.split()[0], "personFamilyName": manager.split()[1], "personRoles": ["Registered Manager"]},
        ]}],
    }


def send(server: Server, who: tuple[str, str, str], command: dict[str, Any]) -> Any:
    with server.client(*who) as client:
        return client.post("/commands", json=command)


def ok(server: Server, who: tuple[str, str, str], command: dict[str, Any]) -> Any:
    answer = send(server, who, command)
    assert answer.status_code == 200, (who, command["type"], answer.text)
    return answer.json()


def refused(server: Server, who: tuple[str, str, str], command: dict[str, Any]) -> dict[str, Any]:
    before = server.ledger.max_position()
    answer = send(server, who, command)
    assert answer.status_code == 403, (who, command["type"], answer.text)
    assert answer.json()["code"] == "not_your_commission", answer.text
    assert server.ledger.max_position() == before, f"{who} {command['type']} recorded an event"
    return answer.json()


def contract(lot: str) -> str:
    return f"AQP-AREAS/{lot}/1"


def build(server: Server) -> None:
    today = date.today()
    for location, name, authority, postcode, manager in (
        (SOUTHWARK, "Peckham Rye Nursing Home", "Southwark", "SE15 4QN", MANAGER_NAME),
        (CAMDEN, "Camden Square Nursing Home", "Camden", "NW1 9XB", CAMDEN_MANAGER),
        (HERTS, "Broxbourne Manor", "Hertfordshire", "EN10 7AB", "Tom Hale"),
    ):
        record = cqc_record(location, name, authority, postcode, manager)
        ok(server, ("system", "aqp-ledger", "cqc-sync"), {"type": "location.import_cqc", "record": record})
    ok(server, NCL_COMMISSIONER, {
        "type": "framework.establish", "framework": FRAMEWORK, "title": "London AQP: nursing homes", "kind": "care_homes",
        "lots": [{"id": "NCL", "name": "North Central London"}, {"id": "SEL", "name": "South East London"}, {"id": "NEL", "name": "North East London"}],
        "commissioners": [
            {"org": "ICB-NCL", "kind": "icb", "directorates": ["Camden", "Islington"], "lots": ["NCL"]},
            {"org": "ICB-SEL", "kind": "icb", "directorates": ["Southwark", "Lambeth"], "lots": ["SEL"]},
            {"org": "ICB-NEL", "kind": "icb", "directorates": ["Hackney"], "lots": ["NEL"]},
        ],
        "starts_on": (today - timedelta(days=200)).isoformat(), "ends_on": (today + timedelta(days=900)).isoformat(),
        "regime": "pcr2015", "escalation_ladder": "nottingham", "max_extension_months": 12,
    })
    for lot, manager in (("NCL", NCL_MANAGER), ("SEL", SEL_MANAGER)):
        ok(server, manager, {
            "type": "contract.award", "contract": contract(lot), "framework": FRAMEWORK, "competition": "AQP-AREAS-ACCREDITATION",
            "lot": lot, "provider": "1-700000100", "value": 120_000_00,
            "starts_on": (today - timedelta(days=100)).isoformat(), "ends_on": (today + timedelta(days=700)).isoformat(),
        })
    ok(server, SEL_MANAGER, {"type": "location.add_contact", "location": SOUTHWARK, "contact": "p-dan-mensah", "role": "central contact",
                             "name": CONTACT_NAME, "email": CONTACT_EMAIL})
    ok(server, SEL_COMMISSIONER, {"type": "location.share_concern", "location": SOUTHWARK, "kind": "quality_of_care", "summary": CONCERN})
