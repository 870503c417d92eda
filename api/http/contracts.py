"""Frameworks and contracts over HTTP.

    GET /frameworks/{reference}   a framework: lots, commissioners, term, prices, ladder, monitoring
    GET /contracts                the contract register (read model); a provider its own contracts
    GET /contracts/{reference}    a contract now or as of a time, with its framework's rates on the day
    GET /performance-records/{reference}   a contract's performance failures, now or as of a time

Contracts are not for evaluators (`access.NOT_EVALUATORS`), and a provider sees only the
contracts it holds (`access.may_deal_with`): another's is answered 404, as if absent.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request
from litestar.params import FromPath, PathParameter

from api.http.auth import principal_of
from api.http.problems import not_found
from api.http.reads import AsOf, find, load, read
from api.http.tables import Table, day_of, table_route, today
from domain import access
from domain.contracts.contract import Contract, Framework
from domain.contracts.views import contract_state, framework_state
from domain.monitoring.failures import PerformanceRecord
from projections.contract_register import ContractRegister


class ContractRow(msgspec.Struct):
    reference: str
    framework: str
    lot: str
    provider: str
    status: str
    original_value: int
    current_value: int
    cumulative_variation: int
    variations: int
    escalation_stage: str | None
    referrals_suspended: str
    term_end: str | None
    last_event_at: str
    version: int


CONTRACTS = Table(
    row=ContractRow,
    read_model=ContractRegister,
    filters=("framework", "lot", "provider", "status", "escalation_stage", "referrals_suspended"),
    search=("reference", "provider", "framework"),
    # A provider sees only the contracts it holds.
    scope=lambda principal, row: access.may_deal_with(principal.actor(), row["provider"]),
)


class FrameworksController(Controller):
    path = "/frameworks"

    @read("/{reference:str}", access.ALL_ROLES, "A framework", "Lots, commissioners, term, price schedules, escalation ladder, monitoring.")
    def get_framework(self, request: Request[Any, Any, Any], reference: FromPath[str], as_of: AsOf = None) -> dict[str, Any]:
        return framework_state(load(request, Framework, reference, as_of))


#: Litestar documents a path parameter that takes the rest of the path as a URI (`format: uri`), which
#: a contract's reference is not: a client checking the format would refuse every real one.
ContractReference = Annotated[Path, PathParameter(
    description="the contract's reference, COMPETITION/LOT/PROVIDER (e.g. AQP-CH-2026/NCL/aster-care-homes)",
    schema_extra={"format": None},
)]


class ContractsController(Controller):
    path = "/contracts"

    list_contracts = table_route(
        "/", CONTRACTS, roles=access.NOT_EVALUATORS, summary="The contract register",
        description="One row per contract (the contract register read model); values in pence. A provider sees its own contracts only. "
        "With as_of, the register as it stood then (from the read model's history: e.g. as_of=2026-03-31T23:59:59Z for 31 March).",
    )

    @read("/{reference:path}", access.NOT_EVALUATORS, "A contract, now or as of a time",
          "The contract's state (values in pence), its escalation stage (`escalation.stage`) and `rates`: its framework's price "
          "schedule in force on the day (today, or as_of's day). A provider sees only the contracts it holds.")
    def get_contract(self, request: Request[Any, Any, Any], reference: ContractReference, as_of: AsOf = None) -> dict[str, Any]:
        # Contract references hold slashes (COMPETITION/LOT/PROVIDER), so the path takes the rest.
        return contract_answer(request, str(reference).lstrip("/"), as_of)


def contract_answer(request: Request[Any, Any, Any], reference: str, as_of: datetime | None) -> dict[str, Any]:
    """A contract as the principal may see it, now or as of a time, with its rates on the day: the
    API's answer and the contract page's (`api/web/contracts.py`), so the two never differ. A
    contract a provider does not hold is 404, as one that does not exist."""
    if as_of is not None:
        contract = load(request, Contract, reference, as_of)
        if not access.may_deal_with(principal_of(request).actor(), contract.provider, *contract.homes):
            raise not_found(f"contract {reference}")
        return {**contract_state(contract), "rates": _rates(request, contract.framework, as_of)}
    # Now: the records kept by the service while their versions stand (two indexed reads, not two
    # replays), and the answer kept for each day, since the rates in force change with the day.
    service = request.app.state.service
    erasures = service.erasures()  # read before the records: what is kept under it predates any erasure after
    version = service.version_of(Contract, reference)
    if version is None:
        raise not_found(f"contract {reference}")
    contract = service.aggregate(Contract, reference, version, erasures=erasures)
    if not access.may_deal_with(principal_of(request).actor(), contract.provider, *contract.homes):
        raise not_found(f"contract {reference}")
    framework_version = service.version_of(Framework, contract.framework)
    framework = (None if framework_version is None
                 else service.aggregate(Framework, contract.framework, framework_version, erasures=erasures))
    day = today()
    key = ("contract", reference, contract.version, framework_version, day)
    return service.answer(key, lambda: {**contract_state(contract), "rates": _rates_of(framework, day)},  # type: ignore[no-any-return]
                          erasures=erasures)


def _rates(request: Request[Any, Any, Any], framework: str, as_of: datetime | None) -> dict[str, Any] | None:
    """The framework's price schedule in force on the day (today in England, or as_of's day): what the contract pays.

    Rates are the framework's (`framework.set_prices`), the same for every contract under it:
    pence a week per bed type for care homes, pence an hour per care tier for home care.
    """
    return _rates_of(find(request, Framework, framework, as_of=as_of), day_of(as_of) if as_of else today())


def _rates_of(record: Framework | None, on: date) -> dict[str, Any] | None:
    if record is None:
        return None
    day = on.isoformat()
    effective = max((d for d in record.price_schedules if d <= day), default=None)
    if effective is None:
        return None
    unit = {"care_homes": "pence_per_week", "home_care": "pence_per_hour"}.get(record.kind)
    return {"framework": record.reference, "on": day, "effective_from": effective, "unit": unit, "rates": dict(record.price_schedules[effective])}


class PerformanceRecordsController(Controller):
    path = "/performance-records"

    @read("/{reference:path}", access.NOT_EVALUATORS, "A contract's performance failures, now or as of a time",
          "The critical performance failures (a CQC rating of Inadequate, a breached critical KPI, persistently inaccurate data, "
          "or another a commissioner records) and the service failures (the same return missed three or more consecutive "
          "periods) recorded against the contract (seed 003 s.2.2.2 and s.3.6), oldest first. The reference is the contract's; "
          "a contract with none recorded answers empty lists. A provider sees only the contracts it holds.")
    def get_performance_record(self, request: Request[Any, Any, Any], reference: ContractReference, as_of: AsOf = None) -> dict[str, Any]:
        return performance_answer(request, str(reference).lstrip("/"), as_of)


def performance_answer(request: Request[Any, Any, Any], reference: str, as_of: datetime | None) -> dict[str, Any]:
    """A contract's performance failures as the principal may see them: the API's answer and the
    contract page's. Seen by whoever may see the contract (`contract_answer`'s rule), 404 otherwise."""
    contract = load(request, Contract, reference, as_of)
    if not access.may_deal_with(principal_of(request).actor(), contract.provider, *contract.homes):
        raise not_found(f"contract {reference}")
    record = find(request, PerformanceRecord, reference, as_of=as_of)
    critical = record.critical_failures if record is not None else {}
    service = record.service_failures if record is not None else {}
    return {
        "contract": reference,
        "version": record.version if record is not None else 0,
        "critical_failures": sorted(({"cause": cause, **failure} for cause, failure in critical.items()),
                                    key=lambda f: (f["occurred_on"], f["recorded_at"], f["cause"])),
        "service_failures": sorted(({"cause": cause, **failure, "periods": list(failure["periods"])} for cause, failure in service.items()),
                                   key=lambda f: (f["recorded_at"], f["cause"])),
    }

