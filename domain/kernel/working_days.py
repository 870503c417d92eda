"""Working-day arithmetic for England and Wales.

Statutory standstill periods and similar deadlines are counted in working
days, so a wrong bank holiday means a wrong deadline. The calendar is data
(``domain/kernel/data/bank_holidays_england_and_wales.json``), loaded once at import,
and this module never reads the clock: every answer depends only on its
arguments, which keeps it replayable for the ledger.

Any calculation that needs a day outside the years the data covers raises
:class:`CalendarNotCovered` rather than guessing.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from importlib import resources

__all__ = [
    "BANK_HOLIDAYS",
    "CalendarNotCovered",
    "add_working_days",
    "is_working_day",
    "working_day_on_or_after",
    "working_days_between",
]

_DATA_PACKAGE = "domain.kernel.data"
_DATA_FILE = "bank_holidays_england_and_wales.json"
_ONE_DAY = timedelta(days=1)


class CalendarNotCovered(ValueError):
    """A calculation needed a day outside the years the bank-holiday data covers.

    Raised instead of treating unknown years as holiday-free, because that
    would silently miscount a standstill period.
    """

    def __init__(self, day: date, first_year: int, last_year: int) -> None:
        self.day = day
        self.first_year = first_year
        self.last_year = last_year
        super().__init__(
            f"{day.isoformat()} is outside the bank holiday calendar for England and Wales, "
            f"which covers {first_year} to {last_year} inclusive; extend {_DATA_FILE} first"
        )


def _load() -> tuple[int, int, frozenset[date]]:
    """Read and sanity-check the packaged calendar, so bad data fails at import."""
    raw = json.loads(
        resources.files(_DATA_PACKAGE).joinpath(_DATA_FILE).read_text(encoding="utf-8")
    )
    if raw.get("division") != "england-and-wales":
        raise RuntimeError(f"{_DATA_FILE}: expected division 'england-and-wales'")
    first_year = int(raw["first_year"])
    last_year = int(raw["last_year"])
    days = [date.fromisoformat(event["date"]) for event in raw["events"]]
    if days != sorted(set(days)):
        raise RuntimeError(f"{_DATA_FILE}: events must be sorted by date without duplicates")
    for day in days:
        if not first_year <= day.year <= last_year:
            raise RuntimeError(f"{_DATA_FILE}: {day} is outside {first_year}..{last_year}")
        if day.weekday() >= 5:
            raise RuntimeError(f"{_DATA_FILE}: {day} falls at a weekend")
    return first_year, last_year, frozenset(days)


_FIRST_YEAR, _LAST_YEAR, _HOLIDAYS = _load()

#: Every bank holiday in England and Wales for the covered years (substitute
#: days included, weekend originals excluded).
BANK_HOLIDAYS: frozenset[date] = _HOLIDAYS


def _check_date(day: object) -> date:
    """Reject non-dates (and datetimes, which never equal a date) so lookups cannot silently miss."""
    if isinstance(day, datetime) or not isinstance(day, date):
        raise TypeError(f"expected a datetime.date, got {type(day).__name__}: {day!r}")
    return day


def _check_covered(day: date) -> None:
    if not _FIRST_YEAR <= day.year <= _LAST_YEAR:
        raise CalendarNotCovered(day, _FIRST_YEAR, _LAST_YEAR)


def is_working_day(day: date) -> bool:
    """True for Monday to Friday unless it is a bank holiday; raises CalendarNotCovered outside the data."""
    _check_date(day)
    _check_covered(day)
    return day.weekday() < 5 and day not in _HOLIDAYS


def working_day_on_or_after(day: date) -> date:
    """``day`` if it is a working day, otherwise the next working day (deadlines roll forward, never back)."""
    _check_date(day)
    while not is_working_day(day):
        day += _ONE_DAY
    return day


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day after ``day``.

    ``day`` itself never counts, whether or not it is a working day, so
    ``add_working_days(friday, 1)`` is the following Monday (if that is not a
    bank holiday). ``count`` must be at least 1: a zero or negative offset is
    almost certainly a caller bug, not a request for "today".
    """
    _check_date(day)
    if isinstance(count, bool) or not isinstance(count, int):
        raise TypeError(f"count must be an int, got {type(count).__name__}: {count!r}")
    if count < 1:
        raise ValueError(f"count must be at least 1 working day, got {count}")
    remaining = count
    while remaining:
        day += _ONE_DAY
        if is_working_day(day):
            remaining -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """How many working days ``d`` satisfy ``start < d <= end`` (0 if ``end <= start``).

    The half-open interval matches :func:`add_working_days`, so
    ``working_days_between(d, add_working_days(d, n)) == n``.
    """
    _check_date(start)
    _check_date(end)
    if end <= start:
        return 0
    _check_covered(end)
    count = 0
    day = start + _ONE_DAY
    while day <= end:
        if is_working_day(day):
            count += 1
        day += _ONE_DAY
    return count
