"""Commands about quality monitoring visits (seed 004; issue 5 item 5).

Part of the one tagged union: `domain.commands.AnyCommand` includes `VISIT_COMMANDS`. Scores
and actions are checked by the domain, which reports every failure at once with the field
named, whichever way the command came in.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from msgspec import Meta, Struct

from domain.kernel.command_types import Command, Reference, ShortText

CqcId = Annotated[str, Meta(pattern=r"^1-[0-9]{1,20}$")]
FrameworkRef = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Evidence = Annotated[str, Meta(max_length=5_000)]


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
