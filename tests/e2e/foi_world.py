"""An authority's FOI requests, recorded over HTTP by its FOI officer, with days worked back from today.

One of each thing the FOI officer's pages must tell apart:
- OVERDUE: received 60 days ago, nothing sent: past its twentieth working day;
- DUE_SOON: received on the day that leaves it 1 to 5 working days (3 where the calendar allows);
- PAUSED: a clarification sought (s.1(3)) and not yet answered: no due date;
- ANSWERED: a fee asked and paid (the clock stopped, then ran again), s.43 considered for its
  second part with the public interest test, and a response releasing part 1 and withholding part 2;
- OPEN: received yesterday, weeks to go.
Used by tests/e2e/test_web_foi_pages.py and the browser tests (tests/browser/test_foi.py,
test_every_page_every_role.py), where the demo has no FOI requests.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from api.http.tables import today
from domain.foi.clock import due_date, working_days_left
from projections import runner
from projections.foi import FoiRequests

OVERDUE, DUE_SOON, PAUSED, ANSWERED, OPEN = "FOI-2026-0101", "FOI-2026-0102", "FOI-2026-0103", "FOI-2026-0104", "FOI-2026-0105"
REQUESTER = "Ada Requester"
REQUESTER_ADDRESS = "ada.requester@example.org"
RELEASED = "The contract register for AQP-CH-2026, with each contract's value"
S43_GROUNDS = "Unsuccessful bidders' prices would show their pricing strategy to competitors in the next round"


def day(n: int) -> str:
    return (today() - timedelta(days=n)).isoformat()


def due_soon_receipt(now: date) -> date:
    """The day of receipt that leaves a request 3 working days (else the nearest of 1 to 5) to run."""
    found = {working_days_left(due_date(now - timedelta(days=n)), now): now - timedelta(days=n) for n in range(20, 40)}
    for left in (3, 2, 4, 1, 5):
        if left in found:
            return found[left]
    raise AssertionError("no day of receipt leaves 1 to 5 working days")


def receive(reference: str, received_on: str, parts: list[str]) -> dict[str, Any]:
    return {"request": reference, "received_on": received_on, "channel": "email", "requester_name": REQUESTER,
            "requester_address": REQUESTER_ADDRESS, "parts": parts}


def record(server: Any, org: str, user: str | None = None) -> dict[str, str]:
    """Record the five requests for `org` (its FOI officer sending), wait for the FOI read model; their references."""
    sent: list[tuple[str, dict[str, Any]]] = [
        ("/foi-requests", receive(OVERDUE, day(60), ["Contracts awarded under AQP-CH-2026", "Each bidder's total score"])),
        ("/foi-requests", receive(DUE_SOON, due_soon_receipt(today()).isoformat(), ["Vacancies in Camden care homes in October"])),
        ("/foi-requests", receive(PAUSED, day(12), ["All records about the home"])),
        ("/commands", {"type": "foi.seek_clarification", "request": PAUSED, "sought_on": day(10),
                       "question": "Which home do you mean, and over which years?"}),
        ("/foi-requests", receive(ANSWERED, day(45), ["The contract register for AQP-CH-2026", "The unsuccessful bidders' prices"])),
        ("/commands", {"type": "foi.issue_fees_notice", "request": ANSWERED, "issued_on": day(43), "amount_pence": 1250,
                       "basis": "Printing and posting 250 pages"}),
        ("/commands", {"type": "foi.record_fee_paid", "request": ANSWERED, "paid_on": day(38)}),
        ("/commands", {"type": "foi.consider_exemption", "request": ANSWERED, "part": 2, "exemption": "s43", "considered_on": day(20),
                       "grounds": S43_GROUNDS, "public_interest": {
                           "factors_for_disclosure": ["Transparency in the spending of public money"],
                           "factors_for_withholding": ["Fair competition in the next procurement round"],
                           "conclusion": "maintain_exemption", "reasoning": "The next round opens in January on the same lots"}}),
        (f"/foi-requests/{ANSWERED}/response", {"sent_on": day(15), "decisions": [
            {"part": 1, "outcome": "released_in_full", "released": RELEASED},
            {"part": 2, "outcome": "withheld", "exemptions": ["s43"]}]}),
        ("/foi-requests", receive(OPEN, day(1), ["The London AQP price schedule for 2026"])),
    ]
    position = None
    with server.client("foi_officer", org, user) as officer:
        for path, body in sent:
            answer = officer.post(path, json=body)
            assert answer.status_code == 200, f"{path}: {answer.text}"
            position = answer.json()["position"]
    runner.wait_for(server.ledger, FoiRequests.name, position, timeout=30)
    return {"overdue": OVERDUE, "due_soon": DUE_SOON, "paused": PAUSED, "answered": ANSWERED, "open": OPEN}
