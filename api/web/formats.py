"""How a page writes a value: money, numbers, shares, dates, identifiers, a status's tag colour.

Jinja filters (`api.web.templating`) and the list cells written in Python (`api.web.lists`) both use these.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any


def pounds(pence: int | float | None) -> str:
    """Pence as money, the way a commissioner writes it: £1,234.56."""
    if pence is None:
        return "–"
    return f"£{pence / 100:,.2f}"


def number(value: int | float | None, places: int = 0) -> str:
    if value is None:
        return "–"
    return f"{value:,.{places}f}"


def percent(value: float | None, places: int = 1) -> str:
    """A share (0-1) as a percentage."""
    if value is None:
        return "–"
    return f"{value * 100:.{places}f}%"


def day(value: str | date | datetime | None) -> str:
    """A date as people in England write it: 3 December 2026."""
    if value is None or value == "":
        return "–"
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value[:10])
        except ValueError:
            return value
    return f"{value.day} {value:%B %Y}"


def words(value: str | None) -> str:
    """An identifier as words: `contract_manager` -> `contract manager`."""
    return "–" if value is None else str(value).replace("_", " ")


#: a status or outcome -> the design system's tag colour (the tag's words carry the meaning too)
TAG_COLOURS = {
    "red": "red", "amber": "orange", "green": "green",
    "met": "green", "breached": "red", "on_time": "green", "late": "yellow", "missed": "red", "overdue": "orange",
    "open": "orange", "cleared": "grey", "yes": "blue", "no": "grey",
    "active": "green", "mobilised": "green", "suspended": "red", "terminated": "grey", "ended": "grey",
    "awarded": "blue", "signed": "blue", "expired": "grey",
    # delivery confidence and risk ratings on the seed's five-point RAG scale (the words say which)
    "amber/green": "yellow", "amber/red": "red",
    "service_failure": "red",
}


def tag_colour(value: Any) -> str:
    return TAG_COLOURS.get(str(value).lower(), "grey")
