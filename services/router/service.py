"""The router: a nameko service that moves accepted cases to the departments deciding them
and brings the departments' decisions back to the case ledger.

It consumes events (at least once) and calls the services over gRPC through nameko-grpc's
GrpcProxy (with a reconnecting pool, see grpc_proxy), which is concurrent under eventlet
where a plain grpcio stub would block the hub.
Every effect is idempotent (OpenCase by receipt, timeline entries by key), so a redelivered
event changes nothing. Transient failures requeue the event after a pause; events that can
never succeed are logged and dropped rather than retried forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import eventlet
import grpc
from nameko.events import event_handler
from nameko.web.handlers import http
from nameko_grpc.errors import GrpcError
from opentelemetry import trace

from onedoor.assistance.v1 import assistance_service_pb2, assistance_service_pb2_grpc
from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from services.common import config, telemetry
from services.router.grpc_proxy import ReconnectingGrpcProxy
from services.router.routing import (
    TimelineWrite,
    UnroutableEvent,
    decided,
    departments_of,
    routed,
)

log = logging.getLogger(__name__)
_tracer = telemetry.tracer(__name__)

TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
    }
)
CALL_TIMEOUT_SECONDS = 10
RETRY_PAUSE_SECONDS = 1.0


def _target(service: str) -> str:
    return f"//{config.service_address(service)}"


def _handled(
    handler: Callable[[Any, Mapping[str, Any]], None],
) -> Callable[[Any, Mapping[str, Any]], None]:
    """Requeues on transient trouble (after a pause, so a service that is down is not hammered)
    and drops events that can never succeed."""

    def handle(self: Any, payload: Mapping[str, Any]) -> None:
        receipt = str(payload.get("receipt", ""))
        with telemetry.bound_receipt(receipt):
            try:
                handler(self, payload)
            except UnroutableEvent as error:
                log.error("dropping event for %s: %s", receipt, error)
            except GrpcError as error:
                if error.code in TRANSIENT:
                    log.warning("%s: %s; will retry", receipt, error.code.name)
                    eventlet.sleep(RETRY_PAUSE_SECONDS)
                    raise
                log.error("dropping event for %s: %s", receipt, error.code.name)
            except OSError as error:
                log.warning("%s: %s; will retry", receipt, type(error).__name__)
                eventlet.sleep(RETRY_PAUSE_SECONDS)
                raise

    handle.__name__ = handler.__name__
    return handle


class RouterService:
    name = "router"

    intake = ReconnectingGrpcProxy(_target("intake"), intake_service_pb2_grpc.IntakeServiceStub)
    assistance = ReconnectingGrpcProxy(
        _target("assistance"), assistance_service_pb2_grpc.AssistanceServiceStub
    )

    def _call(self, proxy: Any, service: str, method: str, request: Any) -> Any:
        """One gRPC call as a CLIENT span whose context (and the case's receipt, in baggage)
        travels in the call's metadata."""
        with _tracer.start_as_current_span(
            f"{service}/{method}",
            kind=trace.SpanKind.CLIENT,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": method},
        ) as span:
            metadata = list(telemetry.inject({}).items())
            try:
                return getattr(proxy, method)(
                    request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS
                )
            except GrpcError as error:
                span.set_attribute("rpc.grpc.status_code", error.code.value[0])
                span.set_status(trace.StatusCode.ERROR, error.code.name)
                raise

    def _append(self, write: TimelineWrite) -> None:
        self._call(
            self.intake,
            "onedoor.intake.v1.IntakeService",
            "AppendTimelineEntry",
            intake_service_pb2.AppendTimelineEntryRequest(
                receipt=write.receipt, entry_key=write.entry_key, entry=write.entry
            ),
        )

    def _open_department_case(self, department: str, case: Any) -> str:
        """Opens the department's case; returns the note for the ``routed`` entry."""
        if department == "assistance":
            response = self._call(
                self.assistance,
                "onedoor.assistance.v1.AssistanceService",
                "OpenCase",
                assistance_service_pb2.OpenCaseRequest(case=case),
            )
            return f"assessment: {response.case.assessment.reason}"
        raise UnroutableEvent(f"no route to department {department}")

    @event_handler("intake", "case_accepted", requeue_on_error=True)
    @_handled
    def on_case_accepted(self, payload: Mapping[str, Any]) -> None:
        departments = departments_of(payload, {"assistance"})
        case = self._call(
            self.intake,
            "onedoor.intake.v1.IntakeService",
            "GetCase",
            intake_service_pb2.GetCaseRequest(receipt=payload["receipt"]),
        ).case
        for department in departments:
            note = self._open_department_case(department, case)
            self._append(routed(case.receipt, department, note))

    @event_handler("assistance", "case_decided", requeue_on_error=True)
    @_handled
    def on_case_decided(self, payload: Mapping[str, Any]) -> None:
        self._append(decided(payload))

    @http("GET", "/healthz")
    def healthz(self, request: Any) -> tuple[int, str]:
        return 200, "SERVING"
