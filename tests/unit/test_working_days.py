from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.kernel.working_days import (
    BANK_HOLIDAYS,
    CalendarNotCovered,
    add_working_days,
    is_working_day,
    working_day_on_or_after,
    working_days_between,
)

FIRST_YEAR, LAST_YEAR = 2018, 2030


def holidays_in(year: int) -> set[date]:
    return {d for d in BANK_HOLIDAYS if d.year == year}


def test_the_data_file_declares_england_and_wales_for_2018_to_2030_sorted_by_date():
    raw = json.loads(
        resources.files("domain.kernel.data")
        .joinpath("bank_holidays_england_and_wales.json")
        .read_text(encoding="utf-8")
    )
    assert raw["division"] == "england-and-wales"
    assert (raw["first_year"], raw["last_year"]) == (FIRST_YEAR, LAST_YEAR)
    dates = [event["date"] for event in raw["events"]]
    assert dates == sorted(dates)
    assert all(event["title"] for event in raw["events"])
    assert raw["note"]


@pytest.mark.parametrize("year", range(FIRST_YEAR, LAST_YEAR + 1))
def test_every_covered_year_has_at_least_eight_bank_holidays_all_on_weekdays(year):
    days = holidays_in(year)
    assert len(days) >= 8
    assert all(d.weekday() < 5 for d in days)


@pytest.mark.parametrize(
    "one_off",
    [
        date(2020, 5, 8),  # early May bank holiday moved to Friday for VE Day 75
        date(2022, 6, 2),  # spring bank holiday moved to Thursday
        date(2022, 6, 3),  # Platinum Jubilee
        date(2022, 9, 19),  # State Funeral of Queen Elizabeth II
        date(2023, 5, 8),  # Coronation of King Charles III
    ],
)
def test_the_known_one_off_bank_holidays_are_in_the_calendar(one_off):
    assert one_off in BANK_HOLIDAYS
    assert not is_working_day(one_off)


def test_the_moved_2020_and_2022_bank_holidays_are_not_also_kept_on_their_usual_mondays():
    assert date(2020, 5, 4) not in BANK_HOLIDAYS
    assert date(2022, 5, 30) not in BANK_HOLIDAYS


@pytest.mark.parametrize(
    "year, expected",
    [
        (2025, [(1, 1), (4, 18), (4, 21), (5, 5), (5, 26), (8, 25), (12, 25), (12, 26)]),
        (2026, [(1, 1), (4, 3), (4, 6), (5, 4), (5, 25), (8, 31), (12, 25), (12, 28)]),
        (2022, [(1, 3), (4, 15), (4, 18), (5, 2), (6, 2), (6, 3), (8, 29), (9, 19), (12, 26), (12, 27)]),
        (2023, [(1, 2), (4, 7), (4, 10), (5, 1), (5, 8), (5, 29), (8, 28), (12, 25), (12, 26)]),
    ],
)
def test_whole_years_match_the_published_gov_uk_lists(year, expected):
    assert holidays_in(year) == {date(year, m, d) for m, d in expected}


@pytest.mark.parametrize(
    "year, substitutes",
    [
        (2021, {date(2021, 12, 27), date(2021, 12, 28)}),  # Christmas Sat, Boxing Day Sun
        (2022, {date(2022, 12, 26), date(2022, 12, 27)}),  # Christmas Sun: Boxing Day Mon, Christmas sub Tue
        (2027, {date(2027, 12, 27), date(2027, 12, 28)}),  # Christmas Sat, Boxing Day Sun
    ],
)
def test_christmas_and_boxing_day_substitutes_are_the_following_weekdays(year, substitutes):
    christmas_holidays = {d for d in holidays_in(year) if d.month == 12}
    assert christmas_holidays == substitutes


