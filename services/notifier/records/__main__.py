"""Starts the notifier's send records: ``python -m services.notifier.records``.

A grpc.aio + asyncpg process of its own beside the notifier (STACK.md: asyncpg cannot run in
the notifier's eventlet-patched nameko process). It owns onedoor_notifier: migrates it at
start-up in local runs and tests, only checks its schema in a cluster (the migrate-notifier
Job migrates). It consumes the events people are told about and records their notices
(consumer, telling); the notifier sends what is due, through SendRecordsService.
"""

from __future__ import annotations

import sys

from onedoor.intake.v1 import intake_service_pb2_grpc
from onedoor.notifier.v1 import send_records_service_pb2, send_records_service_pb2_grpc
from services.common import (
    broker,
    db,
    event_loop,
    grpc_client,
    grpc_server,
    legal_calendar,
    schema,
    telemetry,
)
from services.common.grpc_server import Registration
from services.notifier.records import settings
from services.notifier.records.consumer import EventConsumer
from services.notifier.records.servicer import SendRecordsServicer
from services.notifier.records.store import SendRecordsStore
from services.notifier.records.telling import Rules, Telling


async def main(configured: settings.Settings) -> None:
    configured.keys.configure()
    telemetry.setup(configured.telemetry)
    pool = await db.open_pool(
        configured.database_url,
        schema.directories_for(settings.DATABASE),
        max_size=configured.pool_size,
        apply_migrations=configured.migrate_at_start,
        service=settings.DATABASE,
    )
    store = SendRecordsStore(pool)
    intake = grpc_client.channel(configured.intake_address)
    telling = Telling(
        intake_service_pb2_grpc.IntakeServiceStub(intake),
        store,
        Rules(configured.clock, legal_calendar.load(), configured.morning),
    )
    connection = await broker.connect(configured.amqp_uri)
    consumer = EventConsumer(connection, telling.tell, configured.prefetch)
    await consumer.start()

    async def stop() -> None:
        await consumer.stop()
        await connection.close()
        await intake.close()
        await pool.close()

    await grpc_server.serve(
        "notifier records",
        configured.port,
        [
            Registration(
                send_records_service_pb2_grpc.add_SendRecordsServiceServicer_to_server,
                SendRecordsServicer(store),
                send_records_service_pb2.DESCRIPTOR.services_by_name[
                    "SendRecordsService"
                ].full_name,
            )
        ],
        configured.server,
        on_stop=stop,
    )


if __name__ == "__main__":
    try:
        configured = settings.from_env()
        event_loop.run(main(configured), configured.event_loop)
    except schema.SchemaMismatch as error:
        print(str(error), file=sys.stderr)
        sys.exit(1)
