"""Handlers of the return commands (registered with `domain.dispatch.handles`).

Who may send what: commissioners, contract managers and admins publish templates; a
provider submits and amends returns only for a home it runs (as the home or its head
office); commissioners and contract managers review the provider's commentary; the
scheduler (system) or a contract manager records a return missed after its deadline.
A placement return is checked against the named framework's rates, read here and passed
to the domain, and against the home's previous month's placement return.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from domain.monitoring import commands as rc
from domain.contracts.contract import Framework
from domain.kernel.dispatch import Decision, handles
from domain.kernel.errors import NotFound, RuleBroken
from domain.kernel.metadata import Actor, LedgerAggregate
from domain.providers.location import Location, require_own_location
from domain.monitoring.returns import (
    PlacementReturn,
    Return,
    ReturnTemplate,
    parse_template,
    placement_return_reference,
    previous_month,
    return_reference,
)

if TYPE_CHECKING:
    from domain.kernel.dispatch import Ledger

TEMPLATE_PUBLISHERS = ("commissioner", "contract_manager", "admin")
PROVIDER = ("provider",)
REVIEWERS = ("commissioner", "contract_manager")
CHASERS = ("system", "contract_manager")


def _find(ledger: Ledger, cls: type[LedgerAggregate], reference: str) -> Any | None:
    try:
        return ledger.aggregate(cls, reference)
    except NotFound:
        return None


def _own_location(ledger: Ledger, reference: str, actor: Actor, action: str) -> Location:
    location = ledger.aggregate(Location, reference)
    require_own_location(location, actor, action)
    return location


def _template_version(ledger: Ledger, template: str, version: int | None) -> tuple[dict[str, Any], str]:
    tmpl = ledger.aggregate(ReturnTemplate, template)
    definition = tmpl.definition_of(version)
    return definition, tmpl.versions[str(definition["version"])]["sha256"]


@handles(rc.PublishTemplate, TEMPLATE_PUBLISHERS, "publish a return template")
def _publish(ledger: Ledger, cmd: rc.PublishTemplate, actor: Actor, now: datetime) -> Decision:
    definition = parse_template(cmd.template)
    template = _find(ledger, ReturnTemplate, definition["template"])
    if template is None:
        template = ReturnTemplate.publish_first(definition)
        recorded = True
    else:
        recorded = template.publish(definition)
    return Decision([template], {"template": definition["template"], "version": definition["version"], "recorded": recorded})


def _return_value(ret: Return, recorded: bool) -> dict[str, Any]:
    return {"return": ret.reference, "recorded": recorded, "status": ret.status, "lateness": ret.lateness}


@handles(rc.SubmitReturn, PROVIDER, "submit a return")
def _submit(ledger: Ledger, cmd: rc.SubmitReturn, actor: Actor, now: datetime) -> Decision:
    _own_location(ledger, cmd.location, actor, "submit a return")
    definition, sha256 = _template_version(ledger, cmd.template, cmd.version)
    existing = _find(ledger, Return, return_reference(cmd.location, cmd.template, definition["version"], cmd.period))
    content = {"values": dict(cmd.values), "comments": dict(cmd.comments), "answers": dict(cmd.answers)}
    if existing is None:
        ret = Return.submit_new(location=cmd.location, definition=definition, sha256=sha256, period=cmd.period, now=now, **content)
        recorded = True
    else:
        ret = existing
        recorded = ret.submit(definition=definition, now=now, **content)
    return Decision([ret], _return_value(ret, recorded))


@handles(rc.AmendReturn, PROVIDER, "amend a return")
def _amend(ledger: Ledger, cmd: rc.AmendReturn, actor: Actor, now: datetime) -> Decision:
    _own_location(ledger, cmd.location, actor, "amend a return")
    definition, _ = _template_version(ledger, cmd.template, cmd.version)
    reference = return_reference(cmd.location, cmd.template, definition["version"], cmd.period)
    ret = _find(ledger, Return, reference)
    if ret is None:
        raise RuleBroken(f"No return {reference} has been submitted; submit it first.", code="return_not_submitted")
    recorded = ret.amend(
        definition=definition, values=dict(cmd.values), comments=dict(cmd.comments), answers=dict(cmd.answers), reason=cmd.reason, now=now
    )
    return Decision([ret], _return_value(ret, recorded))


@handles(rc.RecordReturnMissed, CHASERS, "record a missed return")
def _missed(ledger: Ledger, cmd: rc.RecordReturnMissed, actor: Actor, now: datetime) -> Decision:
    ledger.aggregate(Location, cmd.location)
    definition, sha256 = _template_version(ledger, cmd.template, cmd.version)
    existing = _find(ledger, Return, return_reference(cmd.location, cmd.template, definition["version"], cmd.period))
    if existing is None:
        ret = Return.missed(location=cmd.location, definition=definition, sha256=sha256, period=cmd.period, now=now)
        recorded = True
    else:
        ret = existing
        recorded = ret.record_missed(now=now)
    return Decision([ret], _return_value(ret, recorded))


@handles(rc.ReviewReturn, REVIEWERS, "review a return's commentary")
def _review(ledger: Ledger, cmd: rc.ReviewReturn, actor: Actor, now: datetime) -> Decision:
    ret = ledger.aggregate(Return, return_reference(cmd.location, cmd.template, cmd.version, cmd.period))
    recorded = ret.review(outcome=cmd.outcome, note=cmd.note, items=dict(cmd.items), reviewer=actor.org, now=now)
    return Decision([ret], {"return": ret.reference, "recorded": recorded})


@handles(rc.SubmitPlacementReturn, PROVIDER, "submit a placement return")
def _submit_placements(ledger: Ledger, cmd: rc.SubmitPlacementReturn, actor: Actor, now: datetime) -> Decision:
    _own_location(ledger, cmd.location, actor, "submit a placement return")
    placements = [msgspec.to_builtins(p) for p in cmd.placements]
    reference = placement_return_reference(cmd.location, cmd.period)
    existing = _find(ledger, PlacementReturn, reference)
    if existing is not None:
        if existing.same_as(placements):
            return Decision([existing], {"placement_return": reference, "recorded": False})
        raise RuleBroken(
            f"The placements for {cmd.period} were returned on {existing.lateness['submitted_on']}; they are not replaced.",
            code="placement_return_exists",
        )
    framework = ledger.aggregate(Framework, cmd.framework)
    previous = _find(ledger, PlacementReturn, placement_return_reference(cmd.location, previous_month(cmd.period)))
    ret = PlacementReturn.submit_new(
        location=cmd.location,
        framework=cmd.framework,
        period=cmd.period,
        placements=placements,
        rate_on=framework.rate_on,
        previous=previous.placements if previous is not None else None,
        now=now,
    )
    return Decision([ret], {"placement_return": reference, "recorded": True, "lateness": ret.lateness})
