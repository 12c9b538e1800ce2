"""The departments' workload as the ledger holds it: cases open, overdue and due soon per
department, for the ``onedoor.cases.*`` gauges.

The rules are on the bureau's local dates: a case is overdue once its last day (the local
date of its deadline, which ends at 24:00 that day) is past, and due soon while its last day
is today or one of the next ``DUE_SOON_DAYS - 1`` days (three local days, today counted, as
the officers' queue marks them). A case waiting for materials is open but neither: its clock
is stopped. The ledger counts with one grouped query per refresh (``CaseLedger.workload``),
on instants that divide exactly where those dates do (:func:`horizon`).

A background task refreshes the counts every ``INTAKE_CASE_GAUGES_SECONDS``; the gauges'
callbacks, which run on the collecting thread, only read the last refresh.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.common import metric_catalog
from services.common.catalog import DEPARTMENTS
from services.common.clock import BureauClock
from services.common.metric_catalog import Reading
from services.common.periodic import Periodic

if TYPE_CHECKING:
    from services.intake.store import CaseLedger


# Today and the next two local days.
DUE_SOON_DAYS = 3


class Urgency(enum.Enum):
    OVERDUE = "overdue"
    DUE_SOON = "due_soon"


def urgency(last_day: dt.date, today: dt.date) -> Urgency | None:
    """How pressing an open, running case is whose last day is ``last_day``, on the bureau's
    local date ``today``."""
    if last_day < today:
        return Urgency.OVERDUE
    if last_day < today + dt.timedelta(days=DUE_SOON_DAYS):
        return Urgency.DUE_SOON
    return None


def _start_of(day: dt.date, clock: BureauClock) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=clock.zone).astimezone(dt.UTC)


@dataclass(frozen=True)
class Horizon:
    """The instants the ledger compares deadlines with: a deadline before ``overdue_before``
    is on a past local day, one before ``due_before`` on a day :func:`urgency` calls due soon.
    """

    today: dt.date
    overdue_before: dt.datetime
    due_before: dt.datetime

    def urgency_of(self, deadline: dt.datetime) -> Urgency | None:
        """What the ledger's query says of a deadline (the same as :func:`urgency` of its
        local date)."""
        if deadline < self.overdue_before:
            return Urgency.OVERDUE
        if deadline < self.due_before:
            return Urgency.DUE_SOON
        return None


def horizon(clock: BureauClock) -> Horizon:
    today = clock.today()
    return Horizon(
        today,
        _start_of(today, clock),
        _start_of(today + dt.timedelta(days=DUE_SOON_DAYS), clock),
    )


@dataclass(frozen=True)
class Workload:
    """One department's cases not yet decided, and how many of them are overdue or due soon."""

    open: int = 0
    overdue: int = 0
    due_soon: int = 0


class WorkloadGauges:
    """The last counts the ledger gave, per department, and the gauges that read them."""

    def __init__(self, ledger: CaseLedger, clock: BureauClock) -> None:
        self.ledger = ledger
        self.clock = clock
        # Replaced whole by each refresh, so a collection never sees half of one. Empty until
        # the first refresh: no value rather than a zero nobody counted.
        self.latest: Mapping[str, Workload] = {}

    def install(self) -> None:
        """Creates the gauges; once per process."""
        metric_catalog.gauge(metric_catalog.CASES_OPEN, lambda: self.readings("open"))
        metric_catalog.gauge(metric_catalog.CASES_OVERDUE, lambda: self.readings("overdue"))
        metric_catalog.gauge(metric_catalog.CASES_DUE_SOON, lambda: self.readings("due_soon"))

    def readings(self, count: str) -> Reading:
        latest = self.latest
        return [(getattr(w, count), {"department": d}) for d, w in latest.items()]

    async def refresh(self) -> None:
        counted = await self.ledger.workload(horizon(self.clock))
        # Every department, with nothing open too: an alert's expression finds its series.
        self.latest = {d: counted.get(d, Workload()) for d in DEPARTMENTS}

    def keep_current(self, every_seconds: float) -> Periodic:
        """Refreshes the counts every ``every_seconds``; ``await .stop()`` it on the way out."""
        return Periodic("the departments' case counts", self.refresh, every_seconds).start()
