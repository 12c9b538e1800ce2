"""When a message may go: never in the bureau's quiet hours (22:00 to 08:00, bureau time,
whatever the host's zone), and after a provider's failure only once its back-off has passed.
Pure: the instant comes from the caller's BureauClock."""

from __future__ import annotations

import datetime as dt

from services.common.clock import BureauClock

QUIET_FROM = dt.time(22, 0)
QUIET_UNTIL = dt.time(8, 0)

FIRST_RETRY_SECONDS = 2.0
LONGEST_RETRY_SECONDS = 300.0
# Attempts before a message is given up (recorded on the case's timeline and counted): about
# a quarter of an hour of a provider's trouble, in waking hours.
MAX_ATTEMPTS = 8


def is_quiet(instant: dt.datetime, clock: BureauClock) -> bool:
    local = clock.local(instant).time()
    return local >= QUIET_FROM or local < QUIET_UNTIL


def not_before(instant: dt.datetime, clock: BureauClock) -> dt.datetime:
    """``instant`` itself outside quiet hours; in them, the next 08:00 bureau time."""
    if not is_quiet(instant, clock):
        return instant
    local = clock.local(instant)
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, QUIET_UNTIL, tzinfo=clock.zone).astimezone(dt.UTC)


def retry_after(attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt: 2 s, doubling, at most 5 min."""
    return min(LONGEST_RETRY_SECONDS, FIRST_RETRY_SECONDS * 2 ** max(0, attempts - 1))


def next_attempt(
    now: dt.datetime, attempts: int, clock: BureauClock, hint_seconds: float | None = None
) -> dt.datetime:
    """When to try again after a failure: the back-off (or the provider's Retry-After, when
    longer), pushed past quiet hours."""
    wait = max(retry_after(attempts), hint_seconds or 0.0)
    return not_before(now + dt.timedelta(seconds=wait), clock)
