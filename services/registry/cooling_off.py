"""The divorce cooling-off period (《民法典》第一千零七十七条), reckoned on the bureau's local dates.

Art. 1077: within 30 days from the day the registry receives the application, either party
may withdraw it; within the 30 days after that period ends, both parties must apply in person
for the divorce certificate, or the application is deemed withdrawn (here: it *lapses*).
Art. 201: the day of receipt is not counted, the period starts the next day. Art. 203: a
period whose last day is a legal holiday ends on the day after the holiday, and the last day
ends at 24:00.

With F the bureau's local date on which the application was filed (received), and
``period_end`` the legal calendar's calendar-day reckoning (``LegalCalendar.period_end``):

- C = period_end(F, 30): the **last day of cooling-off**. It is F + 30 days, unless that day
  is not a working day, then the first working day after it.
- K = period_end(C, 30): the **last day to confirm**. It is C + 30 days, moved the same way.
- Withdrawal is allowed on F..C inclusive (the cooling-off phase).
- Confirmation is allowed on C+1..K inclusive (the confirmation phase).
- From K+1 the application has lapsed, whether or not the sweep has recorded it yet.

"Legal holiday" in art. 203 is read as any day the ``LegalCalendar`` says is not a working
day: a public holiday, or a weekend day that is not a make-up working day (调休). So a last
day falling on a Saturday moves to Monday, one falling in the National Day week moves past it,
and one falling on a make-up working Sunday stays there. This is the same reckoning intake
uses for the divorce case's deadline, ``periods_end(F, [30, 30], CALENDAR_DAYS)``, which is K.

Every rule here is a pure function of local dates: the hour of filing, the hour of asking,
and the host's time zone never change an outcome (a morning filing in China is still the
previous day in UTC). The instant of filing becomes a date only through ``BureauClock``.
A reckoning that reaches into a year with no holiday schedule is counted on weekends alone
and marked provisional (``provisional_years``); messages say so.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from onedoor.case.v1 import case_pb2
from services.common.clock import BureauClock
from services.common.legal_calendar import LegalCalendar, Unit
from services.common.texts import Code, code, date, text

COOLING_OFF_DAYS = 30
CONFIRMATION_DAYS = 30

_ONE_DAY = dt.timedelta(days=1)


class Phase(enum.Enum):
    COOLING_OFF = "cooling_off"
    CONFIRMATION = "confirmation"
    LAPSED = "lapsed"


@dataclass(frozen=True)
class DivorcePeriods:
    """A divorce application's two periods, as the bureau's local dates (all inclusive)."""

    filed_on: dt.date
    cooling_off_last_day: dt.date
    confirmation_last_day: dt.date
    # Years the reckoning crossed that no holiday schedule covers (counted on weekends alone).
    provisional_years: tuple[int, ...] = ()

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)

    @property
    def confirmation_first_day(self) -> dt.date:
        return self.cooling_off_last_day + _ONE_DAY


def periods(filed_on: dt.date, calendar: LegalCalendar) -> DivorcePeriods:
    """The periods of an application filed on the bureau's local date ``filed_on``."""
    cooling_off = calendar.period_end(filed_on, COOLING_OFF_DAYS, Unit.CALENDAR_DAYS)
    confirmation = calendar.period_end(cooling_off.last_day, CONFIRMATION_DAYS, Unit.CALENDAR_DAYS)
    return DivorcePeriods(
        filed_on=filed_on,
        cooling_off_last_day=cooling_off.last_day,
        confirmation_last_day=confirmation.last_day,
        provisional_years=calendar.uncovered(filed_on, confirmation.last_day),
    )


def periods_of(
    filed_at: dt.datetime, clock: BureauClock, calendar: LegalCalendar
) -> DivorcePeriods:
    """The periods of an application received at the instant ``filed_at``: its local date is
    what counts, never the instant itself."""
    return periods(clock.local_date(filed_at), calendar)


def phase(divorce: DivorcePeriods, today: dt.date) -> Phase:
    """Where the application stands on the bureau's local date ``today``."""
    if today <= divorce.cooling_off_last_day:
        return Phase.COOLING_OFF
    if today <= divorce.confirmation_last_day:
        return Phase.CONFIRMATION
    return Phase.LAPSED


