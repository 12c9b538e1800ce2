"""The bureau's clock: one injectable source of "now", and the bureau's local date.

Every rule that reasons about a date (an age, "not in the future", a deadline, a cooling-off
period) takes its "now" from a ``BureauClock``, so the rule is a pure function of it and a
test can run the platform at any instant. The date is always the bureau's local date in its
zone (``BUREAU_TIME_ZONE``, default Asia/Shanghai), whatever the host's or the pod's TZ:
hosts and pods run in UTC, and from 00:00 to 08:00 China time their date is yesterday's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TIME_ZONE = "Asia/Shanghai"


def system_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone ``name``; a ValueError that says what to set when there is none."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"BUREAU_TIME_ZONE={name!r} is not an IANA time zone; set it to one such as "
            f"{DEFAULT_TIME_ZONE}"
        ) from None


@dataclass(frozen=True)
class BureauClock:
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(DEFAULT_TIME_ZONE))
    source: Callable[[], dt.datetime] = system_now

    def now(self) -> dt.datetime:
        """This instant, timezone-aware (UTC)."""
        return self.source().astimezone(dt.UTC)

    def today(self) -> dt.date:
        """The bureau's local date now."""
        return self.local_date(self.now())

    def local(self, instant: dt.datetime) -> dt.datetime:
        if instant.tzinfo is None:
            raise ValueError("instant must be timezone-aware")
        return instant.astimezone(self.zone)

    def local_date(self, instant: dt.datetime) -> dt.date:
        return self.local(instant).date()

    def end_of_day(self, day: dt.date) -> dt.datetime:
        """The last second of the bureau's local ``day`` (art. 203: a period's last day ends at
        24:00), as a UTC instant."""
        return dt.datetime.combine(day, dt.time(23, 59, 59), tzinfo=self.zone).astimezone(dt.UTC)


def fixed(instant: dt.datetime, zone: str = DEFAULT_TIME_ZONE) -> BureauClock:
    """A clock stopped at ``instant``: for tests and for reasoning about a given moment."""
    return BureauClock(ZoneInfo(zone), lambda: instant)
