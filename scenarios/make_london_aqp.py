"""Writes london-aqp-care-homes-2026.jsonl: the example London AQP care-home procurement.

A realistic round (seed 000 section 5): three lots by sub-region, fourteen providers, a
technical panel of ICB clinicians and commissioners and a financial evaluator, one
conflicted evaluator, one late tender, one failed compliance check, a clarification
answered to all bidders, a moderation, a parent company guarantee, a challenge dismissed,
and the award to every qualifying provider. Lines with `"expect": {"error": ...}` show the
rules refusing what they must.

    python scenarios/make_london_aqp.py > scenarios/london-aqp-care-homes-2026.jsonl
"""

from __future__ import annotations

import hashlib
import json
import sys

REF = "AQP-CH-2026"
FRAMEWORK = "AQP-NH-LONDON"
COMMISSIONER = {"id": "u-ncl-commissioning-lead", "org": "ICB-NCL", "role": "commissioner"}
LEAD = {"id": "j.okafor", "org": "NEL-CSU", "role": "procurement_lead"}
LONDON_ICBS = ("ICB-NCL", "ICB-NEL", "ICB-NWL", "ICB-SEL", "ICB-SWL")
TECHNICAL = [
    {"id": "dr.a.patel", "org": "ICB-NCL", "role": "evaluator"},
    {"id": "s.mensah", "org": "ICB-NEL", "role": "evaluator"},
    {"id": "r.hughes", "org": "ICB-SWL", "role": "evaluator"},
]
FINANCIAL = {"id": "m.owusu", "org": "ICB-NCL", "role": "evaluator"}
# Personal data, stored encrypted per person and erasable (`personal_data.erase`).
NAMES = {
    "dr.a.patel": ("Dr Anita Patel", "anita.patel@example.nhs.uk"),
    "s.mensah": ("Samuel Mensah", "samuel.mensah@example.nhs.uk"),
    "r.hughes": ("Rhian Hughes", "rhian.hughes@example.nhs.uk"),
    "m.owusu": ("Maame Owusu", "maame.owusu@example.nhs.uk"),
}
CONFLICTED, CONFLICTED_WITH = "r.hughes", "maple-grove-nursing"

CRITERIA = [
    {"id": "T1", "title": "Quality and safety of nursing care", "panel": "technical", "weight": 35, "max_score": 5, "pass_mark": 2},
    {"id": "T2", "title": "Workforce, staffing and training", "panel": "technical", "weight": 25, "max_score": 5, "pass_mark": 2},
    {"id": "T3", "title": "Safeguarding adults and the Mental Capacity Act", "panel": "technical", "weight": 25, "max_score": 5, "pass_mark": 2},
    {"id": "T4", "title": "Infection prevention and clinical governance", "panel": "technical", "weight": 15, "max_score": 5, "pass_mark": 2},
]
LOTS = [
    {"id": "NCL", "name": "North Central London (Barnet, Camden, Enfield, Haringey, Islington)"},
    {"id": "NEL", "name": "North East London (City and Hackney, Newham, Tower Hamlets, Waltham Forest and others)"},
    {"id": "SWL", "name": "South West London (Croydon, Kingston, Merton, Richmond, Sutton, Wandsworth)"},
]

# bidder -> (lots, technical quality level 1-5 per criterion)
BIDDERS = {
    "aster-care-homes": (["NCL", "NEL"], [4, 4, 5, 4]),
    "beechwood-nursing": (["NCL"], [3, 3, 4, 3]),
    "cedar-lodge-care": (["NEL", "SWL"], [4, 3, 4, 4]),
    "damson-healthcare": (["SWL"], [5, 4, 4, 5]),
    "elmhurst-care-group": (["NCL", "NEL", "SWL"], [4, 5, 4, 4]),
    "fernbank-nursing-homes": (["NEL"], [3, 4, 3, 3]),
    "greville-house-care": (["SWL"], [3, 3, 3, 3]),
    "hollyoak-healthcare": (["NCL", "SWL"], [4, 3, 3, 4]),
    "ivydene-care": (["NEL"], [2, 2, 3, 2]),
    "juniper-court-nursing": (["NCL"], [3, 4, 4, 3]),
    "kingsmead-care-homes": (["NEL", "SWL"], [5, 4, 5, 4]),
    "laurel-bank-care": (["NCL", "NEL"], [3, 3, 3, 4]),
    "maple-grove-nursing": (["SWL"], [4, 4, 3, 4]),
}
LATE_BIDDER = ("northgate-care", ["NCL"])
FAILS_INSURANCE = "greville-house-care"
NEEDS_GUARANTEE = "hollyoak-healthcare"
FAILS_FINANCES = "juniper-court-nursing"
MODERATED = ("cedar-lodge-care", "T2", {"dr.a.patel": 2, "s.mensah": 4, "r.hughes": 3}, 3)

