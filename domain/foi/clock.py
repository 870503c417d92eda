"""The FOI clock: the twentieth working day following the date of receipt (FOIA s.10).

The Act's working day is not the ledger's standstill working day: s.10(6) excludes "a day
which is a bank holiday under the Banking and Financial Dealings Act 1971 in any part of the
United Kingdom", so St Patrick's Day, the Battle of the Boyne, Scotland's 2 January, first
Monday in August and St Andrew's Day stop the clock of an English authority too (the ICO's
line to take LTT47 says the same). The calendar is the one the ledger ships for England and
Wales (`domain.kernel.working_days`) joined with those other days
(`domain/kernel/data/bank_holidays_rest_of_uk.json`), over the same years; outside them a
calculation raises `CalendarNotCovered` rather than guess.

What moves the day, all of it given as arguments (this module reads no clock):
- **the date of receipt** (s.10(6)): the day the request arrives, whether or not a working
  day (the ICO: day one is then the next working day); or, if later, the day the answer to a
  clarification sought under s.1(3) arrives. A clarified request starts a new 20 working
  days from that day, not the remainder of the old ones (s.10(6)(b); ICO line to take
  LTT137: "the clarified request instigates a new statutory time period for compliance,
  which commences on the date of the receipt of that subsequent request");
- **a fees notice** (s.10(2)): the working days from the day the notice is given to the day
  the fee is received, both included, are disregarded;
- **a public interest extension** (s.10(3)): "such time as is reasonable"; the ICO takes no
  more than 20 further working days as reasonable, counted on from the twentieth.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from importlib import resources

from domain.kernel.working_days import CalendarNotCovered, is_working_day

__all__ = [
    "CalendarNotCovered",
    "FOIA_WORKING_DAYS",
    "OTHER_UK_BANK_HOLIDAYS",
    "due_date",
    "is_foia_working_day",
    "working_days_left",
]

#: s.10(1): "not later than the twentieth working day following the date of receipt"
FOIA_WORKING_DAYS = 20
_ONE_DAY = timedelta(days=1)
_DATA_FILE = "bank_holidays_rest_of_uk.json"


def _load() -> frozenset[date]:
    raw = json.loads(resources.files("domain.kernel.data").joinpath(_DATA_FILE).read_text(encoding="utf-8"))
    days = [date.fromisoformat(e["date"]) for e in raw["events"]]
    if days != sorted(set(days)) or any(d.weekday() >= 5 for d in days):
        raise RuntimeError(f"{_DATA_FILE}: days must be weekdays, sorted, without duplicates")
    if not all(int(raw["first_year"]) <= d.year <= int(raw["last_year"]) for d in days):
        raise RuntimeError(f"{_DATA_FILE}: a day is outside its own years")
    return frozenset(days)


#: the bank holidays of Scotland and Northern Ireland that England and Wales do not have
OTHER_UK_BANK_HOLIDAYS: frozenset[date] = _load()


def is_foia_working_day(day: date) -> bool:
    """A working day in the Act's sense: not a weekend, nor a bank holiday anywhere in the UK."""
    return is_working_day(day) and day not in OTHER_UK_BANK_HOLIDAYS


def due_date(receipt: date, *, disregarded: Iterable[tuple[date, date]] = (), extension: int = 0) -> date:
    """The day the response is due: the twentieth working day following `receipt`, not counting
    the working days of any `disregarded` period (first and last day included), then
    `extension` working days more."""
    if extension < 0:
        raise ValueError(f"an extension is a number of working days, not {extension}")
    periods = tuple(disregarded)
    for first, last in periods:
        if last < first:
            raise ValueError(f"a disregarded period cannot end ({last}) before it begins ({first})")
    remaining = FOIA_WORKING_DAYS + extension
    day = receipt
    while remaining:
        day += _ONE_DAY
        if is_foia_working_day(day) and not any(first <= day <= last for first, last in periods):
            remaining -= 1
    return day


def working_days_left(due: date, today: date) -> int:
    """Working days from `today` to `due`: 0 on the day itself, negative once overdue (days late)."""
    if today == due:
        return 0
    first, last, sign = (today, due, 1) if today < due else (due, today, -1)
    count, day = 0, first
    while day < last:
        day += _ONE_DAY
        if is_foia_working_day(day):
            count += 1
    return sign * count

