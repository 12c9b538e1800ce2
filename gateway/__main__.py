"""Starts the gateway: ``python -m gateway``. gRPC on GATEWAY_GRPC_PORT (50051), HTTP/JSON on
GATEWAY_HTTP_PORT (8080), for the jurisdiction GATEWAY_JURISDICTION (a division code); every
setting is read once, in gateway/settings.py."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from gateway import peers, settings, status_page
from gateway.audit_trail import AuditTrail
from gateway.backends import Backends
from gateway.console import ConsoleSignIn, receipt_qr
from gateway.federation import Federation
from gateway.federation_api import FederationServicer
from gateway.grpc_api import GatewayServicer
from gateway.http_api import Readiness, create_app
from gateway.window import Window
from onedoor.federation.v1 import federation_service_pb2, federation_service_pb2_grpc
from onedoor.gateway.v1 import gateway_service_pb2, gateway_service_pb2_grpc
from services.common import event_loop, legal_calendar, telemetry
from services.common.grpc_server import GrpcServer, Registration, wait_for_termination

log = logging.getLogger("gateway")


async def main(configured: settings.Settings) -> None:
    configured.keys.configure()
    telemetry.setup(configured.telemetry, instrument_asyncpg=False)
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor

    AioHttpServerInstrumentor().instrument()
    jurisdiction = configured.jurisdiction
    backends = Backends(configured.addresses)
    directory = peers.load(
        configured.peers_file, configured.name, configured.tls_cert_file, configured.tls_key_file
    )
    trail = AuditTrail(backends)
    federation = (
        Federation(
            backends,
            directory,
            jurisdiction,
            configured.federation_poll_seconds,
            trail,
        )
        if directory
        else None
    )
    clock = configured.clock
    calendar = legal_calendar.load()
    legal_calendar.warn_missing(log, calendar, clock.today())
    window = Window(
        backends,
        jurisdiction,
        directory,
        federation,
        trail,
        clock,
        calendar,
        stuck_after_seconds=configured.federation_stuck_after_seconds,
        bureau_contact=configured.bureau_contact,
    )
    sign_in = configured.sign_in()
    if configured.oidc is None and not configured.dev_tokens:
        log.warning(
            "no identity provider (GATEWAY_OIDC_ISSUER) and development tokens off: every call "
            "will be refused as UNAUTHENTICATED; set GATEWAY_OIDC_ISSUER and GATEWAY_OIDC_AUDIENCE"
        )
    oidc = configured.oidc
    console_sign_in = (
        ConsoleSignIn(
            oidc.issuer,
            configured.console_client_id,
            configured.dev_tokens,
            oidc.role_claim,
            oidc.department_claim,
            oidc.jurisdiction_claim,
        )
        if oidc
        else ConsoleSignIn(dev_tokens=configured.dev_tokens)
    )

    server = GrpcServer(
        configured.grpc_port,
        [
            Registration(
                gateway_service_pb2_grpc.add_GatewayServiceServicer_to_server,
                GatewayServicer(window, sign_in),
                gateway_service_pb2.DESCRIPTOR.services_by_name["GatewayService"].full_name,
            )
        ],
        configured.server,
        access_log=logging.getLogger("gateway.access"),
    )
    readiness = Readiness()
    app = create_app(window, configured.cors_origins, readiness, sign_in, console_sign_in)
    status_page.add_routes(app, window, configured.status_page_key)
    receipt_qr.configure(configured.status_page_url, configured.status_page_key)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    http_port = configured.http_port
    site = web.TCPSite(runner, configured.server.bind_host, http_port, shutdown_timeout=5)
    await server.start()
    await site.start()
    peer_server = None
    federation_task = None
    if directory is not None and federation is not None:
        # Peers reach FederationService on a port of its own, where only mutual TLS gets in.
        peer_server = GrpcServer(
            configured.peer_port,
            [
                Registration(
                    federation_service_pb2_grpc.add_FederationServiceServicer_to_server,
                    FederationServicer(window, directory, federation),
                    federation_service_pb2.DESCRIPTOR.services_by_name[
                        "FederationService"
                    ].full_name,
                )
            ],
            configured.server,
            credentials=directory.server_credentials(),
        )
        await peer_server.start()
        federation_task = asyncio.create_task(federation.run(), name="federation")
        log.info(
            "gateway %s federates with %s on port %d",
            directory.me.name,
            ", ".join(directory.peers),
            peer_server.bound_port,
        )
    log.info(
        "gateway for %s serving gRPC on %d and HTTP on %d",
        jurisdiction,
        server.bound_port,
        http_port,
    )
    await wait_for_termination()
    readiness.draining()
    log.info("gateway stopping: draining calls in flight")
    if federation_task is not None:
        federation_task.cancel()
    if peer_server is not None:
        await peer_server.stop()
    await server.stop()
    await runner.cleanup()
    if federation is not None:
        await federation.close()
    await backends.close()
    await sign_in.close()
    telemetry.shutdown()


if __name__ == "__main__":
    configured = settings.from_env()
    event_loop.run(main(configured), configured.event_loop)