def test_new_years_day_at_a_weekend_is_substituted_by_the_monday():
    assert date(2022, 1, 3) in BANK_HOLIDAYS
    assert date(2023, 1, 2) in BANK_HOLIDAYS
    assert date(2028, 1, 3) in BANK_HOLIDAYS


def test_easter_is_skipped_when_counting_working_days():
    # Good Friday 3 April and Easter Monday 6 April 2026.
    assert add_working_days(date(2026, 4, 2), 1) == date(2026, 4, 7)
    assert working_days_between(date(2026, 4, 2), date(2026, 4, 7)) == 1


def test_christmas_2026_and_its_boxing_day_substitute_are_skipped():
    # Christmas Friday 25 December, Boxing Day substitute Monday 28 December 2026.
    assert add_working_days(date(2026, 12, 24), 1) == date(2026, 12, 29)
    assert add_working_days(date(2026, 12, 23), 3) == date(2026, 12, 30)
    assert working_days_between(date(2026, 12, 24), date(2027, 1, 4)) == 4  # 29, 30, 31 Dec, 4 Jan


def test_a_friday_plus_one_working_day_is_the_next_monday():
    assert add_working_days(date(2025, 3, 7), 1) == date(2025, 3, 10)


def test_the_start_day_never_counts_even_when_it_is_a_weekend_or_holiday():
    assert add_working_days(date(2025, 3, 8), 1) == date(2025, 3, 10)  # Saturday
    assert add_working_days(date(2025, 12, 25), 1) == date(2025, 12, 29)  # Christmas Day


def test_working_day_on_or_after_keeps_a_working_day_and_rolls_holidays_forward():
    assert working_day_on_or_after(date(2025, 3, 10)) == date(2025, 3, 10)
    assert working_day_on_or_after(date(2026, 4, 3)) == date(2026, 4, 7)


def test_working_days_between_is_zero_when_end_is_not_after_start():
    assert working_days_between(date(2025, 3, 10), date(2025, 3, 10)) == 0
    assert working_days_between(date(2025, 3, 10), date(2025, 3, 3)) == 0


@pytest.mark.parametrize("count", [0, -1])
def test_a_count_below_one_is_rejected(count):
    with pytest.raises(ValueError, match="at least 1"):
        add_working_days(date(2025, 3, 7), count)


def test_a_datetime_is_rejected_because_it_would_never_match_a_holiday():
    with pytest.raises(TypeError):
        is_working_day(datetime(2025, 12, 25, 9, 0))


@pytest.mark.parametrize(
    "call",
    [
        lambda: is_working_day(date(2031, 1, 2)),
        lambda: is_working_day(date(2017, 12, 29)),
        lambda: add_working_days(date(2030, 12, 30), 5),
        lambda: working_day_on_or_after(date(2031, 6, 1)),
        lambda: working_days_between(date(2017, 12, 1), date(2018, 1, 5)),
        lambda: working_days_between(date(2030, 12, 1), date(2031, 1, 5)),
    ],
)
def test_a_date_outside_the_coverage_raises_calendar_not_covered(call):
    with pytest.raises(CalendarNotCovered) as excinfo:
        call()
    message = str(excinfo.value)
    assert "2018" in message and "2030" in message
    assert isinstance(excinfo.value, ValueError)


def test_calendar_not_covered_names_the_offending_date():
    with pytest.raises(CalendarNotCovered, match="2031-01-01"):
        add_working_days(date(2030, 12, 31), 1)


@given(
    start=st.dates(min_value=date(FIRST_YEAR, 1, 1), max_value=date(LAST_YEAR, 11, 30)),
    count=st.integers(min_value=1, max_value=20),
)
def test_adding_working_days_lands_on_a_later_working_day_and_counts_back_exactly(start, count):
    result = add_working_days(start, count)
    assert result > start
    assert is_working_day(result)
    assert working_days_between(start, result) == count
    # Nothing earlier would do: the day before the result is one working day short.
    assert working_days_between(start, result - timedelta(days=1)) == count - 1
