"""GatewayService over gRPC: a thin face over the window's operations."""

from __future__ import annotations

import grpc

from gateway.applications import Window
from gateway.validation import check_department, check_listing
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.gateway.v1 import gateway_service_pb2_grpc
from services.common import auth
from services.common.auth import Principal


def _caller(context: grpc.aio.ServicerContext) -> Principal:
    metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
    return auth.verify(metadata.get("authorization", ""))


class GatewayServicer(gateway_service_pb2_grpc.GatewayServiceServicer):
    def __init__(self, window: Window) -> None:
        self.window = window

    async def SubmitApplication(
        self, request: pb.SubmitApplicationRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitApplicationResponse:
        return await self.window.submit(_caller(context), request)

    async def GetApplication(
        self, request: pb.GetApplicationRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetApplicationResponse:
        return await self.window.get(_caller(context), request)

    async def ListApplications(
        self, request: pb.ListApplicationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListApplicationsResponse:
        check_listing(request)
        return await self.window.list(_caller(context), request)

    async def ListMatters(
        self, request: pb.ListMattersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMattersResponse:
        return await self.window.matters(_caller(context), request)

    async def SupplyMaterials(
        self, request: pb.SupplyMaterialsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SupplyMaterialsResponse:
        return await self.window.supply_materials(_caller(context), request)

    async def ConfirmDivorce(
        self, request: pb.ConfirmDivorceRequest, context: grpc.aio.ServicerContext
    ) -> pb.ConfirmDivorceResponse:
        return await self.window.confirm_divorce(_caller(context), request)

    async def WithdrawDivorce(
        self, request: pb.WithdrawDivorceRequest, context: grpc.aio.ServicerContext
    ) -> pb.WithdrawDivorceResponse:
        return await self.window.withdraw_divorce(_caller(context), request)

    async def ListDepartmentCases(
        self, request: pb.ListDepartmentCasesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDepartmentCasesResponse:
        check_department(request.department)
        return await self.window.department_cases(_caller(context), request)

    async def DecideCase(
        self, request: pb.DecideCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.DecideCaseResponse:
        check_department(request.department)
        return await self.window.decide(_caller(context), request)

    async def ListAuditEntries(
        self, request: pb.ListAuditEntriesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAuditEntriesResponse:
        return await self.window.audit_entries(_caller(context), request)
