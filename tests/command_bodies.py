"""Command bodies several tests send, as JSON for POST /commands."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any


def competition_opening(reference: str, *, days: int = 30, **changes: Any) -> dict[str, Any]:
    """North East London residential care opened now, tenders due in `days` (clarifications 10 days before)."""
    now = datetime.now(timezone.utc).replace(microsecond=0)
    return {
        "type": "competition.open",
        "competition": reference,
        "title": "Residential care, North East London",
        "procedure": "open",
        "standstill_regime": "pcr2015",
        "lots": [{"id": "NEL", "name": "North East London"}],
        "clarification_deadline": (now + timedelta(days=days - 10)).isoformat(),
        "tender_deadline": (now + timedelta(days=days)).isoformat(),
        **changes,
    }
