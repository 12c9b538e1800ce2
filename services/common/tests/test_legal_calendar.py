"""The bureau's legal calendar: working days with holidays and make-up days, periods by the
Civil Code's counting, pauses, and years nobody has supplied."""

import datetime as dt
import logging

import pytest

from services.common.catalog import TimeLimit
from services.common.clock import BureauClock, fixed
from services.common.deadlines import decision_deadline, due_cutoff, resumed_deadline
from services.common.legal_calendar import (
    LegalCalendar,
    Unit,
    parse_year,
    warn_missing,
)

D = dt.date
CALENDAR = LegalCalendar.with_schedules()
WORKING = Unit.WORKING_DAYS
CALENDAR_DAYS = Unit.CALENDAR_DAYS

# A year as a bureau would supply it (made up for the test, not the State Council's 2027
# schedule, which the library does not carry).
SUPPLIED_2027 = """
year = 2027
holidays = [2027-01-01, 2027-02-08, 2027-02-09, 2027-02-10, 2027-02-11, 2027-02-12]
workdays = [2027-02-06]
"""


def test_the_library_knows_2026s_holidays_and_make_up_days():
    assert not CALENDAR.is_working_day(D(2026, 10, 1))  # National Day
    assert not CALENDAR.is_working_day(D(2026, 10, 7))
    assert CALENDAR.is_working_day(D(2026, 9, 20))  # a Sunday worked for National Day
    assert CALENDAR.is_working_day(D(2026, 10, 10))  # a Saturday worked for National Day
    assert not CALENDAR.is_working_day(D(2026, 2, 17))  # Spring Festival
    assert CALENDAR.is_working_day(D(2026, 2, 14))  # a Saturday worked for it
    assert CALENDAR.covers(2026)


def test_working_days_across_the_national_day_week_count_its_make_up_saturday():
    # Accepted Friday 25 September (Mid-Autumn Festival: not counted, nor is the day itself).
    # Counted: 28, 29, 30 September; 1-7 October are off; 8, 9 October; Saturday 10 is worked.
    assert CALENDAR.period_end(D(2026, 9, 25), 5, WORKING).last_day == D(2026, 10, 9)
    assert CALENDAR.period_end(D(2026, 9, 25), 6, WORKING).last_day == D(2026, 10, 10)
    # Accepted Saturday 19 September: Sunday 20 is a working day and counts as day 1.
    assert CALENDAR.period_end(D(2026, 9, 19), 1, WORKING).last_day == D(2026, 9, 20)


def test_working_days_across_the_spring_festival():
    # Accepted Friday 13 February 2026; Saturday 14 is worked (day 1), 15-23 are off.
    assert CALENDAR.period_end(D(2026, 2, 13), 1, WORKING).last_day == D(2026, 2, 14)
    assert CALENDAR.period_end(D(2026, 2, 13), 2, WORKING).last_day == D(2026, 2, 24)
    # Saturday 28 February is a make-up working day too.
    assert CALENDAR.period_end(D(2026, 2, 24), 4, WORKING).last_day == D(2026, 2, 28)


def test_calendar_days_ending_on_a_holiday_end_on_the_next_working_day():
    # 30 days from 1 September 2026 is 1 October, National Day: the last day is 8 October.
    assert CALENDAR.period_end(D(2026, 9, 1), 30, CALENDAR_DAYS).last_day == D(2026, 10, 8)
    # Ending on an ordinary Sunday moves it to Monday; a make-up Saturday stays.
    assert CALENDAR.period_end(D(2026, 11, 1), 28, CALENDAR_DAYS).last_day == D(2026, 11, 30)
    assert CALENDAR.period_end(D(2026, 9, 10), 30, CALENDAR_DAYS).last_day == D(2026, 10, 10)
    # An on-the-spot matter (0 days) ends the day it was accepted, even on a weekend.
    assert CALENDAR.period_end(D(2026, 11, 28), 0, CALENDAR_DAYS).last_day == D(2026, 11, 28)


def test_a_deadline_is_the_bureaus_date_whatever_the_hour_in_utc():
    dibao = TimeLimit((30,), WORKING, "s", 45)
    clock = BureauClock()
    # 17:30 UTC on 30 November is 01:30 on 1 December in China: accepted on 1 December.
    late = decision_deadline(
        dt.datetime(2026, 11, 30, 17, 30, tzinfo=dt.UTC), dibao, clock, CALENDAR
    )
    same_day = decision_deadline(
        dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC), dibao, clock, CALENDAR
    )
    assert late == same_day
    assert late.at == clock.end_of_day(late.last_day)
    # 30 working days from 1 December 2026 reach into 2027, which the library does not know.
    assert late.provisional_years == (2027,)


