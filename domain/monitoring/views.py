"""The monitoring aggregates' state as plain data: what an auditor sees, and `aqp show` prints.

One `<kind>_state` function per aggregate, found here by `audit.replay.state_function`:
return templates and KPI sets (their published versions), returns, placement returns,
quality visits and performance records.
"""

from __future__ import annotations

import copy
from typing import Any

from domain.kernel.versioned import versioned_state
from domain.monitoring.failures import PerformanceRecord
from domain.monitoring.placement_returns import PlacementReturn
from domain.monitoring.quality_visits import QualityVisit
from domain.monitoring.returns import Return

return_template_state = versioned_state
kpi_set_state = versioned_state


def return_state(r: Return) -> dict[str, Any]:
    return {
        "reference": r.reference,
        "id": str(r.id),
        "version": r.version,
        "location": r.location,
        "template": {"reference": r.template, "version": r.template_version, "sha256": r.template_sha256},
        "period": {"name": r.period, "starts_on": r.period_start, "ends_on": r.period_end},
        "due_on": r.due_on,
        "status": r.status,
        "lateness": copy.deepcopy(r.lateness),
        "missed_on": r.missed_on,
        "values": copy.deepcopy(r.values),
        "comments": dict(r.comments),
        "answers": dict(r.answers),
        "amendments": copy.deepcopy(r.amendments),
        "reviews": copy.deepcopy(r.reviews),
        "spot_checks": copy.deepcopy(r.spot_checks),
    }


def placement_return_state(r: PlacementReturn) -> dict[str, Any]:
    return {
        "reference": r.reference,
        "id": str(r.id),
        "version": r.version,
        "location": r.location,
        "framework": r.framework,
        "period": r.period,
        "due_on": r.due_on,
        "lateness": copy.deepcopy(r.lateness),
        "placements": copy.deepcopy(r.placements),
        "open": sum(1 for p in r.placements if p.get("end_date") is None),
        "rates_flagged": [p["reference"] for p in r.placements if p.get("rate_flagged")],
    }


def quality_visit_state(v: QualityVisit) -> dict[str, Any]:
    fw = v.framework
    return {
        "reference": v.reference,
        "id": str(v.id),
        "version": v.version,
        "location": v.location,
        "category": v.category,
        "visit_date": v.visit_date,
        "visitors": list(v.visitors),
        "contract": v.contract,
        "framework": {"reference": fw.get("reference"), "version": fw.get("version"), "sha256": fw.get("sha256")},
        "status": v.status,
        "scored": len(v.scores),
        "unscored": v.unscored() if fw else [],
        "scores": copy.deepcopy(v.scores),
        "rescored": copy.deepcopy(v.rescored),
        "outcome": copy.deepcopy(v.outcome),
        "concluded_on": v.concluded_on,
        "action_plan": copy.deepcopy(v.action_plan),
    }


def performance_record_state(r: PerformanceRecord) -> dict[str, Any]:
    return {
        "contract": r.reference,
        "id": str(r.id),
        "version": r.version,
        "critical_failures": copy.deepcopy(r.critical_failures),
        "service_failures": copy.deepcopy(r.service_failures),
    }
