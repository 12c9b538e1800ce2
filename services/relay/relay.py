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
BACK_OFF_START_SECONDS = 0.25
BACK_OFF_MAX_SECONDS = 5.0
# How long one pause waits for a lost broker connection before trying (and logging) again.
BROKER_WAIT_SECONDS = 30.0


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

    def _notified(self, *_: object) -> None:
        self._wake.set()

    async def _listen(self) -> asyncpg.Connection | None:
        try:
            conn = await self.pool.acquire()
            await conn.add_listener("outbox", self._notified)
            return conn
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("%s: cannot LISTEN (%s); polling only", self.service, type(error).__name__)
            return None

    async def _back_off(self, failures: int) -> None:
        """Pauses after a failed round. NOTIFYs do not cut the pause short: while the broker is
        away every new row would fail the same way, and each try holds a transaction over
        claimed rows. A broker outage ends the pause as soon as the connection is back."""
        await asyncio.sleep(min(BACK_OFF_START_SECONDS * 2 ** (failures - 1), BACK_OFF_MAX_SECONDS))
        if not await self.publisher.until_connected(BROKER_WAIT_SECONDS):
            log.warning("%s outbox: still no connection to the broker", self.service)

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
                if failures:
                    await self._back_off(failures)
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
        finally:
            if listener is not None:
                with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    await listener.remove_listener("outbox", self._notified)
                await self.pool.release(listener)
