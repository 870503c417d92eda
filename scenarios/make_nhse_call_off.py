"""Writes nhse-call-off.jsonl: NHS England's enhanced support to the independent care sector.

Seed 002: a call-off in four regional lots (North, Midlands and East, South, London) of
GBP 100k each, capped at GBP 400k in all; seven milestone deliverables in three phases, each
submitted in draft then final by its week from contract commencement (D7 by 27 March 2017);
fortnightly highlight reports rating every open deliverable's delivery confidence (Green,
Amber/Green, Amber, Amber/Red, Red) against its baseline and forecast dates; a risk register
scored impact x likelihood 1-5; payment on milestones delivered to NHS England's
satisfaction; and an extension of at most 6 months and 10% of the original value.

What happens: North's assessment (D2) slips a week, reported Amber/Green then Amber with a
new forecast; North is extended by 6 months and 10% for ten more forums (an extension worth
12% is refused first), and its last payment, which would take it over its value, is
refused. Midlands and East's first progress update (D5) is returned for rework. London's
second update (D6) slips. South delivers to time throughout. Lines with
`"expect": {"error": ...}` show every rule refusing.

    python scenarios/make_nhse_call_off.py > scenarios/nhse-call-off.jsonl
"""

from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta, timezone

FRAMEWORK = "NHSE-ICS-2016"
COMPETITION = "NHSE-ICS-2016-FURTHER-COMPETITION"
CAP = 10_000_000  # GBP 100k a lot
START, END = date(2016, 10, 17), date(2017, 3, 31)

NHSE_LEAD = {"id": "u-nhse-procurement-lead", "org": "NHSE", "role": "procurement_lead"}
NHSE_CM = {"id": "u-nhse-contract-manager", "org": "NHSE", "role": "contract_manager"}
SCHEDULER = {"id": "aqp-scheduler", "org": "NHSE", "role": "system"}


def provider(org: str) -> dict:
    return {"id": f"u-{org}-programme-lead", "org": org, "role": "provider"}


#: lot -> (name, provider, contract value in pence)
LOTS = {
    "NORTH": ("North", "forum-partners-cic", 10_000_000),
    "MIDLANDS-EAST": ("Midlands and East", "forum-partners-cic", 9_850_000),
    "SOUTH": ("South", "care-sector-improvement", 9_900_000),
    "LONDON": ("London", "capital-care-networks", 10_000_000),
}


def contract_of(lot: str) -> str:
    return f"{FRAMEWORK}/{lot}/{LOTS[lot][1]}"


def weeks(n: int) -> date:
    return START + timedelta(weeks=n)


PHASES = ("Phase I - Stocktake", "Phase II - Development of Best Practice", "Phase III - Improvement and Setup")
#: milestone -> (title, phase, draft due, final due, share of the contract value in percent) - seed 002 3.2 and 3.7
MILESTONES = {
    "D1": ("Directory, by area, of all care sector forums, by type", PHASES[0], weeks(3), weeks(4), 10),
    "D2": ("Results of forum assessment feedback, highest and lowest scorers highlighted", PHASES[1], weeks(7), weeks(8), 10),
    "D3": ("Best practice paper: criteria, top tips for implementation, start-up and sustainability", PHASES[1], weeks(10), weeks(12), 15),
    "D4": ("Forums in need of improvement support and areas with no forum, with local performance", PHASES[2], weeks(8), weeks(10), 10),
    "D5": ("Update 1 on each area: status of each forum, progress against the best practice", PHASES[2], weeks(17), weeks(18), 15),
    "D6": ("Update 2 on each area: status of each forum, progress against the best practice", PHASES[2], weeks(21), weeks(22), 15),
    "D7": ("Final report on each forum supported, with an updated directory", PHASES[2], date(2017, 3, 20), date(2017, 3, 27), 25),
}
#: (lot, milestone) -> when the draft and the final were actually submitted, where not on the due date
LATE = {
    ("NORTH", "D2"): (date(2016, 12, 9), date(2016, 12, 16)),
    ("LONDON", "D6"): (date(2017, 3, 13), date(2017, 3, 24)),
}
#: (lot, milestone) -> (returned on, reason, final resubmitted on)
RETURNED = {
    ("MIDLANDS-EAST", "D5"): (
        date(2017, 2, 22),
        "Update 1 omits the action plans for the five Lincolnshire forums and does not map progress to Deliverable 3.",
        date(2017, 2, 27),
    ),
}
#: (lot, milestone) -> [(first report it applies to, confidence, forecast, rationale)], latest applicable wins
SLIPS = {
    ("NORTH", "D2"): [
        (date(2016, 11, 25), "A/G", date(2016, 12, 16), "Assessment survey returns slow in Cumbria and the North East; final a week late."),
        (date(2016, 12, 9), "A", date(2016, 12, 16), "Draft four days late; final forecast 16 December, agreed with the Operational Group."),
    ],
    ("LONDON", "D6"): [
        (date(2017, 3, 3), "A", date(2017, 3, 24), "Two borough forums postponed their February meetings; final forecast 24 March."),
    ],
}
RANK = ["G", "A/G", "A", "A/R", "R"]
REPORT_DAYS = [date(2016, 10, 28) + timedelta(weeks=2 * i) for i in range(12)]  # fortnights ending on Fridays, to 31 March

