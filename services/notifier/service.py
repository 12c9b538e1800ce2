"""The notifier: a nameko service that sends applicants the messages about their cases.

The send records process beside it (services.notifier.records, grpc.aio + asyncpg: asyncpg
cannot run under eventlet) consumes the events and records the notices each calls for; this
service's timer leases what is due from it over gRPC and sends it (sending.py), outside quiet
hours, and a message given up goes on the case's timeline. Only this process holds the key
that opens a phone number, and only it reaches the SMS provider.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from nameko.timer import timer
from nameko_grpc.errors import GrpcError

from onedoor.case.v1 import case_pb2
from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from onedoor.notifier.v1 import send_records_service_pb2_grpc
from services.common import nameko_grpc, telemetry
from services.common.nameko_grpc import ReconnectingGrpcProxy
from services.common.texts import Code, text
from services.notifier import sending, settings, templates
from services.notifier.provider import FileProvider, HttpProvider, Provider
from services.notifier.store import SendRecords
from services.router.health import health_probe

log = logging.getLogger(__name__)

SETTINGS = settings.installed()
CLOCK = SETTINGS.clock
SENDER = templates.Sender(dict(SETTINGS.bureau), dict(SETTINGS.review))
CALL_TIMEOUT_SECONDS = 10
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
        return nameko_grpc.call(proxy, service, method, request, CALL_TIMEOUT_SECONDS)

    def _intake(self, method: str, request: Any) -> Any:
        return self._call(self.intake, INTAKE, method, request)

    @property
    def records(self) -> SendRecords:
        """The send records, through this worker's proxy to the process beside it."""
        return SendRecords(
            lambda method, request: self._call(self.send_records, SEND_RECORDS, method, request),
            SETTINGS.lease_seconds,
        )

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
        try:
            records.flush()
        except Exception as error:
            # Sent, not marked: sent again after the lease, with the same idempotency key.
            log.warning("marking sent messages failed (%s)", type(error).__name__)

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
