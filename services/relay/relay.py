"""The outbox relay loop for one service database."""

from __future__ import annotations

import asyncio
import contextlib
import logging

import asyncpg

from services.common import outbox
from services.relay.publisher import EventPublisher

log = logging.getLogger(__name__)

BATCH = 100


class OutboxRelay:
    def __init__(
        self, service: str, pool: asyncpg.Pool, publisher: EventPublisher, poll_seconds: float
    ) -> None:
        self.service = service
        self.pool = pool
        self.publisher = publisher
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()

    async def publish_batch(self) -> int:
        """Publishes up to BATCH events in one transaction. If any publish fails the whole
        batch stays unpublished and is tried again: consumers are idempotent by event id."""
        async with self.pool.acquire() as conn, conn.transaction():
            events = await outbox.claim(conn, BATCH)
            for event in events:
                await self.publisher.publish(event)
            if events:
                await outbox.mark_published(conn, [e.id for e in events])
        return len(events)

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await self.pool.acquire()
            await conn.add_listener("outbox", lambda *_: self._wake.set())
            return conn
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("%s: cannot LISTEN (%s); polling only", self.service, type(error).__name__)
            return None

    async def run(self) -> None:
        listener = await self._listen()
        failures = 0
        try:
            while True:
                try:
                    while await self.publish_batch() == BATCH:
                        pass
                    failures = 0
                except (OSError, asyncpg.PostgresError, ConnectionError) as error:
                    failures += 1
                    log.warning(
                        "%s outbox: publish failed (%s: %s); retrying",
                        self.service,
                        type(error).__name__,
                        str(error)[:200],
                    )
                except Exception as error:  # aio-pika's delivery and channel errors
                    failures += 1
                    log.warning(
                        "%s outbox: publish failed (%s); retrying",
                        self.service,
                        type(error).__name__,
                    )
                delay = self.poll_seconds if failures == 0 else min(0.5 * 2**failures, 10.0)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=delay)
        finally:
            if listener is not None:
                await self.pool.release(listener)
