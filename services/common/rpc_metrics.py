"""Rate, errors and duration of every gRPC call, served and made, as OpenTelemetry's RPC
conventions name them (``rpc.server.duration``, ``rpc.client.duration``, labelled with
``rpc.service``, ``rpc.method`` and ``rpc.grpc.status_code``), recorded by the interceptors
that also trace the calls (grpc_server.ServedCallInterceptor, grpc_client.CallInterceptor) and
by the nameko processes' calls (nameko_grpc.call).

Health checks and reflection are left out: probes every few seconds would drown the calls
people make.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

import grpc

from services.common import metric_catalog

UNMEASURED = ("/grpc.health.v1.Health/", "/grpc.reflection.")

_server_duration = metric_catalog.histogram(metric_catalog.RPC_SERVER_DURATION)
_client_duration = metric_catalog.histogram(metric_catalog.RPC_CLIENT_DURATION)


@functools.lru_cache(maxsize=256)
def call_attributes(method: str) -> Mapping[str, str]:
    """``/onedoor.intake.v1.IntakeService/OpenCase`` → its system, service and method, as the
    conventions name them: a call's span attributes, and its metric labels but the status.
    Computed once per method (the processes call a few dozen); the caller must not change it."""
    service, _, name = method.lstrip("/").partition("/")
    return {"rpc.system": "grpc", "rpc.service": service, "rpc.method": name}


def labels(method: str, code: grpc.StatusCode) -> dict[str, Any]:
    """The call's attributes and the status as its number, as the conventions have it."""
    return {**call_attributes(method), "rpc.grpc.status_code": code.value[0]}


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
    """For every client: grpc_client.CallInterceptor on the grpc.aio channels, nameko_grpc.call
    in the router and the notifier."""
    _client_duration.record(seconds, labels(method, code))
