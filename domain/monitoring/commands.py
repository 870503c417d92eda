"""Commands of the monitoring context: returns, placement returns, quality visits, KPIs and failures.

Part of the one tagged union: `domain.commands.AnyCommand` includes `RETURN_COMMANDS`,
`VISIT_COMMANDS` and `KPI_COMMANDS`. Values, comments, placements, scores and actions are
plain data on purpose: the template's rules (types, subtotals, consistency, percentages),
the placement rules and the visit framework's rules are the domain's, which reports every
failure at once with the field named, whichever way the command came in. A KPI set is plain
data too (see domain/monitoring/kpi_sets/). The two `performance.*` commands are sent by the
performance process (as the system) when it reads a failure in the log, or by a contract
manager; each is recorded once per cause.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from domain.kernel.command_types import Command, Reference, ShortText, Text
from domain.providers.commands import CqcId

#: a shipped definition's name in lower case with hyphens: a return template, a visit framework
TemplateRef = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
FrameworkRef = TemplateRef
Period = Annotated[str, Meta(min_length=4, max_length=10, pattern=r"^[0-9]{4}-[0-9A-Q-]+$")]
Month = Annotated[str, Meta(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
Evidence = Annotated[str, Meta(max_length=5_000)]
#: what caused a failure, unique on the contract's record, e.g. cqc_inadequate:1-101:2026-02-20
Cause = Annotated[str, Meta(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]


# ---------------------------------------------------------------- templates and returns


class PublishTemplate(Command, tag="template.publish"):
    """Publish a version of a return template: the template's JSON (see domain/monitoring/templates/)."""

    template: dict[str, Any]


class SubmitReturn(Command, tag="return.submit"):
    location: CqcId
    template: TemplateRef
    period: Period
    #: the template version; None: the latest published
    version: Annotated[int, Meta(ge=1)] | None = None
    values: dict[str, Any] = {}
    #: a comment on any item, by metric id, giving context to the figure
    comments: dict[str, str] = {}
    #: answers to the qualitative questions asked in this period, by question id
    answers: dict[str, str] = {}


class AmendReturn(SubmitReturn, tag="return.amend"):
    """Replace a submitted return's values; `reason` is required and the earlier values stay in history."""


class RecordReturnMissed(Command, tag="return.record_missed"):
    """A return not received by its deadline (the scheduler, or a contract manager)."""

    location: CqcId
    template: TemplateRef
    period: Period
    version: Annotated[int, Meta(ge=1)] | None = None


class ReviewReturn(Command, tag="return.review"):
    """A commissioner's review of the provider's commentary on a return."""

    location: CqcId
    template: TemplateRef
    version: Annotated[int, Meta(ge=1)]
    period: Period
    outcome: Literal["accepted", "queried"]
    note: Text
    #: a note on the provider's comment on an item, by metric id
    items: dict[str, ShortText] = {}


# -------------------------------------------------------------------- placement returns


class Placement(Struct, forbid_unknown_fields=True, omit_defaults=True):
    #: the home's local pseudonymous reference: never an NHS number or a name
    reference: str
    #: the commissioning ICB (or CCG)
    icb: Reference
    bed_type: str
    #: pence per week
    weekly_rate: int
    start_date: str
    end_date: str | None = None
    end_reason: str | None = None
    #: why the rate differs from the framework's rate (flags the placement for review)
    rate_explanation: str | None = None


class SubmitPlacementReturn(Command, tag="placement_return.submit"):
    location: CqcId
    #: the framework whose rates apply
    framework: Reference
    period: Month
    placements: list[Placement]


RETURN_COMMANDS = (
    PublishTemplate,
    SubmitReturn,
    AmendReturn,
    RecordReturnMissed,
    ReviewReturn,
    SubmitPlacementReturn,
)


# ----------------------------------------------------------------------- quality visits


class ScheduleQualityVisit(Command, tag="quality_visit.schedule"):
    location: CqcId
    visit_date: date
    #: the visitors by role, e.g. "NCC quality monitoring officer", "CCG quality nurse"
    visitors: Annotated[list[ShortText], Meta(min_length=1, max_length=10)]
    #: a shipped framework in domain/monitoring/templates/quality-visits/
    framework: FrameworkRef = "nottingham-quality-monitoring-visit"
    #: the contract the home is placed under; its escalation links the visit's action plan
    contract: Reference | None = None


class IndicatorScore(Struct, forbid_unknown_fields=True):
    indicator: str
    score: int
    #: what the visitors saw; required for any score below the top of the scale
    evidence: Evidence = ""


class ScoreQualityVisit(Command, tag="quality_visit.score"):
    location: CqcId
    visit_date: date
    scores: Annotated[list[IndicatorScore], Meta(min_length=1)]


class ConcludeQualityVisit(Command, tag="quality_visit.conclude"):
    location: CqcId
    visit_date: date


class VisitAction(Struct, forbid_unknown_fields=True):
    indicator: str
    description: ShortText
    #: a role, not a person (e.g. "registered manager")
    owner_role: ShortText
    due: date


class AgreeVisitActionPlan(Command, tag="quality_visit.agree_action_plan"):
    """The action plan for the indicators below standard.

    When the visit's contract is escalated the plan is linked to the contract's improvement
    action plan `contract_plan` (default `quality-visit-DATE`), which is opened with these
    actions if the contract has no plan of that id.
    """

    location: CqcId
    visit_date: date
    actions: Annotated[list[VisitAction], Meta(min_length=1)]
    contract_plan: Reference | None = None


VISIT_COMMANDS = (
    ScheduleQualityVisit,
    ScoreQualityVisit,
    ConcludeQualityVisit,
    AgreeVisitActionPlan,
)


# -------------------------------------------------------- KPIs and performance failures


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