def may_withdraw(divorce: DivorcePeriods, today: dt.date) -> bool:
    return phase(divorce, today) is Phase.COOLING_OFF


def end_times(divorce: DivorcePeriods, clock: BureauClock) -> tuple[dt.datetime, dt.datetime]:
    """The instants the two periods end (23:59:59 local on their last days, art. 203), for the
    API's Timestamps."""
    return clock.end_of_day(divorce.cooling_off_last_day), clock.end_of_day(
        divorce.confirmation_last_day
    )


# What people are told. Only dates, never who the parties are.


def _provisional_note(divorce: DivorcePeriods) -> str:
    if not divorce.provisional:
        return ""
    years = ", ".join(str(y) for y in divorce.provisional_years)
    return (
        f" (provisional: the holiday schedule for {years} is not loaded, so these dates are "
        "reckoned on weekends alone)"
    )


def opening_texts(divorce: DivorcePeriods) -> list[case_pb2.Text]:
    """What the registry says when it opens the divorce case: its periods, as dates."""
    said = [
        text(
            Code.TEXT_CODE_DIVORCE_PERIODS,
            filed_on=date(divorce.filed_on),
            cooling_off_last_day=date(divorce.cooling_off_last_day),
            confirmation_first_day=date(divorce.confirmation_first_day),
            confirmation_last_day=date(divorce.confirmation_last_day),
        )
    ]
    if divorce.provisional:
        years = ", ".join(str(y) for y in divorce.provisional_years)
        said.append(text(Code.TEXT_CODE_SCHEDULE_PROVISIONAL, years=code(years)))
    return said


def period_dates(divorce: DivorcePeriods) -> dict[str, str]:
    """The periods' days as ISO local dates, for a refusal's ErrorInfo metadata: what a
    console needs to say until when (no party is named)."""
    dates = {
        "cooling_off_last_day": divorce.cooling_off_last_day.isoformat(),
        "confirmation_first_day": divorce.confirmation_first_day.isoformat(),
        "confirmation_last_day": divorce.confirmation_last_day.isoformat(),
    }
    if divorce.provisional:
        dates["provisional_years"] = ",".join(str(y) for y in divorce.provisional_years)
    return dates


def still_cooling_off(divorce: DivorcePeriods) -> str:
    """Why a confirmation is refused during the cooling-off period."""
    return (
        f"the cooling-off period runs until {divorce.cooling_off_last_day} (its last day); "
        f"both parties may confirm from {divorce.confirmation_first_day} to "
        f"{divorce.confirmation_last_day}{_provisional_note(divorce)}"
    )


def withdrawal_closed(divorce: DivorcePeriods, today: dt.date) -> str:
    """Why a withdrawal is refused after the cooling-off period (on ``today``)."""
    also = (
        f", and the application lapsed after {divorce.confirmation_last_day} "
        "(the last day to confirm)"
        if phase(divorce, today) is Phase.LAPSED
        else ""
    )
    return (
        "a divorce can be withdrawn only within its cooling-off period, whose last day was "
        f"{divorce.cooling_off_last_day}{also}{_provisional_note(divorce)}"
    )


def lapsed_text(divorce: DivorcePeriods) -> case_pb2.Text:
    """The lapse as the timeline says it, in the reader's language."""
    said = text(
        Code.TEXT_CODE_DIVORCE_LAPSED, confirmation_last_day=date(divorce.confirmation_last_day)
    )
    if divorce.provisional:
        years = ", ".join(str(y) for y in divorce.provisional_years)
        said.details.append(text(Code.TEXT_CODE_SCHEDULE_PROVISIONAL, years=code(years)))
    return said


def lapsed(divorce: DivorcePeriods) -> str:
    """Why a confirmation is refused after the confirmation period (and the lapse's note)."""
    return (
        "the divorce application lapsed: both parties had to confirm in person by "
        f"{divorce.confirmation_last_day} (the last day to confirm){_provisional_note(divorce)}"
    )
