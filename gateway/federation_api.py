"""FederationService: what peers may ask of this gateway, on its mutual-TLS port."""

from __future__ import annotations

import grpc

from gateway import submission
from gateway.federation import (
    CLERK_JURISDICTION_METADATA,
    RECEIPT_METADATA,
    Federation,
    remote_case,
)
from gateway.peers import PeerDirectory
from gateway.window import Window
from onedoor.case.v1 import case_pb2
from onedoor.federation.v1 import federation_service_pb2 as fpb
from onedoor.federation.v1 import federation_service_pb2_grpc
from onedoor.intake.v1 import intake_service_pb2
from services.common import telemetry
from services.common.errors import ApiError


def _metadata(context: grpc.aio.ServicerContext, key: str) -> str:
    return next((str(v) for k, v in (context.invocation_metadata() or ()) if k == key), "")


class FederationServicer(federation_service_pb2_grpc.FederationServiceServicer):
    def __init__(self, window: Window, directory: PeerDirectory, federation: Federation) -> None:
        self.window = window
        self.directory = directory
        self.federation = federation

    async def ForwardApplication(
        self, request: fpb.ForwardApplicationRequest, context: grpc.aio.ServicerContext
    ) -> fpb.ForwardApplicationResponse:
        peer = self.directory.identify(context)
        origin = case_pb2.Origin(
            peer=peer.name,
            accepting_receipt=request.accepting_receipt,
            accepting_division=request.accepting_division,
            clerk_jurisdiction=_metadata(context, CLERK_JURISDICTION_METADATA),
        )
        accepted = await submission.accept_forwarded(
            self.window, request.application, origin, _metadata(context, RECEIPT_METADATA)
        )
        return fpb.ForwardApplicationResponse(receipt=accepted.receipt, status=accepted.status)

    async def ReportStatus(
        self, request: fpb.ReportStatusRequest, context: grpc.aio.ServicerContext
    ) -> fpb.ReportStatusResponse:
        peer = self.directory.identify(context)
        remote = request.case
        with telemetry.bound_receipt(remote.accepting_receipt):
            case = await self.window.case(remote.accepting_receipt)
            if case.forwarding.peer != peer.name:
                raise ApiError(
                    grpc.StatusCode.PERMISSION_DENIED,
                    "the case was not forwarded to this peer",
                    reason="NOT_YOUR_CASE",
                )
            await self.window.backends.call(
                self.window.backends.intake.RecordForward,
                intake_service_pb2.RecordForwardRequest(
                    receipt=case.receipt,
                    remote_receipt=remote.receipt,
                    remote_status=remote.status,
                    remote_timeline=remote.timeline,
                ),
            )
            await self.federation.audit(
                f"peer:{peer.name}",
                "status.received",
                case.receipt,
                ["status", "timeline"],
                remote.receipt,
            )
        return fpb.ReportStatusResponse()

    async def GetForwardedCase(
        self, request: fpb.GetForwardedCaseRequest, context: grpc.aio.ServicerContext
    ) -> fpb.GetForwardedCaseResponse:
        peer = self.directory.identify(context)
        found = await self.window.backends.call(
            self.window.backends.intake.FindByOrigin,
            intake_service_pb2.FindByOriginRequest(
                peer=peer.name, accepting_receipt=request.accepting_receipt
            ),
        )
        with telemetry.bound_receipt(found.case.receipt):
            await self.federation.audit(
                f"peer:{peer.name}",
                "status.pulled",
                found.case.receipt,
                ["status", "timeline"],
                request.accepting_receipt,
            )
        return fpb.GetForwardedCaseResponse(case=remote_case(found.case))
