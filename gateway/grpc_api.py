"""GatewayService over gRPC: a thin face over the window's operations."""

from __future__ import annotations

import grpc

from gateway.applications import Window
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.gateway.v1 import gateway_service_pb2_grpc


class GatewayServicer(gateway_service_pb2_grpc.GatewayServiceServicer):
    def __init__(self, window: Window) -> None:
        self.window = window

    async def SubmitApplication(
        self, request: pb.SubmitApplicationRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitApplicationResponse:
        return await self.window.submit(request)

    async def GetApplication(
        self, request: pb.GetApplicationRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetApplicationResponse:
        return await self.window.get(request)

    async def ListMatters(
        self, request: pb.ListMattersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMattersResponse:
        return await self.window.matters(request)
