"""Placement returns (seed 000 s.3.2): one home's placements for one month, and their rules.

Each placement is under a local pseudonymous reference (never an NHS number: a reference
passing the NHS number check digit is refused), validated against the framework's rate for
the bed type, with future dates refused and a placement that disappears from last month's
return without an end date and reason refused. Every failure is reported at once
(`ReturnInvalid`). A month's return is submitted once; it is due on the 10th working day
after the month ends.

Public methods decide; the nested events' `apply` only assign state.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from domain.kernel.errors import RuleBroken
from domain.kernel.metadata import LedgerAggregate
from domain.kernel.topics import stored_as
from domain.monitoring.periods import MONTHLY, date_or_none, due_on, lateness, month_bounds
from domain.monitoring.templates import Failures
from domain.providers.location import BED_TYPES, london_day

END_REASONS = ("died", "discharged_home", "moved_to_another_home", "admitted_to_hospital", "funding_ended", "other")
#: placement returns are due on this working day after the month ends (seed 000 s.3.2 sets no day; we use the quality return's)
PLACEMENT_DEADLINE_WORKING_DAYS = 10
#: a placement return's periods and deadline, as a template would state them
PLACEMENT_PERIODS = {**MONTHLY, "deadline": {"rule": "working_days_after_period_end", "days": PLACEMENT_DEADLINE_WORKING_DAYS}}

_LOCAL_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")


def passes_nhs_check_digit(text: str) -> bool:
    """True for a 10-digit value whose last digit is its NHS number modulus-11 check digit."""
    digits = text.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def placement_return_reference(location: str, period: str) -> str:
    return f"{location}/placements/{period}"


def validate_placements(
    *,
    period: str,
    placements: list[dict[str, Any]],
    rate_on: Callable[[date, str], int | None],
    previous: list[dict[str, Any]] | None,
    today: date,
) -> list[dict[str, Any]]:
    """Check a month's placements; the placements with the framework rate each was checked against.

    The rate is the framework's rate for the bed type on the later of the placement's start
    and the first day of the month (the rate being paid that month). A different rate needs
    a flagged explanation. Raises `ReturnInvalid` listing every failure.
    """
    f = Failures()
    start_of_month, end_of_month = month_bounds(period)
    checked = []
    seen: set[str] = set()
    for i, p in enumerate(placements):
        ref = p.get("reference") or ""
        where = f"placements[{i}]"
        if passes_nhs_check_digit(ref):
            f.add(
                f"{where}.reference",
                "nhs_number_refused",
                f"{ref} looks like an NHS number (10 digits passing the NHS number check digit); no patient-identifiable "
                "data may be stored, so use the home's local pseudonymous reference instead.",
            )
            continue
        if not _LOCAL_REF.match(ref):
            f.add(f"{where}.reference", "invalid_reference", "A placement reference is a local code of letters, digits, '.', '_' or '-' (no names).")
            continue
        where = f"placements.{ref}"
        if ref in seen:
            f.add(where, "duplicate_placement", f"Placement {ref} is listed twice.")
            continue
        seen.add(ref)
        bed_type = p.get("bed_type")
        if bed_type not in BED_TYPES:
            f.add(f"{where}.bed_type", "unknown_bed_type", f"Bed type is one of {', '.join(BED_TYPES)}.")
        start, end = date_or_none(p.get("start_date")), date_or_none(p.get("end_date"))
        if start is None:
            f.add(f"{where}.start_date", "not_a_date", "start_date is a date (YYYY-MM-DD).")
        elif start > today:
            f.add(f"{where}.start_date", "date_in_future", f"start_date {start} is in the future (today is {today}).")
        elif start > end_of_month:
            f.add(f"{where}.start_date", "after_period", f"start_date {start} is after the month {period} ends.")
        if p.get("end_date") is not None:
            if end is None:
                f.add(f"{where}.end_date", "not_a_date", "end_date is a date (YYYY-MM-DD).")
            elif end > today:
                f.add(f"{where}.end_date", "date_in_future", f"end_date {end} is in the future (today is {today}).")
            elif start is not None and end < start:
                f.add(f"{where}.end_date", "end_before_start", f"end_date {end} is before start_date {start}.")
            if not p.get("end_reason"):
                f.add(f"{where}.end_reason", "end_reason_required", "An ended placement needs an end reason.")
        if p.get("end_reason") is not None:
            if p["end_reason"] not in END_REASONS:
                f.add(f"{where}.end_reason", "unknown_end_reason", f"End reason is one of {', '.join(END_REASONS)}.")
            if p.get("end_date") is None:
                f.add(f"{where}.end_date", "end_date_required", "An end reason needs the end date.")
        rate = p.get("weekly_rate")
        expected = None
        if isinstance(rate, bool) or not isinstance(rate, int) or rate <= 0:
            f.add(f"{where}.weekly_rate", "not_money", "weekly_rate is pence per week, a whole number above 0.")
        elif bed_type in BED_TYPES and start is not None:
            day = max(start, start_of_month)
            expected = rate_on(day, bed_type)
            explanation = (p.get("rate_explanation") or "").strip()
            if expected is None:
                if not explanation:
                    f.add(f"{where}.weekly_rate", "no_framework_rate", f"The framework has no {bed_type} rate on {day}; explain the rate paid.")
            elif rate != expected and not explanation:
                f.add(
                    f"{where}.weekly_rate",
                    "rate_not_framework_rate",
                    f"The AQP rate for {bed_type} on {day} is {expected} pence a week, not {rate}; "
                    "correct it or flag it with a rate_explanation.",
                )
        if not p.get("icb"):
            f.add(f"{where}.icb", "required", "The commissioning ICB is required.")
        checked.append({**p, "framework_rate": expected, "rate_flagged": expected is not None and rate != expected})
    for prior in previous or []:
        ref = prior["reference"]
        ended_before = prior.get("end_date") is not None and prior["end_date"] < start_of_month.isoformat()
        if ref not in seen and not ended_before and prior.get("end_date") is None:
            f.add(
                f"placements.{ref}",
                "placement_disappeared",
                f"Placement {ref} was open in last month's return; it stays in this return until it is given an end date and reason.",
            )
    f.raise_if_any("The placement return", code="placement_return_invalid")
    return [{k: v for k, v in sorted(p.items()) if v is not None} for p in checked]


@stored_as("domain.returns")
class PlacementReturn(LedgerAggregate):
    """One home's placements for one month (seed 000 s.3.2)."""

    KIND = "placement_return"

    def __init__(self) -> None:
        self.reference = ""
        self.location = ""
        self.framework = ""
        self.period = ""
        self.due_on = ""
        self.placements: list[dict[str, Any]] = []
        self.lateness: dict[str, Any] | None = None

    @classmethod
    def submit_new(
        cls,
        *,
        location: str,
        framework: str,
        period: str,
        placements: list[dict[str, Any]],
        rate_on: Callable[[date, str], int | None],
        previous: list[dict[str, Any]] | None,
        now: datetime,
    ) -> PlacementReturn:
        today = london_day(now)
        _, end = month_bounds(period)
        if today <= end:
            raise RuleBroken(
                f"The month {period} ends on {end}; its placements can be returned from the next day.", code="period_not_ended", field="period"
            )
        checked = validate_placements(period=period, placements=placements, rate_on=rate_on, previous=previous, today=today)
        due = due_on(PLACEMENT_PERIODS, period)
        reference = placement_return_reference(location, period)
        return cls._create(
            cls.Submitted,
            id=cls.id_for(reference),
            reference=reference,
            location=location,
            framework=framework,
            period=period,
            placements=checked,
            lateness=lateness(due, today),
        )

    def same_as(self, placements: list[dict[str, Any]]) -> bool:
        strip = ("framework_rate", "rate_flagged")
        mine = [{k: v for k, v in p.items() if k not in strip} for p in self.placements]
        theirs = [{k: v for k, v in sorted(p.items()) if v is not None} for p in placements]
        return mine == theirs

    class Submitted(LedgerAggregate.Created):
        reference: str
        location: str
        framework: str
        period: str
        placements: list
        lateness: dict

        def apply(self, r: PlacementReturn) -> None:
            r.reference, r.location, r.framework, r.period = self.reference, self.location, self.framework, self.period
            r.placements = copy.deepcopy(self.placements)
            r.lateness = dict(self.lateness)
            r.due_on = self.lateness["due_on"]
