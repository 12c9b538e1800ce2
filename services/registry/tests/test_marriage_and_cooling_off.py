import datetime as dt

import pytest

from services.common.identity import compose
from services.registry import cooling_off, marriage

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


FILED = dt.datetime(2026, 1, 1, 9, 0, tzinfo=dt.UTC)


def on_day(day: int) -> dt.datetime:
    return FILED + dt.timedelta(days=day)


def test_confirming_on_day_29_is_within_the_cooling_off_period():
    assert cooling_off.phase(FILED, on_day(29)) is cooling_off.Phase.COOLING_OFF
    assert not cooling_off.may_confirm(FILED, on_day(29))
    assert cooling_off.may_withdraw(FILED, on_day(29))


def test_confirming_on_day_31_is_allowed_and_withdrawing_is_not():
    assert cooling_off.may_confirm(FILED, on_day(31))
    assert not cooling_off.may_withdraw(FILED, on_day(31))


def test_the_cooling_off_period_ends_exactly_30_days_after_filing():
    assert cooling_off.may_withdraw(FILED, on_day(30) - dt.timedelta(seconds=1))
    assert cooling_off.may_confirm(FILED, on_day(30))


@pytest.mark.parametrize(("day", "lapsed"), [(60, False), (61, True)])
def test_unconfirmed_divorces_lapse_after_the_next_30_days(day, lapsed):
    assert (cooling_off.phase(FILED, on_day(day)) is cooling_off.Phase.LAPSED) == lapsed
