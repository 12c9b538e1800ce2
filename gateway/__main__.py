"""Starts the gateway: ``python -m gateway``. gRPC on GATEWAY_GRPC_PORT (50051), HTTP/JSON on
GATEWAY_HTTP_PORT (8080), for the jurisdiction GATEWAY_JURISDICTION (a division code)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from gateway.applications import Window
from gateway.backends import Backends
from gateway.grpc_api import GatewayServicer
from gateway.http_api import create_app
from onedoor.gateway.v1 import gateway_service_pb2, gateway_service_pb2_grpc
from services.common import config, divisions, telemetry
from services.common.config import ConfigError
from services.common.grpc_server import GrpcServer, Registration, wait_for_termination

log = logging.getLogger("gateway")


async def main() -> None:
    telemetry.setup("gateway", instrument_asyncpg=False)
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor

    AioHttpServerInstrumentor().instrument()
    jurisdiction = config.env_str("GATEWAY_JURISDICTION", "320585")
    if not divisions.is_known(jurisdiction):
        raise ConfigError(f"GATEWAY_JURISDICTION={jurisdiction} is not a GB/T 2260 division code")
    backends = Backends()
    window = Window(backends, jurisdiction)

    server = GrpcServer(
        config.service_port("gateway"),
        [
            Registration(
                gateway_service_pb2_grpc.add_GatewayServiceServicer_to_server,
                GatewayServicer(window),
                gateway_service_pb2.DESCRIPTOR.services_by_name["GatewayService"].full_name,
            )
        ],
    )
    runner = web.AppRunner(create_app(window), access_log=None)
    await runner.setup()
    http_port = config.env_int("GATEWAY_HTTP_PORT", 8080)
    site = web.TCPSite(
        runner, config.env_str("BIND_HOST", "0.0.0.0"), http_port, shutdown_timeout=5
    )
    await server.start()
    await site.start()
    log.info(
        "gateway for %s serving gRPC on %d and HTTP on %d",
        jurisdiction,
        server.bound_port,
        http_port,
    )
    await wait_for_termination()
    log.info("gateway stopping: draining calls in flight")
    await server.stop()
    await runner.cleanup()
    await backends.close()
    telemetry.shutdown()


if __name__ == "__main__":
    asyncio.run(main())
