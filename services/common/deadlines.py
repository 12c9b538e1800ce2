"""Decision deadlines from a matter's legal time limit."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

# Legal time limits run in China Standard Time whatever the server's clock zone.
CHINA = ZoneInfo("Asia/Shanghai")


def decision_deadline(accepted_at: dt.datetime, time_limit_days: int) -> dt.datetime:
    """The end of the last day of the limit, counting the day of acceptance as day 0."""
    if accepted_at.tzinfo is None:
        raise ValueError("accepted_at must be timezone-aware")
    local_day = accepted_at.astimezone(CHINA).date() + dt.timedelta(days=time_limit_days)
    end_of_day = dt.datetime.combine(local_day, dt.time(23, 59, 59), tzinfo=CHINA)
    return end_of_day.astimezone(dt.UTC)
