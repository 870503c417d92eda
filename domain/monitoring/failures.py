"""Performance failures: the `PerformanceRecord` a contract manager watches, one per contract.

A `PerformanceRecord` is one contract's record of performance failures (its reference is the
contract's): critical performance failures (e.g. a home on the contract rated Inadequate by
CQC) and service failures (the same return missed for three consecutive periods). Each is
recorded once per cause, so the process that records them
(domain/monitoring/performance_process.py) can run again over the same log and record
nothing twice.

Public methods decide; the nested events' `apply` only assign state.
"""

from __future__ import annotations

from typing import Any

from domain.kernel.errors import ValidationFailed
from domain.kernel.metadata import LedgerAggregate
from domain.kernel.topics import stored_as

CRITICAL_KINDS = ("cqc_inadequate", "kpi_breach", "inaccurate_data", "other")


@stored_as("domain.kpis")
class PerformanceRecord(LedgerAggregate):
    """One contract's performance failures, each recorded once per cause."""

    KIND = "performance_record"

    def __init__(self) -> None:
        self.reference = ""
        #: cause -> the failure
        self.critical_failures: dict[str, dict[str, Any]] = {}
        self.service_failures: dict[str, dict[str, Any]] = {}

    @classmethod
    def open(cls, *, contract: str) -> PerformanceRecord:
        return cls._create(cls.Opened, id=cls.id_for(contract), reference=contract)

    def record_critical_failure(self, *, cause: str, kind: str, location: str | None, description: str, occurred_on: str) -> bool:
        """False when this cause is already recorded."""
        if kind not in CRITICAL_KINDS:
            raise ValidationFailed(f"A critical failure's kind is one of {', '.join(CRITICAL_KINDS)}.", code="unknown_kind", field="kind")
        if not description or not description.strip():
            raise ValidationFailed("A critical failure needs a description.", code="required", field="description")
        if cause in self.critical_failures:
            return False
        self.trigger_event(
            self.CriticalFailureRecorded, cause=cause, kind=kind, location=location, description=description.strip(), occurred_on=occurred_on
        )
        return True

    def record_service_failure(self, *, cause: str, location: str, template: str, periods: list[str], description: str) -> bool:
        """False when this cause is already recorded."""
        if len(periods) < 3 or len(set(periods)) != len(periods):
            raise ValidationFailed("A service failure names three or more distinct consecutive periods missed.", code="too_few_periods", field="periods")
        if not description or not description.strip():
            raise ValidationFailed("A service failure needs a description.", code="required", field="description")
        if cause in self.service_failures:
            return False
        self.trigger_event(
            self.ServiceFailureRecorded, cause=cause, location=location, template=template, periods=list(periods), description=description.strip()
        )
        return True

    def missed_periods_recorded(self, location: str, template: str) -> set[str]:
        """The periods of `location`'s `template` return already counted in a service failure."""
        return {
            p for s in self.service_failures.values() if (s["location"], s["template"]) == (location, template) for p in s["periods"]
        }

    class Opened(LedgerAggregate.Created):
        reference: str

        def apply(self, r: PerformanceRecord) -> None:
            r.reference = self.reference

    class CriticalFailureRecorded(LedgerAggregate.Event):
        cause: str
        kind: str
        location: str | None
        description: str
        occurred_on: str

        def apply(self, r: PerformanceRecord) -> None:
            r.critical_failures[self.cause] = {
                "kind": self.kind,
                "location": self.location,
                "description": self.description,
                "occurred_on": self.occurred_on,
                "recorded_at": self.timestamp.isoformat(),
            }

    class ServiceFailureRecorded(LedgerAggregate.Event):
        cause: str
        location: str
        template: str
        periods: list
        description: str

        def apply(self, r: PerformanceRecord) -> None:
            r.service_failures[self.cause] = {
                "location": self.location,
                "template": self.template,
                "periods": list(self.periods),
                "description": self.description,
                "recorded_at": self.timestamp.isoformat(),
            }
