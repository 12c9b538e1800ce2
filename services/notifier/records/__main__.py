"""Starts the notifier's send records: ``python -m services.notifier.records``.

A grpc.aio + asyncpg process of its own beside the notifier (STACK.md: asyncpg cannot run in
the notifier's eventlet-patched nameko process). It owns onedoor_notifier: migrates it at
start-up in local runs and tests, only checks its schema in a cluster (the migrate-notifier
Job migrates).
"""

from __future__ import annotations

import sys

from onedoor.notifier.v1 import send_records_service_pb2, send_records_service_pb2_grpc
from services.common import db, event_loop, grpc_server, schema, telemetry
from services.common.grpc_server import Registration
from services.notifier.records import settings
from services.notifier.records.servicer import SendRecordsServicer
from services.notifier.records.store import SendRecordsStore


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
    await grpc_server.serve(
        "notifier records",
        configured.port,
        [
            Registration(
                send_records_service_pb2_grpc.add_SendRecordsServiceServicer_to_server,
                SendRecordsServicer(SendRecordsStore(pool)),
                send_records_service_pb2.DESCRIPTOR.services_by_name[
                    "SendRecordsService"
                ].full_name,
            )
        ],
        configured.server,
        on_stop=pool.close,
    )


if __name__ == "__main__":
    try:
        configured = settings.from_env()
        event_loop.run(main(configured), configured.event_loop)
    except schema.SchemaMismatch as error:
        print(str(error), file=sys.stderr)
        sys.exit(1)
