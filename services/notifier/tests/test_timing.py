"""Quiet hours on the bureau's clock, whatever the host's zone, and the back-off."""

from __future__ import annotations

import datetime as dt

import pytest

from services.common.clock import BureauClock
from services.notifier import timing

CLOCK = BureauClock()
UTC = dt.UTC


def at(text: str) -> dt.datetime:
    """A bureau-time instant, as UTC."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=CLOCK.zone).astimezone(UTC)


@pytest.mark.parametrize(
    ("local", "expected"),
    [
        ("2026-12-02 21:59:59", "2026-12-02 21:59:59"),
        ("2026-12-02 22:00:00", "2026-12-03 08:00:00"),
        ("2026-12-02 23:00:00", "2026-12-03 08:00:00"),
        ("2026-12-03 00:30:00", "2026-12-03 08:00:00"),
        ("2026-12-03 07:59:59", "2026-12-03 08:00:00"),
        ("2026-12-03 08:00:00", "2026-12-03 08:00:00"),
        ("2026-12-31 23:30:00", "2027-01-01 08:00:00"),
    ],
)
def test_nothing_goes_between_22_and_8_bureau_time(local: str, expected: str) -> None:
    assert timing.not_before(at(local), CLOCK) == at(expected)


def test_the_hours_are_the_bureaus_not_the_hosts() -> None:
    # 15:00 UTC is 23:00 in Shanghai: quiet, though a UTC host calls it the afternoon.
    instant = dt.datetime(2026, 12, 2, 15, 0, tzinfo=UTC)
    assert timing.is_quiet(instant, CLOCK)
    assert timing.not_before(instant, CLOCK) == dt.datetime(2026, 12, 3, 0, 0, tzinfo=UTC)
    # 02:00 UTC is 10:00 there.
    assert not timing.is_quiet(dt.datetime(2026, 12, 2, 2, 0, tzinfo=UTC), CLOCK)


def test_back_off_doubles_to_five_minutes_and_honours_retry_after() -> None:
    assert [timing.retry_after(n) for n in range(1, 6)] == [2, 4, 8, 16, 32]
    assert timing.retry_after(20) == 300
    now = at("2026-12-02 10:00:00")
    assert timing.next_attempt(now, 1, CLOCK) == now + dt.timedelta(seconds=2)
    assert timing.next_attempt(now, 1, CLOCK, 30) == now + dt.timedelta(seconds=30)


def test_a_retry_that_would_land_in_quiet_hours_waits_for_the_morning() -> None:
    now = at("2026-12-02 21:59:58")
    assert timing.next_attempt(now, 3, CLOCK) == at("2026-12-03 08:00:00")
