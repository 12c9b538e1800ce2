"""The notifier: a nameko service that tells applicants about every step of their case.

It consumes the platform's events on queues of its own (nameko names each after the service
and the handler: ``evt-intake-case_accepted--notifier.on_case_accepted``), so it never takes
an event from the router. For each it asks intake for the case's contacts (phones sealed,
preferences) and records the notices the rules call for (notices.py) in its own database,
once per (case, step, recipient) whatever the deliveries, through the send records process
beside it (services.notifier.records, over gRPC: asyncpg cannot run under eventlet); a timer
sends what is due (sending.py), outside quiet hours, and a message given up goes on the case's
timeline.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import eventlet
from google.protobuf.message import Message as ProtoMessage
from nameko.events import EventHandler
from nameko.timer import timer
from nameko_grpc.errors import GrpcError
from opentelemetry import trace

from onedoor.case.v1 import case_pb2
from onedoor.events.v1 import events_pb2
from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from onedoor.notifier.v1 import send_records_service_pb2_grpc
from services.common import auth, events, legal_calendar, telemetry
from services.common.catalog import DEPARTMENTS
from services.common.texts import Code, text
from services.notifier import notices, sending, settings, templates
from services.notifier.provider import FileProvider, HttpProvider, Provider
from services.notifier.store import SendRecords
from services.router.consumer import BrokerLossTolerantConsumer
from services.router.grpc_proxy import ReconnectingGrpcProxy
from services.router.health import health_probe

log = logging.getLogger(__name__)
E = TypeVar("E", bound=ProtoMessage)
_tracer = telemetry.tracer(__name__)

SETTINGS = settings.installed()
CLOCK = SETTINGS.clock
CALENDAR = legal_calendar.load()
SENDER = templates.Sender(dict(SETTINGS.bureau), dict(SETTINGS.review))
CALL_TIMEOUT_SECONDS = 10
RETRY_PAUSE_SECONDS = 1.0
INTAKE = "onedoor.intake.v1.IntakeService"
SEND_RECORDS = "onedoor.notifier.v1.SendRecordsService"


def _provider() -> Provider:
    if SETTINGS.provider == "http":
        return HttpProvider(
            SETTINGS.provider_url,
            SETTINGS.provider_account,
            SETTINGS.provider_secret,
            SETTINGS.bureau["zh-CN"],
            SETTINGS.provider_timeout_seconds,
        )
    return FileProvider(SETTINGS.outbox_file, CLOCK.now)


PROVIDER = _provider()


class NotifierEventHandler(EventHandler):
    """nameko's event handler with the router's broker-loss-tolerant consumer."""

    consumer_cls = BrokerLossTolerantConsumer


event_handler = NotifierEventHandler.decorator
TRACING_ADAPTERS = {
    f"{__name__}.NotifierEventHandler": "nameko_opentelemetry.events.EventHandlerEntrypointAdapter"
}


def _handled(
    cls: type[E],
) -> Callable[[Callable[[Any, E], None]], Callable[[Any, Mapping[str, Any]], None]]:
    """Parses the body into the event; on trouble (intake or the database away) pauses and
    requeues, so nothing is lost; a body that is no such event is dropped, said once."""

    def wrap(handler: Callable[[Any, E], None]) -> Callable[[Any, Mapping[str, Any]], None]:
        def handle(self: Any, body: Mapping[str, Any]) -> None:
            receipt = str(body.get("receipt", "")) if isinstance(body, Mapping) else ""
            with telemetry.bound_receipt(receipt):
                try:
                    event = events.parse(body, cls)
                except events.MalformedEvent as error:
                    log.error("dropping a %s for %s: %s", cls.DESCRIPTOR.name, receipt, error)
                    return
                try:
                    handler(self, event)
                except GrpcError as error:
                    if error.code.name == "NOT_FOUND":
                        log.error("dropping %s: no case %s", cls.DESCRIPTOR.name, receipt)
                        return
                    log.warning(
                        "%s for %s: %s; will retry", cls.DESCRIPTOR.name, receipt, error.code.name
                    )
                    eventlet.sleep(RETRY_PAUSE_SECONDS)
                    raise
                except Exception as error:
                    log.warning(
                        "%s for %s: %s; will retry",
                        cls.DESCRIPTOR.name,
                        receipt,
                        type(error).__name__,
                    )
                    eventlet.sleep(RETRY_PAUSE_SECONDS)
                    raise

        handle.__name__ = handler.__name__
        return handle

    return wrap


class NotifierService:
    name = "notifier"

    intake = ReconnectingGrpcProxy(
        f"//{SETTINGS.addresses['intake']}", intake_service_pb2_grpc.IntakeServiceStub
    )

    send_records = ReconnectingGrpcProxy(
        f"//{SETTINGS.addresses['notifier_records']}",
        send_records_service_pb2_grpc.SendRecordsServiceStub,
    )

    def _call(self, proxy: Any, service: str, method: str, request: Any) -> Any:
        with _tracer.start_as_current_span(
            f"{service}/{method}",
            kind=trace.SpanKind.CLIENT,
            attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": method},
        ):
            metadata = [*telemetry.inject({}).items(), *auth.service_metadata()]
            return getattr(proxy, method)(request, metadata=metadata, timeout=CALL_TIMEOUT_SECONDS)

    def _intake(self, method: str, request: Any) -> Any:
        return self._call(self.intake, INTAKE, method, request)

    @property
    def records(self) -> SendRecords:
        """The send records, through this worker's proxy to the process beside it."""
        return SendRecords(
            lambda method, request: self._call(self.send_records, SEND_RECORDS, method, request),
            SETTINGS.lease_seconds,
        )

    def _contacts(self, receipt: str) -> case_pb2.Case:
        return self._intake(
            "GetCase",
            intake_service_pb2.GetCaseRequest(
                receipt=receipt, view=intake_service_pb2.CASE_VIEW_CONTACTS
            ),
        ).case

    def _record(self, found: list[notices.Notice]) -> None:
        new = self.records.record(found, CLOCK.now(), sending.due_now(CLOCK))
        sending.counted_opt_outs(found, new)
        if new:
            log.info("recorded %d message(s)", new)

    @event_handler("intake", events.CASE_ACCEPTED, requeue_on_error=True)
    @_handled(events_pb2.CaseAccepted)
    def on_case_accepted(self, event: events_pb2.CaseAccepted) -> None:
        case = self._contacts(event.receipt)
        self._record(notices.accepted(case, CLOCK, CALENDAR, SETTINGS.morning, event.proactive))

    @event_handler("intake", events.CASE_PROGRESSED, requeue_on_error=True)
    @_handled(events_pb2.CaseProgressed)
    def on_case_progressed(self, event: events_pb2.CaseProgressed) -> None:
        case = self._contacts(event.receipt)
        self._record(notices.progressed(event, case, CLOCK, CALENDAR))

    def _on_decided(self, event: events_pb2.CaseDecided) -> None:
        case = self._contacts(event.receipt)
        self._record(notices.decided(event, case, CLOCK, CALENDAR))

    @timer(interval=SETTINGS.send_seconds)
    def send_due(self) -> None:
        """Sends what is due. Runs on every replica; the records' leases keep them apart."""
        try:
            records = self.records
            claimed = records.claim(CLOCK.now(), limit=100)
        except Exception as error:
            log.warning("send records unavailable (%s); next round retries", type(error).__name__)
            return
        for record in claimed:
            with telemetry.bound_receipt(record.receipt):
                started = time.perf_counter()
                try:
                    result = sending.deliver(record, PROVIDER, records, CLOCK, SENDER)
                except Exception as error:
                    # Left leased: sent again, with the same idempotency key, after the lease.
                    log.warning(
                        "sending failed (%s); retried after its lease", type(error).__name__
                    )
                    continue
                log.debug("send took %.3fs", time.perf_counter() - started)
                if result is sending.Result.FAILED:
                    self._undelivered(record.receipt, record.idempotency_key)

    def _undelivered(self, receipt: str, key: str) -> None:
        try:
            self._intake(
                "AppendTimelineEntry",
                intake_service_pb2.AppendTimelineEntryRequest(
                    receipt=receipt,
                    entry_key=f"notice-undelivered:{key}",
                    entry=case_pb2.TimelineEntry(
                        kind=case_pb2.TIMELINE_ENTRY_KIND_NOTICE_UNDELIVERED,
                        message=text(Code.TEXT_CODE_NOTICE_UNDELIVERED),
                    ),
                ),
            )
        except (GrpcError, OSError) as error:
            # Counted already; the timeline misses it while intake is away.
            log.error("could not record an undelivered message on the timeline (%s)", error)

    @health_probe("GET", "/healthz")
    def healthz(self, request: Any) -> None:
        """Answered by services.router.health itself, without a worker; never called."""


def _decided_handler(department: str) -> Callable[[Any, Mapping[str, Any]], None]:
    @event_handler(department, events.CASE_DECIDED, requeue_on_error=True)
    @_handled(events_pb2.CaseDecided)
    def on_decided(self: NotifierService, event: events_pb2.CaseDecided) -> None:
        self._on_decided(event)

    on_decided.__name__ = f"on_{department}_decided"
    return on_decided


for _department in DEPARTMENTS:
    setattr(NotifierService, f"on_{_department}_decided", _decided_handler(_department))
