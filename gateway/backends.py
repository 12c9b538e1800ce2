"""The gateway's channels to the services behind it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from onedoor.department.v1 import department_service_pb2_grpc
from onedoor.intake.v1 import intake_service_pb2_grpc
from onedoor.registry.v1 import registry_service_pb2_grpc
from services.common import auth, grpc_client
from services.common.catalog import DEPARTMENTS
from services.common.errors import from_rpc_error, not_found

T = TypeVar("T")

CALL_TIMEOUT_SECONDS = 10.0
HEALTH_TIMEOUT_SECONDS = 1.0
# ingest: the departments' warnings queues (gateway/warnings.py).
SERVICES = ("intake", *DEPARTMENTS, "ingest")


class Backends:
    def __init__(self, addresses: Mapping[str, str]) -> None:
        """``addresses``: host:port of each of SERVICES, from the gateway's settings."""
        self.channels = {name: grpc_client.channel(addresses[name]) for name in SERVICES}
        self.intake = intake_service_pb2_grpc.IntakeServiceStub(self.channels["intake"])
        self.departments = {
            name: department_service_pb2_grpc.DepartmentServiceStub(self.channels[name])
            for name in DEPARTMENTS
        }
        self.registry = registry_service_pb2_grpc.RegistryServiceStub(self.channels["registry"])

    def department(self, name: str) -> department_service_pb2_grpc.DepartmentServiceStub:
        if name not in self.departments:
            raise not_found("department", name)
        return self.departments[name]

    async def call(
        self,
        method: Callable[..., Awaitable[T]],
        request: object,
        timeout: float = CALL_TIMEOUT_SECONDS,
        wait_for_ready: bool = True,
    ) -> T:
        """Calls a backend; its errors come back as ApiError, ready to pass on."""
        try:
            # wait_for_ready: a service restarting (or starting after the gateway) is waited for
            # within the call's deadline, instead of failing the call at once.
            return await method(
                request,
                timeout=timeout,
                metadata=auth.service_metadata(),
                wait_for_ready=wait_for_ready,
            )
        except grpc.aio.AioRpcError as error:
            raise from_rpc_error(error) from None

    async def health(self) -> dict[str, str]:
        """Each service's health status name (SERVING, NOT_SERVING, UNREACHABLE)."""

        async def check(channel: grpc.aio.Channel) -> str:
            stub = health_pb2_grpc.HealthStub(channel)
            try:
                response = await stub.Check(
                    health_pb2.HealthCheckRequest(service=""), timeout=HEALTH_TIMEOUT_SECONDS
                )
            except grpc.aio.AioRpcError:
                return "UNREACHABLE"
            return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)

        names = list(self.channels)
        statuses = await asyncio.gather(*(check(self.channels[n]) for n in names))
        return dict(zip(names, statuses, strict=True))

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.channels.values()))
