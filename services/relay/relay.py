"""The outbox relay loop for one service database.

Each publish is timed (``onedoor.relay.publish.duration``, from the publish to the broker's
confirm) and each failed one counted (``onedoor.relay.publish.failures``) and logged at
WARNING, naming the event's type and the error's class, never its payload. A published event
is a DEBUG line: at INFO one line per event would drown everything else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import asyncpg
from opentelemetry import context

from services.common import metric_catalog, outbox, telemetry
from services.common.metric_catalog import RELAY_PUBLISH_DURATION, RELAY_PUBLISH_FAILURES
from services.relay.publisher import EventPublisher

log = logging.getLogger(__name__)

_publish_duration = metric_catalog.histogram(RELAY_PUBLISH_DURATION)
_publish_failures = metric_catalog.counter(RELAY_PUBLISH_FAILURES)


class PublishFailed(Exception):
    """The broker did not take an event; counted and logged where it happened."""


BATCH = 100
BACK_OFF_START_SECONDS = 0.25
BACK_OFF_MAX_SECONDS = 5.0
# How long one pause waits for a lost broker connection before trying (and logging) again.
BROKER_WAIT_SECONDS = 30.0
# A NOTIFY wakes the relay for one new row; waiting this long first lets the rows committed
# meanwhile come along in the same round (one transaction, one claim, one mark), which at a
# busy window's rate is several, for an event that leaves this much later.
GATHER_SECONDS = 0.01


class OutboxRelay:
    def __init__(
        self, service: str, pool: asyncpg.Pool, publisher: EventPublisher, poll_seconds: float
    ) -> None:
        self.service = service
        self.pool = pool
        self.publisher = publisher
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._labels = {"service": service}

    async def _publish(self, event: outbox.PendingEvent) -> None:
        # In the context of the request that wrote the row: its lines carry that trace and the
        # case's receipt.
        token = context.attach(telemetry.extract(event.trace_context))
        try:
            await self._publish_in_context(event)
        finally:
            context.detach(token)

    async def _publish_in_context(self, event: outbox.PendingEvent) -> None:
        started = time.perf_counter()
        try:
            await self.publisher.publish(event)
        except Exception as error:
            _publish_failures.add(1, self._labels)
            # Only the class: aio-pika's and the socket's messages are safe, but a failure's
            # text is no place to look for what the event said.
            log.warning(
                "%s outbox: publishing a %s event failed (%s); it stays in the outbox",
                self.service,
                event.event_type,
                type(error).__name__,
            )
            raise PublishFailed(event.event_type) from error
        _publish_duration.record(time.perf_counter() - started, self._labels)
        log.debug("%s outbox: published %s %s", self.service, event.event_type, event.event_id)

    async def publish_batch(self) -> int:
        """Publishes up to BATCH events in one transaction. If any publish fails the whole
        batch stays unpublished and is tried again: consumers are idempotent by event id."""
        async with self.pool.acquire() as conn, conn.transaction():
            events = await outbox.claim(conn, BATCH)
            for event in events:
                await self._publish(event)
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
                except PublishFailed:
                    failures += 1
                except (OSError, asyncpg.PostgresError) as error:
                    # Claiming or marking rows: the database's side, whose messages name
                    # connections and relations, not the events.
                    failures += 1
                    log.warning(
                        "%s outbox: cannot claim or mark events (%s: %s); retrying",
                        self.service,
                        type(error).__name__,
                        str(error)[:200],
                    )
                except Exception as error:  # asyncpg's interface errors: a pool in trouble
                    failures += 1
                    log.warning(
                        "%s outbox: round failed (%s); retrying", self.service, type(error).__name__
                    )
                if failures:
                    await self._back_off(failures)
                    continue
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                    await asyncio.sleep(GATHER_SECONDS)
        finally:
            if listener is not None:
                with contextlib.suppress(OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                    await listener.remove_listener("outbox", self._notified)
                await self.pool.release(listener)
