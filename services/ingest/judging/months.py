"""Calendar months and anniversaries on the bureau's local dates.

"12 months before 29 February 2028" has no day of its own; like 《民法典》第二百零二条 (a period
in months ends on the corresponding day, or on the month's last day where that month has no
such day) the day is clamped to the end of the month: 28 February 2027. The same holds for
month ends: six months before 31 August is 28 (or 29) February.
"""

from __future__ import annotations

import calendar
import datetime as dt


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by ``months`` calendar months (negative: back), clamped to month end."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return dt.date(year, month0 + 1, min(day.day, last))


def anniversary(born: dt.date, years: int) -> dt.date:
    """The day someone born on ``born`` turns ``years``: on the birthday itself, and for a 29
    February birthday on 1 March of a common year, as ``identity.age_on`` counts ages, so
    that the elderly department, checking the age on the day the case opens, agrees."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:  # 29 February in a common year
        return dt.date(born.year + years, 3, 1)
