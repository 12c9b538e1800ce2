"""GatewayService over gRPC: each method hands the request to its use case, with the caller
the token names."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from gateway import (
    audit_entries,
    case_file,
    decisions,
    divorce,
    forwards,
    lookup,
    materials,
    rendering,
    search,
    submission,
)
from gateway.window import Window
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.gateway.v1 import gateway_service_pb2_grpc
from services.common import auth
from services.common.auth import Principal
from services.common.errors import ApiError

M = TypeVar("M", bound=Message)
T = TypeVar("T")


def _authorization(context: grpc.aio.ServicerContext) -> str:
    metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
    return metadata.get("authorization", "")


def _rendered(
    method: Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[M]],
) -> Callable[[Any, Any, grpc.aio.ServicerContext], Awaitable[M]]:
    """Renders the answer's domain texts in the language of the caller's ``accept-language``
    metadata (zh-CN when it names none the bureau serves)."""

    @functools.wraps(method)
    async def answer(self: Any, request: Any, context: grpc.aio.ServicerContext) -> M:
        metadata = {k: v for k, v in (context.invocation_metadata() or ()) if isinstance(v, str)}
        language = rendering.negotiate(metadata.get("accept-language"))
        try:
            answered = await method(self, request, context)
        except ApiError as error:
            # Refusals too: the interceptor answers them with their LocalizedMessage.
            raise rendering.localize_error(error, language) from None
        return rendering.localize(answered, language)

    return answer


def _rendering_every_method(cls: type[T]) -> type[T]:
    for name, member in list(vars(cls).items()):
        if name[:1].isupper() and inspect.iscoroutinefunction(member):
            setattr(cls, name, _rendered(member))
    return cls


@_rendering_every_method
class GatewayServicer(gateway_service_pb2_grpc.GatewayServiceServicer):
    def __init__(self, window: Window, sign_in: auth.SignIn | None = None) -> None:
        self.window = window
        # Without one (in-process tests), development tokens only.
        self.sign_in = sign_in or auth.development_sign_in()

    async def _caller(self, context: grpc.aio.ServicerContext) -> Principal:
        return await self.sign_in.principal(_authorization(context))

    async def SubmitApplication(
        self, request: pb.SubmitApplicationRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitApplicationResponse:
        return await submission.submit(self.window, await self._caller(context), request)

    async def GetApplication(
        self, request: pb.GetApplicationRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetApplicationResponse:
        return await lookup.get_application(self.window, await self._caller(context), request)

    async def ListApplications(
        self, request: pb.ListApplicationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListApplicationsResponse:
        return await lookup.list_applications(self.window, await self._caller(context), request)

    async def ListMatters(
        self, request: pb.ListMattersRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListMattersResponse:
        return await lookup.list_matters(self.window, await self._caller(context), request)

    async def SupplyMaterials(
        self, request: pb.SupplyMaterialsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SupplyMaterialsResponse:
        return await materials.supply_materials(self.window, await self._caller(context), request)

    async def ConfirmDivorce(
        self, request: pb.ConfirmDivorceRequest, context: grpc.aio.ServicerContext
    ) -> pb.ConfirmDivorceResponse:
        return await divorce.confirm_divorce(self.window, await self._caller(context), request)

    async def WithdrawDivorce(
        self, request: pb.WithdrawDivorceRequest, context: grpc.aio.ServicerContext
    ) -> pb.WithdrawDivorceResponse:
        return await divorce.withdraw_divorce(self.window, await self._caller(context), request)

    async def ListDepartmentCases(
        self, request: pb.ListDepartmentCasesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListDepartmentCasesResponse:
        return await decisions.list_department_cases(
            self.window, await self._caller(context), request
        )

    async def DecideCase(
        self, request: pb.DecideCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.DecideCaseResponse:
        return await decisions.decide_case(self.window, await self._caller(context), request)

    async def ListAuditEntries(
        self, request: pb.ListAuditEntriesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListAuditEntriesResponse:
        return await audit_entries.list_audit_entries(
            self.window, await self._caller(context), request
        )

    async def ListForwards(
        self, request: pb.ListForwardsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListForwardsResponse:
        return await forwards.list_forwards(self.window, await self._caller(context), request)

    async def GetCaseFile(
        self, request: pb.GetCaseFileRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCaseFileResponse:
        return await case_file.get_case_file(self.window, await self._caller(context), request)

    async def VerifyAuditChain(
        self, request: pb.VerifyAuditChainRequest, context: grpc.aio.ServicerContext
    ) -> pb.VerifyAuditChainResponse:
        return await audit_entries.verify_audit_chain(
            self.window, await self._caller(context), request
        )

    async def SearchApplications(
        self, request: pb.SearchApplicationsRequest, context: grpc.aio.ServicerContext
    ) -> pb.SearchApplicationsResponse:
        return await search.search_applications(self.window, await self._caller(context), request)
