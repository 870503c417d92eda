"""Writes monthly-returns.jsonl: a spring of London AQP monthly quality and placement returns.

Two nursing homes on the London AQP care-homes framework (seed 000 s.3.2 and s.6.2.1) make
their monthly quality return (the shipped template domain/monitoring/templates/london-aqp-care-home-
monthly.json, due on the 10th working day after the month) and their placement return.
Aster House returns April on time, amends it with a reason after a recount, and has its
commentary reviewed; its May return is first refused as invalid (every failure listed) and
then accepted. Birch Lodge returns April late and misses May, which the scheduler records
once the deadline has passed. A placement return breaks each of the three rules of seed 000
s.3.2 (the AQP rate, future dates, a placement that disappears), and one uses an NHS
number as the reference, before a correct one is accepted.
Lines with `"expect": {"error": ...}` show what the ledger refuses.

    python scenarios/make_monthly_returns.py > scenarios/monthly-returns.jsonl
"""

from __future__ import annotations

import json
from pathlib import Path

from london_returns import CARE_HOME_RETURN
from scenario_lines import add, write

TEMPLATES = Path(__file__).resolve().parents[1] / "domain" / "monitoring" / "templates"
TEMPLATE = "london-aqp-care-home-monthly"
FRAMEWORK = "AQP-CH-LONDON-2026"
ASTER, BIRCH = "1-1000000001", "1-1000000002"
ASTER_GROUP, BIRCH_GROUP = "1-2000000001", "1-2000000002"

COMMISSIONER = {"id": "u-ncl-commissioning-lead", "org": "ICB-NCL", "role": "commissioner"}
MANAGER = {"id": "u-ncl-contract-manager", "org": "ICB-NCL", "role": "contract_manager"}
CQC_SYNC = {"id": "cqc-sync", "org": "NEL-CSU", "role": "system"}
SCHEDULER = {"id": "aqp-scheduler", "org": "NEL-CSU", "role": "system"}
ASTER_HOME = {"id": "u-aster-manager", "org": ASTER, "role": "provider"}
BIRCH_HOME = {"id": "u-birch-manager", "org": BIRCH, "role": "provider"}

#: pence a week by bed type
RATES_2025 = {"nursing": 95_000, "nursing_dementia": 100_000, "residential": 80_000, "residential_dementia": 85_000}
RATES_2026 = {"nursing": 99_750, "nursing_dementia": 105_000, "residential": 84_000, "residential_dementia": 89_250}

APRIL = CARE_HOME_RETURN  # Aster House's April, every metric answered
APRIL_COMMENTS = {
    "outbreaks_norovirus": "Norovirus outbreak declared 14 April with the UKHSA team; closed to admissions for 6 days.",
    "falls": "One resident fell four times; referred to the falls clinic.",
}
MAY = {**APRIL, "residents": 60, "falls": 9, "residents_who_fell": 7, "outbreaks_total": 0, "outbreaks_norovirus": 0, "residents_infected": 0}



def quality(location: str, period: str, values: dict, **extra) -> dict:
    return {"type": "return.submit", "location": location, "template": TEMPLATE, "version": 1, "period": period, "values": values, **extra}


def placement(ref: str, bed_type: str, rate: int, start: str, **extra) -> dict:
    return {"reference": ref, "icb": "ICB-NCL", "bed_type": bed_type, "weekly_rate": rate, "start_date": start, **extra}


def placements(period: str, rows: list[dict]) -> dict:
    return {"type": "placement_return.submit", "location": ASTER, "framework": FRAMEWORK, "period": period, "placements": rows}


