"""Who turns an age on which day, as the departments answer the daily sweep, and what a request
for it must say (pure: no servers)."""

from __future__ import annotations

import datetime as dt

import pytest

from onedoor.department.v1 import known_persons_pb2 as pb
from services.common import identity
from services.common.department.known_persons import MAX_RANGE_DAYS, check_turning
from services.common.department.turning import birthday
from services.common.errors import ApiError


@pytest.mark.parametrize(
    ("born", "years", "day"),
    [
        (dt.date(1946, 12, 2), 80, dt.date(2026, 12, 2)),
        # 29 February: 1 March in a common year, 29 February in a leap one.
        (dt.date(1948, 2, 29), 79, dt.date(2027, 3, 1)),
        (dt.date(1948, 2, 29), 80, dt.date(2028, 2, 29)),
    ],
)
def test_the_birthday_is_the_day_the_age_is_reached_as_the_case_counts_it(born, years, day):
    assert birthday(born, years) == day
    number = identity.compose("320585", born, 123)
    # identity.age_on (which the age-allowance case opened checks) agrees on the day ...
    assert identity.age_on(number, day) == years
    # ... and not the day before.
    assert identity.age_on(number, day - dt.timedelta(days=1)) == years - 1


def _asked(**fields: object) -> pb.ListPersonsTurningRequest:
    request = {"ages": [80, 90, 100], "from_date": "2026-11-03", "to_date": "2026-12-02"}
    return pb.ListPersonsTurningRequest(**{**request, **fields})  # type: ignore[arg-type]


def test_a_request_for_persons_turning_an_age_is_checked_field_by_field():
    assert check_turning(_asked()) == ((80, 90, 100), dt.date(2026, 11, 3), dt.date(2026, 12, 2))
    last = dt.date(2026, 1, 1) + dt.timedelta(days=MAX_RANGE_DAYS - 1)
    assert check_turning(_asked(from_date="2026-01-01", to_date=last.isoformat()))[2] == last
    cases = [
        (_asked(ages=[]), ["ages"]),
        (_asked(ages=[0]), ["ages"]),
        (_asked(ages=[151]), ["ages"]),
        (_asked(ages=list(range(80, 91))), ["ages"]),
        (_asked(from_date="2026-02-30"), ["from_date"]),
        (_asked(to_date=""), ["to_date"]),
        (_asked(from_date="2026-12-03"), ["to_date"]),
        (
            _asked(from_date="2026-01-01", to_date=(last + dt.timedelta(days=1)).isoformat()),
            ["to_date"],
        ),
    ]
    for request, fields in cases:
        with pytest.raises(ApiError) as refused:
            check_turning(request)
        assert [v.field for v in refused.value.violations] == fields, request
