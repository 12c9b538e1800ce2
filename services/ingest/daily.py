"""What the ingest service does once a day on the bureau's calendar (its local midnight, not
the host's): the retention sweep of unmatched records, and the judging of any batch a stop cut
off midway. Run once at start too, so a day missed while the service was down is caught up;
every job is idempotent (dedup keys, the retention rule), so running twice adds nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence

from opentelemetry import trace

from services.common.clock import BureauClock

log = logging.getLogger("services.ingest")
_tracer = trace.get_tracer(__name__)

# After midnight, so that "today" is unambiguously the new day whatever the clocks' skew.
AFTER_MIDNIGHT = dt.timedelta(minutes=5)

Job = tuple[str, Callable[[], Awaitable[object]]]


def seconds_until_next_run(now: dt.datetime, clock: BureauClock) -> float:
    """From ``now`` (aware) until the bureau's next local midnight plus AFTER_MIDNIGHT."""
    local = now.astimezone(clock.zone)
    run_today = dt.datetime.combine(local.date(), dt.time(), tzinfo=clock.zone) + AFTER_MIDNIGHT
    following = run_today if local < run_today else run_today + dt.timedelta(days=1)
    # Local midnight + 5 minutes exists on every day in zones without midnight transitions;
    # comparing in UTC keeps a DST day's length right.
    return max(0.0, (following.astimezone(dt.UTC) - now.astimezone(dt.UTC)).total_seconds())


class DailyRun:
    def __init__(self, clock: BureauClock, jobs: Sequence[Job]) -> None:
        self.clock = clock
        self.jobs = jobs

    async def once(self) -> None:
        for name, job in self.jobs:
            with _tracer.start_as_current_span(f"daily {name}"):
                try:
                    await job()
                except Exception:
                    # One job's failure must not keep the others from running; it runs again
                    # tomorrow, or at the next start.
                    log.exception("daily %s failed", name)

    async def run(self) -> None:
        while True:
            await self.once()
            await asyncio.sleep(seconds_until_next_run(self.clock.now(), self.clock))


# How often batches whose judging was deferred are tried again.
RETRY_SECONDS = 60.0


async def every(seconds: float, name: str, job: Callable[[], Awaitable[object]]) -> None:
    """Runs ``job`` every ``seconds``; a failure is logged and tried again next time."""
    while True:
        await asyncio.sleep(seconds)
        try:
            await job()
        except Exception as error:
            log.warning(
                "%s failed (%s); trying again in %.0fs", name, type(error).__name__, seconds
            )
