"""The contract register's handlers, event by event (pure: no store, no clock)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any


from domain.contracts.contract import Contract
from domain.contracts.views import contract_state
from projections.contract_register import COLUMNS, ContractRegister, contract_events
from projections.tables import MemoryPage
from tests.unit.story import as_
from tests.unit.test_contract_rules import AT, MANAGER, contract, framework


def fold(events: list[Any], page: MemoryPage | None = None) -> dict[str, dict[str, Any]]:
    """What the register's rules make of the events, in memory (no store)."""
    page = page or MemoryPage(ContractRegister.tables)
    for event in events:
        ContractRegister.__new__(ContractRegister).apply(event, page)  # the rules need no view
    page.commit()
    return page.store["contract_register"]


def shown(row: dict[str, Any]) -> dict[str, Any]:
    return {c: row[c] for c in COLUMNS}


def expected(k: Contract) -> dict[str, Any]:
    state = contract_state(k)
    return {
        "reference": state["reference"], "framework": state["framework"], "lot": state["lot"], "provider": state["provider"],
        "status": state["status"], "original_value": state["value"]["original"], "current_value": state["value"]["current"],
        "cumulative_variation": state["value"]["cumulative_variation"], "variations": len(state["variations"]),
        "escalation_stage": state["escalation"]["stage"],
        "referrals_suspended": "yes" if state["referrals_suspended"] else "no", "term_end": state["term"]["ends_on"],
        "last_event_at": k.modified_on.isoformat(), "version": state["version"],
    }


def test_an_award_is_a_new_row_with_every_column_and_its_ladder():
    k = contract()
    (awarded,) = k.collect_events()
    rows = fold([awarded])
    assert list(rows) == [str(k.id)]
    row = rows[str(k.id)]
    assert set(row) == {"key", *COLUMNS, "ladder"}
    assert json.loads(row["ladder"]) == k.ladder
    assert shown(row) == expected(k)


def test_every_contract_event_has_a_handler_and_nothing_else_does():
    assert set(ContractRegister.followed) == set(contract_events())
    assert not any(issubclass(e, Contract.Event) is False for e in ContractRegister.followed)


def test_a_contract_through_its_life_folds_to_what_contract_state_says():
    f = framework(months=24, value_percent=50)
    k = contract(f)
    page = MemoryPage(ContractRegister.tables)
    rows = page.store["contract_register"]
    with as_(MANAGER, AT):
        k.sign(signed_on=date(2026, 4, 10))
        k.mobilise(contract_manager="cm", invoicing_contact_role="finance", go_live=date(2026, 4, 15))
        k.vary(kind="scope", ground="pcr2015_reg72_5", value_change=6_000_000, effective_from=date(2026, 5, 1), rationale="Extra respite beds for winter.")
        k.escalate(to_stage="requirement_to_improve", due=date(2026, 6, 1), reason="CQC rated Requires Improvement", serious_breach=False)
        k.escalate(to_stage="contract_suspension", due=date(2026, 7, 1), reason="No improvement", serious_breach=False)
    fold(k.collect_events(), page)
    assert shown(rows[str(k.id)]) == expected(k)
    assert (rows[str(k.id)]["escalation_stage"], rows[str(k.id)]["referrals_suspended"]) == ("contract_suspension", "yes")
    with as_(MANAGER, AT):
        k.de_escalate(reason="Improvement evidenced")
        k.resume_referrals(from_date=date(2026, 8, 1), phased=True)
        k.extend(framework=f, months=6, value_change=4_000_000, rationale="Six more months of care.")
        k.novate(to_provider="birch", effective_from=date(2026, 9, 1))
    fold(k.collect_events(), page)
    row = rows[str(k.id)]
    assert shown(row) == expected(k)
    assert (row["escalation_stage"], row["referrals_suspended"], row["provider"]) == ("requirement_to_improve", "no", "birch")
    assert (row["current_value"], row["cumulative_variation"], row["variations"]) == (110_000_000, 6_000_000, 1)