def test_a_year_nobody_supplied_is_reckoned_on_weekends_and_marked_provisional():
    reckoning = CALENDAR.period_end(D(2026, 12, 28), 5, WORKING)
    # 29, 30, 31 December; 1 January 2027 is counted as a working day (no schedule), then
    # Monday 4 January.
    assert reckoning.last_day == D(2027, 1, 4)
    assert reckoning.provisional and reckoning.provisional_years == (2027,)


def test_a_supplied_year_counts_its_holidays_and_is_not_provisional():
    supplied = LegalCalendar.with_schedules([parse_year(SUPPLIED_2027, "2027.toml")])
    reckoning = supplied.period_end(D(2026, 12, 28), 5, WORKING)
    assert reckoning.last_day == D(2027, 1, 5)  # 1 January is a holiday there
    assert not reckoning.provisional
    assert supplied.is_working_day(D(2027, 2, 6))  # a make-up Saturday


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("year = 2027\nholidays = [2026-12-31]", "must be dates in 2027"),
        ("year = 2027\nholidays = [2027-01-01]\nworkdays = [2027-01-01]", "both"),
    ],
)
def test_a_supplied_year_is_checked(text, complaint):
    with pytest.raises(ValueError, match=complaint):
        parse_year(text, "2027.toml")


def test_the_start_up_warning_names_the_missing_year(caplog):
    with caplog.at_level(logging.WARNING):
        warn_missing(logging.getLogger("test"), CALENDAR, D(2026, 12, 1))
    assert "2027" in caplog.text and "2027.toml" in caplog.text
    caplog.clear()
    supplied = LegalCalendar.with_schedules([parse_year(SUPPLIED_2027, "x")])
    with caplog.at_level(logging.WARNING):
        warn_missing(logging.getLogger("test"), supplied, D(2026, 6, 1))
    assert caplog.text == ""


def test_a_pause_for_materials_across_a_holiday_resumes_in_working_days():
    limit = TimeLimit((10,), WORKING, "s")
    clock = BureauClock()
    # Accepted Monday 21 September 2026 (China time). Counted: 22, 23, 24 September (25 is
    # the Mid-Autumn Festival), 28, 29, 30; 1-7 October off; 8, 9, Saturday 10 (made up), 12.
    accepted = dt.datetime(2026, 9, 21, 2, 0, tzinfo=dt.UTC)
    deadline = decision_deadline(accepted, limit, clock, CALENDAR)
    assert deadline.last_day == D(2026, 10, 12)
    # Paused on Wednesday 23 September (2 used, 8 left), resumed on Thursday 8 October: the
    # 8 left run from the day after: 9, 10, 12, 13, 14, 15, 16, 19.
    resumed = resumed_deadline(
        deadline.at,
        dt.datetime(2026, 9, 23, 6, 0, tzinfo=dt.UTC),
        dt.datetime(2026, 10, 8, 6, 0, tzinfo=dt.UTC),
        limit,
        clock,
        CALENDAR,
    )
    assert resumed.last_day == D(2026, 10, 19)


def test_a_pause_in_calendar_days_resumes_in_calendar_days():
    limit = TimeLimit((60,), CALENDAR_DAYS, "s")
    clock = BureauClock()
    deadline = decision_deadline(
        dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC), limit, clock, CALENDAR
    )
    assert deadline.last_day == D(2026, 5, 6)  # 1 May is Labour Day: 5 May ends the holiday
    resumed = resumed_deadline(
        deadline.at,
        dt.datetime(2026, 3, 12, 2, 0, tzinfo=dt.UTC),  # 55 days left
        dt.datetime(2026, 3, 22, 2, 0, tzinfo=dt.UTC),
        limit,
        clock,
        CALENDAR,
    )
    # 55 days from 22 March is Saturday 16 May: the period ends on Monday 18 May.
    assert resumed.last_day == D(2026, 5, 18)


def test_due_soon_counts_working_days_and_overdue_is_now():
    clock = fixed(dt.datetime(2026, 9, 30, 2, 0, tzinfo=dt.UTC))  # Wednesday 30 September
    assert due_cutoff(0, clock, CALENDAR) == clock.now()
    # Three working days from 30 September: 8, 9, 10 October (the holiday week skipped).
    assert due_cutoff(3, clock, CALENDAR) == clock.end_of_day(D(2026, 10, 10))


def test_days_left_in_working_and_calendar_days():
    assert CALENDAR.days_left(D(2026, 9, 30), D(2026, 10, 9), WORKING) == 2
    assert CALENDAR.days_left(D(2026, 9, 30), D(2026, 10, 9), CALENDAR_DAYS) == 9
    assert CALENDAR.days_left(D(2026, 10, 12), D(2026, 10, 9), WORKING) == -2  # 10, 12
    assert CALENDAR.days_left(D(2026, 10, 9), D(2026, 10, 9), WORKING) == 0
