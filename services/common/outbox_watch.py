"""How much of a service's outbox waits for the relay, reported by the service that owns it
(``onedoor.outbox.waiting`` and ``onedoor.outbox.oldest_age``), so the gauges keep rising while
the relay is stopped, which is when an operator needs them.

A background task counts the unpublished rows and reads the oldest one's age every
:data:`REFRESH_SECONDS`; the gauges' callbacks only read what it found, since they run on the
collecting thread (a scrape), which must never wait on the database. Between refreshes the
oldest row keeps ageing by the process's monotonic clock, so the age rises smoothly and does
not depend on the database's and the process's clocks agreeing.

The query is served by the outbox's partial index on unpublished rows (``outbox_unpublished``,
services/common/migrations/0001_outbox.sql): it reads only the rows still waiting, never the
published history (0.4 ms for 2,000 waiting beside a million published).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import asyncpg

from services.common import metric_catalog
from services.common.metric_catalog import OUTBOX_OLDEST_AGE, OUTBOX_WAITING, Reading
from services.common.periodic import Periodic

log = logging.getLogger(__name__)

# Well inside any scrape interval an alert would use, and a query over the waiting rows alone
# costs next to nothing; not a setting, since no operator has a reason to turn it.
REFRESH_SECONDS = 5.0

_BACKLOG = """
SELECT count(*) AS waiting,
       coalesce(extract(epoch FROM clock_timestamp() - min(created_at)), 0) AS oldest_age
  FROM outbox
 WHERE published_at IS NULL
"""


@dataclass(frozen=True)
class Backlog:
    """What one refresh found."""

    waiting: int
    # Seconds, as the database saw it at ``observed``.
    oldest_age: float
    # time.monotonic() of the refresh.
    observed: float

    def age_at(self, now: float) -> float:
        """The oldest waiting row's age at the monotonic instant ``now``."""
        if self.waiting == 0:
            return 0.0
        return max(0.0, self.oldest_age + (now - self.observed))


# service -> its latest backlog: one process owns one outbox, but nothing here assumes it.
_backlogs: dict[str, Backlog] = {}


def _waiting() -> Reading:
    return [(float(b.waiting), {"service": s}) for s, b in list(_backlogs.items())]


def _oldest_age() -> Reading:
    now = time.monotonic()
    return [(b.age_at(now), {"service": s}) for s, b in list(_backlogs.items())]


metric_catalog.gauge(OUTBOX_WAITING, _waiting)
metric_catalog.gauge(OUTBOX_OLDEST_AGE, _oldest_age)


class OutboxWatch:
    """Keeps one service's outbox gauges current: ``start()`` after the pool opens,
    ``await stop()`` before it closes."""

    def __init__(
        self, service: str, pool: asyncpg.Pool, refresh_seconds: float = REFRESH_SECONDS
    ) -> None:
        self.service = service
        self.pool = pool
        self._periodic = Periodic(f"{service} outbox backlog", self.refresh, refresh_seconds)

    async def refresh(self) -> Backlog:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_BACKLOG)
        assert row is not None
        backlog = Backlog(int(row["waiting"]), float(row["oldest_age"]), time.monotonic())
        _backlogs[self.service] = backlog
        return backlog

    def start(self) -> OutboxWatch:
        self._periodic.start()
        return self

    async def stop(self) -> None:
        await self._periodic.stop()


def watch(service: str, pool: asyncpg.Pool) -> OutboxWatch:
    """Starts reporting ``service``'s outbox backlog from ``pool``; ``await .stop()`` it
    before the pool closes."""
    return OutboxWatch(service, pool).start()
