"""Rate, errors and duration of every gRPC call, served and made, as OpenTelemetry's RPC
conventions name them (``rpc.server.duration``, ``rpc.client.duration``, labelled with
``rpc.service``, ``rpc.method`` and ``rpc.grpc.status_code``): the gRPC instrumentation
library traces calls but records no metrics.

Health checks and reflection are left out: probes every few seconds would drown the calls
people make.
"""

from __future__ import annotations

import asyncio
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


def status_of(value: object, unset: grpc.StatusCode = grpc.StatusCode.OK) -> grpc.StatusCode:
    """What ``context.code()`` gives (a StatusCode, its number, or None when none was set)."""
    if isinstance(value, grpc.StatusCode):
        return value
    return _BY_NUMBER.get(value, unset) if isinstance(value, int) else unset


def record_server_call(method: str, code: grpc.StatusCode, seconds: float) -> None:
    """For the server's own interceptor (grpc_server.ServedCallInterceptor)."""
    _server_duration.record(seconds, labels(method, code))


def record_client_call(method: str, code: grpc.StatusCode, seconds: float) -> None:
    """For clients that are not grpc.aio channels (nameko-grpc, in the router)."""
    _client_duration.record(seconds, labels(method, code))


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
