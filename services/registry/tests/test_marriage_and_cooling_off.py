import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from services.common.clock import fixed
from services.common.identity import compose
from services.common.legal_calendar import LegalCalendar, Unit
from services.registry import cooling_off, marriage
from services.registry.cooling_off import DivorcePeriods, Phase

TODAY = dt.date(2026, 11, 24)


def born_years_ago(years: int, days_after: int = 0) -> dt.date:
    return dt.date(TODAY.year - years, TODAY.month, TODAY.day) + dt.timedelta(days=days_after)


def man(age: int, days_after: int = 0) -> str:
    return compose("320585", born_years_ago(age, days_after), 11)  # odd sequence: a man


def woman(age: int, days_after: int = 0) -> str:
    return compose("320585", born_years_ago(age, days_after), 22)  # even sequence: a woman


def fields(problems):
    return {p.field for p in problems}


def test_a_man_of_22_and_a_woman_of_20_may_marry():
    assert marriage.problems(man(22), woman(20), TODAY) == []


def test_a_21_year_old_groom_may_not():
    found = marriage.problems(man(21), woman(25), TODAY)
    assert fields(found) == {"applicant.id_number"}
    assert "22" in found[0].description


def test_the_day_before_the_22nd_birthday_is_still_too_young():
    assert marriage.problems(man(22, days_after=1), woman(30), TODAY)
    assert marriage.problems(man(22), woman(30), TODAY) == []


def test_a_19_year_old_bride_may_not():
    assert fields(marriage.problems(man(30), woman(19), TODAY)) == {"details.other_party.id_number"}


def test_two_men_and_the_same_person_twice_are_refused():
    assert marriage.problems(man(30), compose("320585", born_years_ago(31), 33), TODAY)
    same = man(30)
    assert "two people" in marriage.problems(same, same, TODAY)[0].description


