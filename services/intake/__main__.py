"""Starts the intake service: ``python -m services.intake``."""

from __future__ import annotations

import asyncio
import logging

from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from services.common import db, legal_calendar, outbox_watch, schema, telemetry
from services.common.grpc_server import Registration, serve
from services.intake import settings
from services.intake.audit_log import AuditLog
from services.intake.server import IntakeServicer
from services.intake.store import CaseLedger
from services.intake.workload import WorkloadGauges


async def main(configured: settings.Settings) -> None:
    configured.keys.configure()
    telemetry.setup(configured.telemetry)
    pool = await db.open_pool(
        configured.database_url,
        schema.directories_for("intake"),
        apply_migrations=configured.migrate_at_start,
        service="intake",
    )
    clock = configured.clock
    calendar = legal_calendar.load()
    legal_calendar.warn_missing(logging.getLogger("services.intake"), calendar, clock.today())
    ledger = CaseLedger(pool, clock, calendar)
    servicer = IntakeServicer(ledger, AuditLog(pool))
    gauges = WorkloadGauges(ledger, clock)
    gauges.install()
    counting = gauges.keep_current(configured.case_gauges_seconds)

    backlog = outbox_watch.watch("intake", pool)

    async def stop() -> None:
        await counting.stop()
        await backlog.stop()
        await pool.close()

    registration = Registration(
        intake_service_pb2_grpc.add_IntakeServiceServicer_to_server,
        servicer,
        intake_service_pb2.DESCRIPTOR.services_by_name["IntakeService"].full_name,
    )
    await serve("intake", configured.port, [registration], configured.server, on_stop=stop)


if __name__ == "__main__":
    asyncio.run(main(settings.from_env()))