lines: list[dict] = []


def provider(org: str) -> dict:
    return {"id": f"bm-{org}", "org": org, "role": "provider"}


def add(at: str, actor: dict, command: dict, expect: str | None = None, note: str | None = None) -> None:
    line: dict = {"actor": actor, "at": at, "command": {"competition": REF, **command}}
    if expect:
        line["expect"] = {"error": expect}
    if note:
        line["note"] = note
    lines.append(line)


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def main() -> None:
    # The framework the round's contracts are called off (seed 000: 5 ICBs, 32 directorates).
    lines.append({"actor": COMMISSIONER, "at": "2026-01-02T09:00:00Z", "command": {
        "type": "framework.establish", "framework": FRAMEWORK,
        "title": "London Any Qualified Provider framework: nursing homes (NHS Continuing Healthcare)",
        "kind": "care_homes", "lots": [{"id": lot["id"], "name": lot["name"]} for lot in LOTS],
        "commissioners": [{"org": org, "kind": "icb"} for org in LONDON_ICBS],
        "starts_on": "2026-04-01", "ends_on": "2030-03-31", "regime": "pcr2015", "escalation_ladder": "nottingham",
        "max_extension_months": 24,
    }})
    lines.append({"actor": COMMISSIONER, "at": "2026-01-02T09:05:00Z", "command": {
        "type": "framework.set_prices", "framework": FRAMEWORK, "effective_from": "2026-04-01",
        "rates": {"nursing": 98_500, "nursing_dementia": 105_000, "residential": 82_000, "residential_dementia": 88_500},
    }})
    add("2026-01-05T09:00:00Z", provider("aster-care-homes"), {
        "type": "competition.open", "title": "x", "procedure": "light_touch", "standstill_regime": "pcr2015",
        "lots": LOTS, "clarification_deadline": "2026-02-06T17:00:00Z", "tender_deadline": "2026-02-20T12:00:00Z",
    }, expect="not_permitted", note="only a procurement lead opens a competition")
    add("2026-01-05T09:00:00Z", LEAD, {
        "type": "competition.open",
        "title": "London AQP for NHS Continuing Healthcare nursing home placements 2026/27",
        "procedure": "light_touch", "standstill_regime": "pcr2015", "lots": LOTS,
        "clarification_deadline": "2026-02-06T17:00:00Z", "tender_deadline": "2026-02-20T12:00:00Z",
        "moderation_spread": 1, "framework": FRAMEWORK,
        # NEL-CSU runs the round for the five London ICBs (seed 000): theirs to see and run too.
        "acting_for": list(LONDON_ICBS),
    })
    add("2026-01-05T09:05:00Z", LEAD, {
        "type": "criteria.publish", "criteria": CRITERIA, "quality_threshold": 60,
        "financial_thresholds": {"min_credit_score": 40, "min_current_ratio": 1.0, "max_gearing": 2.0, "min_operating_margin": 0.0},
    })
    for doc, title in [
        ("ITT", "Invitation to tender and terms of bidding"),
        ("SPEC", "Service specification: nursing home placements"),
        ("CONTRACT", "NHS Standard Contract particulars (AQP)"),
        ("QUALIFICATION", "Qualification criteria and evaluation methodology"),
    ]:
        add("2026-01-05T09:10:00Z", LEAD, {
            "type": "document.publish", "document": doc, "title": title, "sha256": sha(f"{REF}/{doc}/v1"), "size_bytes": 250_000,
        })
    add("2026-01-05T09:15:00Z", LEAD, {
        "type": "notice.publish", "notice_type": "contract_notice", "notice_reference": "CF-2026-0142-AQP",
        "published_on": "2026-01-05",
    })
    add("2026-01-20T10:00:00Z", provider("laurel-bank-care"), {
        "type": "clarification.ask",
        "question": "Laurel Bank Care asks: may a provider bid a home whose CQC registration transfers during the procurement?",
    })
    add("2026-01-22T15:00:00Z", LEAD, {
        "type": "clarification.answer", "clarification": "Q001",
        "published_question": "Laurel Bank Care asks: may a provider bid a home whose CQC registration transfers?",
        "answer": "Yes, with evidence of the application to CQC.",
    }, expect="clarification_not_anonymised", note="the answer goes to all bidders, so the asker must not be named")
    add("2026-01-22T15:05:00Z", LEAD, {
        "type": "clarification.answer", "clarification": "Q001",
        "published_question": "May a provider bid a home whose CQC registration is transferring during the procurement?",
        "answer": "Yes. Include the CQC application reference; the home must be registered before the go-live date.",
    })
    add("2026-02-10T09:00:00Z", provider("fernbank-nursing-homes"), {
        "type": "clarification.ask", "question": "Is the weekly rate inclusive of FNC?",
    }, expect="clarification_deadline_passed")

    day = 2
    for bidder, (lots, _) in BIDDERS.items():
        add(f"2026-02-{day:02d}T11:00:00Z", provider(bidder), {
            "type": "tender.submit", "lots": lots, "content_sha256": sha(f"tender/{bidder}/v1"), "size_bytes": 3_400_000,
        })
        day = min(day + 1, 19)
    add("2026-02-19T16:00:00Z", provider("aster-care-homes"), {
        "type": "tender.submit", "lots": ["NCL", "NEL"], "content_sha256": sha("tender/aster-care-homes/v2"), "size_bytes": 3_500_000,
    }, note="a resubmission before the deadline replaces the earlier tender")
    add("2026-02-19T16:01:00Z", provider("aster-care-homes"), {
        "type": "tender.submit", "lots": ["NCL", "NEL"], "content_sha256": sha("tender/aster-care-homes/v2"), "size_bytes": 3_500_000,
    }, note="a retried upload of the same tender records nothing new")
    add("2026-02-20T11:00:00Z", LEAD, {"type": "tenders.open"}, expect="deadline_not_reached")
    late, late_lots = LATE_BIDDER
    add("2026-02-20T12:04:00Z", provider(late), {
        "type": "tender.submit", "lots": late_lots, "content_sha256": sha(f"tender/{late}/v1"), "size_bytes": 2_900_000,
    }, expect="tender_deadline_passed", note="a late tender is refused")
    add("2026-02-20T12:30:00Z", LEAD, {
        "type": "criteria.publish", "criteria": CRITERIA, "quality_threshold": 50, "financial_thresholds": {},
        "reason": "lower the threshold",
    }, expect="tender_deadline_passed", note="criteria and weights are frozen at the deadline")
    add("2026-02-21T09:00:00Z", TECHNICAL[0], {
        "type": "score.record", "bidder": "aster-care-homes", "criterion": "T1", "score": 4, "justification": "Strong clinical leadership.",
    }, expect="tenders_not_opened")
    add("2026-02-23T09:00:00Z", LEAD, {"type": "tenders.open"})

    for ev, panel in [*((ev, "technical") for ev in TECHNICAL), (FINANCIAL, "financial")]:
        name, email = NAMES[ev["id"]]
        add("2026-02-23T10:00:00Z", LEAD, {"type": "evaluator.appoint", "evaluator": ev["id"], "evaluator_org": ev["org"],
                                           "panel": panel, "name": name, "email": email})
    add("2026-02-24T09:30:00Z", TECHNICAL[0], {
        "type": "score.record", "bidder": "aster-care-homes", "criterion": "T1", "score": 4, "justification": "Strong clinical leadership and audit.",
    }, expect="evaluator_not_trained")
    for ev in [*TECHNICAL, FINANCIAL]:
        add("2026-02-24T10:00:00Z", LEAD, {"type": "evaluator.train", "evaluator": ev["id"]})
    add("2026-02-24T13:00:00Z", TECHNICAL[0], {
        "type": "score.record", "bidder": "aster-care-homes", "criterion": "T1", "score": 4, "justification": "Strong clinical leadership and audit.",
    }, expect="conflict_not_declared")
    for ev in [*TECHNICAL, FINANCIAL]:
        declarations = [
            {"bidder": b, "conflicted": ev["id"] == CONFLICTED and b == CONFLICTED_WITH,
             "note": "Worked as clinical lead at Maple Grove until 2025" if ev["id"] == CONFLICTED and b == CONFLICTED_WITH else ""}
            for b in BIDDERS
        ]
        add("2026-02-24T14:00:00Z", ev, {"type": "conflict.declare", "declarations": declarations})

    # Compliance: CQC and ICO registration, insurance, exclusion grounds (PCR 2015 reg 57).
    for bidder in BIDDERS:
        for check in ("cqc_registration", "ico_registration", "insurance", "exclusion_grounds"):
            failed = bidder == FAILS_INSURANCE and check == "insurance"
            add("2026-02-25T10:00:00Z", LEAD, {
                "type": "compliance.record", "bidder": bidder, "check": check, "passed": not failed,
                "note": "Employer's liability cover lapsed on 31 January 2026; no renewal evidenced" if failed else "Verified",
            })

    # Technical scoring.
    add("2026-02-26T09:00:00Z", TECHNICAL[2], {
        "type": "score.record", "bidder": CONFLICTED_WITH, "criterion": "T1", "score": 5, "justification": "Excellent nursing leadership.",
    }, expect="evaluator_conflicted", note="an evaluator who declared a conflict cannot score that bidder")
    add("2026-02-26T09:00:00Z", FINANCIAL, {
        "type": "score.record", "bidder": "aster-care-homes", "criterion": "T1", "score": 4, "justification": "Good evidence of audit.",
    }, expect="evaluator_not_on_panel")
    add("2026-02-26T09:01:00Z", TECHNICAL[0], {
        "type": "score.record", "bidder": "aster-care-homes", "criterion": "T1", "score": 6, "justification": "Outstanding evidence.",
    }, expect="score_off_scale")
    add("2026-02-26T09:02:00Z", TECHNICAL[0], {
        "type": "score.record", "bidder": "aster-care-homes", "criterion": "T1", "score": 4, "justification": "ok",
    }, expect="justification_required")
    scored_bidders = [b for b in BIDDERS if b != FAILS_INSURANCE]
    minute = 0
    for bidder in scored_bidders:
        for i, crit in enumerate(CRITERIA):
            level = BIDDERS[bidder][1][i]
            for j, ev in enumerate(TECHNICAL):
                if ev["id"] == CONFLICTED and bidder == CONFLICTED_WITH:
                    continue
                score = level
                if (bidder, crit["id"]) == MODERATED[:2]:
                    score = MODERATED[2][ev["id"]]
                elif (i + j) % 3 == 1 and 0 < level < 5:
                    score = level + (1 if (i + j + len(bidder)) % 2 else -1)
                minute += 1
                at = f"2026-03-{2 + minute // 60:02d}T{9 + (minute % 60) // 10:02d}:{(minute % 10) * 5:02d}:00Z"
                add(at, ev, {
                    "type": "score.record", "bidder": bidder, "criterion": crit["id"], "score": score,
                    "justification": f"Against {crit['id']} ({crit['title']}): evidence assessed as level {score} on the published descriptors.",
                })

    # Financial evaluation: credit checks and ratio analysis.
    add("2026-03-09T09:00:00Z", LEAD, {"type": "evaluation_clarification.issue", "bidder": "fernbank-nursing-homes",
                                       "question": "Please confirm the turnover figure in your 2024/25 accounts; the filed accounts show a restatement."})
    for bidder in scored_bidders:
        weak = bidder in (NEEDS_GUARANTEE, FAILS_FINANCES)
        accounts = {
            "current_assets": 180_000_000 if not weak else 60_000_000,
            "current_liabilities": 120_000_000,
            "total_debt": 150_000_000 if not weak else 420_000_000,
            "net_assets": 210_000_000 if not weak else 140_000_000,
            "turnover": 900_000_000,
            "operating_profit": 63_000_000 if not weak else 9_000_000,
        }
        add("2026-03-10T10:00:00Z", FINANCIAL, {
            "type": "financial.assess", "bidder": bidder, "credit_score": 72 if not weak else 35, "accounts": accounts,
        })
    add("2026-03-11T10:00:00Z", LEAD, {"type": "guarantee.offer", "bidder": NEEDS_GUARANTEE,
                                       "guarantor": "Hollyoak Holdings plc", "guarantor_company_number": "04417735"})
    add("2026-03-16T10:00:00Z", LEAD, {"type": "guarantee.execute", "bidder": NEEDS_GUARANTEE,
                                       "document_sha256": sha("pcg/hollyoak/executed")})

    add("2026-03-17T09:00:00Z", LEAD, {"type": "outcome.decide"}, expect="evaluation_clarification_open")
    add("2026-03-17T11:00:00Z", provider("fernbank-nursing-homes"), {
        "type": "evaluation_clarification.respond", "clarification": "EC001",
        "response": "Confirmed: turnover GBP 9.0m after the restatement of deferred income; the auditor's note is on page 14.",
    })
    bidder, crit, individual, consensus = MODERATED
    add("2026-03-18T09:00:00Z", LEAD, {"type": "outcome.decide"}, expect="moderation_missing",
        note="individual scores for one answer spread by 2 points: the panel must moderate first")
    add("2026-03-18T14:00:00Z", LEAD, {
        "type": "score.moderate", "bidder": bidder, "criterion": crit, "score": consensus,
        "rationale": "Panel agreed the staffing model meets the specification but the training matrix lacks dementia refreshers.",
    })
    add("2026-03-18T14:05:00Z", TECHNICAL[0], {
        "type": "score.record", "bidder": bidder, "criterion": crit, "score": 3, "justification": "Revised after moderation meeting.",
        "reason": "moderation",
    }, expect="already_moderated")
    add("2026-03-19T10:00:00Z", LEAD, {"type": "outcome.decide"})
    add("2026-04-01T10:00:00Z", LEAD, {"type": "outcome_letters.issue", "relative_advantages": {
        "NCL": "Successful tenders evidenced nurse-led clinical audit, stable registered managers and full safeguarding training.",
        "NEL": "Successful tenders evidenced stable nursing workforces with low agency use and strong infection control.",
        "SWL": "Successful tenders evidenced consistent clinical governance and current insurance and registrations.",
    }})
    add("2026-04-07T10:00:00Z", LEAD, {"type": "award.conclude"}, expect="standstill_not_ended")
    add("2026-04-08T16:00:00Z", LEAD, {
        "type": "challenge.receive", "bidder": FAILS_INSURANCE, "kind": "challenge",
        "grounds": "Greville House says its insurance renewal was in place and the compliance check was wrong.",
    })
    add("2026-04-14T09:00:00Z", LEAD, {"type": "award.conclude"}, expect="challenge_open")
    add("2026-04-15T11:00:00Z", LEAD, {
        "type": "challenge.resolve", "challenge": "CH01", "outcome": "dismissed",
        "decision": "The broker's letter shows cover lapsed on 31 January and was renewed on 2 March, after the tender deadline; "
                    "compliance is assessed at the deadline. The decision stands.",
    })
    add("2026-04-15T12:00:00Z", LEAD, {"type": "award.conclude"})
    add("2026-04-16T09:00:00Z", LEAD, {"type": "notice.publish", "notice_type": "award_notice",
                                       "notice_reference": "CF-2026-0142-AWARD", "published_on": "2026-04-16"})
    for line in lines:
        sys.stdout.write(json.dumps(line, separators=(", ", ": ")) + "\n")


if __name__ == "__main__":
    main()
