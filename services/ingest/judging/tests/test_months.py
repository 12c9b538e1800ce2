import datetime as dt

import pytest

from services.ingest.judging import months

D = dt.date


@pytest.mark.parametrize(
    ("day", "moved", "expected"),
    [
        (D(2027, 6, 15), -12, D(2026, 6, 15)),
        (D(2028, 2, 29), -12, D(2027, 2, 28)),  # no 29 February in 2027: its month's end
        (D(2028, 2, 28), -12, D(2027, 2, 28)),
        (D(2027, 3, 1), -12, D(2026, 3, 1)),
        (D(2026, 8, 31), -6, D(2026, 2, 28)),
        (D(2027, 8, 31), -6, D(2027, 2, 28)),
        (D(2028, 8, 31), -6, D(2028, 2, 29)),
        (D(2027, 1, 31), 1, D(2027, 2, 28)),
        (D(2026, 12, 15), 1, D(2027, 1, 15)),
        (D(2027, 1, 15), -1, D(2026, 12, 15)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
    ],
)
def test_calendar_months_clamp_to_the_months_end(day, moved, expected):
    assert months.add_months(day, moved) == expected


def test_a_birthday_is_its_own_day_in_later_years():
    assert months.anniversary(D(1947, 12, 2), 80) == D(2027, 12, 2)


def test_29_february_birthdays_come_on_1_march_in_common_years():
    assert months.anniversary(D(1948, 2, 29), 80) == D(2028, 2, 29)  # 2028 is leap
    assert months.anniversary(D(1948, 2, 29), 90) == D(2038, 3, 1)
    assert months.anniversary(D(2000, 2, 29), 100) == D(2100, 3, 1)  # 2100 is not leap
