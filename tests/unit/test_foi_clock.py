"""The FOI clock with worked dates: 20 working days (FOIA s.10) across bank holidays and pauses.

Each worked date is counted by hand in its test's comment, day by day, so a reader can check
it against a calendar: "(n)" is the n-th working day following the date of receipt.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.foi.clock import OTHER_UK_BANK_HOLIDAYS, due_date, is_foia_working_day, working_days_left
from domain.kernel.working_days import BANK_HOLIDAYS, add_working_days


def test_a_request_received_the_monday_before_christmas_2025_is_due_on_friday_23_january_2026():
    # Received Mon 22 Dec 2025. Not working days: 25 and 26 Dec (Christmas, Boxing Day), the
    # weekends, 1 Jan 2026 (New Year's Day) and Fri 2 Jan 2026 (a bank holiday in Scotland,
    # so not a working day under FOIA s.10(6) in England either).
    # 23 Dec (1), 24 (2), 29 (3), 30 (4), 31 (5), 5 Jan (6), 6-9 (7-10), 12-16 (11-15), 19-23 (16-20).
    assert due_date(date(2025, 12, 22)) == date(2026, 1, 23)


def test_scotlands_second_of_january_counts_where_the_england_and_wales_calendar_alone_would_not():
    assert add_working_days(date(2025, 12, 22), 20) == date(2026, 1, 22)  # the E&W calendar: one day short
    assert not is_foia_working_day(date(2026, 1, 2))


def test_a_request_received_the_wednesday_before_easter_2026_is_due_on_friday_1_may():
    # Received Wed 1 Apr 2026; Good Friday 3 Apr and Easter Monday 6 Apr are bank holidays.
    # 2 Apr (1), 7-10 Apr (2-5), 13-17 (6-10), 20-24 (11-15), 27-30 (16-19), Fri 1 May (20).
    assert due_date(date(2026, 4, 1)) == date(2026, 5, 1)


def test_st_patricks_day_stops_the_clock_of_an_english_authority_too():
    # Received Mon 16 Mar 2026; Tue 17 Mar is a bank holiday in Northern Ireland.
    # 18-20 Mar (1-3), 23-27 (4-8), 30 Mar-2 Apr (9-12), [3 and 6 Apr: Easter], 7-10 Apr (13-16), 13-16 Apr (17-20).
    assert due_date(date(2026, 3, 16)) == date(2026, 4, 16)


def test_a_request_received_on_a_saturday_counts_from_the_monday():
    # s.10(6): the date of receipt is the day it arrives, working day or not; day one is Monday.
    # Received Sat 7 Mar 2026: 9-13 Mar (1-5), 16 (6), [17 St Patrick's], 18-20 (7-9), 23-27 (10-14), 30 Mar-2 Apr (15-18),
    # [Easter], 7 (19), 8 Apr (20).
    assert due_date(date(2026, 3, 7)) == date(2026, 4, 8)
    assert due_date(date(2026, 3, 8)) == due_date(date(2026, 3, 7))


def test_a_clarified_request_starts_a_new_twenty_working_days_from_the_day_the_answer_arrives():
    # Received 1 Apr 2026 (due 1 May); clarification sought 2 Apr and answered Fri 10 Apr: s.10(6)(b).
    # 13-17 Apr (1-5), 20-24 (6-10), 27 Apr-1 May (11-15), [Mon 4 May: Early May bank holiday], 5-8 May (16-19), Mon 11 May (20).
    assert due_date(date(2026, 4, 10)) == date(2026, 5, 11)


def test_the_working_days_of_a_fees_notice_until_the_fee_arrives_are_disregarded():
    # Received Mon 2 Mar 2026: without a fee due Tue 31 Mar. Notice Mon 9 Mar, fee received Fri 13 Mar:
    # the five working days 9-13 Mar are disregarded (s.10(2), both ends included).
    # 3-6 Mar (1-4), 16 (5), [17], 18-20 (6-8), 23-27 (9-13), 30-31 (14-15), 1-2 Apr (16-17), [3, 6 Apr], 7-9 Apr (18-20).
    assert due_date(date(2026, 3, 2)) == date(2026, 3, 31)
    assert due_date(date(2026, 3, 2), disregarded=[(date(2026, 3, 9), date(2026, 3, 13))]) == date(2026, 4, 9)


def test_an_extension_for_the_public_interest_counts_on_from_the_twentieth_working_day():
    # Received 1 Apr 2026, due Fri 1 May; 10 more working days: [4 May], 5-8 May (1-4), 11-15 (5-9), Mon 18 May (10).
    assert due_date(date(2026, 4, 1), extension=10) == date(2026, 5, 18)


def test_working_days_left_are_counted_to_the_due_date_and_negative_once_late():
    due = date(2026, 5, 1)
    assert working_days_left(due, date(2026, 4, 28)) == 3
    assert working_days_left(due, due) == 0
    assert working_days_left(due, date(2026, 5, 5)) == -1  # Mon 4 May is a bank holiday


def test_the_other_uk_bank_holidays_are_weekdays_that_england_and_wales_do_not_have():
    assert OTHER_UK_BANK_HOLIDAYS.isdisjoint(BANK_HOLIDAYS)
    assert {date(2025, 3, 17), date(2025, 7, 14), date(2025, 8, 4), date(2025, 12, 1), date(2026, 11, 30)} <= OTHER_UK_BANK_HOLIDAYS
    assert {d.year for d in OTHER_UK_BANK_HOLIDAYS} == set(range(2018, 2031))


receipts = st.dates(min_value=date(2018, 1, 1), max_value=date(2029, 6, 30))


@given(receipts)
def test_the_due_date_is_always_a_working_day_after_receipt(received):
    due = due_date(received)
    assert is_foia_working_day(due)
    assert due > received


@given(receipts, st.integers(min_value=0, max_value=90), st.integers(min_value=0, max_value=60))
def test_a_pause_never_makes_the_due_date_earlier(received, starts_after, length):
    # A clarification answered `length` days after receipt, and a fees notice paid `length` days after it was given.
    first = received + timedelta(days=starts_after)
    plain = due_date(received)
    assert due_date(received + timedelta(days=length)) >= plain
    paused = due_date(received, disregarded=[(first, first + timedelta(days=length))])
    assert paused >= plain
    assert is_foia_working_day(paused)
