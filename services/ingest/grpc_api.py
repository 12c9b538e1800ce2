"""``onedoor.ingest.v1.IngestService`` over gRPC: the agency's stream of chunks handed to the
batch intake as it arrives, errors as ``google.rpc.Status`` with details (AIP-193)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import grpc

from onedoor.ingest.v1 import ingest_service_pb2 as pb
from onedoor.ingest.v1 import ingest_service_pb2_grpc
from services.common import telemetry
from services.common.auth import SignIn
from services.common.errors import ApiError, FieldViolation, invalid_argument
from services.common.grpc_server import TRACE_ID_METADATA
from services.ingest.batch import BatchIntake, Line

log = logging.getLogger("services.ingest")


class _Chunks:
    """The stream's records with their lines (from 1), the request id from its first chunk."""

    def __init__(self, stream: AsyncIterator[pb.PushRecordsRequest]) -> None:
        self.stream = stream
        self.first: pb.PushRecordsRequest | None = None

    async def start(self) -> str:
        async for chunk in self.stream:
            self.first = chunk
            return chunk.request_id
        return ""

    async def lines(self) -> AsyncIterator[Line]:
        line = 0
        request_id = self.first.request_id if self.first is not None else ""
        chunk = self.first
        while chunk is not None:
            if chunk.request_id and chunk.request_id != request_id:
                raise invalid_argument(
                    [FieldViolation("request_id", "differs from the batch's first chunk")]
                )
            for record in chunk.records:
                line += 1
                yield line, record
            chunk = await anext(self.stream, None)  # type: ignore[call-overload]


class IngestServicer(ingest_service_pb2_grpc.IngestServiceServicer):
    def __init__(self, intake: BatchIntake, sign_in: SignIn) -> None:
        self.intake = intake
        self.sign_in = sign_in

    async def PushRecords(
        self,
        request_iterator: AsyncIterator[pb.PushRecordsRequest],
        context: grpc.aio.ServicerContext,
    ) -> pb.PushRecordsResponse:
        trace_id = telemetry.current_trace_id()
        try:
            metadata = dict(context.invocation_metadata() or ())
            caller = await self.sign_in.principal(str(metadata.get("authorization", "")))
            chunks = _Chunks(request_iterator)
            request_id = await chunks.start()
            report = await self.intake.push(caller, request_id, chunks.lines(), "grpc")
        except ApiError as error:
            status = error.to_grpc_status()
            await context.abort(
                status.code,
                status.details,
                trailing_metadata=(*status.trailing_metadata, (TRACE_ID_METADATA, trace_id)),
            )
        context.set_trailing_metadata(((TRACE_ID_METADATA, trace_id),))
        return pb.PushRecordsResponse(report=report)
