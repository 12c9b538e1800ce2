"""``POST /v1/agency-records:batch``: a batch as a JSON Lines body (one AgencyRecord a line,
proto JSON mapping) or as CSV (``Content-Type: text/csv``, the format agencies export), read
line by line as it arrives; the answer is the batch's report in the proto JSON mapping, an
error in Google's JSON error shape. The batch's request id is the ``requestId`` query
parameter. ``GET /livez`` and ``GET /readyz`` answer probes without a token."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from google.protobuf import json_format

from onedoor.ingest.v1 import ingest_service_pb2 as pb
from services.common import auth, telemetry
from services.common.auth import SignIn
from services.common.errors import ApiError, FieldViolation, invalid_argument
from services.ingest import formats
from services.ingest.batch import BatchIntake, Line, check_request_id
from services.ingest.records import unreadable

ROUTE = "/v1/agency-records:batch"
# A line longer than this is no record (and is not held in memory).
MAX_LINE_BYTES = 64 * 1024
QUERY_PARAMETERS = ("requestId",)


def _json(body: object, status: int = 200) -> web.Response:
    return web.Response(
        text=json.dumps(body, ensure_ascii=False),
        status=status,
        content_type="application/json",
    )


async def _text_lines(request: web.Request) -> AsyncIterator[tuple[int, str | None]]:
    """The body's lines with their numbers (from 1), as the body arrives; None for a line too
    long (never held whole) or not UTF-8."""
    number = 0
    pending = bytearray()
    too_long = False

    def text() -> str | None:
        if too_long:
            return None
        try:
            return pending.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            return None

    async for piece in request.content.iter_chunked(MAX_LINE_BYTES):
        start = 0
        while True:
            end = piece.find(b"\n", start)
            if end < 0:
                if not too_long:
                    pending += piece[start:]
                    if len(pending) > MAX_LINE_BYTES:
                        too_long = True
                        pending.clear()
                break
            if not too_long:
                pending += piece[start:end]
            number += 1
            yield number, text()
            pending.clear()
            too_long = False
            start = end + 1
    if pending or too_long:
        yield number + 1, text()


async def _json_lines(request: web.Request) -> AsyncIterator[Line]:
    async for number, text in _text_lines(request):
        if text is None:
            yield number, unreadable(number, "is longer than 64 KiB or not UTF-8")
        elif text.strip():
            yield number, formats.json_line(text, number)


class _CsvBody:
    def __init__(self, request: web.Request) -> None:
        self.lines = _text_lines(request)
        self.reader: formats.CsvReader | None = None

    async def start(self) -> None:
        async for number, text in self.lines:
            if text is None:
                raise invalid_argument([FieldViolation("header", "is not UTF-8 text")])
            if text.strip():
                self.reader = formats.CsvReader(text)
                return
            del number
        raise invalid_argument([FieldViolation("body", "is empty: a CSV header is required")])

    async def records(self) -> AsyncIterator[Line]:
        assert self.reader is not None
        async for number, text in self.lines:
            if text is None:
                yield number, unreadable(number, "is longer than 64 KiB or not UTF-8")
            elif text.strip():
                yield number, self.reader.line(text, number)


def create_app(intake: BatchIntake, sign_in: SignIn, ready: Callable[[], bool]) -> web.Application:
    async def push(request: web.Request) -> web.Response:
        try:
            unknown = [k for k in request.query if k not in QUERY_PARAMETERS]
            if unknown:
                raise invalid_argument(
                    [FieldViolation(k, "is not a query parameter of this route") for k in unknown],
                    reason="UNKNOWN_QUERY_PARAMETER",
                )
            caller = await sign_in.principal(request.headers.get("Authorization", ""))
            request_id = request.query.get("requestId", "")
            content_type = request.content_type
            lines: AsyncIterator[Line]
            if content_type in formats.CSV_TYPES:
                body = _CsvBody(request)
                transport = "csv"
                # The header is read only once the caller may push at all.
                auth.pushing_agency(caller)
                check_request_id(request_id)
                await body.start()
                lines = body.records()
            elif content_type in formats.JSON_LINES_TYPES:
                transport = "jsonl"
                lines = _json_lines(request)
            else:
                raise ApiError(
                    invalid_argument([]).code,
                    "the body is JSON Lines (Content-Type: application/jsonl) or CSV (text/csv)",
                    reason="UNSUPPORTED_MEDIA_TYPE",
                    http_status_override=415,
                )
            report = await intake.push(caller, request_id, lines, transport)
        except ApiError as error:
            return _json(error.to_json(telemetry.current_trace_id()), error.http_status)
        return _json(json_format.MessageToDict(pb.PushRecordsResponse(report=report)), 200)

    async def livez(_request: web.Request) -> web.Response:
        return _json({"status": "SERVING"})

    async def readyz(_request: web.Request) -> web.Response:
        if ready():
            return _json({"status": "SERVING"})
        return _json({"status": "NOT_SERVING"}, 503)

    app = web.Application(client_max_size=MAX_LINE_BYTES)
    app.router.add_post(ROUTE, push)
    app.router.add_get("/livez", livez)
    app.router.add_get("/readyz", readyz)
    return app
