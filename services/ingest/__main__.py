"""Starts the ingest service: ``python -m services.ingest``. Agencies reach it, and only it,
on its own ports: gRPC (IngestService) and HTTP (JSON Lines and CSV batches)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from onedoor.department.v1 import known_persons_pb2_grpc
from onedoor.ingest.v1 import (
    ingest_service_pb2,
    ingest_service_pb2_grpc,
    warnings_service_pb2,
    warnings_service_pb2_grpc,
)
from onedoor.intake.v1 import intake_service_pb2_grpc
from services.common import db, event_loop, grpc_client, schema, telemetry
from services.common.grpc_server import GrpcServer, Registration, wait_for_termination
from services.ingest import daily as daily_run
from services.ingest import settings
from services.ingest.audit_client import IntakeAudit
from services.ingest.batch import BatchIntake, Limits
from services.ingest.daily import DailyRun
from services.ingest.grpc_api import IngestServicer
from services.ingest.http_api import create_app
from services.ingest.outreach import Outreach
from services.ingest.platform_knows import PlatformKnows
from services.ingest.proactive_opening import ProactiveOpening
from services.ingest.retention import RetentionSweep
from services.ingest.store import IngestStore
from services.ingest.warnings_api import WarningsServicer
from services.ingest.warnings_store import WarningsStore

log = logging.getLogger("services.ingest")


async def main(configured: settings.Settings) -> None:
    configured.keys.configure()
    telemetry.setup(configured.telemetry)
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor

    AioHttpServerInstrumentor().instrument()
    pool = await db.open_pool(
        configured.database_url,
        schema.directories_for("ingest"),
        apply_migrations=configured.migrate_at_start,
        service="ingest",
    )
    channels = {
        name: grpc_client.channel(address) for name, address in configured.addresses.items()
    }
    intake_stub = intake_service_pb2_grpc.IntakeServiceStub(channels["intake"])
    audit = IntakeAudit(intake_stub)
    warnings = WarningsStore(pool)
    opening = ProactiveOpening(warnings, intake_stub, audit)
    outreach = Outreach(
        pool,
        PlatformKnows(
            {
                name: known_persons_pb2_grpc.KnownPersonsServiceStub(channels[name])
                for name in settings.ASKED
            }
        ),
        warnings,
        audit,
        configured.clock,
        configured.rules,
        chunk=configured.chunk_records,
    )
    intake = BatchIntake(
        IngestStore(pool),
        configured.clock,
        Limits(chunk=configured.chunk_records),
        after=outreach.judge,
    )
    # Agencies' machine clients sign in at the bureau's identity provider (client credentials).
    sign_in = configured.sign_in()
    if configured.oidc is None and not configured.dev_tokens:
        log.warning(
            "no identity provider for agencies (INGEST_OIDC_ISSUER) and development tokens "
            "off: every push will be refused as UNAUTHENTICATED"
        )
    server = GrpcServer(
        configured.port,
        [
            Registration(
                ingest_service_pb2_grpc.add_IngestServiceServicer_to_server,
                IngestServicer(intake, sign_in),
                ingest_service_pb2.DESCRIPTOR.services_by_name["IngestService"].full_name,
            ),
            Registration(
                warnings_service_pb2_grpc.add_WarningsServiceServicer_to_server,
                WarningsServicer(warnings, audit),
                warnings_service_pb2.DESCRIPTOR.services_by_name["WarningsService"].full_name,
            ),
        ],
        configured.server,
    )
    draining = asyncio.Event()
    runner = web.AppRunner(
        create_app(intake, sign_in, ready=lambda: not draining.is_set()), access_log=None
    )
    await runner.setup()
    site = web.TCPSite(
        runner, configured.server.bind_host, configured.http_port, shutdown_timeout=5
    )
    daily = DailyRun(
        configured.clock,
        [
            ("judging of cut-off batches", outreach.judge_leftovers),
            ("reviews due", outreach.reviews_due),
            ("age milestones", outreach.age_milestones),
            # After the milestones, so that a case is opened on the birthday itself.
            ("proactive cases", opening.open_due),
            (
                "retention of unmatched records",
                RetentionSweep(pool, audit, configured.clock, configured.rules).sweep,
            ),
        ],
    )
    await server.start()
    await site.start()
    sweeps = asyncio.create_task(daily.run(), name="ingest daily run")
    retries = asyncio.create_task(
        daily_run.every(
            daily_run.RETRY_SECONDS, "judging of deferred batches", outreach.judge_leftovers
        ),
        name="ingest judging retries",
    )
    # A case intake could not open at the sweep is opened within a minute of its coming back.
    openings = asyncio.create_task(
        daily_run.every(daily_run.RETRY_SECONDS, "opening of proactive cases", opening.open_due),
        name="ingest proactive openings",
    )
    log.info("ingest serving gRPC on %d and HTTP on %d", server.bound_port, configured.http_port)
    await wait_for_termination()
    log.info("ingest stopping: draining batches in flight")
    draining.set()
    sweeps.cancel()
    retries.cancel()
    openings.cancel()
    await server.stop()
    await runner.cleanup()
    for channel in channels.values():
        await channel.close()
    await sign_in.close()
    await pool.close()
    telemetry.shutdown()


if __name__ == "__main__":
    configured = settings.from_env()
    event_loop.run(main(configured), configured.event_loop)
