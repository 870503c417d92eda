"""What holds for a home on a given day: a suspension of placements in force, a vacancy report stale.

Both depend on the day asked about, which the records and read models do not know (they
have no clock: a rebuild must give the same rows), so the day is given by whoever asks:
the location's view, the CMS list over HTTP (today in England, or the day of `as_of`).

- A voluntary suspension of placements is in force on a day when it has not been lifted by
  then, has started (its first day is on or before the day) and has not lapsed (it has no
  last day, or the day is on or before it): a suspension with an end date lapses by itself,
  without an event, and one may start in the future.
- A vacancy report is stale on a day when it is for a day more than `after_days` before it:
  homes report daily, and with `after_days` 3 a Friday report read on Monday is still the
  latest a home that does not report at weekends has.

Days are ISO dates (`2026-04-01`) as the records keep them: they compare as text.
"""

from __future__ import annotations

from datetime import date, timedelta


def suspension_in_force(day: date, *, first_day: str | None, last_day: str | None, lifted: bool) -> bool:
    """Whether a suspension from `first_day` to `last_day` (None: until lifted) is in force on `day`."""
    iso = day.isoformat()
    return not lifted and first_day is not None and first_day <= iso and (last_day is None or iso <= last_day)


def report_age_days(report_day: str, day: date) -> int:
    """Days between the day a vacancy report is for and `day`."""
    return (day - date.fromisoformat(report_day)).days


def stale_before(day: date, after_days: int) -> str:
    """Reports for a day before this one are stale on `day`."""
    return (day - timedelta(days=after_days)).isoformat()


def report_stale(report_day: str, day: date, after_days: int) -> bool:
    """Whether a report for `report_day` is stale on `day` (more than `after_days` old)."""
    return report_day < stale_before(day, after_days)
