"""What the record of a framework or a contract shows: its state as plain data.

`framework_state` and `contract_state` are what an auditor sees and what `aqp show`
replays; a contract's delivery confidence and risk ratings carry their names on the seed's
RAG scale (`delivery.py`).
"""

from __future__ import annotations

import copy
from typing import Any

from domain.contracts.contract import Contract
from domain.contracts.delivery import confidence
from domain.contracts.framework import Framework


def framework_state(f: Framework) -> dict[str, Any]:
    return {
        "reference": f.reference,
        "id": str(f.id),
        "version": f.version,
        "title": f.title,
        "kind": f.kind,
        "lots": copy.deepcopy(f.lots),
        "commissioners": copy.deepcopy(f.commissioners),
        "term": {"starts_on": str(f.starts_on), "ends_on": str(f.ends_on), "max_extension_months": f.max_extension_months,
                 "max_extension_value_percent": f.max_extension_value_percent},
        "modification_regime": f.regime,
        "escalation_ladder": list(f.ladder),
        "monitoring": copy.deepcopy(f.monitoring),
        "price_schedules": copy.deepcopy(f.price_schedules),
        "contracts": list(f.contracts),
    }


def contract_state(k: Contract) -> dict[str, Any]:
    return {
        "reference": k.reference,
        "id": str(k.id),
        "version": k.version,
        "framework": k.framework,
        "competition": k.competition,
        "lot": k.lot,
        "provider": k.provider,
        "status": k.status,
        "term": {"starts_on": str(k.starts_on), "ends_on": str(k.ends_on), "original_ends_on": str(k.original_ends_on)},
        "value": {"original": k.original_value, "current": k.value, "cumulative_variation": k.cumulative_change},
        "signed_on": k.signed_on,
        "mobilisation": copy.deepcopy(k.mobilisation),
        "homes": copy.deepcopy(k.homes),
        "variations": copy.deepcopy(k.variations),
        "changes_of_control": copy.deepcopy(k.changes_of_control),
        "novations": copy.deepcopy(k.novations),
        "extensions": copy.deepcopy(k.extensions),
        "referrals_suspended": copy.deepcopy(k.referrals_suspended),
        "escalation": {"ladder": list(k.ladder), "stage": k.ladder[k.stage] if k.stage >= 0 else None,
                       "history": copy.deepcopy(k.escalations)},
        "action_plans": copy.deepcopy(k.action_plans),
        "termination": copy.deepcopy(k.termination),
        "milestones": {
            m: {**copy.deepcopy(record), "confidence": confidence(record["confidence"])} for m, record in k.milestones.items()
        },
        "highlight_reports": [
            {
                **copy.deepcopy(report),
                "overall_confidence": confidence(report["overall_confidence"]),
                "items": [{**item, "confidence": confidence(item["confidence"])} for item in report["items"]],
            }
            for report in k.highlight_reports
        ],
        "payments": {
            "value_cap": k.value,
            "planned": sum(m["payment"] for m in k.milestones.values()),
            "paid": k.paid,
            "remaining": k.value - k.paid,
            "records": copy.deepcopy(k.payments),
        },
        "risks": {
            r: {**copy.deepcopy(record), "rating": confidence(record["rating"])} for r, record in k.risks.items()
        },
        # only once there is one, so a contract from before notices shows as it did
        **({"notices": copy.deepcopy(k.notices)} if k.notices else {}),
    }