events: list[tuple[datetime, int, dict]] = []


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.utc)


def add(when: datetime, actor: dict, command: dict, expect: str | None = None, note: str | None = None) -> None:
    line: dict = {"actor": actor, "at": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "command": command}
    if expect:
        line["expect"] = {"error": expect}
    if note:
        line["note"] = note
    events.append((when, len(events), line))


def payment_of(lot: str, share: int) -> int:
    return LOTS[lot][2] * share // 100


def main() -> None:
    add(at(date(2016, 9, 26), 9), NHSE_LEAD, {
        "type": "framework.establish", "framework": FRAMEWORK,
        "title": "Enhanced support to the independent care sector: care sector forums (call-off)", "kind": "services",
        "lots": [{"id": lot, "name": name, "value_cap_pence": CAP} for lot, (name, _, _) in LOTS.items()],
        "commissioners": [{"org": "NHSE", "kind": "nhs_england", "directorates": [name for name, _, _ in LOTS.values()]}],
        "starts_on": "2016-10-01", "ends_on": "2017-09-30", "regime": "pcr2015",
        "escalation_ladder": ["remedial_plan_notice", "termination"],
        "max_extension_months": 6, "max_extension_value_percent": 10,
    }, note="seed 002 3.8-3.9: four lots of GBP 100k (GBP 400k in all); extension at most 6 months and 10% of value")
    add(at(date(2016, 10, 10), 10), NHSE_LEAD, {
        "type": "contract.award", "contract": contract_of("LONDON"), "framework": FRAMEWORK, "competition": COMPETITION,
        "lot": "LONDON", "provider": LOTS["LONDON"][1], "value": 10_500_000, "starts_on": START.isoformat(), "ends_on": END.isoformat(),
    }, expect="value_over_lot_cap", note="each lot is capped at GBP 100k")
    for lot, (_, holder, value) in LOTS.items():
        contract = contract_of(lot)
        add(at(date(2016, 10, 10), 10, 5), NHSE_LEAD, {
            "type": "contract.award", "contract": contract, "framework": FRAMEWORK, "competition": COMPETITION, "lot": lot,
            "provider": holder, "value": value, "starts_on": START.isoformat(), "ends_on": END.isoformat(),
        })
        add(at(date(2016, 10, 14), 11), NHSE_CM, {"type": "contract.sign", "contract": contract, "signed_on": "2016-10-14"})
        add(at(date(2016, 10, 14), 11, 30), NHSE_CM, {
            "type": "contract.mobilise", "contract": contract, "contract_manager": "NHS England contract manager, ICS programme",
            "invoicing_contact_role": "Provider finance lead", "go_live": START.isoformat(),
        })
        for milestone, (title, phase, draft_due, final_due, share) in MILESTONES.items():
            add(at(START, 10), NHSE_CM, {
                "type": "milestone.add", "contract": contract, "milestone": milestone, "title": title, "phase": phase,
                "draft_due": draft_due.isoformat(), "final_due": final_due.isoformat(), "payment": payment_of(lot, share),
            })
        deliver(lot)
        reports(lot)
    refusals()
    north_extension()
    risks()
    for lot in ("MIDLANDS-EAST", "SOUTH", "LONDON"):
        add(at(date(2017, 4, 3), 0, 5), SCHEDULER, {"type": "contract.expire", "contract": contract_of(lot), "today": "2017-04-03"})
    add(at(date(2017, 4, 3), 0, 5), SCHEDULER, {"type": "contract.expire", "contract": contract_of("NORTH"), "today": "2017-04-03"},
        expect="not_yet_expired", note="North was extended to 30 September")
    for _, _, line in sorted(events, key=lambda e: (e[0], e[1])):
        sys.stdout.write(json.dumps(line, separators=(", ", ": ")) + "\n")


