"""Handlers of the KPI and performance-failure commands (registered with `domain.dispatch.handles`).

Commissioners, contract managers and admins publish KPI sets. The performance process (the
system) or a contract manager records failures on a contract's performance record, which is
opened with the first failure; a cause already recorded records nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from domain.monitoring import kpi_commands as kc
from domain.contracts.contract import Contract
from domain.kernel.dispatch import Decision, handles
from domain.kernel.errors import NotFound
from domain.monitoring.kpis import KpiSet, PerformanceRecord, parse_kpis
from domain.kernel.metadata import Actor

if TYPE_CHECKING:
    from domain.kernel.dispatch import Ledger

PUBLISHERS = ("commissioner", "contract_manager", "admin")
RECORDERS = ("system", "contract_manager")


@handles(kc.PublishKpis, PUBLISHERS, "publish a KPI set")
def _publish(ledger: Ledger, cmd: kc.PublishKpis, actor: Actor, now: datetime) -> Decision:
    definition = parse_kpis(cmd.kpis)
    try:
        kpis = ledger.aggregate(KpiSet, definition["kpis"])
        recorded = kpis.publish(definition)
    except NotFound:
        kpis = KpiSet.publish_first(definition)
        recorded = True
    return Decision([kpis], {"kpis": definition["kpis"], "version": definition["version"], "recorded": recorded})


def _record(ledger: Ledger, contract: str) -> PerformanceRecord:
    ledger.aggregate(Contract, contract)  # a failure is recorded only against a contract that exists
    try:
        return ledger.aggregate(PerformanceRecord, contract)
    except NotFound:
        return PerformanceRecord.open(contract=contract)


@handles(kc.RecordCriticalFailure, RECORDERS, "record a critical performance failure")
def _critical(ledger: Ledger, cmd: kc.RecordCriticalFailure, actor: Actor, now: datetime) -> Decision:
    record = _record(ledger, cmd.contract)
    recorded = record.record_critical_failure(
        cause=cmd.cause, kind=cmd.kind, location=cmd.location, description=cmd.description, occurred_on=cmd.occurred_on.isoformat()
    )
    return Decision([record], {"contract": cmd.contract, "cause": cmd.cause, "recorded": recorded})


@handles(kc.RecordServiceFailure, RECORDERS, "record a service failure")
def _service(ledger: Ledger, cmd: kc.RecordServiceFailure, actor: Actor, now: datetime) -> Decision:
    record = _record(ledger, cmd.contract)
    recorded = record.record_service_failure(
        cause=cmd.cause, location=cmd.location, template=cmd.template, periods=list(cmd.periods), description=cmd.description
    )
    return Decision([record], {"contract": cmd.contract, "cause": cmd.cause, "recorded": recorded})