# --- the divorce cooling-off period ---------------------------------------------------------
#
# Only the library's holiday schedules (2004-2026), never the bureau's files, so the dates
# below do not move if a bureau supplies or corrects a year.
CALENDAR = LegalCalendar.with_schedules()
SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    """The UTC instant of a wall-clock time on a local day in China."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SHANGHAI).astimezone(dt.UTC)


def utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=dt.UTC)


# Asked at 01:30 (17:30 UTC the day before), 11:00 (03:00 UTC) and a minute before midnight:
# the hours at which an instant-based rule and a date-based one disagree.
ASKING_HOURS = [(1, 30), (11, 0), (23, 59)]


def phase_on(filed_at: dt.datetime, asked_at: dt.datetime) -> Phase:
    """The phase as the registry finds it: both instants through a fixed bureau clock."""
    clock = fixed(asked_at)
    return cooling_off.phase(cooling_off.periods_of(filed_at, clock, CALENDAR), clock.today())


def test_the_asking_hours_are_the_utc_hours_that_used_to_go_wrong():
    day = dt.date(2026, 4, 8)
    assert at(day, 1, 30) == utc(2026, 4, 7, 17, 30)
    assert at(day, 11, 0) == utc(2026, 4, 8, 3, 0)


def test_the_2026_schedule_the_holiday_cases_rely_on():
    # 国务院办公厅 2026 schedule, as chinese_calendar carries it.
    for day in [dt.date(2026, 10, d) for d in range(1, 8)] + [
        dt.date(2026, 2, d) for d in range(15, 24)
    ]:
        assert chinese_calendar.is_holiday(day) and not CALENDAR.is_working_day(day), day
    for make_up in (
        dt.date(2026, 9, 20),
        dt.date(2026, 10, 10),
        dt.date(2026, 2, 14),
        dt.date(2026, 2, 28),
    ):
        assert make_up.weekday() >= 5 and chinese_calendar.is_workday(make_up), make_up
        assert CALENDAR.is_working_day(make_up), make_up


# A plain filing: Monday 2026-03-09 local. Day 30 is Wed 2026-04-08, day 60 Fri 2026-05-08.
PLAIN = DivorcePeriods(dt.date(2026, 3, 9), dt.date(2026, 4, 8), dt.date(2026, 5, 8))
PLAIN_FILINGS = [
    utc(2026, 3, 8, 17, 30),  # 01:30 local on the 9th: still the 8th in UTC
    utc(2026, 3, 9, 3, 0),  # 11:00 local
    utc(2026, 3, 9, 15, 30),  # 23:30 local
]


@pytest.mark.parametrize("filed_at", PLAIN_FILINGS)
def test_the_periods_count_from_the_local_filing_date(filed_at):
    assert cooling_off.periods_of(filed_at, fixed(filed_at), CALENDAR) == PLAIN


@pytest.mark.parametrize("filed_at", PLAIN_FILINGS)
@pytest.mark.parametrize(("hour", "minute"), ASKING_HOURS)
def test_on_the_last_day_of_cooling_off_a_party_may_withdraw_but_not_confirm(
    filed_at, hour, minute
):
    assert phase_on(filed_at, at(PLAIN.cooling_off_last_day, hour, minute)) is Phase.COOLING_OFF


@pytest.mark.parametrize("filed_at", PLAIN_FILINGS)
@pytest.mark.parametrize(("hour", "minute"), ASKING_HOURS)
def test_the_day_after_cooling_off_parties_may_confirm_and_no_longer_withdraw(
    filed_at, hour, minute
):
    assert phase_on(filed_at, at(dt.date(2026, 4, 9), hour, minute)) is Phase.CONFIRMATION


@pytest.mark.parametrize("filed_at", PLAIN_FILINGS)
@pytest.mark.parametrize(("hour", "minute"), ASKING_HOURS)
def test_the_last_day_to_confirm_and_the_day_it_lapses(filed_at, hour, minute):
    assert phase_on(filed_at, at(dt.date(2026, 5, 8), hour, minute)) is Phase.CONFIRMATION
    assert phase_on(filed_at, at(dt.date(2026, 5, 9), hour, minute)) is Phase.LAPSED


def test_the_filing_day_itself_is_within_cooling_off():
    assert phase_on(PLAIN_FILINGS[0], PLAIN_FILINGS[0]) is Phase.COOLING_OFF


def test_may_withdraw_follows_the_phase():
    assert cooling_off.may_withdraw(PLAIN, dt.date(2026, 4, 8))
    assert cooling_off.phase(PLAIN, dt.date(2026, 4, 8)) is not Phase.CONFIRMATION
    assert not cooling_off.may_withdraw(PLAIN, dt.date(2026, 4, 9))
    assert cooling_off.phase(PLAIN, dt.date(2026, 4, 9)) is Phase.CONFIRMATION
    assert cooling_off.phase(PLAIN, dt.date(2026, 5, 8)) is Phase.CONFIRMATION
    assert cooling_off.phase(PLAIN, dt.date(2026, 5, 9)) is not Phase.CONFIRMATION
    assert not cooling_off.may_withdraw(PLAIN, dt.date(2026, 5, 9))
    assert PLAIN.confirmation_first_day == dt.date(2026, 4, 9)
    assert cooling_off.phase(PLAIN, dt.date(2026, 5, 9)) is Phase.LAPSED


def test_filings_an_hour_apart_across_local_midnight_get_different_periods():
    before = at(dt.date(2026, 3, 8), 23, 30)  # 15:30 UTC on the 8th
    after = at(dt.date(2026, 3, 9), 0, 30)  # 16:30 UTC on the 8th: the same UTC date
    assert cooling_off.periods_of(before, fixed(before), CALENDAR) == DivorcePeriods(
        dt.date(2026, 3, 8), dt.date(2026, 4, 7), dt.date(2026, 5, 7)
    )
    assert cooling_off.periods_of(after, fixed(after), CALENDAR) == PLAIN
    on_the_8th_of_april = at(dt.date(2026, 4, 8), 11, 0)
    assert phase_on(before, on_the_8th_of_april) is Phase.CONFIRMATION
    assert phase_on(after, on_the_8th_of_april) is Phase.COOLING_OFF


def test_two_filings_on_one_local_day_have_the_same_outcome_every_day_at_every_hour():
    early, late = at(dt.date(2026, 3, 9), 0, 30), at(dt.date(2026, 3, 9), 23, 30)
    day = dt.date(2026, 3, 9)
    while day <= dt.date(2026, 5, 11):
        for hour, minute in ASKING_HOURS:
            asked = at(day, hour, minute)
            assert phase_on(early, asked) is phase_on(late, asked), (day, hour)
        day += dt.timedelta(days=1)


def test_a_cooling_off_period_ending_in_the_national_day_week_runs_to_the_first_working_day():
    # Filed Thu 2026-09-03: day 30 is Sat 2026-10-03, inside the 1-7 October holiday.
    filed_at = utc(2026, 9, 2, 17, 30)  # 01:30 local on the 3rd
    assert cooling_off.periods_of(filed_at, fixed(filed_at), CALENDAR) == DivorcePeriods(
        dt.date(2026, 9, 3), dt.date(2026, 10, 8), dt.date(2026, 11, 9)
    )
    for hour, minute in ASKING_HOURS:
        # Withdrawal still allowed during the holiday and on its first working day after.
        assert phase_on(filed_at, at(dt.date(2026, 10, 3), hour, minute)) is Phase.COOLING_OFF
        assert phase_on(filed_at, at(dt.date(2026, 10, 7), hour, minute)) is Phase.COOLING_OFF
        assert phase_on(filed_at, at(dt.date(2026, 10, 8), hour, minute)) is Phase.COOLING_OFF
        assert phase_on(filed_at, at(dt.date(2026, 10, 9), hour, minute)) is Phase.CONFIRMATION
        # Day 30 of confirmation, Sat 2026-11-07, moves to Monday 2026-11-09.
        assert phase_on(filed_at, at(dt.date(2026, 11, 9), hour, minute)) is Phase.CONFIRMATION
        assert phase_on(filed_at, at(dt.date(2026, 11, 10), hour, minute)) is Phase.LAPSED


def test_a_last_day_to_confirm_in_the_national_day_week_moves_past_it():
    # Filed Mon 2026-08-03: cooling-off ends Wed 2026-09-02; day 30 after is Fri 2026-10-02.
    filed_at = at(dt.date(2026, 8, 3), 11, 0)
    divorce = cooling_off.periods_of(filed_at, fixed(filed_at), CALENDAR)
    assert divorce == DivorcePeriods(dt.date(2026, 8, 3), dt.date(2026, 9, 2), dt.date(2026, 10, 8))
    assert phase_on(filed_at, at(dt.date(2026, 10, 8), 23, 59)) is Phase.CONFIRMATION
    assert phase_on(filed_at, at(dt.date(2026, 10, 9), 0, 1)) is Phase.LAPSED


def test_a_cooling_off_period_ending_in_the_spring_festival_runs_past_it():
    # Filed Fri 2026-01-16: day 30 is Sun 2026-02-15, the first day of the 15-23 February holiday.
    divorce = cooling_off.periods(dt.date(2026, 1, 16), CALENDAR)
    assert divorce.cooling_off_last_day == dt.date(2026, 2, 24)
    assert divorce.confirmation_last_day == dt.date(2026, 3, 26)
    assert cooling_off.may_withdraw(divorce, dt.date(2026, 2, 23))
    assert cooling_off.may_withdraw(divorce, dt.date(2026, 2, 24))
    assert cooling_off.phase(divorce, dt.date(2026, 2, 25)) is Phase.CONFIRMATION


@pytest.mark.parametrize(
    ("filed_on", "make_up_day"),
    [
        (dt.date(2026, 1, 15), dt.date(2026, 2, 14)),  # Saturday worked before Spring Festival
        (dt.date(2026, 8, 21), dt.date(2026, 9, 20)),  # Sunday worked before National Day
        (dt.date(2026, 9, 10), dt.date(2026, 10, 10)),  # Saturday worked after it
    ],
)
def test_a_last_day_on_a_make_up_working_weekend_day_stays_there(filed_on, make_up_day):
    divorce = cooling_off.periods(filed_on, CALENDAR)
    assert divorce.cooling_off_last_day == make_up_day
    assert cooling_off.may_withdraw(divorce, make_up_day)
    assert cooling_off.phase(divorce, make_up_day + dt.timedelta(days=1)) is Phase.CONFIRMATION


def test_the_last_day_to_confirm_is_the_divorce_case_deadline_intake_reckons():
    filed_on = dt.date(2026, 1, 1)
    while filed_on <= dt.date(2026, 12, 31):
        deadline = CALENDAR.periods_end(filed_on, [30, 30], Unit.CALENDAR_DAYS)
        divorce = cooling_off.periods(filed_on, CALENDAR)
        assert divorce.confirmation_last_day == deadline.last_day, filed_on
        assert divorce.provisional_years == deadline.provisional_years, filed_on
        filed_on += dt.timedelta(days=1)


def test_a_period_reaching_into_a_year_without_a_schedule_is_provisional_and_says_so():
    divorce = cooling_off.periods(dt.date(2026, 12, 1), CALENDAR)
    # Day 30 after Thu 2026-12-31 is Sat 2027-01-30: weekends alone move it to Monday.
    assert divorce.confirmation_last_day == dt.date(2027, 2, 1)
    assert divorce.provisional_years == (2027,)
    assert "provisional" in cooling_off.lapsed(divorce) and "2027" in cooling_off.lapsed(divorce)
    assert "provisional" not in cooling_off.lapsed(PLAIN)


def test_the_api_end_times_are_the_end_of_the_local_last_days():
    clock = fixed(PLAIN_FILINGS[0])
    cooling_off_end, confirmation_end = cooling_off.end_times(PLAIN, clock)
    assert cooling_off_end == utc(2026, 4, 8, 15, 59) + dt.timedelta(seconds=59)
    assert confirmation_end == utc(2026, 5, 8, 15, 59) + dt.timedelta(seconds=59)
    assert clock.local_date(cooling_off_end) == PLAIN.cooling_off_last_day


def test_messages_give_the_local_last_days_and_never_utc():
    # Filed at 01:30 local on 9 March: in UTC that was 8 March, 30 days on 7 April.
    divorce = cooling_off.periods_of(PLAIN_FILINGS[0], fixed(PLAIN_FILINGS[0]), CALENDAR)
    cooling = cooling_off.still_cooling_off(divorce)
    assert "the cooling-off period runs until 2026-04-08 (its last day)" in cooling
    assert "from 2026-04-09 to 2026-05-08" in cooling
    closed = cooling_off.withdrawal_closed(divorce, dt.date(2026, 4, 9))
    assert "2026-04-08" in closed and "lapsed" not in closed
    assert "lapsed after 2026-05-08" in cooling_off.withdrawal_closed(divorce, dt.date(2026, 5, 9))
    assert "by 2026-05-08 (the last day to confirm)" in cooling_off.lapsed(divorce)
    (periods,) = cooling_off.opening_texts(divorce)
    dates = {a.name: a.date for a in periods.args}
    assert dates == {
        "filed_on": "2026-03-09",
        "cooling_off_last_day": "2026-04-08",
        "confirmation_first_day": "2026-04-09",
        "confirmation_last_day": "2026-05-08",
    }
    for message in (cooling, closed, cooling_off.lapsed(divorce)):
        assert "UTC" not in message and "2026-04-07" not in message and "2026-03-08" not in message