def accepted_on(lot: str, milestone: str) -> date:
    final = RETURNED[(lot, milestone)][2] if (lot, milestone) in RETURNED else LATE.get((lot, milestone), (None, MILESTONES[milestone][3]))[1]
    return final + timedelta(days=2)


def deliver(lot: str) -> None:
    """Draft, final, acceptance and payment (30 days after acceptance) of every deliverable."""
    contract, holder = contract_of(lot), provider(LOTS[lot][1])
    for number, (milestone, (_, _, draft_due, final_due, share)) in enumerate(MILESTONES.items(), start=1):
        draft_on, final_on = LATE.get((lot, milestone), (draft_due, final_due))
        submit = {"type": "milestone.submit", "contract": contract, "milestone": milestone}
        add(at(draft_on, 17), holder, {**submit, "version": "draft", "submitted_on": draft_on.isoformat()})
        add(at(final_on, 17), holder, {**submit, "version": "final", "submitted_on": final_on.isoformat()})
        if (lot, milestone) in RETURNED:
            returned_on, why, again = RETURNED[(lot, milestone)]
            add(at(returned_on, 11), NHSE_CM, {"type": "milestone.return", "contract": contract, "milestone": milestone,
                                               "returned_on": returned_on.isoformat(), "reason": why})
            add(at(again, 17), holder, {**submit, "version": "final", "submitted_on": again.isoformat()})
        accepted = accepted_on(lot, milestone)
        add(at(accepted, 11), NHSE_CM, {"type": "milestone.accept", "contract": contract, "milestone": milestone,
                                        "accepted_on": accepted.isoformat()})
        paid = accepted + timedelta(days=30)
        add(at(paid, 12), NHSE_CM, {"type": "payment.record", "contract": contract, "payment": f"{lot}-P{number:02d}",
                                    "milestone": milestone, "amount": payment_of(lot, share), "paid_on": paid.isoformat()})


def reports(lot: str) -> None:
    """The fortnightly highlight report: every deliverable not yet accepted, rated."""
    contract, holder = contract_of(lot), provider(LOTS[lot][1])
    for day in REPORT_DAYS:
        items = []
        for milestone in MILESTONES:
            if accepted_on(lot, milestone) <= day:
                continue
            item: dict = {"milestone": milestone, "confidence": "G"}
            for since, rating, forecast, why in SLIPS.get((lot, milestone), []):
                if since <= day:
                    item = {"milestone": milestone, "confidence": rating, "forecast": forecast.isoformat(), "rationale": why}
            items.append(item)
        if lot == "NORTH" and day >= date(2017, 3, 3):
            items.append({"milestone": "D8", "confidence": "G"})
        overall = max((i["confidence"] for i in items), key=RANK.index, default="G")
        rationale = "; ".join(f"{i['milestone']}: {i['rationale']}" for i in items if i.get("rationale"))
        summary = (f"Deliverables accepted so far: {sum(1 for m in MILESTONES if accepted_on(lot, m) <= day)} of 7. "
                   "Forum visits and Operational Group attended as planned.")
        command = {"type": "highlight_report.submit", "contract": contract, "period_ending": day.isoformat(),
                   "overall_confidence": overall, "summary": summary, "items": items}
        if rationale:
            command["rationale"] = rationale
        add(at(day, 15), holder, command)


