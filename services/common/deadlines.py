"""Decision deadlines from a matter's legal time limit, on the bureau's calendar.

A deadline is the end (24:00, the bureau's local time) of the limit's last day, counted
from the day after acceptance (see ``legal_calendar``). Stored and carried as an instant;
shown to people as the local date of that last day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.common.catalog import TimeLimit
from services.common.clock import BureauClock
from services.common.legal_calendar import LegalCalendar, Reckoning


@dataclass(frozen=True)
class Deadline:
    at: dt.datetime
    last_day: dt.date
    # Years the limit runs into that no holiday schedule covers (weekends only there).
    provisional_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)


def _deadline(clock: BureauClock, reckoning: Reckoning) -> Deadline:
    return Deadline(
        clock.end_of_day(reckoning.last_day), reckoning.last_day, reckoning.provisional_years
    )


def decision_deadline(
    accepted_at: dt.datetime, limit: TimeLimit, clock: BureauClock, calendar: LegalCalendar
) -> Deadline:
    accepted_on = clock.local_date(accepted_at)
    return _deadline(clock, calendar.periods_end(accepted_on, limit.periods, limit.unit))


def resumed_deadline(
    deadline: dt.datetime,
    paused_since: dt.datetime,
    resumed_at: dt.datetime,
    limit: TimeLimit,
    clock: BureauClock,
    calendar: LegalCalendar,
) -> Deadline:
    """What was left of the limit on the day the case paused for materials runs again from
    the day they arrived, in the limit's own unit."""
    reckoning = calendar.resumed_last_day(
        clock.local_date(deadline),
        clock.local_date(paused_since),
        clock.local_date(resumed_at),
        limit.unit,
    )
    return _deadline(clock, reckoning)


def due_cutoff(
    within_working_days: int, clock: BureauClock, calendar: LegalCalendar
) -> dt.datetime:
    """The instant before which an open case's deadline counts as "due soon": the end of the
    ``within_working_days``-th working day from today; now itself for 0 (overdue)."""
    if within_working_days <= 0:
        return clock.now()
    return clock.end_of_day(calendar.add_working_days(clock.today(), within_working_days))
