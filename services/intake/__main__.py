"""Starts the intake service: ``python -m services.intake``."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from services.common import db, event_loop, legal_calendar, outbox_watch, schema, telemetry
from services.common.grpc_server import Registration, serve
from services.intake import case_people, settings
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
    # Beside serving, not before it: a large ledger takes a while, and only the search by
    # person of old cases waits for it.
    filling = asyncio.create_task(case_people.backfill(pool), name="case_people backfill")
    filling.add_done_callback(_backfill_ended)

    async def stop() -> None:
        filling.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await filling
        await counting.stop()
        await backlog.stop()
        await pool.close()

    registration = Registration(
        intake_service_pb2_grpc.add_IntakeServiceServicer_to_server,
        servicer,
        intake_service_pb2.DESCRIPTOR.services_by_name["IntakeService"].full_name,
    )
    await serve("intake", configured.port, [registration], configured.server, on_stop=stop)


def _backfill_ended(task: asyncio.Task[int]) -> None:
    if not task.cancelled() and task.exception() is not None:
        # Retried at the next start; what it filled so far stays.
        logging.getLogger("services.intake").error(
            "search by person: the backfill stopped (%s)", type(task.exception()).__name__
        )


if __name__ == "__main__":
    configured = settings.from_env()
    event_loop.run(main(configured), configured.event_loop)
