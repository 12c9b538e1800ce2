"""The divorce cooling-off period (《民法典》第一千零七十七条). Pure: every function takes the
time it is asked about, so the clock is the caller's to inject.

Within 30 days of the application either party may withdraw it. In the 30 days after that,
both must confirm in person, or the application is treated as withdrawn (it lapses).
"""

from __future__ import annotations

import datetime as dt
import enum

COOLING_OFF = dt.timedelta(days=30)
CONFIRMATION = dt.timedelta(days=30)


class Phase(enum.Enum):
    COOLING_OFF = "cooling_off"
    CONFIRMATION = "confirmation"
    LAPSED = "lapsed"


def cooling_off_end(filed_at: dt.datetime) -> dt.datetime:
    return filed_at + COOLING_OFF


def confirmation_end(filed_at: dt.datetime) -> dt.datetime:
    return filed_at + COOLING_OFF + CONFIRMATION


def phase(filed_at: dt.datetime, now: dt.datetime) -> Phase:
    if now < cooling_off_end(filed_at):
        return Phase.COOLING_OFF
    if now <= confirmation_end(filed_at):
        return Phase.CONFIRMATION
    return Phase.LAPSED


def may_withdraw(filed_at: dt.datetime, now: dt.datetime) -> bool:
    return phase(filed_at, now) is Phase.COOLING_OFF


def may_confirm(filed_at: dt.datetime, now: dt.datetime) -> bool:
    return phase(filed_at, now) is Phase.CONFIRMATION
