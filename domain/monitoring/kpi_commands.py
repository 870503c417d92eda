"""Commands about KPIs and performance failures.

Part of the one tagged union: `domain.commands.AnyCommand` includes `KPI_COMMANDS`. A KPI
set is plain data (see domain/monitoring/kpi_sets/), checked by the domain with every failure reported at
once. The two `performance.*` commands are sent by the performance process (as the system)
when it reads a failure in the log, or by a contract manager; each is recorded once per cause.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from msgspec import Meta

from domain.kernel.command_types import Command, Reference, Text

#: what caused a failure, unique on the contract's record, e.g. cqc_inadequate:1-101:2026-02-20
Cause = Annotated[str, Meta(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]
CqcId = Annotated[str, Meta(pattern=r"^1-[0-9]{1,20}$")]
TemplateRef = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Period = Annotated[str, Meta(min_length=4, max_length=10, pattern=r"^[0-9]{4}-[0-9A-Q-]+$")]


class PublishKpis(Command, tag="kpi.publish"):
    """Publish a version of a KPI set: the set's JSON (see domain/monitoring/kpi_sets/)."""

    kpis: dict[str, Any]


class RecordCriticalFailure(Command, tag="performance.record_critical_failure"):
    contract: Reference
    cause: Cause
    kind: Literal["cqc_inadequate", "kpi_breach", "inaccurate_data", "other"]
    description: Text
    occurred_on: date
    location: CqcId | None = None


class RecordServiceFailure(Command, tag="performance.record_service_failure"):
    """The same return missed for three (or more) consecutive periods (seed 003 s.3.6)."""

    contract: Reference
    cause: Cause
    location: CqcId
    template: TemplateRef
    periods: Annotated[list[Period], Meta(min_length=3)]
    description: Text


KPI_COMMANDS = (PublishKpis, RecordCriticalFailure, RecordServiceFailure)
