"""The standstill: when the pause between the outcome letters and the award ends, by regime.

Days are London days, and working days those of England and Wales (`domain/kernel/working_days.py`);
a day beyond the bank holidays the ledger ships is refused rather than guessed.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from domain.kernel.errors import RuleBroken
from domain.kernel.working_days import CalendarNotCovered, add_working_days, working_day_on_or_after

LONDON = ZoneInfo("Europe/London")


def standstill_end(regime: str, letters_sent: datetime) -> tuple[date, datetime]:
    """The last day of the standstill and the instant it ends (midnight after, London time).

    - PCR 2015 reg 87: 10 days from the day after the letters are sent electronically; where
      the last day is not a working day the period runs to the next working day.
    - Procurement Act 2023 s.51: 8 working days beginning with the day the contract award
      notice is published; until it is, the letters' day stands in for it (the letters tell
      bidders the end assuming the notice goes out that day), and the notice's publication
      recounts it (`standstill_from_notice`).
    - Provider Selection Regime 2024 reg 12: 8 working days from the day after the notice of
      intention to award, likewise recounted from that notice (a representation extends it:
      see `standstill_after_representation`).
    """
    sent_day = letters_sent.astimezone(LONDON).date()
    try:
        if regime == "pcr2015":
            last_day = working_day_on_or_after(sent_day + timedelta(days=10))
        elif regime == "pa2023":
            # "beginning with the day" the notice is published: that day counts if a working day.
            last_day = add_working_days(sent_day - timedelta(days=1), 8)
        elif regime == "psr2024":
            last_day = add_working_days(sent_day, 8)
        else:  # pragma: no cover - regimes are validated when the competition opens
            raise ValueError(f"unknown standstill regime {regime!r}")
    except CalendarNotCovered as err:
        raise _calendar_refusal(err) from None
    return last_day, _end_of_day(last_day)


def standstill_from_notice(regime: str, published_on: date) -> tuple[date, datetime]:
    """The last day and end of the standstill counted from the notice that starts it.

    - Procurement Act 2023 s.51(2): 8 working days beginning with the day the contract award
      notice is published (that day counts if it is a working day).
    - Provider Selection Regime reg 12: the standstill begins with the day the notice of
      intention to award is published and ends at midnight after the 8th working day after it.
    """
    try:
        if regime == "pa2023":
            last_day = add_working_days(published_on - timedelta(days=1), 8)
        elif regime == "psr2024":
            last_day = add_working_days(published_on, 8)
        else:  # pragma: no cover - only these regimes count from a notice
            raise ValueError(f"the {regime} standstill does not count from a notice")
    except CalendarNotCovered as err:
        raise _calendar_refusal(err) from None
    return last_day, _end_of_day(last_day)


def standstill_after_representation(decided_at: datetime) -> tuple[date, datetime]:
    """The last day and end of the standstill after the authority decides a representation.

    Provider Selection Regime 2024 reg 12: once the authority has decided on a representation,
    the standstill runs for a further 5 working days from that decision.
    """
    decision_day = decided_at.astimezone(LONDON).date()
    try:
        last_day = add_working_days(decision_day, 5)
    except CalendarNotCovered as err:
        raise _calendar_refusal(err) from None
    return last_day, _end_of_day(last_day)


def _calendar_refusal(err: CalendarNotCovered) -> RuleBroken:
    return RuleBroken(f"The standstill cannot be computed: {err}", code="calendar_not_covered")


def _end_of_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=LONDON)