def refusals() -> None:
    north, london, south = contract_of("NORTH"), contract_of("LONDON"), contract_of("SOUTH")
    add(at(date(2016, 10, 28), 14), provider(LOTS["SOUTH"][1]), {
        "type": "highlight_report.submit", "contract": north, "period_ending": "2016-10-28", "overall_confidence": "G",
        "items": [{"milestone": m, "confidence": "G"} for m in MILESTONES],
    }, expect="not_your_contract", note="each provider reports on its own lots")
    add(at(date(2016, 10, 28), 14, 30), provider(LOTS["LONDON"][1]), {
        "type": "highlight_report.submit", "contract": london, "period_ending": "2016-10-28", "overall_confidence": "G",
        "items": [{"milestone": m, "confidence": "G"} for m in MILESTONES if m != "D4"],
    }, expect="milestone_not_reported", note="a highlight report rates every open deliverable")
    add(at(date(2016, 11, 11), 14), provider(LOTS["LONDON"][1]), {
        "type": "highlight_report.submit", "contract": london, "period_ending": "2016-11-18", "overall_confidence": "G",
        "items": [{"milestone": m, "confidence": "G"} for m in MILESTONES],
    }, expect="not_fortnightly", note="reports follow the fortnightly cycle")
    add(at(date(2017, 3, 3), 14), provider(LOTS["LONDON"][1]), {
        "type": "highlight_report.submit", "contract": london, "period_ending": "2017-03-03", "overall_confidence": "A",
        "items": [{"milestone": "D6", "confidence": "A", "forecast": "2017-03-24"}, {"milestone": "D7", "confidence": "G"}],
    }, expect="rationale_required", note="a rating below Green, or a forecast after the baseline, says why")
    add(at(date(2016, 11, 11), 9), provider(LOTS["SOUTH"][1]), {
        "type": "milestone.submit", "contract": south, "milestone": "D2", "version": "final", "submitted_on": "2016-11-11",
    }, expect="draft_required", note="a deliverable is submitted in draft before its final version")
    add(at(date(2016, 11, 14), 9), NHSE_CM, {
        "type": "milestone.accept", "contract": south, "milestone": "D1", "accepted_on": "2016-11-14",
    }, expect="milestone_not_delivered", note="only the draft D1 is in: the final is due later today")
    add(at(date(2016, 12, 12), 9), NHSE_CM, {
        "type": "payment.record", "contract": south, "payment": "SOUTH-P02", "milestone": "D2", "amount": payment_of("SOUTH", 10),
        "paid_on": "2016-12-12",
    }, expect="milestone_not_accepted", note="payment is on milestones delivered to NHS England's satisfaction")
    d1 = accepted_on("SOUTH", "D1") + timedelta(days=30)
    add(at(d1, 12, 5), NHSE_CM, {
        "type": "payment.record", "contract": south, "payment": "SOUTH-P01", "milestone": "D1", "amount": payment_of("SOUTH", 10),
        "paid_on": d1.isoformat(),
    }, note="a retried payment is recorded once")
    add(at(d1, 12, 10), NHSE_CM, {
        "type": "payment.record", "contract": south, "payment": "SOUTH-P01", "milestone": "D2", "amount": payment_of("SOUTH", 10),
        "paid_on": d1.isoformat(),
    }, expect="payment_exists", note="a payment id is not reused")


def north_extension() -> None:
    """Extended by 6 months for ten more forums (seed 002 3.9: at most 6 months and 10% of value)."""
    north, cm = contract_of("NORTH"), NHSE_CM
    add(at(date(2017, 3, 1), 10), cm, {
        "type": "contract.extend", "contract": north, "months": 6, "value_change": 1_200_000,
        "rationale": "Phase III support for twelve more forums in the North.",
    }, expect="extension_over_value_cap", note="12% of the original value: more than 10%")
    add(at(date(2017, 3, 1), 10, 5), cm, {
        "type": "contract.extend", "contract": north, "months": 7, "value_change": 1_000_000,
        "rationale": "Phase III support for ten more forums in the North.",
    }, expect="extension_too_long", note="at most 6 months")
    add(at(date(2017, 3, 1), 10, 10), cm, {
        "type": "contract.extend", "contract": north, "months": 6, "value_change": 1_000_000,
        "rationale": "Phase III support for ten more forums in the North, within the rate card; budget approval 2017/18 confirmed.",
    }, note="6 months and exactly 10% of the original value: within both limits")
    add(at(date(2017, 3, 1), 11), cm, {
        "type": "milestone.add", "contract": north, "milestone": "D8", "title": "Report on ten further forums supported",
        "phase": PHASES[2], "final_due": "2017-09-22", "payment": 1_000_000,
    })
    holder = provider(LOTS["NORTH"][1])
    add(at(date(2017, 9, 8), 17), holder, {"type": "milestone.submit", "contract": north, "milestone": "D8", "version": "final",
                                           "submitted_on": "2017-09-08"})
    add(at(date(2017, 9, 12), 11), cm, {"type": "milestone.accept", "contract": north, "milestone": "D8", "accepted_on": "2017-09-12"})
    add(at(date(2017, 10, 12), 12), cm, {
        "type": "payment.record", "contract": north, "payment": "NORTH-P08", "milestone": "D8", "amount": 1_200_000,
        "paid_on": "2017-10-12",
    }, expect="payment_over_cap", note="GBP 100k paid on D1-D7 and GBP 10k of extension: GBP 12k more would exceed GBP 110k")
    add(at(date(2017, 10, 12), 12, 5), cm, {
        "type": "payment.record", "contract": north, "payment": "NORTH-P08", "milestone": "D8", "amount": 1_000_000,
        "paid_on": "2017-10-12",
    })


