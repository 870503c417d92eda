"""Writes novation-after-sale.jsonl: a care-home group is sold and its contracts move to the buyer.

Oakleigh Care Group holds three South East London nursing-home contracts (one already ended
when its home closed). Harbourside Healthcare buys the group: Oakleigh notifies the change
of control on each live contract, then the homes' business moves to Harbourside's operating
company and the ICB novates the contracts to it. From then on the buyer acts on the
contracts and the seller no longer can. Lines with `"expect": {"error": ...}` show the
refusals: a provider notifying on a contract it does not hold, an ended contract, a
novation to the provider that already holds the contract.

    python scenarios/make_novation_after_sale.py > scenarios/novation-after-sale.jsonl
"""

from __future__ import annotations


FRAMEWORK = "SEL-NH-2026"
SELLER, BUYER, OTHER = "oakleigh-care-group", "harbourside-healthcare", "rosewood-nursing"
BUYER_GROUP = "Harbourside Healthcare Group Ltd"
COMMISSIONER = {"id": "u-sel-commissioning-lead", "org": "ICB-SEL", "role": "commissioner"}
LEAD = {"id": "u-sel-procurement-lead", "org": "SEL-CSU", "role": "procurement_lead"}
MANAGER = {"id": "u-sel-contract-manager", "org": "ICB-SEL", "role": "contract_manager"}

from scenario_lines import add, write


def provider(org: str) -> dict:
    return {"id": f"u-{org}-director", "org": org, "role": "provider"}


#: contract -> (lot, provider, home location, value in pence)
CONTRACTS = {
    f"{FRAMEWORK}/BEXLEY/{SELLER}": ("BEXLEY", SELLER, "1-3904418201", 180_000_000),
    f"{FRAMEWORK}/BROMLEY/{SELLER}": ("BROMLEY", SELLER, "1-3904418202", 210_000_000),
    f"{FRAMEWORK}/GREENWICH/{SELLER}": ("GREENWICH", SELLER, "1-3904418203", 150_000_000),
    f"{FRAMEWORK}/BROMLEY/{OTHER}": ("BROMLEY", OTHER, "1-5520918377", 160_000_000),
}
CLOSED_HOME = f"{FRAMEWORK}/GREENWICH/{SELLER}"
SOLD = [f"{FRAMEWORK}/BEXLEY/{SELLER}", f"{FRAMEWORK}/BROMLEY/{SELLER}"]



def main() -> None:
    add("2026-01-05T09:00:00Z", COMMISSIONER, {
        "type": "framework.establish", "framework": FRAMEWORK,
        "title": "South East London nursing homes (NHS Continuing Healthcare)", "kind": "care_homes",
        "lots": [{"id": "BEXLEY", "name": "Bexley"}, {"id": "BROMLEY", "name": "Bromley"}, {"id": "GREENWICH", "name": "Greenwich"}],
        "commissioners": [{"org": "ICB-SEL", "kind": "icb", "directorates": ["Bexley", "Bromley", "Greenwich"]}],
        "starts_on": "2026-04-01", "ends_on": "2030-03-31", "regime": "psr2024", "escalation_ladder": "nottingham",
        "max_extension_months": 24,
    })
    add("2026-01-05T09:05:00Z", COMMISSIONER, {
        "type": "framework.set_prices", "framework": FRAMEWORK, "effective_from": "2026-04-01",
        "rates": {"nursing": 99_000, "nursing_dementia": 106_500, "residential": 83_000, "residential_dementia": 89_500},
    })
    for contract, (lot, holder, _, value) in CONTRACTS.items():
        add("2026-03-02T10:00:00Z", LEAD, {
            "type": "contract.award", "contract": contract, "framework": FRAMEWORK, "competition": "SEL-NH-2026-AQP", "lot": lot,
            "provider": holder, "value": value, "starts_on": "2026-04-01", "ends_on": "2030-03-31",
        })
    for contract, (_, _, home, _) in CONTRACTS.items():
        add("2026-03-16T11:00:00Z", MANAGER, {"type": "contract.sign", "contract": contract, "signed_on": "2026-03-16"})
        add("2026-04-01T09:00:00Z", MANAGER, {"type": "contract.add_home", "contract": contract, "location": home,
                                              "effective_from": "2026-04-01"})
    add("2026-09-30T12:00:00Z", MANAGER, {
        "type": "contract.terminate", "contract": CLOSED_HOME, "reason_kind": "home_closure", "effective_on": "2026-09-30",
        "reason": "The Greenwich home closed for redevelopment; all residents moved with their families' agreement.",
    })
    # The sale: Harbourside buys the shares of Oakleigh's holding company.
    add("2027-01-11T10:00:00Z", provider(OTHER), {
        "type": "contract.notify_change_of_control", "contract": SOLD[0], "new_controller": BUYER_GROUP, "notified_on": "2027-01-11",
    }, expect="not_your_contract", note="only the provider that holds a contract notifies on it")
    for contract in SOLD:
        add("2027-01-11T10:30:00Z", provider(SELLER), {
            "type": "contract.notify_change_of_control", "contract": contract, "new_controller": BUYER_GROUP,
            "notified_on": "2027-01-11",
        }, note="share purchase completed on 10 January")
    add("2027-01-11T10:35:00Z", provider(SELLER), {
        "type": "contract.notify_change_of_control", "contract": CLOSED_HOME, "new_controller": BUYER_GROUP, "notified_on": "2027-01-11",
    }, expect="contract_ended", note="the Greenwich contract ended when the home closed")
    # The homes' business moves to Harbourside's operating company: the contracts are novated.
    add("2027-02-22T14:00:00Z", MANAGER, {
        "type": "contract.novate", "contract": SOLD[0], "to_provider": SELLER, "effective_from": "2027-03-01",
    }, expect="same_provider", note="a novation moves a contract to another provider")
    for contract in SOLD:
        add("2027-02-22T14:05:00Z", MANAGER, {
            "type": "contract.novate", "contract": contract, "to_provider": BUYER, "effective_from": "2027-03-01",
            "reason": "Succession after the takeover (PSR 2024 reg 13); the buyer meets the framework's selection criteria "
                      "(CQC registration transferred, insurance and financial standing checked).",
        })
    add("2027-02-22T14:10:00Z", MANAGER, {
        "type": "contract.novate", "contract": CLOSED_HOME, "to_provider": BUYER, "effective_from": "2027-03-01",
    }, expect="contract_ended")
    add("2027-03-08T09:00:00Z", provider(SELLER), {
        "type": "risk.raise", "contract": SOLD[0], "risk": "R1", "description": "Registered manager leaving after the sale",
        "impact": 4, "likelihood": 3, "owner_role": "operations director", "mitigation": "Deputy manager acting up",
        "raised_on": "2027-03-08",
    }, expect="not_your_contract", note="after the novation the seller no longer acts on the contract")
    add("2027-03-08T09:05:00Z", provider(BUYER), {
        "type": "risk.raise", "contract": SOLD[0], "risk": "R1", "description": "Registered manager leaving after the sale",
        "impact": 4, "likelihood": 3, "owner_role": "operations director",
        "mitigation": "Deputy manager acting up; registered manager application to CQC within 28 days.", "raised_on": "2027-03-08",
    }, note="the buyer does")
    write()


if __name__ == "__main__":
    main()
