"""Rate, errors and duration of every gRPC call, served and made, as OpenTelemetry's RPC
conventions name them (``rpc.server.duration``, ``rpc.client.duration``, labelled with
``rpc.service``, ``rpc.method`` and ``rpc.grpc.status_code``): the gRPC instrumentation
library traces calls but records no metrics.

Health checks and reflection are left out: probes every few seconds would drown the calls
people make.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from services.common import metric_catalog

UNMEASURED = ("/grpc.health.v1.Health/", "/grpc.reflection.")

_server_duration = metric_catalog.histogram(metric_catalog.RPC_SERVER_DURATION)
_client_duration = metric_catalog.histogram(metric_catalog.RPC_CLIENT_DURATION)


def labels(method: str, code: grpc.StatusCode) -> dict[str, Any]:
    """``/onedoor.intake.v1.IntakeService/OpenCase`` → service and method labels, and the
    status as its number, as the conventions have it."""
    service, _, name = method.lstrip("/").partition("/")
    return {
        "rpc.system": "grpc",
        "rpc.service": service,
        "rpc.method": name,
        "rpc.grpc.status_code": code.value[0],
    }


_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


def _status(value: object) -> grpc.StatusCode:
    """What ``context.code()`` gives (a StatusCode, its number, or None when none was set)."""
    if isinstance(value, grpc.StatusCode):
        return value
    return (
        _BY_NUMBER.get(value, grpc.StatusCode.OK) if isinstance(value, int) else grpc.StatusCode.OK
    )


def record_client_call(method: str, code: grpc.StatusCode, seconds: float) -> None:
    """For clients that are not grpc.aio channels (nameko-grpc, in the router)."""
    _client_duration.record(seconds, labels(method, code))


class ServerMetricsInterceptor(grpc.aio.ServerInterceptor):
    """Outermost on every server, so it sees the status the caller gets. With ``access_log``
    (the gateway), it also writes one line per call: the method, the status and the time."""

    def __init__(self, access_log: logging.Logger | None = None) -> None:
        self.access_log = access_log

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(handler_call_details)
        method = handler_call_details.method
        if handler is None or handler.unary_unary is None or method.startswith(UNMEASURED):
            return handler
        behavior = handler.unary_unary
        access_log = self.access_log

        async def measured(request: Any, context: grpc.aio.ServicerContext) -> Any:
            start = time.perf_counter()
            code = grpc.StatusCode.OK
            try:
                response = await behavior(request, context)
                code = _status(context.code())
                return response
            except asyncio.CancelledError:
                code = grpc.StatusCode.CANCELLED
                raise
            except Exception:
                set_code = _status(context.code())
                code = set_code if set_code is not grpc.StatusCode.OK else grpc.StatusCode.UNKNOWN
                raise
            finally:
                seconds = time.perf_counter() - start
                _server_duration.record(seconds, labels(method, code))
                if access_log is not None:
                    access_log.info(
                        "%s %s %.1f ms",
                        method,
                        code.name,
                        seconds * 1000,
                        extra={
                            "rpc_method": method,
                            "status": code.name,
                            "duration_ms": seconds * 1000,
                        },
                    )

        return grpc.unary_unary_rpc_method_handler(
            measured,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class ClientMetricsInterceptor(grpc.aio.UnaryUnaryClientInterceptor):  # type: ignore[misc]
    async def intercept_unary_unary(
        self,
        continuation: Callable[[Any, Any], Awaitable[Any]],
        client_call_details: grpc.aio.ClientCallDetails,
        request: Any,
    ) -> Any:
        method = client_call_details.method
        method = method.decode() if isinstance(method, bytes) else str(method)
        if method.startswith(UNMEASURED):
            return await continuation(client_call_details, request)
        start = time.perf_counter()
        try:
            call = await continuation(client_call_details, request)
            code = await call.code()
        except asyncio.CancelledError:
            _client_duration.record(
                time.perf_counter() - start, labels(method, grpc.StatusCode.CANCELLED)
            )
            raise
        except grpc.aio.AioRpcError as error:
            _client_duration.record(time.perf_counter() - start, labels(method, error.code()))
            raise
        _client_duration.record(time.perf_counter() - start, labels(method, code))
        return call


def client_interceptors() -> list[grpc.aio.ClientInterceptor]:
    """For every grpc.aio channel a process opens."""
    return [ClientMetricsInterceptor()]
