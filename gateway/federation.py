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
import logging

import grpc
from google.protobuf import json_format
from opentelemetry import context as otel_context

from gateway.audit_trail import AuditTrail
from gateway.backends import Backends
from gateway.peers import Peer, PeerDirectory
from onedoor.case.v1 import case_pb2
from onedoor.federation.v1 import federation_service_pb2 as fpb
from onedoor.federation.v1 import federation_service_pb2_grpc
from onedoor.gateway.v1 import gateway_service_pb2 as gpb
from onedoor.intake.v1 import intake_service_pb2
from services.common import telemetry
from services.common.errors import ApiError

log = logging.getLogger(__name__)

RECEIPT_METADATA = "x-onedoor-receipt"
CLERK_JURISDICTION_METADATA = "x-onedoor-clerk-jurisdiction"
PEER_TIMEOUT_SECONDS = 10.0
# A peer that is down, slow or unreachable: try again later. Anything else is its final word.
RETRYABLE = frozenset(
    {grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNKNOWN}
)


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

    async def deliver(self, case: case_pb2.Case, trace_context: dict[str, str]) -> None:
        peer = self.directory.peers.get(case.forwarding.peer)
        if peer is None:
            await self._record(
                case.receipt, error=f"peer {case.forwarding.peer} is no longer configured"
            )
            return
        token = otel_context.attach(telemetry.extract(trace_context))
        try:
            with telemetry.bound_receipt(case.receipt):
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
                    if error.code() in RETRYABLE:
                        await self._record(case.receipt, error=f"{peer.name}: {error.code().name}")
                        return
                    # The home jurisdiction refused it: that is its decision.
                    note = f"refused by the home jurisdiction: {error.details()}"
                    await self._record(
                        case.receipt,
                        remote_status=case_pb2.CASE_STATUS_REJECTED,
                        remote_timeline=[
                            case_pb2.TimelineEntry(
                                kind=case_pb2.TIMELINE_ENTRY_KIND_REJECTED, note=note
                            )
                        ],
                    )
                    await self.audit(
                        f"peer:{peer.name}", "forward.refused", case.receipt, [], error.code().name
                    )
                    return
                await self._record(
                    case.receipt, remote_receipt=answer.receipt, remote_status=answer.status
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
            await self.deliver(claimed.case, dict(claimed.trace_context))
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
