"""The gateway's side of "accept where the applicant lives, decide where the hukou is".

One loop, three jobs a round, each driven by the ledger so that nothing is lost while a peer or
this gateway is down, and safe to run in every replica (the ledger leases the work):
- deliver: forwards held in the ledger go to the peer serving the home division, retried with
  back-off until the peer has them;
- pull: the home jurisdiction's status of delivered cases, in case a push went astray;
- push: cases forwarded here report their status back to the accepting peer.
Every call to a peer carries the case's receipt and the clerk's jurisdiction in its metadata,
continues the submission's trace, and is written to the audit log.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time

import grpc
from google.protobuf import json_format
from opentelemetry import context as otel_context

from gateway import peer_trouble
from gateway.audit_trail import AuditTrail
from gateway.backends import Backends
from gateway.peer_trouble import Cause, Failure
from gateway.peers import Peer, PeerDirectory
from onedoor.case.v1 import case_pb2
from onedoor.federation.v1 import federation_service_pb2 as fpb
from onedoor.federation.v1 import federation_service_pb2_grpc
from onedoor.gateway.v1 import gateway_service_pb2 as gpb
from onedoor.intake.v1 import intake_service_pb2
from services.common import metric_catalog, telemetry, texts
from services.common.errors import ApiError, from_rpc_error
from services.common.metric_catalog import Reading

log = logging.getLogger(__name__)

RECEIPT_METADATA = "x-onedoor-receipt"
CLERK_JURISDICTION_METADATA = "x-onedoor-clerk-jurisdiction"
PEER_TIMEOUT_SECONDS = 10.0
# The backlog gauges are read from the ledger at most this often (a GROUP BY over the forwards
# not yet delivered), whatever the poll interval.
BACKLOG_REFRESH_SECONDS = 5.0

_attempts = metric_catalog.counter(metric_catalog.FORWARD_ATTEMPTS)
_refusals = metric_catalog.counter(metric_catalog.FORWARD_REFUSALS)


class Backlog:
    """What the backlog gauges show, refreshed by the federation loop: the collecting thread
    only reads it, never the ledger."""

    def __init__(self, peers: list[str], own_name: str, not_after: dt.datetime) -> None:
        # Every configured peer shows, at 0 when nothing waits for it.
        self.waiting: dict[str, int] = dict.fromkeys(peers, 0)
        self.oldest: dict[str, float | None] = dict.fromkeys(peers, None)
        self.own_name = own_name
        self.not_after = not_after.timestamp()

    def update(self, summary: intake_service_pb2.SummarizeForwardsResponse) -> None:
        waiting = dict.fromkeys(self.waiting, 0)
        oldest: dict[str, float | None] = dict.fromkeys(self.waiting, None)
        for peer in summary.peers:
            waiting[peer.peer] = int(peer.waiting)
            oldest[peer.peer] = peer.oldest_create_time.ToDatetime(dt.UTC).timestamp()
        # Swapped whole, so a collection never sees half an update.
        self.waiting, self.oldest = waiting, oldest

    def read_waiting(self) -> Reading:
        return [(float(n), {"peer": peer}) for peer, n in self.waiting.items()]

    def read_oldest_age(self, now: float | None = None) -> Reading:
        at = time.time() if now is None else now
        return [
            (max(0.0, at - held) if held is not None else 0.0, {"peer": peer})
            for peer, held in self.oldest.items()
        ]

    def read_not_after(self) -> Reading:
        return [(self.not_after, {"peer": self.own_name})]

    def register(self) -> None:
        metric_catalog.gauge(metric_catalog.FORWARDS_WAITING, self.read_waiting)
        metric_catalog.gauge(metric_catalog.FORWARDS_OLDEST_AGE, self.read_oldest_age)
        metric_catalog.gauge(metric_catalog.CERTIFICATE_NOT_AFTER, self.read_not_after)


def application_of(case: case_pb2.Case) -> gpb.SubmitApplicationRequest:
    """What the home jurisdiction needs to decide: the application as the window took it."""
    return gpb.SubmitApplicationRequest(
        request_id=case.receipt,
        matter_code=case.matter_code,
        applicant=case.applicant,
        household_members=case.household_members,
        materials=case.materials,
        details=case.details,
    )


def sent_fields(message: gpb.SubmitApplicationRequest) -> list[str]:
    """Paths of the fields a message carries, for the audit log (names, never values)."""
    found: list[str] = []

    def walk(prefix: str, value: object) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else key, inner)
        elif isinstance(value, list) and value and isinstance(value[0], dict):
            for inner in value:
                walk(f"{prefix}[]", inner)
        else:
            found.append(prefix)

    walk("", json_format.MessageToDict(message, preserving_proto_field_name=True))
    return sorted(set(found))


def remote_case(case: case_pb2.Case) -> fpb.RemoteCase:
    return fpb.RemoteCase(
        accepting_receipt=case.origin.accepting_receipt,
        receipt=case.receipt,
        deciding_division=case.accepting_division,
        status=case.status,
        timeline=case.timeline,
    )


class Federation:
    def __init__(
        self,
        backends: Backends,
        directory: PeerDirectory,
        jurisdiction: str,
        poll_seconds: float,
        trail: AuditTrail,
    ) -> None:
        self.backends = backends
        self.directory = directory
        self.jurisdiction = jurisdiction
        self.poll_seconds = poll_seconds
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._wake = asyncio.Event()
        self.trail = trail
        self.backlog = Backlog(list(directory.peers), directory.me.name, directory.me.not_after)
        self._backlog_read_at = -BACKLOG_REFRESH_SECONDS
        self.backlog.register()

    def stub(self, peer: Peer) -> federation_service_pb2_grpc.FederationServiceStub:
        if peer.name not in self._channels:
            self._channels[peer.name] = self.directory.channel(peer)
        return federation_service_pb2_grpc.FederationServiceStub(self._channels[peer.name])

    def metadata(self, receipt: str) -> tuple[tuple[str, str], ...]:
        return ((RECEIPT_METADATA, receipt), (CLERK_JURISDICTION_METADATA, self.jurisdiction))

    def wake(self) -> None:
        """A forward was just held: deliver it now rather than at the next poll."""
        self._wake.set()

    async def audit(
        self, actor: str, action: str, receipt: str, fields: list[str], detail: str
    ) -> None:
        await self.trail.record(actor, action, [receipt], fields, detail)

    async def _record(self, receipt: str, **fields: object) -> None:
        await self.backends.call(
            self.backends.intake.RecordForward,
            intake_service_pb2.RecordForwardRequest(receipt=receipt, **fields),
        )

    async def failure_of(self, peer: Peer, error: grpc.aio.AioRpcError) -> Failure:
        """Why a call to ``peer`` failed; probes the handshake only when the error is silent
        about it (see gateway.peer_trouble)."""
        code, details = error.code(), error.details() or ""
        reason = ""
        if code not in peer_trouble.TRANSPORT:
            # A peer's malformed status details must not stop the loop: the code suffices.
            with contextlib.suppress(ValueError):
                reason = from_rpc_error(error).reason
        probe = None
        if peer_trouble.needs_probe(code, details):
            probe = await self.directory.probe(peer)
        return peer_trouble.classify(peer.name, code, details, reason, probe)

    async def _failed(
        self, case: case_pb2.Case, peer_name: str, failure: Failure, previous_cause: str
    ) -> None:
        """Records a failed delivery: on the forward, in the metrics, in the log, and in the
        audit log when its cause changed (a retry for the same reason is not audited again)."""
        _attempts.add(1, {"peer": peer_name, "result": "failed"})
        if failure.cause is not Cause.PEER_UNCONFIGURED:
            _refusals.add(1, {"peer": peer_name, "cause": failure.cause.value})
        changed = failure.cause.value != previous_cause
        if failure.retry:
            await self._record(case.receipt, error=failure.text, cause=failure.cause.value)
        else:
            # The home jurisdiction refused it: that is its decision.
            refused = texts.text(
                texts.Code.TEXT_CODE_REFUSED_BY_HOME, reason=texts.verbatim(failure.text)
            )
            await self._record(
                case.receipt,
                remote_status=case_pb2.CASE_STATUS_REJECTED,
                remote_timeline=[
                    case_pb2.TimelineEntry(
                        kind=case_pb2.TIMELINE_ENTRY_KIND_REJECTED, message=refused
                    )
                ],
                error=failure.text,
                cause=failure.cause.value,
            )
        attempt = case.forwarding.attempts + 1
        if changed or not failure.retry:
            log.warning(
                "forward of %s to %s failed (%s), attempt %d: %s%s",
                case.receipt,
                peer_name,
                failure.cause.value,
                attempt,
                failure.text,
                "; retried with back-off" if failure.retry else "; settled as refused at home",
                extra={"peer": peer_name, "cause": failure.cause.value},
            )
            await self.audit(
                f"peer:{peer_name}",
                "forward.failed" if failure.retry else "forward.refused",
                case.receipt,
                [],
                f"{failure.cause.value}: {failure.text}",
            )
        else:
            log.info(
                "forward of %s to %s failed again (%s), attempt %d",
                case.receipt,
                peer_name,
                failure.cause.value,
                attempt,
                extra={"peer": peer_name, "cause": failure.cause.value},
            )

    async def deliver(
        self, case: case_pb2.Case, trace_context: dict[str, str], previous_cause: str = ""
    ) -> None:
        peer = self.directory.peers.get(case.forwarding.peer)
        token = otel_context.attach(telemetry.extract(trace_context))
        try:
            with telemetry.bound_receipt(case.receipt):
                if peer is None:
                    failure = Failure(
                        Cause.PEER_UNCONFIGURED,
                        f"peer {case.forwarding.peer} is no longer configured",
                    )
                    await self._failed(case, case.forwarding.peer, failure, previous_cause)
                    return
                if case.forwarding.attempts == 0:
                    log.info(
                        "forwarding %s to %s", case.receipt, peer.name, extra={"peer": peer.name}
                    )
                request = fpb.ForwardApplicationRequest(
                    accepting_receipt=case.receipt,
                    accepting_division=case.accepting_division,
                    application=application_of(case),
                )
                try:
                    answer = await self.stub(peer).ForwardApplication(
                        request, metadata=self.metadata(case.receipt), timeout=PEER_TIMEOUT_SECONDS
                    )
                except grpc.aio.AioRpcError as error:
                    failure = await self.failure_of(peer, error)
                    await self._failed(case, peer.name, failure, previous_cause)
                    return
                await self._record(
                    case.receipt, remote_receipt=answer.receipt, remote_status=answer.status
                )
                _attempts.add(1, {"peer": peer.name, "result": "delivered"})
                log.info(
                    "delivered %s to %s as %s after %d attempts",
                    case.receipt,
                    peer.name,
                    answer.receipt,
                    case.forwarding.attempts + 1,
                    extra={"peer": peer.name},
                )
                await self.audit(
                    f"peer:{peer.name}",
                    "forward.sent",
                    case.receipt,
                    sent_fields(request.application),
                    f"remote receipt {answer.receipt}",
                )
        finally:
            otel_context.detach(token)

    async def pull(self, case: case_pb2.Case) -> None:
        peer = self.directory.peers.get(case.forwarding.peer)
        if peer is None:
            return
        with telemetry.bound_receipt(case.receipt):
            try:
                answer = await self.stub(peer).GetForwardedCase(
                    fpb.GetForwardedCaseRequest(accepting_receipt=case.receipt),
                    metadata=self.metadata(case.receipt),
                    timeout=PEER_TIMEOUT_SECONDS,
                )
            except grpc.aio.AioRpcError as error:
                log.info(
                    "pull of %s from %s failed: %s", case.receipt, peer.name, error.code().name
                )
                return
            remote = answer.case
            await self._record(
                case.receipt,
                remote_receipt=remote.receipt,
                remote_status=remote.status,
                remote_timeline=remote.timeline,
            )
            await self.audit(
                f"peer:{peer.name}",
                "status.fetched",
                case.receipt,
                ["status", "timeline"],
                remote.receipt,
            )

    async def push(self, case: case_pb2.Case) -> None:
        peer = self.directory.peers.get(case.origin.peer)
        if peer is None:
            return
        with telemetry.bound_receipt(case.receipt):
            try:
                await self.stub(peer).ReportStatus(
                    fpb.ReportStatusRequest(case=remote_case(case)),
                    metadata=self.metadata(case.origin.accepting_receipt),
                    timeout=PEER_TIMEOUT_SECONDS,
                )
            except grpc.aio.AioRpcError as error:
                # The accepting side will pull; the push is tried again next round.
                log.info("push of %s to %s failed: %s", case.receipt, peer.name, error.code().name)
                return
            await self.backends.call(
                self.backends.intake.MarkOriginReported,
                intake_service_pb2.MarkOriginReportedRequest(
                    receipt=case.receipt, timeline_length=len(case.timeline)
                ),
            )
            await self.audit(
                f"peer:{peer.name}",
                "status.pushed",
                case.receipt,
                ["status", "timeline"],
                case_pb2.CaseStatus.Name(case.status),
            )

    async def round(self) -> None:
        intake = self.backends.intake
        due = await self.backends.call(
            intake.ClaimForwards, intake_service_pb2.ClaimForwardsRequest(limit=20)
        )
        for claimed in due.forwards:
            await self.deliver(claimed.case, dict(claimed.trace_context), claimed.cause)
        stale = await self.backends.call(
            intake.ClaimForwards, intake_service_pb2.ClaimForwardsRequest(limit=20, delivered=True)
        )
        for claimed in stale.forwards:
            await self.pull(claimed.case)
        unreported = await self.backends.call(
            intake.ListUnreportedOrigins, intake_service_pb2.ListUnreportedOriginsRequest(limit=20)
        )
        for case in unreported.cases:
            await self.push(case)
        await self.refresh_backlog()

    async def refresh_backlog(self) -> None:
        now = time.monotonic()
        if now - self._backlog_read_at < BACKLOG_REFRESH_SECONDS:
            return
        summary = await self.backends.call(
            self.backends.intake.SummarizeForwards, intake_service_pb2.SummarizeForwardsRequest()
        )
        self.backlog.update(summary)
        self._backlog_read_at = now

    async def run(self) -> None:
        while True:
            try:
                await self.round()
            except ApiError as error:
                log.warning("federation round failed (%s); next round retries", error.code.name)
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self._channels.values()))
