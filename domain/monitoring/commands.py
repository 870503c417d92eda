"""Commands about monitoring returns: templates, quality returns and placement returns.

Part of the one tagged union: `domain.commands.AnyCommand` includes `RETURN_COMMANDS`.
Values, comments and placements are plain data on purpose: the template's rules (types,
subtotals, consistency, percentages) and the placement rules are the domain's, which
reports every failure at once with the field named, whichever way the command came in.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from msgspec import Meta, Struct

from domain.kernel.command_types import Command, Reference, ShortText, Text

CqcId = Annotated[str, Meta(pattern=r"^1-[0-9]{1,20}$")]
TemplateRef = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
Period = Annotated[str, Meta(min_length=4, max_length=10, pattern=r"^[0-9]{4}-[0-9A-Q-]+$")]
Month = Annotated[str, Meta(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]


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
