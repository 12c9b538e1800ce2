"""SendRecordsService: the notifier's calls checked and turned into the store's. A request
missing an instant, or naming no record, is refused with INVALID_ARGUMENT naming the field
(the store would otherwise compare with NULL and silently match nothing)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import grpc
from google.protobuf.message import Message

from onedoor.notifier.v1 import send_records_service_pb2 as pb
from onedoor.notifier.v1 import send_records_service_pb2_grpc
from services.common.errors import FieldViolation, invalid_argument
from services.notifier.records.store import SendRecordsStore

MAX_CLAIM = 1000
# The notice's text fields the notifier always has; the sealed phone may be empty (a person
# who opted out, or gave no number, is recorded and never sent).
REQUIRED_NOTICE_FIELDS = ("receipt", "notice_key", "recipient", "event", "matter_code", "language")


def _instant(message: Message, name: str) -> dt.datetime | None:
    if not message.HasField(name):
        return None
    return getattr(message, name).ToDatetime(tzinfo=dt.UTC)  # type: ignore[no-any-return]


def _missing(message: Message, name: str, path: str = "") -> Iterator[FieldViolation]:
    if not message.HasField(name):
        yield FieldViolation(path or name, "is required: an instant of the notifier's clock")


def _check(violations: list[FieldViolation]) -> None:
    if violations:
        raise invalid_argument(violations)


def _record_id(
    request: pb.MarkSentRequest | pb.MarkRetryRequest | pb.MarkFailedRequest,
) -> list[FieldViolation]:
    return [] if request.id > 0 else [FieldViolation("id", "must name a claimed record")]


class SendRecordsServicer(send_records_service_pb2_grpc.SendRecordsServiceServicer):
    def __init__(self, store: SendRecordsStore) -> None:
        self.store = store

    async def RecordNotices(
        self, request: pb.RecordNoticesRequest, context: grpc.aio.ServicerContext
    ) -> pb.RecordNoticesResponse:
        violations = [*_missing(request, "now"), *_missing(request, "due_time")]
        for i, notice in enumerate(request.notices):
            violations += [
                FieldViolation(f"notices[{i}].{name}", "is required")
                for name in REQUIRED_NOTICE_FIELDS
                if not getattr(notice, name)
            ]
        _check(violations)
        now, due = _instant(request, "now"), _instant(request, "due_time")
        assert now is not None and due is not None
        recorded = await self.store.record(request.notices, now, due)
        return pb.RecordNoticesResponse(recorded=recorded)

    async def ClaimNotices(
        self, request: pb.ClaimNoticesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ClaimNoticesResponse:
        violations = list(_missing(request, "now"))
        if not 1 <= request.limit <= MAX_CLAIM:
            violations.append(FieldViolation("limit", f"must be 1 to {MAX_CLAIM}"))
        if not request.lease_seconds > 0:
            violations.append(FieldViolation("lease_seconds", "must be a positive number"))
        _check(violations)
        now = _instant(request, "now")
        assert now is not None
        leased = await self.store.claim(now, request.limit, request.lease_seconds)
        return pb.ClaimNoticesResponse(notices=leased)

    async def MarkSent(
        self, request: pb.MarkSentRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkSentResponse:
        _check([*_record_id(request), *_missing(request, "sent_time")])
        sent = _instant(request, "sent_time")
        assert sent is not None
        await self.store.sent([(request.id, sent, request.provider_id)])
        return pb.MarkSentResponse()

    async def BatchMarkSent(
        self, request: pb.BatchMarkSentRequest, context: grpc.aio.ServicerContext
    ) -> pb.BatchMarkSentResponse:
        violations: list[FieldViolation] = []
        if not 1 <= len(request.requests) <= MAX_CLAIM:
            violations.append(FieldViolation("requests", f"must hold 1 to {MAX_CLAIM}"))
        for i, one in enumerate(request.requests):
            violations += [
                FieldViolation(f"requests[{i}].{v.field}", v.description)
                for v in [*_record_id(one), *_missing(one, "sent_time")]
            ]
        _check(violations)
        marks = []
        for one in request.requests:
            sent = _instant(one, "sent_time")
            assert sent is not None
            marks.append((one.id, sent, one.provider_id))
        await self.store.sent(marks)
        return pb.BatchMarkSentResponse()

    async def MarkRetry(
        self, request: pb.MarkRetryRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkRetryResponse:
        _check([*_record_id(request), *_missing(request, "due_time")])
        at = _instant(request, "due_time")
        assert at is not None
        await self.store.retry(request.id, at, request.cause)
        return pb.MarkRetryResponse()

    async def MarkFailed(
        self, request: pb.MarkFailedRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkFailedResponse:
        _check(_record_id(request))
        await self.store.failed(request.id, request.cause)
        return pb.MarkFailedResponse()
