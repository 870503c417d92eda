"""Periods of a return template's frequency: their bounds, deadlines, lateness and neighbours.

A period is named in the template's frequency: monthly `2026-04`, quarterly `2026-Q1` (of the
financial year from April), annual `2026-27`, 4-weekly by its first day (28 days apart from
the template's anchor). `period_bounds` gives its first and last day, `due_on` its deadline
by the template's deadline rule (working days in England and Wales, see
domain/kernel/working_days.py), `lateness` how late a return came, and `shift_period` the
period so many before or after it. Pure functions: they read no clock.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, timedelta
from typing import Any

from domain.kernel.errors import RuleBroken, ValidationFailed
from domain.kernel.working_days import CalendarNotCovered, add_working_days

#: the frequency of a placement return (one a month), as a template states it
MONTHLY = {"frequency": "monthly"}

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})-(\d{2})$")


def date_or_none(text: Any) -> date | None:
    """`text` as a date if it is one (YYYY-MM-DD), else None."""
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def period_bounds(definition: dict[str, Any], period: str) -> tuple[date, date]:
    """The first and last day of `period` in the template's frequency.

    monthly: 2026-04; quarterly: 2026-Q1 (quarters of the financial year starting April
    2026, so Q1 is April-June); annual: 2026-27 (April 2026 to March 2027); 4-weekly: the
    period's first day, 28 days apart from the template's anchor (2026-04-06).
    """
    frequency = definition["frequency"]
    bad = ValidationFailed
    if frequency == "monthly":
        m = _MONTH.match(period)
        if not m:
            raise bad(f"A monthly period is YYYY-MM, not {period!r}.", code="invalid_period", field="period")
        year, month = int(m[1]), int(m[2])
        return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])
    if frequency == "quarterly":
        m = _QUARTER.match(period)
        if not m:
            raise bad(f"A quarterly period is YYYY-Qn (financial year from April), not {period!r}.", code="invalid_period", field="period")
        year, q = int(m[1]), int(m[2])
        first_month = 4 + 3 * (q - 1)
        start = date(year + (first_month - 1) // 12, (first_month - 1) % 12 + 1, 1)
        last_month = first_month + 2
        end_year, end_month = year + (last_month - 1) // 12, (last_month - 1) % 12 + 1
        return start, date(end_year, end_month, calendar.monthrange(end_year, end_month)[1])
    if frequency == "annual":
        m = _YEAR.match(period)
        if not m or (int(m[1]) + 1) % 100 != int(m[2]):
            raise bad(f"An annual period is the financial year, e.g. 2026-27, not {period!r}.", code="invalid_period", field="period")
        return date(int(m[1]), 4, 1), date(int(m[1]) + 1, 3, 31)
    start = date_or_none(period)
    anchor = date.fromisoformat(definition["anchor"])
    if start is None or (start - anchor).days % 28:
        raise bad(
            f"A 4-weekly period is named by its first day, a multiple of 28 days from {anchor}, not {period!r}.",
            code="invalid_period",
            field="period",
        )
    return start, start + timedelta(days=27)


def due_on(definition: dict[str, Any], period: str) -> date:
    """The deadline of the return for `period`, from the template's deadline rule."""
    _, end = period_bounds(definition, period)
    rule = definition["deadline"]
    if rule["rule"] == "calendar_days_after_period_end":
        return end + timedelta(days=rule["days"])
    try:
        return add_working_days(end, rule["days"])
    except CalendarNotCovered as err:
        raise RuleBroken(str(err), code="calendar_not_covered") from None


def lateness(due: date, submitted_on: date) -> dict[str, Any]:
    days = (submitted_on - due).days
    return {"due_on": due.isoformat(), "submitted_on": submitted_on.isoformat(), "on_time": days <= 0, "days_late": max(days, 0)}



def shift_period(definition: dict[str, Any], period: str, steps: int) -> str:
    """The period `steps` periods after (or before, if negative) `period`, in the template's frequency."""
    start, _ = period_bounds(definition, period)
    frequency = definition["frequency"]
    if frequency == "4-weekly":
        return (start + timedelta(days=28 * steps)).isoformat()
    if frequency == "annual":
        year = start.year + steps
        return f"{year}-{(year + 1) % 100:02d}"
    months = 1 if frequency == "monthly" else 3
    index = start.year * 12 + start.month - 1 + months * steps
    year, month = divmod(index, 12)
    if frequency == "monthly":
        return f"{year:04d}-{month + 1:02d}"
    financial_year = year if month + 1 >= 4 else year - 1
    quarter = ((month + 1 - 4) % 12) // 3 + 1
    return f"{financial_year:04d}-Q{quarter}"


def month_bounds(period: str) -> tuple[date, date]:
    return period_bounds(MONTHLY, period)


def previous_month(period: str) -> str:
    return shift_period(MONTHLY, period, -1)
