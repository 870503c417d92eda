"""Frameworks and contracts on real stores: awards become contracts, prices vary them all."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from api.scenario import apply_lines
from domain.contracts import commands as k
from api.bootstrap import ledger_at
from api.processes import ProcessFollower
from domain.contracts.award_process import ContractsFromAwards
from domain.contracts.contract import Contract
from domain.contracts.framework import Framework
from domain.contracts.views import contract_state, framework_state
from domain.kernel.metadata import Actor

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "london-aqp-care-homes-2026.jsonl"
COMMISSIONER = Actor(id="u-comm-1", org="ICB-NCL", role="commissioner")
UTC = timezone.utc


def test_an_award_creates_one_contract_per_lot_and_bidder_once(database_url):
    ledger = ledger_at(database_url)
    process = ProcessFollower(ledger, ContractsFromAwards)
    ledger.after_save.append(process)
    try:
        outcomes = list(apply_lines(ledger, SCENARIO.read_text().splitlines()))
        assert [o.line for o in outcomes if not o.met] == []
        awards = ledger.show_competition("AQP-CH-2026")["award"]["awards"]
        expected = sorted(f"AQP-CH-2026/{lot}/{b}" for lot, bidders in awards.items() for b in bidders)
        framework = ledger.aggregate(Framework, "AQP-NH-LONDON")
        assert sorted(framework.contracts) == expected
        contract = ledger.aggregate(Contract, expected[0])
        assert contract_state(contract)["status"] in ("awarded", "signed", "mobilised")
        # Re-running from the start creates nothing twice.
        fresh = ProcessFollower(ledger, ContractsFromAwards)
        fresh._record_position(0)
        assert fresh.run() == 0
        assert sorted(ledger.aggregate(Framework, "AQP-NH-LONDON").contracts) == expected
    finally:
        ledger.close()


def test_an_april_price_variation_varies_every_live_contract_in_one_command(ledger):
    at = datetime(2026, 3, 1, tzinfo=UTC)
    council = Actor(id="u-ncc-lead", org="NCC", role="commissioner")  # the council's own framework: its prices
    establish = k.EstablishFramework(
        framework="NCC-RES",
        title="Nottingham City residential care",
        kind="care_homes",
        lots=[k.FrameworkLot(id="CITY", name="Nottingham City")],
        commissioners=[k.Commissioner(org="NCC", kind="council")],
        starts_on=date(2026, 4, 1),
        ends_on=date(2030, 3, 31),
        regime="pcr2015",
        escalation_ladder="nottingham",
        max_extension_months=24,
    )
    assert ledger.handle(establish, council, at=at).ok
    base = k.SetFrameworkPrices(framework="NCC-RES", effective_from=date(2026, 4, 1), rates={"residential": 46_928})
    assert ledger.handle(base, council, at=at).ok
    manager = Actor(id="u-cm-1", org="NCC", role="contract_manager")
    for i in range(3):
        award = k.AwardContract(
            contract=f"NCC-RES/{i}", framework="NCC-RES", competition="NCC-2026", lot="CITY", provider=f"home-{i}",
            value=50_000_000, starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31),
        )
        assert ledger.handle(award, manager, at=at + timedelta(days=1)).ok
    terminate = k.TerminateContract(contract="NCC-RES/2", reason_kind="home_closure", effective_on=date(2026, 9, 30), reason="Home closed")
    assert ledger.handle(terminate, manager, at=at + timedelta(days=200)).ok
    uplift = k.SetFrameworkPrices(framework="NCC-RES", effective_from=date(2027, 4, 1), rates={"residential": 49_040})
    result = ledger.handle(uplift, council, at=at + timedelta(days=390))
    assert result.ok and result.value == {"contracts_varied": 2}
    for i in (0, 1):
        state = contract_state(ledger.aggregate(Contract, f"NCC-RES/{i}"))
        assert state["variations"][0]["kind"] == "annual_price"
        assert state["value"]["current"] == 52_250_256  # GBP 469.28 -> 490.40 a week: +4.5005%
    assert contract_state(ledger.aggregate(Contract, "NCC-RES/2"))["variations"] == []
    assert framework_state(ledger.aggregate(Framework, "NCC-RES"))["price_schedules"]["2027-04-01"] == {"residential": 49_040}
