"""Writes nottingham-escalation.jsonl: one care home driven up Nottingham's escalation ladder.

Nottingham City Council (seed 004) has one base weekly rate for all residential and nursing
homes (GBP 469.28) and four contract compliance escalation stages: requirement to improve,
contract suspension, 90-day final notice, termination. Here a home scores Red on its annual
quality monitoring visit and is required to improve, with an improvement action plan; the
plan is not delivered, so the contract is suspended (referrals stop), a 90-day final notice
is served and, when it expires without remedy, the contract is terminated for default.
Lines with `"expect": {"error": ...}` show the ladder refusing a skipped stage, a premature
termination (twice: before the final notice, and before it has run its 90 days) and a short
notice.

    python scenarios/make_nottingham_escalation.py > scenarios/nottingham-escalation.jsonl
"""

from __future__ import annotations


FRAMEWORK = "NCC-RES-2026"
CONTRACT = "NCC-RES-2026/CITY/meadowview-care"
PROVIDER = "meadowview-care"
HOME = "1-2817394650"
BASE_RATE = 46_928  # GBP 469.28 a week, one rate for every residential and nursing home
BEDS, WEEKS, YEARS = 30, 52, 4

COMMISSIONER = {"id": "u-ncc-commissioning-manager", "org": "NCC", "role": "commissioner"}
LEAD = {"id": "u-ncc-procurement-lead", "org": "NCC", "role": "procurement_lead"}
OFFICER = {"id": "u-ncc-contract-officer", "org": "NCC", "role": "contract_manager"}

from scenario_lines import add, write



def on_contract(at: str, actor: dict, command: dict, expect: str | None = None, note: str | None = None) -> None:
    add(at, actor, {"contract": CONTRACT, **command}, expect, note)


