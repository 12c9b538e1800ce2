"""Starts the social assistance service: ``python -m services.assistance``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from onedoor.assistance.v1 import assistance_service_pb2, assistance_service_pb2_grpc
from services.assistance import standards
from services.assistance.server import AssistanceServicer
from services.assistance.store import AssistanceCases
from services.common import config, db, telemetry
from services.common.grpc_server import Registration, serve

MIGRATIONS = Path(__file__).parent / "migrations"


async def main() -> None:
    telemetry.setup("assistance")
    dibao_standards = standards.load()
    pool = await db.open_pool(config.database_url("assistance"), MIGRATIONS)
    servicer = AssistanceServicer(AssistanceCases(pool), dibao_standards)
    registration = Registration(
        assistance_service_pb2_grpc.add_AssistanceServiceServicer_to_server,
        servicer,
        assistance_service_pb2.DESCRIPTOR.services_by_name["AssistanceService"].full_name,
    )
    await serve("assistance", config.service_port("assistance"), [registration], on_stop=pool.close)


if __name__ == "__main__":
    asyncio.run(main())
