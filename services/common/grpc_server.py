"""How every onedoor gRPC server starts, answers errors, reports health and stops.

- :class:`ApiErrorInterceptor` turns an :class:`~services.common.errors.ApiError` raised by a
  handler into a ``google.rpc.Status`` with details, and anything unexpected into INTERNAL
  with the trace id to quote; every answer carries ``x-trace-id`` in its trailing metadata.
- The standard health service reports SERVING once the servicers are in, NOT_SERVING from
  the moment SIGTERM arrives; the server then drains for ``SHUTDOWN_GRACE_SECONDS``.
- Server reflection is on, so grpcurl and Postman can list and call the services.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import DecodeError
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1._async import HealthServicer
from grpc_reflection.v1alpha import reflection

from services.common import auth, rpc_metrics, telemetry
from services.common.config import ServerSettings
from services.common.errors import ApiError, FieldViolation, invalid_argument

log = logging.getLogger(__name__)

TRACE_ID_METADATA = "x-trace-id"


# Open to any caller: Kubernetes probes and operators' tooling.
OPEN_SERVICES = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class ServiceCredentialInterceptor(grpc.aio.ServerInterceptor):
    """Internal services answer only the platform's own processes (the gateway and the router),
    which present the shared service credential."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        method = handler_call_details.method
        presented = dict(handler_call_details.invocation_metadata or ()).get(
            auth.SERVICE_TOKEN_METADATA, ""
        )
        if method.startswith(OPEN_SERVICES) or auth.is_service_token(str(presented)):
            return await continuation(handler_call_details)

        async def refuse(request: Any, context: grpc.aio.ServicerContext) -> Any:
            await context.abort(
                grpc.StatusCode.UNAUTHENTICATED,
                "internal service: only the gateway and the router may call it",
            )

        return grpc.unary_unary_rpc_method_handler(refuse)


# What a request that is not a valid message of its method decodes to: gRPC decodes before any
# handler runs, and would answer UNKNOWN and log a traceback for the client's mistake.
_UNDECODABLE = object()


def _tolerant(deserializer: Callable[[bytes], Any] | None) -> Callable[[bytes], Any] | None:
    if deserializer is None:
        return None

    def decode(data: bytes) -> Any:
        try:
            return deserializer(data)
        except (DecodeError, UnicodeDecodeError):
            return _UNDECODABLE

    return decode


class ApiErrorInterceptor(grpc.aio.ServerInterceptor):
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        behavior = handler.unary_unary
        method = handler_call_details.method

        async def answer(request: Any, context: grpc.aio.ServicerContext) -> Any:
            trace_id = telemetry.current_trace_id()
            try:
                if request is _UNDECODABLE:
                    raise invalid_argument(
                        [FieldViolation("request", f"is not a valid message for {method}")],
                        reason="UNDECODABLE_REQUEST",
                    )
                response = await behavior(request, context)
            except ApiError as error:
                status = error.to_grpc_status()
                await context.abort(
                    status.code,
                    status.details,
                    trailing_metadata=(*status.trailing_metadata, (TRACE_ID_METADATA, trace_id)),
                )
            except (asyncio.CancelledError, grpc.aio.AbortError):
                raise
            except Exception as error:
                # The type only: messages of driver errors can quote stored values.
                log.error("%s failed with %s", method, type(error).__name__)
                await context.abort(
                    grpc.StatusCode.INTERNAL,
                    f"internal error; quote trace id {trace_id} to the operators",
                    trailing_metadata=((TRACE_ID_METADATA, trace_id),),
                )
            context.set_trailing_metadata(((TRACE_ID_METADATA, trace_id),))
            return response

        return grpc.unary_unary_rpc_method_handler(
            answer,
            request_deserializer=_tolerant(handler.request_deserializer),
            response_serializer=handler.response_serializer,
        )


@dataclass(frozen=True)
class Registration:
    """One servicer and how to add it: the ``add_XServicer_to_server`` function and the full
    service name (``onedoor.intake.v1.IntakeService``) for health and reflection."""

    add_to_server: Callable[[Any, grpc.aio.Server], None]
    servicer: object
    service_name: str


class GrpcServer:
    def __init__(
        self,
        port: int,
        registrations: Sequence[Registration],
        settings: ServerSettings,
        credentials: grpc.ServerCredentials | None = None,
        internal: bool = False,
        access_log: logging.Logger | None = None,
    ) -> None:
        self.port = port
        self.settings = settings
        self.registrations = registrations
        self.health = HealthServicer()
        self.server = grpc.aio.server(
            interceptors=[
                rpc_metrics.ServerMetricsInterceptor(access_log),
                *([ServiceCredentialInterceptor()] if internal else []),
                ApiErrorInterceptor(),
            ],
            options=[
                ("grpc.max_receive_message_length", 4 * 1024 * 1024),
                # Clients keep one connection for as long as it lives; ending connections after
                # a few minutes makes them re-resolve, so new replicas get their share of calls.
                ("grpc.max_connection_age_ms", settings.max_connection_age_seconds * 1000),
                ("grpc.max_connection_age_grace_ms", 30_000),
            ],
        )
        for registration in registrations:
            registration.add_to_server(registration.servicer, self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        names = [r.service_name for r in registrations]
        reflection.enable_server_reflection(
            [
                *names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            self.server,
        )
        address = f"{settings.bind_host}:{port}"
        self.bound_port = (
            self.server.add_secure_port(address, credentials)
            if credentials is not None
            else self.server.add_insecure_port(address)
        )

    async def start(self) -> None:
        await self.server.start()
        for name in ("", *(r.service_name for r in self.registrations)):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self) -> None:
        """Stops taking calls (health says NOT_SERVING), lets calls in flight finish."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(self.settings.shutdown_grace_seconds)


async def wait_for_termination() -> None:
    """Returns on SIGTERM (Kubernetes) or SIGINT (Ctrl-C)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def serve(
    name: str,
    port: int,
    registrations: Sequence[Registration],
    settings: ServerSettings,
    on_stop: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Runs a service's server until SIGTERM, then drains it and runs ``on_stop``."""
    server = GrpcServer(port, registrations, settings, internal=True)
    await server.start()
    log.info("%s serving gRPC on port %d", name, server.bound_port)
    await wait_for_termination()
    log.info("%s stopping: draining calls in flight", name)
    await server.stop()
    if on_stop is not None:
        await on_stop()
    telemetry.shutdown()
