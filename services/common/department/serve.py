"""How a department service starts: ``serve(MyDepartment(), migrations_dir)`` from its
``__main__``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import asyncpg

from onedoor.department.v1 import (
    department_service_pb2,
    department_service_pb2_grpc,
    known_persons_pb2_grpc,
)
from onedoor.intake.v1 import intake_service_pb2_grpc
from services.common import db, grpc_client, outbox_watch, schema, telemetry
from services.common.department import known_persons
from services.common.department.rules import Department
from services.common.department.servicer import DepartmentServicer
from services.common.department.settings import DepartmentSettings
from services.common.department.store import DepartmentCases
from services.common.grpc_server import Registration, serve

SERVICE_NAME = department_service_pb2.DESCRIPTOR.services_by_name["DepartmentService"].full_name


D = TypeVar("D", bound=Department)


async def run(
    settings: DepartmentSettings,
    make: Callable[[asyncpg.Pool], D],
    background: Callable[[D], Coroutine[Any, Any, None]] | None = None,
) -> None:
    """Runs the department of ``settings`` until SIGTERM. ``make`` builds it on its pool;
    ``background`` is an optional task of the department's own (a periodic sweep)."""
    settings.keys.configure()
    telemetry.setup(settings.telemetry)
    pool = await db.open_pool(
        settings.database_url,
        schema.directories_for(settings.name),
        apply_migrations=settings.migrate_at_start,
        service=settings.name,
    )
    department = make(pool)
    cases = DepartmentCases(pool, department.name)
    intake = grpc_client.channel(settings.intake_address)
    registrations = [
        Registration(
            department_service_pb2_grpc.add_DepartmentServiceServicer_to_server,
            DepartmentServicer(
                department, cases, intake_service_pb2_grpc.IntakeServiceStub(intake)
            ),
            SERVICE_NAME,
        ),
        Registration(
            known_persons_pb2_grpc.add_KnownPersonsServiceServicer_to_server,
            known_persons.KnownPersonsServicer(department, cases),
            known_persons.SERVICE_NAME,
        ),
        *department.extra_registrations(),
    ]
    task = asyncio.create_task(background(department)) if background else None
    backlog = outbox_watch.watch(settings.name, pool)

    async def stop() -> None:
        if task is not None:
            task.cancel()
        await backlog.stop()
        await intake.close()
        await pool.close()

    await serve(settings.name, settings.port, registrations, settings.server, on_stop=stop)