def main() -> None:
    template = json.loads((TEMPLATES / f"{TEMPLATE}.json").read_text(encoding="utf-8"))
    for location, provider, name, borough in (
        (ASTER, ASTER_GROUP, "Aster House Nursing Home", "Camden"), (BIRCH, BIRCH_GROUP, "Birch Lodge", "Islington"),
    ):
        add("2026-03-02T06:00:00Z", CQC_SYNC, {"type": "location.import_cqc", "record": {
            "locationId": location, "providerId": provider, "name": name, "registrationStatus": "Registered",
            "localAuthority": borough, "region": "London",
        }})
    add("2026-03-02T09:00:00Z", COMMISSIONER, {
        "type": "framework.establish", "framework": FRAMEWORK,
        "title": "London Any Qualified Provider framework: care homes (NHS Continuing Healthcare)",
        "kind": "care_homes", "lots": [{"id": "NCL", "name": "North Central London"}],
        "commissioners": [{"org": "ICB-NCL", "kind": "icb", "directorates": ["Camden", "Islington"]}], "starts_on": "2025-04-01", "ends_on": "2029-03-31",
        "regime": "pcr2015", "escalation_ladder": "nottingham", "monitoring": {"returns": [TEMPLATE], "kpis": ["london-aqp-care-homes"]},
    })
    add("2026-03-02T09:05:00Z", COMMISSIONER, {"type": "framework.set_prices", "framework": FRAMEWORK, "effective_from": "2025-04-01", "rates": RATES_2025})
    add("2026-03-02T09:10:00Z", COMMISSIONER, {"type": "framework.set_prices", "framework": FRAMEWORK, "effective_from": "2026-04-01", "rates": RATES_2026})
    add("2026-03-02T09:20:00Z", COMMISSIONER, {"type": "template.publish", "template": template})
    add("2026-03-02T09:21:00Z", COMMISSIONER, {"type": "template.publish", "template": template},
        note="publishing the same version again records nothing")
    add("2026-03-02T09:22:00Z", COMMISSIONER, {"type": "template.publish", "template": {**template, "title": "Changed"}},
        expect="template_version_exists", note="a published version never changes")

    # ---------------------------------------------------------------- quality returns: April
    add("2026-04-28T10:00:00Z", ASTER_HOME, quality(ASTER, "2026-04", APRIL), expect="period_not_ended")
    add("2026-05-08T10:00:00Z", ASTER_HOME, quality(ASTER, "2026-04", APRIL, comments=APRIL_COMMENTS),
        note="on time: due on the 10th working day after 30 April, Friday 15 May")
    add("2026-05-08T10:05:00Z", ASTER_HOME, quality(ASTER, "2026-04", APRIL, comments=APRIL_COMMENTS),
        note="a retried submission records nothing")
    add("2026-05-08T10:10:00Z", ASTER_HOME, quality(ASTER, "2026-04", {**APRIL, "falls": 15}), expect="return_already_submitted")
    add("2026-05-08T11:00:00Z", BIRCH_HOME, quality(ASTER, "2026-04", APRIL), expect="not_your_location")
    add("2026-05-20T15:00:00Z", BIRCH_HOME, quality(BIRCH, "2026-04", {**APRIL, "residents": 31, "staff_total": 50, "care_staff": 18}),
        note="late: three working days after the deadline, five calendar days")
    add("2026-05-26T09:00:00Z", ASTER_HOME, {**quality(ASTER, "2026-04", {**APRIL, "falls": 16}), "type": "return.amend"},
        expect="reason_required")
    add("2026-05-26T09:05:00Z", ASTER_HOME, {
        **quality(ASTER, "2026-04", {**APRIL, "falls": 16}, comments=APRIL_COMMENTS), "type": "return.amend",
        "reason": "Two night-time falls were missing from the count; found in the night log audit.",
    })
    add("2026-05-27T14:00:00Z", COMMISSIONER, {
        "type": "return.review", "location": ASTER, "template": TEMPLATE, "version": 1, "period": "2026-04",
        "outcome": "accepted", "note": "Thank you for the context on the outbreak and the falls.",
        "items": {"falls": "Falls clinic referral noted; please report its outcome next month."},
    })

    # ---------------------------------------------------------------- quality returns: May
    add("2026-06-05T10:00:00Z", ASTER_HOME, quality(ASTER, "2026-05", {
        **MAY, "residents_who_fell": 61, "outbreaks_total": 2, "agency_hours_percent": 112, "registered_manager_in_post": "yes",
    }), expect="return_invalid", note="every failure is reported at once; nothing is recorded")
    add("2026-06-05T10:30:00Z", ASTER_HOME, quality(ASTER, "2026-05", MAY))
    add("2026-06-10T07:00:00Z", SCHEDULER, {"type": "return.record_missed", "location": BIRCH, "template": TEMPLATE, "version": 1, "period": "2026-05"},
        expect="deadline_not_passed")
    add("2026-06-15T07:00:00Z", SCHEDULER, {"type": "return.record_missed", "location": BIRCH, "template": TEMPLATE, "version": 1, "period": "2026-05"},
        note="missing: May's return was due on Friday 12 June")

    # A new version adds the six-monthly questions; April's returns stay on version 1.
    add("2026-06-20T09:00:00Z", COMMISSIONER, {"type": "template.publish", "template": {
        **template, "version": 2, "title": template["title"] + " (from July 2026)",
        "questions": template["questions"] + [{"id": "q_workforce", "text": "How are you reducing agency use?", "ask_in_months": [6, 12]}],
    }})

    # --------------------------------------------------------------------- placement returns
    march = [
        placement("AST-0007", "nursing", 95_000, "2025-11-03"),
        placement("AST-0012", "nursing_dementia", 100_000, "2026-01-19"),
        placement("AST-0015", "residential", 80_000, "2026-03-09"),
    ]
    add("2026-04-03T10:00:00Z", ASTER_HOME, placements("2026-03", march))
    april = [
        placement("AST-0007", "nursing", 99_750, "2025-11-03"),
        placement("AST-0012", "nursing_dementia", 105_000, "2026-01-19"),
        placement("AST-0015", "residential", 84_000, "2026-03-09", end_date="2026-04-21", end_reason="discharged_home"),
        placement("AST-0019", "nursing", 99_750, "2026-04-13"),
    ]
    add("2026-05-06T10:00:00Z", ASTER_HOME, placements("2026-04", [april[0], {**april[1], "weekly_rate": 100_000}, *april[2:]]),
        expect="placement_return_invalid", note="the old rate for nursing dementia beds: not the AQP rate from 1 April 2026")
    add("2026-05-06T10:05:00Z", ASTER_HOME, placements("2026-04", [*april[:3], {**april[3], "start_date": "2026-05-11"}]),
        expect="placement_return_invalid", note="a start date in the future")
    add("2026-05-06T10:10:00Z", ASTER_HOME, placements("2026-04", [april[0], april[1], april[3]]),
        expect="placement_return_invalid", note="AST-0015 disappears without an end date and reason")
    add("2026-05-06T10:15:00Z", ASTER_HOME, placements("2026-04", [*april[:3], {**april[3], "reference": "9434765919"}]),
        expect="placement_return_invalid", note="a reference that passes the NHS number check digit")
    add("2026-05-06T10:20:00Z", ASTER_HOME, placements("2026-04", [
        *april[:3], {**april[3], "weekly_rate": 125_000, "rate_explanation": "One-to-one enhanced care agreed with the ICB."},
    ]), note="a rate other than the AQP rate is accepted only with an explanation, and flagged")
    write()


if __name__ == "__main__":
    main()
