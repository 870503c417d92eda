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

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from domain.kernel.command_types import (
    PERIOD_TEXT,
    PERIOD_YEARS,
    Command,
    Day,
    JsonKey,
    Note,
    PlannedDay,
    Reference,
    ShortNote,
    ShortText,
    Text,
    entries,
    unique,
)
from domain.providers.commands import CqcId

#: a shipped definition's name in lower case with hyphens: a return template, a visit framework
TemplateRef = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
FrameworkRef = TemplateRef
Period = Annotated[str, Meta(min_length=4, max_length=10, pattern=r"^[0-9]{4}-[0-9A-Q-]+$", extra_json_schema=PERIOD_TEXT, extra=PERIOD_YEARS)]
Month = Annotated[str, Meta(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$", extra_json_schema=PERIOD_TEXT, extra=PERIOD_YEARS)]
#: a metric, question or indicator id of a shipped definition
ItemId = Annotated[str, Meta(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")]
#: the items of one return (London's monthly care-home return has about 60 metrics)
MAX_ITEMS = 500
#: a placement's weekly rate in pence: at most GBP 20,000
WeeklyRate = Annotated[int, Meta(ge=0, le=2_000_000)]
Evidence = Annotated[str, Meta(max_length=5_000)]
#: what caused a failure, unique on the contract's record, e.g. cqc_inadequate:1-101:2026-02-20
Cause = Annotated[str, Meta(min_length=1, max_length=300, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$")]


# ---------------------------------------------------------------- templates and returns


class PublishTemplate(Command, tag="template.publish"):
    """Publish a version of a return template: the template's JSON (see domain/monitoring/templates/)."""

    template: Annotated[dict[JsonKey, Any], entries(max_length=50)]


class SubmitReturn(Command, tag="return.submit"):
    location: CqcId
    template: TemplateRef
    period: Period
    #: the template version; None: the latest published
    version: Annotated[int, Meta(ge=1, le=10_000)] | None = None
    values: Annotated[dict[ItemId, Any], entries(max_length=MAX_ITEMS)] = {}
    #: a comment on any item, by metric id, giving context to the figure
    comments: Annotated[dict[ItemId, Evidence], entries(max_length=MAX_ITEMS)] = {}
    #: answers to the qualitative questions asked in this period, by question id
    answers: Annotated[dict[ItemId, Note], entries(max_length=MAX_ITEMS)] = {}


class AmendReturn(SubmitReturn, tag="return.amend"):
    """Replace a submitted return's values; `reason` is required and the earlier values stay in history."""


class RecordReturnMissed(Command, tag="return.record_missed"):
    """A return not received by its deadline (the scheduler, or a contract manager)."""

    location: CqcId
    template: TemplateRef
    period: Period
    version: Annotated[int, Meta(ge=1, le=10_000)] | None = None


class ReviewReturn(Command, tag="return.review"):
    """A commissioner's review of the provider's commentary on a return."""

    location: CqcId
    template: TemplateRef
    version: Annotated[int, Meta(ge=1, le=10_000)]
    period: Period
    outcome: Literal["accepted", "queried"]
    note: Text
    #: a note on the provider's comment on an item, by metric id
    items: Annotated[dict[ItemId, ShortText], entries(max_length=MAX_ITEMS)] = {}


class RecordSpotCheck(Command, tag="return.record_spot_check"):
    """The Council's spot check of a received return's data (seed 003 s.3.6 b): the fields it checked
    against the home's records (care plans, timesheets, rotas, invoices) and those it found accurate.
    The accuracy KPI is the fields found accurate as a percentage of the fields checked."""

    location: CqcId
    template: TemplateRef
    version: Annotated[int, Meta(ge=1, le=10_000)]
    period: Period
    #: the day the check was done: not after today, not before the return was received
    checked_on: Day
    #: metric ids of the return's template version
    fields_checked: Annotated[list[ItemId], unique(min_length=1, max_length=MAX_ITEMS, domain_rule="duplicate_field")]
    #: how the figures were verified, e.g. "rotas and timesheets for the period seen at the home"
    method: ShortText
    #: of the fields checked, those whose figure the records bore out
    fields_accurate: Annotated[list[ItemId], unique(max_length=MAX_ITEMS, domain_rule="duplicate_field")] = []


# -------------------------------------------------------------------- placement returns


class Placement(Struct, forbid_unknown_fields=True, omit_defaults=True):
    #: the home's local pseudonymous reference: never an NHS number or a name
    reference: Annotated[str, Meta(min_length=1, max_length=64)]
    #: the commissioning ICB (or CCG)
    icb: Reference
    bed_type: Annotated[str, Meta(min_length=1, max_length=40)]
    #: pence per week
    weekly_rate: WeeklyRate
    #: a day (YYYY-MM-DD); the domain names a malformed one with the placement
    start_date: Annotated[str, Meta(max_length=10)]
    end_date: Annotated[str, Meta(max_length=10)] | None = None
    end_reason: ShortNote | None = None
    #: why the rate differs from the framework's rate (flags the placement for review)
    rate_explanation: Evidence | None = None


class SubmitPlacementReturn(Command, tag="placement_return.submit"):
    location: CqcId
    #: the framework whose rates apply
    framework: Reference
    period: Month
    #: the home's residents placed under the framework (a home has at most a few hundred beds)
    placements: Annotated[list[Placement], unique(max_length=1_000, by="reference", domain_rule="duplicate_placement")]


RETURN_COMMANDS = (
    PublishTemplate,
    SubmitReturn,
    AmendReturn,
    RecordReturnMissed,
    ReviewReturn,
    RecordSpotCheck,
    SubmitPlacementReturn,
)


# ----------------------------------------------------------------------- quality visits


class ScheduleQualityVisit(Command, tag="quality_visit.schedule"):
    location: CqcId
    visit_date: PlannedDay
    #: the visitors by role, e.g. "NCC quality monitoring officer", "CCG quality nurse"
    visitors: Annotated[list[ShortText], unique(min_length=1, max_length=10, domain_rule="duplicate_role")]
    #: a shipped framework in domain/monitoring/templates/quality-visits/
    framework: FrameworkRef = "nottingham-quality-monitoring-visit"
    #: the contract the home is placed under; its escalation links the visit's action plan
    contract: Reference | None = None


class IndicatorScore(Struct, forbid_unknown_fields=True):
    indicator: ItemId
    score: Annotated[int, Meta(ge=-100, le=100)]
    #: what the visitors saw; required for any score below the top of the scale
    evidence: Evidence = ""


class ScoreQualityVisit(Command, tag="quality_visit.score"):
    location: CqcId
    visit_date: Day
    scores: Annotated[list[IndicatorScore], unique(min_length=1, max_length=MAX_ITEMS, by="indicator", domain_rule="duplicate_indicator")]


class ConcludeQualityVisit(Command, tag="quality_visit.conclude"):
    location: CqcId
    visit_date: Day


class VisitAction(Struct, forbid_unknown_fields=True):
    indicator: ItemId
    description: ShortText
    #: a role, not a person (e.g. "registered manager")
    owner_role: ShortText
    due: Day


class AgreeVisitActionPlan(Command, tag="quality_visit.agree_action_plan"):
    """The action plan for the indicators below standard.

    When the visit's contract is escalated the plan is linked to the contract's improvement
    action plan `contract_plan` (default `quality-visit-DATE`), which is opened with these
    actions if the contract has no plan of that id.
    """

    location: CqcId
    visit_date: Day
    actions: Annotated[list[VisitAction], Meta(min_length=1, max_length=MAX_ITEMS)]
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

    kpis: Annotated[dict[JsonKey, Any], entries(max_length=50)]


class RecordCriticalFailure(Command, tag="performance.record_critical_failure"):
    contract: Reference
    cause: Cause
    kind: Literal["cqc_inadequate", "kpi_breach", "inaccurate_data", "other"]
    description: Text
    occurred_on: Day
    location: CqcId | None = None


class RecordServiceFailure(Command, tag="performance.record_service_failure"):
    """The same return missed for three (or more) consecutive periods (seed 003 s.3.6)."""

    contract: Reference
    cause: Cause
    location: CqcId
    template: TemplateRef
    periods: Annotated[list[Period], unique(min_length=3, max_length=120)]
    description: Text


KPI_COMMANDS = (PublishKpis, RecordCriticalFailure, RecordServiceFailure)
