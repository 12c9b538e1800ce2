"""Starts the registry service: ``python -m services.registry``."""

from __future__ import annotations

import logging

import asyncpg

from services.common import event_loop, legal_calendar
from services.common.clock import BureauClock
from services.common.department.serve import run
from services.common.legal_calendar import LegalCalendar
from services.registry import settings
from services.registry.department import RegistryDepartment

log = logging.getLogger("registry")


def department(
    pool: asyncpg.Pool, clock: BureauClock, calendar: LegalCalendar
) -> RegistryDepartment:
    # Said once at start-up (after logging is set up): divorce periods reaching into these
    # years are reckoned on weekends alone until the bureau supplies their schedules.
    legal_calendar.warn_missing(log, calendar, clock.today())
    return RegistryDepartment(pool, clock, calendar)


if __name__ == "__main__":
    configured = settings.from_env()
    # One clock (BUREAU_TIME_ZONE, default Asia/Shanghai) and one calendar for the process, so
    # withdrawals, confirmations and the sweep reckon the same local dates.
    clock = configured.department.clock
    calendar = legal_calendar.load()
    event_loop.run(
        run(
            configured.department,
            lambda pool: department(pool, clock, calendar),
            background=lambda registry: registry.divorces.sweep_forever(configured.sweep_seconds),
        ),
        configured.department.event_loop,
    )