def risks() -> None:
    north, midlands, london, south = (contract_of(lot) for lot in ("NORTH", "MIDLANDS-EAST", "LONDON", "SOUTH"))
    add(at(date(2016, 10, 31), 9, 30), provider(LOTS["NORTH"][1]), {
        "type": "risk.raise", "contract": north, "risk": "R1",
        "description": "Low response to the stocktake survey from forums in Cumbria and the North East",
        "impact": 3, "likelihood": 4, "owner_role": "provider programme lead",
        "mitigation": "Phone follow-up through the ADASS regional leads; extended survey window agreed.", "raised_on": "2016-10-31",
    })
    add(at(date(2016, 11, 21), 9, 30), provider(LOTS["NORTH"][1]), {
        "type": "risk.update", "contract": north, "risk": "R1", "likelihood": 2, "updated_on": "2016-11-21",
        "progress": "38 of 44 forums have now responded.",
    })
    add(at(date(2016, 12, 19), 9, 30), NHSE_CM, {"type": "risk.close", "contract": north, "risk": "R1", "closed_on": "2016-12-19"},
        expect="reason_required", note="closing a risk needs the reason")
    add(at(date(2016, 12, 19), 9, 35), NHSE_CM, {
        "type": "risk.close", "contract": north, "risk": "R1", "closed_on": "2016-12-19",
        "reason": "D2 delivered on 16 December with 42 of 44 forums assessed.",
    })
    add(at(date(2016, 11, 1), 9, 30), provider(LOTS["MIDLANDS-EAST"][1]), {
        "type": "risk.raise", "contract": midlands, "risk": "R1",
        "description": "Overlap with Registered Manager Networks causes forum fatigue", "impact": 2, "likelihood": 3,
        "owner_role": "provider programme lead", "mitigation": "Joint sessions with the networks where they meet in the same week.",
        "raised_on": "2016-11-01",
    })
    add(at(date(2017, 1, 9), 9, 30), provider(LOTS["LONDON"][1]), {
        "type": "risk.raise", "contract": london, "risk": "R1",
        "description": "Forum chairs in three boroughs step down during Phase III", "impact": 4, "likelihood": 2,
        "owner_role": "provider programme lead", "raised_on": "2017-01-09",
    }, expect="mitigation_required", note="a risk rated above Green records its mitigating action")
    add(at(date(2017, 1, 9), 9, 35), provider(LOTS["LONDON"][1]), {
        "type": "risk.raise", "contract": london, "risk": "R1",
        "description": "Forum chairs in three boroughs step down during Phase III", "impact": 4, "likelihood": 2,
        "owner_role": "provider programme lead", "mitigation": "Vice-chairs identified and briefed in each forum.",
        "raised_on": "2017-01-09",
    })
    add(at(date(2017, 2, 27), 9, 30), provider(LOTS["LONDON"][1]), {
        "type": "risk.update", "contract": london, "risk": "R1", "likelihood": 4, "updated_on": "2017-02-27",
        "progress": "Two chairs have stepped down; February meetings postponed in Hackney and Merton.",
    })
    add(at(date(2016, 11, 1), 9, 30), provider(LOTS["SOUTH"][1]), {
        "type": "risk.raise", "contract": south, "risk": "R1", "description": "Christmas period reduces forum attendance",
        "impact": 1, "likelihood": 4, "owner_role": "provider programme lead", "raised_on": "2016-11-01",
    }, note="rated Green: no mitigation needed")


if __name__ == "__main__":
    main()
