"""Writes april-price-variation.jsonl: the April price review of a home-care framework.

A London AQP home-care framework (seed 001: hourly rates for care tiers 1-3 and registered
nursing care) has five contracts. By April 2027 one has been terminated (the provider left
the market), one has expired at the end of its one-year term, and one has referrals
suspended. The April 2027 price schedule, set in one command (`framework.set_prices`),
varies every live contract by the schedule's uplift under the contract's price review
clause (PSR 2024 reg 13(1)(a), the framework's regime) and leaves the ended ones alone.
Lines with `"expect": {"error": ...}` show what the schedule may not do.

    python scenarios/make_april_price_variation.py > scenarios/april-price-variation.jsonl
"""

from __future__ import annotations


FRAMEWORK = "AQP-HC-LONDON-2026"
COMMISSIONER = {"id": "u-ncl-commissioning-lead", "org": "ICB-NCL", "role": "commissioner"}
LEAD = {"id": "j.okafor", "org": "NEL-CSU", "role": "procurement_lead"}
MANAGER = {"id": "u-ncl-contract-manager", "org": "ICB-NCL", "role": "contract_manager"}
SCHEDULER = {"id": "aqp-scheduler", "org": "NEL-CSU", "role": "system"}

#: pence an hour (seed 001 appendix 1: three care tiers and registered nursing care)
RATES_2026 = {"tier_1": 2_350, "tier_2": 2_480, "tier_3": 2_650, "registered_nursing": 3_900}
RATES_2027 = {"tier_1": 2_500, "tier_2": 2_640, "tier_3": 2_820, "registered_nursing": 4_150}

#: contract -> (lot, provider, value in pence, ends on)
CONTRACTS = {
    "AQP-HC-LONDON-2026/NCL/alder-home-care": ("NCL", "alder-home-care", 120_000_000, "2030-03-31"),
    "AQP-HC-LONDON-2026/NCL/birch-domiciliary": ("NCL", "birch-domiciliary", 85_000_000, "2030-03-31"),
    "AQP-HC-LONDON-2026/NCL/elm-tree-care": ("NCL", "elm-tree-care", 40_000_000, "2027-03-31"),
    "AQP-HC-LONDON-2026/SEL/cobalt-care": ("SEL", "cobalt-care", 150_000_000, "2030-03-31"),
    "AQP-HC-LONDON-2026/SEL/dovetail-support": ("SEL", "dovetail-support", 60_000_000, "2030-03-31"),
}
TERMINATED = "AQP-HC-LONDON-2026/SEL/dovetail-support"
EXPIRED = "AQP-HC-LONDON-2026/NCL/elm-tree-care"
SUSPENDED = "AQP-HC-LONDON-2026/SEL/cobalt-care"

from scenario_lines import add, write



def main() -> None:
    add("2026-01-05T09:00:00Z", COMMISSIONER, {
        "type": "framework.establish", "framework": FRAMEWORK,
        "title": "London Any Qualified Provider framework: home care (NHS Continuing Healthcare)",
        "kind": "home_care", "lots": [
            {"id": "NCL", "name": "North Central London"}, {"id": "SEL", "name": "South East London"},
        ],
        "commissioners": [{"org": "ICB-NCL", "kind": "icb"}, {"org": "ICB-SEL", "kind": "icb"}],
        "starts_on": "2026-04-01", "ends_on": "2030-03-31", "regime": "psr2024", "escalation_ladder": "cheshire_east",
        "max_extension_months": 24,
    })
    add("2026-01-05T09:05:00Z", COMMISSIONER, {
        "type": "framework.set_prices", "framework": FRAMEWORK, "effective_from": "2026-04-01", "rates": RATES_2026,
    }, note="the first schedule varies nothing: there are no contracts yet")
    for contract, (lot, provider, value, ends_on) in CONTRACTS.items():
        add("2026-03-02T10:00:00Z", LEAD, {
            "type": "contract.award", "contract": contract, "framework": FRAMEWORK, "competition": "AQP-HC-2026", "lot": lot,
            "provider": provider, "value": value, "starts_on": "2026-04-01", "ends_on": ends_on,
        })
    for contract in CONTRACTS:
        add("2026-03-16T11:00:00Z", MANAGER, {"type": "contract.sign", "contract": contract, "signed_on": "2026-03-16"})
    add("2026-09-14T10:00:00Z", MANAGER, {
        "type": "contract.suspend_referrals", "contract": SUSPENDED, "from_date": "2026-09-14",
        "reason": "Large scale safeguarding enquiry into missed calls.",
    }, note="still a live contract: the April review varies it")
    add("2026-11-02T10:00:00Z", MANAGER, {
        "type": "contract.terminate", "contract": TERMINATED, "reason_kind": "mutual_agreement", "effective_on": "2026-11-30",
        "reason": "The provider is leaving the home-care market; packages transferred to other framework providers.",
    })
    add("2027-03-01T09:00:00Z", {"id": "u-alder-director", "org": "alder-home-care", "role": "provider"}, {
        "type": "framework.set_prices", "framework": FRAMEWORK, "effective_from": "2027-04-01", "rates": RATES_2027,
    }, expect="not_permitted", note="providers do not set the framework's prices")
    add("2027-03-01T09:05:00Z", COMMISSIONER, {
        "type": "framework.set_prices", "framework": FRAMEWORK, "effective_from": "2027-04-01",
        "rates": {**RATES_2027, "residential": 90_000},
    }, expect="unknown_rate", note="a home-care framework is priced by care tier, not bed type")
    add("2027-04-01T00:05:00Z", SCHEDULER, {"type": "contract.expire", "contract": EXPIRED, "today": "2027-04-01"},
        note="the one-year pilot contract ran to 31 March")
    add("2027-04-01T09:00:00Z", COMMISSIONER, {
        "type": "framework.set_prices", "framework": FRAMEWORK, "effective_from": "2027-04-01", "rates": RATES_2027,
        "rationale": "Annual price review under clause 6 (price review): National Living Wage and on-costs from April 2027.",
    }, note="one command: the schedule, and the annual price variation of the three live contracts")
    add("2027-04-01T09:10:00Z", COMMISSIONER, {
        "type": "framework.set_prices", "framework": FRAMEWORK, "effective_from": "2027-04-01", "rates": RATES_2027,
    }, expect="price_schedule_not_later", note="one schedule per effective date: running it twice varies nothing twice")
    add("2027-04-02T10:00:00Z", MANAGER, {
        "type": "contract.vary", "contract": TERMINATED, "kind": "annual_price", "ground": "psr2024_reg13_1_a",
        "value_change": 3_000_000, "effective_from": "2027-04-01", "rationale": "Annual price review for the terminated contract.",
    }, expect="contract_ended", note="a terminated contract is left alone")
    write()


if __name__ == "__main__":
    main()
