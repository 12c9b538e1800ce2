"""The gateway spreads its calls over every replica a service's address names: two intake
servers on loopback, one ``ipv4:`` target naming both, and each server answers some of the
calls (round robin), where gRPC's default policy would send every call to the first."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.backends import SERVICES, Backends
from services.launcher.platform import free_port


class CountingHealth(health_pb2_grpc.HealthServicer):
    def __init__(self) -> None:
        self.calls = 0

    async def Check(
        self, request: health_pb2.HealthCheckRequest, context: grpc.aio.ServicerContext
    ) -> health_pb2.HealthCheckResponse:
        self.calls += 1
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)


@pytest.fixture
async def replicas() -> AsyncIterator[list[tuple[int, CountingHealth]]]:
    started = []
    for _ in range(2):
        port = free_port()
        servicer = CountingHealth()
        server = grpc.aio.server()
        health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        started.append((server, port, servicer))
    yield [(port, servicer) for _, port, servicer in started]
    for server, _, _ in started:
        await server.stop(None)


async def test_calls_to_intake_go_to_both_replicas(
    replicas: list[tuple[int, CountingHealth]],
) -> None:
    target = "ipv4:" + ",".join(f"127.0.0.1:{port}" for port, _ in replicas)
    # The other services are never called here; their channels connect only when used.
    backends = Backends({name: target if name == "intake" else "127.0.0.1:1" for name in SERVICES})
    stub = health_pb2_grpc.HealthStub(backends.channels["intake"])
    try:
        # The second subchannel may become ready a little after the first: until then every
        # call goes to the first, so the calls go on until both have answered (or 200 calls).
        for _ in range(200):
            await stub.Check(health_pb2.HealthCheckRequest(), timeout=5, wait_for_ready=True)
            if all(servicer.calls for _, servicer in replicas):
                break
    finally:
        await backends.close()
    assert [servicer.calls > 0 for _, servicer in replicas] == [True, True]
