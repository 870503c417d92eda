"""The simplest realistic command, shared by the benchmarks and the storage tests."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from domain.procurement import commands as c
from domain.kernel.metadata import Actor

LEAD = Actor(id="lead", org="CSU", role="procurement_lead")
OPENED_AT = datetime(2026, 1, 5, 9, tzinfo=timezone.utc)


def open_competition(reference: str, *, regime: str = "pcr2015", title: str = "London AQP round") -> c.OpenCompetition:
    """A one-lot round whose deadlines lie well after OPENED_AT."""
    return c.OpenCompetition(
        competition=reference,
        title=title,
        procedure="light_touch",
        standstill_regime=regime,  # type: ignore[arg-type]
        lots=[c.LotSpec(id="NCL", name="North Central London")],
        clarification_deadline=OPENED_AT + timedelta(days=30),
        tender_deadline=OPENED_AT + timedelta(days=45),
    )
