"""The router: a nameko service that moves accepted cases to the departments deciding them
and brings the departments' decisions back to the case ledger.

It consumes events (at least once) and calls the services over gRPC through nameko-grpc's
GrpcProxy (services.common.nameko_grpc: a reconnecting pool, connections that wait for work),
which is concurrent under eventlet where a plain grpcio stub would block the hub. Every effect is idempotent (OpenCase and
SettleDeath by receipt, timeline entries by key), so a redelivered event changes nothing.
Transient failures requeue the event after a pause; events that can never succeed are logged
and dropped rather than retried forever.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import eventlet
from google.protobuf.message import Message
from nameko.timer import timer
from nameko_grpc.errors import GrpcError

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.department.v1 import department_service_pb2_grpc
from onedoor.events.v1 import events_pb2
from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from services.common import catalog, events, nameko_grpc, telemetry
from services.common.catalog import DEPARTMENTS
from services.common.nameko_grpc import ReconnectingGrpcProxy
from services.router import handling, settings
from services.router.consumer import event_handler
from services.router.health import health_probe
from services.router.routing import (
    UNKNOWN_MATTER,
    TimelineWrite,
    UnroutableEvent,
    decided,
    departments_of,
    overdue,
    parse,
    recorded,
    reported,
)

log = logging.getLogger(__name__)
E = TypeVar("E", bound=Message)

CALL_TIMEOUT_SECONDS = 10
RETRY_PAUSE_SECONDS = 1.0
# Installed by the router's __main__ before nameko imports this module.
SETTINGS = settings.installed()
OVERDUE_CHECK_SECONDS = SETTINGS.overdue_seconds
# Notes name the deadline's last day as the bureau's local date, as people read it.
CLOCK = SETTINGS.clock
INTAKE = "onedoor.intake.v1.IntakeService"
DEPARTMENT = "onedoor.department.v1.DepartmentService"


def _target(service: str) -> str:
    return f"//{SETTINGS.addresses[service]}"


def _department_proxy(name: str) -> ReconnectingGrpcProxy:
    return ReconnectingGrpcProxy(_target(name), department_service_pb2_grpc.DepartmentServiceStub)


def _handled(
    cls: type[E],
) -> Callable[[Callable[[Any, E], None]], Callable[[Any, Mapping[str, Any]], None]]:
    """Parses the message's body into the event ``cls``, requeues on transient trouble (after
    a pause, so a service that is down is not hammered) and drops events that can never
    succeed; counts and times each event by what became of it (services.router.handling)."""
    event_name = cls.DESCRIPTOR.name

    def wrap(handler: Callable[[Any, E], None]) -> Callable[[Any, Mapping[str, Any]], None]:
        def handle(self: Any, body: Mapping[str, Any]) -> None:
            receipt = str(body.get("receipt", "")) if isinstance(body, Mapping) else ""
            handling.consumed(event_name)
            started = time.perf_counter()
            with telemetry.bound_receipt(receipt):
                try:
                    handler(self, parse(body, cls))
                except Exception as error:
                    outcome = handling.outcome_of(error)
                    # Timed before the pause: the histogram shows the work, not the wait.
                    handling.handled(event_name, outcome, time.perf_counter() - started)
                    if outcome.result == handling.DEAD_END:
                        detail = str(error) if isinstance(error, UnroutableEvent) else outcome.cause
                        log.error("dropping %s for %s: %s", event_name, receipt, detail)
                        return
                    log.warning("%s for %s: %s; will retry", event_name, receipt, outcome.cause)
                    eventlet.sleep(RETRY_PAUSE_SECONDS)
                    raise
                handling.handled(event_name, handling.HANDLED, time.perf_counter() - started)

        handle.__name__ = handler.__name__
        return handle

    return wrap


class RouterService:
    name = "router"

    intake = ReconnectingGrpcProxy(_target("intake"), intake_service_pb2_grpc.IntakeServiceStub)
    # A proxy and an on_<department>_decided handler per department of the catalog are added
    # below the class.

    def _call(self, proxy: Any, service: str, method: str, request: Any) -> Any:
        return nameko_grpc.call(proxy, service, method, request, CALL_TIMEOUT_SECONDS)

    def _department(self, name: str, method: str, request: Any) -> Any:
        return self._call(getattr(self, name), DEPARTMENT, method, request)

    def _append(self, write: TimelineWrite) -> None:
        self._call(
            self.intake,
            INTAKE,
            "AppendTimelineEntry",
            intake_service_pb2.AppendTimelineEntryRequest(
                receipt=write.receipt, entry_key=write.entry_key, entry=write.entry
            ),
        )

    def _settle_death(self, case: case_pb2.Case, departments: list[str]) -> bool:
        """After death, one thing: the registry records the death, then every department
        settles what it holds for the person and reports, "nothing to do" included. True if
        the death was recorded now (not by an earlier delivery of the event)."""
        recorder, *_ = departments
        opened = self._department(recorder, "OpenCase", dpb.OpenCaseRequest(case=case))
        self._append(recorded(case.receipt, recorder, opened.case.assessment))
        death = case.details.death
        for department in departments:
            settled = self._department(
                department,
                "SettleDeath",
                dpb.SettleDeathRequest(
                    receipt=case.receipt,
                    deceased_id_number=death.deceased_id_number,
                    date_of_death=death.date_of_death,
                ),
            )
            self._append(reported(case.receipt, department, settled))
        return bool(opened.opened)

    @event_handler("intake", events.CASE_ACCEPTED, requeue_on_error=True)
    @_handled(events_pb2.CaseAccepted)
    def on_case_accepted(self, event: events_pb2.CaseAccepted) -> None:
        departments = departments_of(event, set(DEPARTMENTS))
        matter = catalog.load().version(event.matter_code, event.matter_version)
        if matter is None:
            raise UnroutableEvent(
                f"{event.matter_code} v{event.matter_version} is not in the catalog",
                UNKNOWN_MATTER,
            )
        if matter.joint:
            # The death's facts (whose death, when) are personal: read from the case, never
            # carried by the event.
            case = self._call(
                self.intake,
                INTAKE,
                "GetCase",
                intake_service_pb2.GetCaseRequest(receipt=event.receipt),
            ).case
            newly = self._settle_death(case, departments)
        else:
            # Each department opens the case the event carries sealed (or, for an event
            # written before it did, reads it from intake) and appends its ROUTED entry there:
            # the router reads no case and makes no second call (nameko-grpc's calls are its
            # main cost).
            newly = False
            for department in departments:
                opened = self._department(
                    department,
                    "OpenCase",
                    dpb.OpenCaseRequest(
                        receipt=event.receipt,
                        sealed_case=event.sealed_case,
                        append_routed_entry=True,
                    ),
                )
                newly = newly or opened.opened
        if not newly:
            # A redelivery of an event already routed: the case was counted the first time.
            log.debug("%s was already routed", event.receipt)
            return
        if event.HasField("accept_time"):
            handling.routed(
                event.matter_code,
                handling.routed_latency(
                    event.accept_time.ToDatetime(dt.UTC), dt.datetime.now(dt.UTC)
                ),
            )
        log.info("routed %s (%s) to %s", event.receipt, event.matter_code, ", ".join(departments))

    def _on_decided(self, event: events_pb2.CaseDecided) -> None:
        self._append(decided(event))

    @timer(interval=OVERDUE_CHECK_SECONDS)
    def raise_overdue(self) -> None:
        """Marks every open case past its deadline once, escalating it to the supervisors of
        its departments. Runs on every router replica; the entry's key makes it once."""
        token = ""
        try:
            while True:
                page = self._call(
                    self.intake,
                    INTAKE,
                    "ListCases",
                    intake_service_pb2.ListCasesRequest(
                        overdue=True, page_size=200, page_token=token
                    ),
                )
                for case in page.cases:
                    if any(e.kind == case_pb2.TIMELINE_ENTRY_KIND_OVERDUE for e in case.timeline):
                        continue
                    with telemetry.bound_receipt(case.receipt):
                        deadline = CLOCK.local_date(
                            case.decision_deadline.ToDatetime(dt.UTC)
                        ).isoformat()
                        self._append(overdue(case.receipt, list(case.departments), deadline))
                token = page.next_page_token
                if not token:
                    return
        except (GrpcError, OSError) as error:
            log.warning("overdue check failed (%s); next round retries", type(error).__name__)

    @health_probe("GET", "/healthz")
    def healthz(self, request: Any) -> None:
        """Answered by services.router.health itself, without a worker; never called."""


def _decided_handler(department: str) -> Callable[[Any, Mapping[str, Any]], None]:
    """The entry point for a department's case_decided events (one queue per department, as
    nameko names them after the method)."""

    @event_handler(department, events.CASE_DECIDED, requeue_on_error=True)
    @_handled(events_pb2.CaseDecided)
    def on_decided(self: RouterService, event: events_pb2.CaseDecided) -> None:
        self._on_decided(event)

    on_decided.__name__ = f"on_{department}_decided"
    return on_decided


# nameko finds a service's dependencies and entry points among its class attributes when the
# container starts: one proxy and one handler for every department the catalog names.
for _department in DEPARTMENTS:
    setattr(RouterService, _department, _department_proxy(_department))
    setattr(RouterService, f"on_{_department}_decided", _decided_handler(_department))
