"""The notices of a contract's life on real stores: refused until published, then recorded and read back.

Procurement Act 2023 s.75 (a change notice before a modification over 10%), s.53 (the
contract details notice after signing) and the overdue check, through the Ledger's commands
on SQLite and PostgreSQL; the rules themselves are tried one by one in
tests/unit/test_notice_rules.py.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import msgspec

from api.bootstrap import ledger_at
from audit.notices import overdue_notices
from domain.contracts import commands as k
from domain.contracts.contract import Contract
from domain.contracts.framework import Framework
from domain.contracts.views import contract_state
from domain.kernel.metadata import Actor

UTC = timezone.utc
AT = datetime(2026, 3, 2, 9, tzinfo=UTC)
COUNCIL = Actor(id="u-ncc-lead", org="NCC", role="commissioner")
MANAGER = Actor(id="u-cm-1", org="NCC", role="contract_manager")
CONTRACT = "NCC-PA/CITY/meadowview"


def pa2023_contract(ledger) -> None:
    establish = k.EstablishFramework(
        framework="NCC-PA", title="Nottingham City residential care", kind="care_homes",
        lots=[k.FrameworkLot(id="CITY", name="Nottingham City")], commissioners=[k.Commissioner(org="NCC", kind="council")],
        starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31), regime="pa2023", escalation_ladder="nottingham",
        max_extension_months=24,
    )
    assert ledger.handle(establish, COUNCIL, at=AT).ok
    award = k.AwardContract(
        contract=CONTRACT, framework="NCC-PA", competition="NCC-PA-2026", lot="CITY", provider="meadowview",
        value=100_000_000, starts_on=date(2026, 4, 1), ends_on=date(2030, 3, 31),
    )
    assert ledger.handle(award, MANAGER, at=AT + timedelta(days=1)).ok
    assert ledger.handle(k.SignContract(contract=CONTRACT, signed_on=date(2026, 3, 16)), MANAGER, at=AT + timedelta(days=14)).ok


def test_a_modification_needing_a_change_notice_is_refused_until_it_is_published(database_url):
    ledger = ledger_at(database_url)
    try:
        pa2023_contract(ledger)
        version = ledger.aggregate(Contract, CONTRACT).version
        at = datetime(2026, 5, 1, 9, tzinfo=UTC)
        vary = k.VaryContract(
            contract=CONTRACT, kind="scope", ground="pa2023_sch8_1", value_change=15_000_000,
            effective_from=date(2026, 6, 1), rationale="A dementia unit as the contract provides.",
        )
        refused = ledger.handle(vary, MANAGER, at=at)
        assert not refused.ok and refused.error.code == "change_notice_required" and not refused.events
        assert [f.field for f in refused.error.fields] == ["change_notice"]
        assert ledger.aggregate(Contract, CONTRACT).version == version  # a refused command records nothing

        notice = k.PublishContractNotice(
            contract=CONTRACT, notice_type="contract_change_notice", notice_reference="FTS-UK10-0042",
            published_on=date(2026, 5, 1), modification="dementia-unit", payload_sha256="ab" * 32,
        )
        assert ledger.handle(notice, MANAGER, at=at).ok
        named = msgspec.structs.replace(vary, change_notice="FTS-UK10-0042")
        assert ledger.handle(named, MANAGER, at=at + timedelta(hours=1)).ok
    finally:
        ledger.close()
    fresh = ledger_at(database_url)  # read back from the store by another process
    try:
        state = contract_state(fresh.aggregate(Contract, CONTRACT))
        assert state["variations"][0]["change_notice"] == "FTS-UK10-0042"
        assert state["notices"] == [{
            "notice_type": "contract_change_notice", "notice_code": "UK10", "notice_reference": "FTS-UK10-0042",
            "published_on": "2026-05-01", "modification": "dementia-unit", "payload_sha256": "ab" * 32,
        }]
    finally:
        fresh.close()


def test_a_contract_without_its_details_notice_is_overdue_thirty_days_after_signing(ledger):
    pa2023_contract(ledger)  # signed on 16 March 2026: due by 14 April
    contract = ledger.aggregate(Contract, CONTRACT)
    assert contract.notices_overdue(today=date(2026, 4, 14), light_touch=False) == []
    assert [o["notice_code"] for o in contract.notices_overdue(today=date(2026, 4, 15), light_touch=False)] == ["UK7"]
    early = k.PublishContractNotice(
        contract=CONTRACT, notice_type="contract_details_notice", notice_reference="FTS-UK7-1", published_on=date(2026, 3, 15),
    )
    result = ledger.handle(early, MANAGER, at=datetime(2026, 4, 15, 9, tzinfo=UTC))
    assert result.error.code == "notice_before_contract" and [f.field for f in result.error.fields] == ["published_on"]
    late = k.PublishContractNotice(
        contract=CONTRACT, notice_type="contract_details_notice", notice_reference="FTS-UK7-1", published_on=date(2026, 4, 15),
    )
    assert [(o["contract"], o["notice_code"], o["due"]) for o in overdue_notices(ledger, date(2026, 4, 15))] == [
        (CONTRACT, "UK7", "2026-04-14")
    ]
    assert ledger.handle(late, MANAGER, at=datetime(2026, 4, 15, 9, tzinfo=UTC)).ok
    assert overdue_notices(ledger, date(2026, 5, 1)) == []


def test_a_price_change_over_ten_percent_is_refused_until_each_contracts_change_notice_is_named(database_url):
    """The annual price variation is a modification like any other: over 10% (s.75) a Procurement Act
    contract needs its change notice, so the framework's new prices wait for it, and nothing is half-applied."""
    ledger = ledger_at(database_url)
    try:
        pa2023_contract(ledger)
        prices = k.SetFrameworkPrices(framework="NCC-PA", effective_from=date(2026, 4, 1), rates={"residential": 80_000})
        assert ledger.handle(prices, COUNCIL, at=AT + timedelta(days=20)).ok  # the first schedule varies nothing
        at = datetime(2027, 3, 1, 9, tzinfo=UTC)
        uplift = k.SetFrameworkPrices(framework="NCC-PA", effective_from=date(2027, 4, 1), rates={"residential": 92_000})  # +15%
        version = ledger.aggregate(Contract, CONTRACT).version
        schedules = len(ledger.aggregate(Framework, "NCC-PA").price_schedules)
        refused = ledger.handle(uplift, COUNCIL, at=at)
        assert not refused.ok and refused.error.code == "change_notice_required" and CONTRACT in refused.error.message
        assert ledger.aggregate(Contract, CONTRACT).version == version
        assert len(ledger.aggregate(Framework, "NCC-PA").price_schedules) == schedules == 1  # the schedule waits too

        stray = msgspec.structs.replace(uplift, change_notices={"NCC-PA/CITY/nobody": "FTS-UK10-1"})
        refused = ledger.handle(stray, COUNCIL, at=at)
        assert not refused.ok and refused.error.code in ("change_notice_required", "change_notice_unused")
        notice = k.PublishContractNotice(
            contract=CONTRACT, notice_type="contract_change_notice", notice_reference="FTS-UK10-2027-APRIL",
            published_on=date(2027, 3, 1), modification="annual-price-2027",
        )
        assert ledger.handle(notice, MANAGER, at=at).ok
        both = msgspec.structs.replace(uplift, change_notices={CONTRACT: "FTS-UK10-2027-APRIL", "NCC-PA/CITY/nobody": "FTS-UK10-1"})
        refused = ledger.handle(both, COUNCIL, at=at + timedelta(hours=1))
        assert not refused.ok and refused.error.code == "change_notice_unused" and "NCC-PA/CITY/nobody" in refused.error.message
        named = msgspec.structs.replace(uplift, change_notices={CONTRACT: "FTS-UK10-2027-APRIL"})
        done = ledger.handle(named, COUNCIL, at=at + timedelta(hours=1))
        assert done.ok and done.value == {"contracts_varied": 1}
        (variation,) = contract_state(ledger.aggregate(Contract, CONTRACT))["variations"]
        assert variation["change_notice"] == "FTS-UK10-2027-APRIL" and variation["kind"] == "annual_price"
    finally:
        ledger.close()
