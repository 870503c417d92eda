"""A ledger a commissioner can ask everyday questions of, for the read-model routes' e2e tests.

Built from real commands only:
- the London AQP competition scenario (awarded, contracts following), Nottingham's escalation
  up to the first stage (its lines before November 2026), and
  the monitoring story of `tests/integration/monitoring_story.py` (three London nursing homes
  on `AQP-NH-LONDON-2026` returning, late, missing and leaving; Nottingham's quality visits);
- a CQC import of homes around Camden (CQC's own record shape, as the sync imports it) and
  the real Lucerne House record (Devon), and what happens to them today: vacancy reports
  (one through `POST /locations/{id}/vacancies` by the home itself), a voluntary suspension
  starting today, a safeguarding concern shared, two homes added to a framework contract.

The Camden homes, as a commissioner sees them today (`TODAY`, the date in England):

    home                      framework  nursing dementia vacancies   report        suspended
    Aster House (story)       yes        1                            10 days old   no
    Primrose Hill Nursing     yes        2                            today (HTTP)  no   <- the answer
    Regent's Court            yes        1                            today         from today
    Kentish Town Lodge        no         3                            today         no

so "which AQP homes in Camden have nursing dementia vacancies today" is Primrose Hill alone.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from api.http.tables import ENGLAND, today
from api.scenario import apply_lines
from tests.e2e.http_server import ROOT, Server
from tests.integration import monitoring_story as story
from tests.unit.test_cqc_records import shipped_records

TODAY = today()
NOW = datetime.now(timezone.utc)
ASTER, BIRCH, CEDAR = story.ASTER, story.BIRCH, story.CEDAR
ASTER_PROVIDER = story.HOMES[ASTER][1]
PRIMROSE, REGENT, KENTISH, LUCERNE = "1-7000000001", "1-7000000002", "1-7000000003", "1-125856395"
ESCALATED = "NCC-RES-2026/CITY/meadowview-care"

SYNC = {"id": "cqc-sync", "org": "NEL-CSU", "role": "system"}
COMMISSIONER = {"id": "u-ncl-lead", "org": "ICB-NCL", "role": "commissioner"}
MANAGER = {"id": "u-ncl-km", "org": "ICB-NCL", "role": "contract_manager"}


def home(location: str) -> dict[str, str]:
    return {"id": f"u-{location}", "org": location, "role": "provider"}


def camden_record(location: str, name: str, provider: str, postcode: str, rating: str) -> dict[str, Any]:
    return {
        "locationId": location, "providerId": provider, "name": name, "registrationStatus": "Registered",
        "registrationDate": "2015-04-01", "numberOfBeds": 48, "careHome": "Y", "region": "London",
        "postalAddressLine1": "1 Example Road", "postalAddressTownCity": "London", "postalCode": postcode,
        "localAuthority": "Camden", "onspdIcbCode": "QMJ", "onspdIcbName": story.NCL, "mainPhoneNumber": "02070000000",
        "gacServiceTypes": [{"name": "Nursing homes", "description": "Care home service with nursing"}],
        "specialisms": [{"name": "Dementia"}, {"name": "Caring for adults over 65 yrs"}],
        "currentRatings": {"overall": {"rating": rating, "reportDate": "2025-11-03"}},
    }


def line(at: datetime, actor: dict[str, str], command: dict[str, Any]) -> str:
    return json.dumps({"actor": actor, "at": at.isoformat(), "command": command})


def apply(ledger: Any, lines: list[str]) -> None:
    unmet = [(o.line, o.result) for o in apply_lines(ledger, lines) if not o.met]
    assert not unmet, unmet[:3]


def build(server: Server) -> None:
    ledger = server.ledger
    apply(ledger, (ROOT / "scenarios" / "london-aqp-care-homes-2026.jsonl").read_text(encoding="utf-8").splitlines())
    nottingham = (ROOT / "scenarios" / "nottingham-escalation.jsonl").read_text(encoding="utf-8").splitlines()
    apply(ledger, [text for text in nottingham if text.strip() and json.loads(text)["at"] < "2026-11-01"])
    story.build(ledger)

    lucerne = shipped_records()[LUCERNE]
    now = NOW.replace(microsecond=0)
    ten_days_ago = now - timedelta(days=10)
    # Today's events fall within today in England, in order, even just after midnight: the two
    # hours they span are shrunk into the time since midnight when less has passed.
    since_midnight = now - datetime.combine(TODAY, datetime.min.time(), ENGLAND).astimezone(timezone.utc)
    shrink = min(1.0, 0.9 * since_midnight / timedelta(hours=2))

    def earlier_today(by: timedelta) -> datetime:
        return now - by * shrink
    contract = f"{story.FRAMEWORK}/{ASTER_PROVIDER}"
    apply(ledger, [
        *(line(earlier_today(timedelta(hours=2)), SYNC, {"type": "location.import_cqc", "record": r}) for r in (
            camden_record(PRIMROSE, "Primrose Hill Nursing Home", ASTER_PROVIDER, "NW1 8XL", "Good"),
            camden_record(REGENT, "Regent's Court", ASTER_PROVIDER, "NW1 4LB", "Requires improvement"),
            camden_record(KENTISH, "Kentish Town Lodge", "1-7000000900", "NW5 2AA", "Good"),
            lucerne,
        )),
        line(earlier_today(timedelta(hours=1)), MANAGER, {"type": "contract.add_home", "contract": contract, "location": PRIMROSE,
                                                 "effective_from": TODAY.isoformat()}),
        line(earlier_today(timedelta(hours=1)), MANAGER, {"type": "contract.add_home", "contract": contract, "location": REGENT,
                                                 "effective_from": TODAY.isoformat()}),
        line(ten_days_ago, home(ASTER), {"type": "location.report_vacancies", "location": ASTER,
                                         "date": (TODAY - timedelta(days=10)).isoformat(), "nursing_dementia": 1}),
        line(earlier_today(timedelta(minutes=30)), home(REGENT), {"type": "location.report_vacancies", "location": REGENT,
                                                         "date": TODAY.isoformat(), "nursing_dementia": 1}),
        line(earlier_today(timedelta(minutes=29)), home(REGENT), {"type": "location.suspend_placements", "location": REGENT,
                                                         "from_date": TODAY.isoformat(), "reason": "Norovirus outbreak"}),
        line(earlier_today(timedelta(minutes=28)), home(KENTISH), {"type": "location.report_vacancies", "location": KENTISH,
                                                          "date": TODAY.isoformat(), "nursing_dementia": 3}),
        line(earlier_today(timedelta(minutes=27)), COMMISSIONER, {"type": "location.share_concern", "location": PRIMROSE,
                                                         "kind": "safeguarding", "summary": "A family raised night staffing."}),
    ])
    with server.client("provider", PRIMROSE, f"u-{PRIMROSE}") as primrose:
        reported = primrose.post(f"/locations/{PRIMROSE}/vacancies", json={"date": TODAY.isoformat(), "nursing_dementia": 2, "nursing": 1})
        assert reported.status_code == 200, reported.text