def main() -> None:
    add("2026-01-12T09:00:00Z", COMMISSIONER, {
        "type": "framework.establish", "framework": FRAMEWORK,
        "title": "Nottingham City Council: residential and nursing care homes",
        "kind": "care_homes", "lots": [{"id": "CITY", "name": "Nottingham City"}],
        "commissioners": [
            {"org": "NCC", "kind": "council", "directorates": ["Strategy and Commissioning"]},
            {"org": "ICB-NN", "kind": "icb", "directorates": ["Nottingham City place"]},
        ],
        "starts_on": "2026-04-01", "ends_on": "2030-03-31", "regime": "pa2023", "escalation_ladder": "nottingham",
        "max_extension_months": 12,
    }, note="seed 004: the four escalation stages ship as the 'nottingham' ladder")
    add("2026-01-12T09:05:00Z", COMMISSIONER, {
        "type": "framework.set_prices", "framework": FRAMEWORK, "effective_from": "2026-04-01",
        "rates": {bed: BASE_RATE for bed in ("nursing", "nursing_dementia", "residential", "residential_dementia")},
    }, note="one base rate for all residential and nursing care homes: GBP 469.28 a week")
    add("2026-03-02T10:00:00Z", LEAD, {
        "type": "contract.award", "contract": CONTRACT, "framework": FRAMEWORK, "competition": "NCC-RES-2026-ACCREDITATION",
        "lot": "CITY", "provider": PROVIDER, "value": BASE_RATE * BEDS * WEEKS * YEARS,
        "starts_on": "2026-04-01", "ends_on": "2030-03-31",
    }, note="30 beds at the base rate for four years")
    on_contract("2026-03-16T11:00:00Z", OFFICER, {"type": "contract.sign", "signed_on": "2026-03-16"})
    on_contract("2026-03-18T10:00:00Z", OFFICER, {
        "type": "contract.publish_notice", "notice_type": "contract_termination_notice", "notice_reference": "FTS-2026-UK11-0001",
        "published_on": "2026-03-18",
    }, expect="contract_not_ended", note="Procurement Act 2023 s.80: a termination notice follows the contract's end")
    on_contract("2026-03-18T10:05:00Z", OFFICER, {
        "type": "contract.publish_notice", "notice_type": "contract_details_notice", "notice_reference": "FTS-2026-UK7-0417",
        "published_on": "2026-03-18",
    }, note="Procurement Act 2023 s.53: the contract details notice (UK7) within 30 days of entering into the contract")
    on_contract("2026-03-25T11:00:00Z", OFFICER, {
        "type": "contract.mobilise", "contract_manager": "Contract officer, Strategy and Commissioning",
        "invoicing_contact_role": "Finance manager", "go_live": "2026-04-01",
    })
    on_contract("2026-04-01T09:00:00Z", OFFICER, {"type": "contract.add_home", "location": HOME, "effective_from": "2026-04-01"})

    # The annual quality monitoring visit scores the home Red on 11 of the 43 indicators.
    on_contract("2026-10-05T10:00:00Z", OFFICER, {
        "type": "contract.escalate", "to_stage": "final_notice_90_day", "due": "2027-01-05",
        "reason": "Annual quality monitoring visit: Red on 11 of the 43 indicators.",
    }, expect="stage_skipped", note="the ladder is climbed one stage at a time unless a serious breach is recorded")
    on_contract("2026-10-05T10:05:00Z", OFFICER, {
        "type": "contract.escalate", "to_stage": "requirement_to_improve", "due": "2026-12-18",
        "reason": "Annual quality monitoring visit: Red on 11 of the 43 indicators (medication, care planning, staffing).",
    })
    on_contract("2026-10-05T10:10:00Z", OFFICER, {
        "type": "action_plan.open", "plan": "RTI-2026-01", "actions": [
            {"id": "A1", "description": "Retrain all care staff in medication administration", "owner_role": "registered manager",
             "due": "2026-11-13"},
            {"id": "A2", "description": "Monthly medication audit by the visiting pharmacist", "owner_role": "deputy manager",
             "due": "2026-12-11"},
            {"id": "A3", "description": "Raise day staffing to the dependency tool's level", "owner_role": "registered manager",
             "due": "2026-11-13"},
            {"id": "A4", "description": "Rewrite every resident's care plan with the resident and family",
             "owner_role": "care plan lead", "due": "2026-12-18"},
        ],
    }, note="the improvement action plan that goes with the requirement to improve")
    on_contract("2026-10-20T14:00:00Z", OFFICER, {
        "type": "contract.terminate", "reason_kind": "default", "effective_on": "2026-11-30",
        "reason": "Whistleblowing concerns about night staffing.",
    }, expect="escalation_incomplete", note="termination for default only after the final notice")
    on_contract("2026-11-16T15:00:00Z", OFFICER, {
        "type": "action_plan.review", "plan": "RTI-2026-01", "completed": ["A1", "A3"], "reviewed_on": "2026-11-16",
        "notes": "Medication training records seen for 26 of 26 staff; rotas show the dependency level met.",
    })
    on_contract("2026-12-21T10:00:00Z", OFFICER, {
        "type": "contract.escalate", "to_stage": "contract_suspension", "due": "2027-03-01",
        "reason": "Requirement to improve not met by 18 December: medication audit and care plans outstanding.",
    }, note="the contract is suspended, which suspends new referrals")
    on_contract("2026-12-21T10:05:00Z", OFFICER, {
        "type": "contract.suspend_referrals", "from_date": "2026-12-21", "reason": "Contract suspended.",
    }, expect="already_suspended", note="the suspension already stopped referrals")
    on_contract("2027-02-15T15:00:00Z", OFFICER, {
        "type": "action_plan.review", "plan": "RTI-2026-01", "completed": ["A2"], "reviewed_on": "2027-02-15",
        "notes": "Pharmacist audits for December and January seen; care plans still not rewritten (6 of 28 done).",
    })
    on_contract("2027-02-15T15:05:00Z", OFFICER, {"type": "action_plan.close", "plan": "RTI-2026-01", "closed_on": "2027-02-15"},
                expect="actions_outstanding", note="the care plans (A4) are not rewritten")
    on_contract("2027-03-02T10:00:00Z", OFFICER, {
        "type": "contract.escalate", "to_stage": "final_notice_90_day", "due": "2027-04-30",
        "reason": "Suspension did not secure the care plan rewrite.",
    }, expect="notice_period_too_short", note="a final notice runs 90 days")
    on_contract("2027-03-02T10:05:00Z", OFFICER, {
        "type": "contract.escalate", "to_stage": "final_notice_90_day", "due": "2027-05-31",
        "reason": "Suspension did not secure the care plan rewrite: 90-day final notice served.",
    })
    on_contract("2027-04-15T14:00:00Z", OFFICER, {
        "type": "contract.terminate", "reason_kind": "default", "effective_on": "2027-04-30",
        "reason": "No progress on care plans.",
    }, expect="final_notice_not_expired", note="the final notice runs until 31 May")
    on_contract("2027-06-01T09:00:00Z", OFFICER, {
        "type": "contract.terminate", "reason_kind": "default", "effective_on": "2027-06-01",
        "reason": "90-day final notice expired without remedy; residents supported to move under the provider failure procedure.",
    })
    on_contract("2027-06-02T09:00:00Z", OFFICER, {"type": "contract.resume_referrals", "from_date": "2027-06-02"},
                expect="contract_ended", note="nothing changes on a terminated contract")
    on_contract("2027-06-08T10:00:00Z", OFFICER, {
        "type": "contract.publish_notice", "notice_type": "contract_termination_notice", "notice_reference": "FTS-2027-UK11-0093",
        "published_on": "2027-06-08",
    }, note="Procurement Act 2023 s.80: the contract termination notice (UK11) within 30 days of the end")
    write()


if __name__ == "__main__":
    main()
