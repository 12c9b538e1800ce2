"""Starts the outbox relay: ``python -m services.relay``.

``RELAY_SOURCES`` names the services whose outboxes it drains (default: intake and every
department of the catalog); each database comes from ``<SERVICE>_DATABASE_URL`` (see
settings.py). Several relays may run: rows are claimed with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import asyncio
import logging

from services.common import broker, db, event_loop, schema, telemetry
from services.common.grpc_server import GrpcServer, wait_for_termination
from services.relay import settings
from services.relay.publisher import EventPublisher
from services.relay.relay import OutboxRelay

log = logging.getLogger("services.relay")


async def main(configured: settings.Settings) -> None:
    telemetry.setup(configured.telemetry)
    services = list(configured.database_urls)
    poll = configured.poll_seconds
    connection = await broker.connect(configured.amqp_uri)
    publisher = EventPublisher(connection)
    pools = [
        await db.open_pool(
            configured.database_urls[s],
            [schema.COMMON_MIGRATIONS],
            max_size=3,
            apply_migrations=configured.migrate_at_start,
            check_schema=False,
        )
        for s in services
    ]
    relays = [OutboxRelay(s, p, publisher, poll) for s, p in zip(services, pools, strict=True)]
    # Health only: Kubernetes probes the relay like every other process.
    health = GrpcServer(configured.port, [], configured.server)
    await health.start()
    tasks = [asyncio.create_task(r.run(), name=f"relay-{r.service}") for r in relays]
    log.info("relay draining the outboxes of %s", ", ".join(services))
    await wait_for_termination()
    await health.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for pool in pools:
        await pool.close()
    await connection.close()
    telemetry.shutdown()


if __name__ == "__main__":
    configured = settings.from_env()
    event_loop.run(main(configured), configured.event_loop)
