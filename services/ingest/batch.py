"""One batch pushed by an agency, whatever the transport (gRPC stream, JSON Lines, CSV): each
record checked on its own, the good ones kept a chunk at a time as they arrive (memory holds
one chunk, never the batch), the bad ones refused with their line, and the report at the end.

A batch is the agency's request id (AIP-155). Pushed again while it is unfinished (the
connection or the service died mid-batch), it is resumed: records kept by the cut-off attempt
count as this batch's, the others are kept now. Pushed again once complete, its records are
only read to compare (a keyed fingerprint) and the first report is the answer; another batch
under a used request id is refused, ALREADY_EXISTS, and keeps nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import grpc
from google.protobuf import timestamp_pb2
from opentelemetry import trace

from onedoor.ingest.v1 import ingest_service_pb2 as pb
from services.common import auth, keyed_hash, metric_catalog, telemetry
from services.common.auth import Principal
from services.common.clock import BureauClock
from services.common.errors import ApiError, FieldViolation, invalid_argument
from services.ingest import records
from services.ingest.records import Kept, Refused
from services.ingest.store import IngestStore, Opened

log = logging.getLogger("services.ingest")

# What a transport hands in: each line's record, or its refusal when it was no record.
Line = tuple[int, pb.AgencyRecord | Refused]

MAX_REQUEST_ID = 128
UNKNOWN_KIND = "UNKNOWN"

_records = metric_catalog.counter(metric_catalog.INGEST_RECORDS)
_refusals = metric_catalog.counter(metric_catalog.INGEST_REFUSALS)
_duration = metric_catalog.histogram(metric_catalog.INGEST_BATCH_DURATION)


@dataclass(frozen=True)
class Limits:
    # Records kept in one statement.
    chunk: int = 2000
    # Refusals in the answer (every one is kept with the batch).
    shown_refusals: int = 1000


def check_request_id(request_id: str) -> str:
    if not request_id:
        raise invalid_argument(
            [FieldViolation("request_id", "is required: the batch's id, for retries")],
            reason="INVALID_REQUEST",
        )
    if len(request_id) > MAX_REQUEST_ID or not request_id.isprintable():
        raise invalid_argument(
            [
                FieldViolation(
                    "request_id", f"must be at most {MAX_REQUEST_ID} printable characters"
                )
            ],
            reason="INVALID_REQUEST",
        )
    return request_id


def batch_reused() -> ApiError:
    return ApiError(
        grpc.StatusCode.ALREADY_EXISTS,
        "the request id was used before for a different batch: give this batch a new request id",
        reason="REQUEST_ID_REUSED",
        violations=(FieldViolation("request_id", "was used before for another batch"),),
    )


def _label(kind: int) -> str:
    return records.kind_name(kind) if kind else UNKNOWN_KIND


def _feed(fingerprint: object, item: pb.AgencyRecord | Refused) -> None:
    if isinstance(item, Refused):
        data = f"unreadable\x00{item.line}\x00{item.field}".encode()
    else:
        data = item.SerializeToString(deterministic=True)
    # Length-prefixed, so two records never hash like one.
    fingerprint.update(len(data).to_bytes(4, "big") + data)  # type: ignore[attr-defined]


class _Tally:
    """Counts of one push, by kind: bounded whatever the batch's size."""

    def __init__(self) -> None:
        self.valid: Counter[str] = Counter()
        self.accepted: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self.reasons: Counter[int] = Counter()

    def report(self, opened: Opened, request_id: str, agency: str) -> pb.BatchReport:
        kinds = sorted(set(self.valid) | set(self.refused))
        report = pb.BatchReport(
            batch_id=opened.batch_id,
            request_id=request_id,
            agency=agency,
            accepted=sum(self.accepted.values()),
            duplicates=sum(self.valid.values()) - sum(self.accepted.values()),
            refused=sum(self.refused.values()),
            kinds=[
                pb.KindCounts(
                    kind=pb.RecordKind.Value(f"RECORD_KIND_{k}")
                    if k != UNKNOWN_KIND
                    else pb.RECORD_KIND_UNSPECIFIED,
                    accepted=self.accepted[k],
                    duplicates=self.valid[k] - self.accepted[k],
                    refused=self.refused[k],
                )
                for k in kinds
            ],
            refused_by_reason=[
                pb.ReasonCount(reason=r, count=n)  # type: ignore[arg-type]
                for r, n in sorted(self.reasons.items())
            ],
        )
        report.received = report.accepted + report.duplicates + report.refused
        return report


# What follows a stored batch (services/ingest/outreach.py: its records matched and judged),
# given the batch id and its trace id; run again when the batch is pushed again, to finish
# what a cut-off run left.
AfterBatch = Callable[[str, str], Awaitable[object]]


class BatchIntake:
    def __init__(
        self,
        store: IngestStore,
        clock: BureauClock,
        limits: Limits = Limits(),
        after: AfterBatch | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.limits = limits
        self.after = after

    async def _after(self, batch_id: str, trace_id: str) -> None:
        """What follows a stored batch. Its failure (a department unreachable) does not fail
        the push: the records are kept, and their judging is retried (services/ingest/daily)."""
        if self.after is None:
            return
        try:
            await self.after(batch_id, trace_id)
        except Exception as error:
            trace.get_current_span().record_exception(error)
            log.warning(
                "batch %s kept; its judging is deferred (%s) and will be retried",
                batch_id,
                type(error).__name__,
            )

    async def push(
        self,
        caller: Principal,
        request_id: str,
        lines: AsyncIterator[Line],
        transport: str,
    ) -> pb.BatchReport:
        """Takes a batch's lines as they come; returns its report."""
        agency = auth.pushing_agency(caller)
        check_request_id(request_id)
        started = time.monotonic()
        span = trace.get_current_span()
        opened = await self.store.open_batch(
            agency,
            caller.jurisdiction,
            request_id,
            f"{caller.role}:{caller.subject}",
            telemetry.current_trace_id(),
        )
        span.set_attribute("onedoor.ingest.batch_id", opened.batch_id)
        span.set_attribute("onedoor.ingest.agency", agency)
        span.set_attribute("onedoor.ingest.attempt", opened.attempt)
        fingerprint = keyed_hash.batch_fingerprint()
        if opened.complete:
            async for _line, item in lines:
                _feed(fingerprint, item)
            if fingerprint.hexdigest() != opened.fingerprint:
                raise batch_reused()
            assert opened.report is not None
            span.set_attribute("onedoor.ingest.repeated", True)
            repeated = pb.BatchReport.FromString(opened.report)
            await self._after(opened.batch_id, repeated.trace_id)
            return repeated

        tally = _Tally()
        today = self.clock.today()
        kept: list[Kept] = []
        refused: list[Refused] = []
        async with self.store.pool.acquire() as conn:

            async def write(kept: list[Kept], refused: list[Refused]) -> None:
                if kept:
                    counted = await self.store.keep(conn, agency, opened, kept)
                    tally.accepted.update(counted)
                    chunk = Counter(records.kind_name(k.kind) for k in kept)
                    for kind, n in chunk.items():
                        _records.add(counted[kind], {"kind": kind, "outcome": "accepted"})
                        _records.add(n - counted[kind], {"kind": kind, "outcome": "duplicate"})
                if refused:
                    await self.store.refuse(conn, opened, refused)

            # One chunk is written while the next is checked: PostgreSQL works on one core
            # while this process checks on the other. At most one write is in flight, so
            # memory holds two chunks whatever the batch's size.
            writing: asyncio.Task[None] | None = None

            async def flush() -> None:
                nonlocal writing, kept, refused
                if writing is not None:
                    await writing
                writing = asyncio.create_task(write(kept, refused)) if kept or refused else None
                kept, refused = [], []

            try:
                async for line, item in lines:
                    _feed(fingerprint, item)
                    checked = (
                        item
                        if isinstance(item, Refused)
                        else records.check(item, line, agency, caller.covers, today)
                    )
                    if isinstance(checked, Refused):
                        kind = _label(checked.kind)
                        tally.refused[kind] += 1
                        tally.reasons[checked.reason] += 1
                        reason = pb.RefusalReason.Name(checked.reason).removeprefix(
                            "REFUSAL_REASON_"
                        )
                        _records.add(1, {"kind": kind, "outcome": "refused"})
                        _refusals.add(1, {"kind": kind, "reason": reason})
                        refused.append(checked)
                    else:
                        tally.valid[records.kind_name(checked.kind)] += 1
                        kept.append(checked)
                    if len(kept) >= self.limits.chunk or len(refused) >= self.limits.chunk:
                        await flush()
                await flush()
                await flush()
            finally:
                # Cut off (the stream broke, the call was cancelled): the write in flight
                # still ends before the connection goes back to the pool.
                if writing is not None and not writing.done():
                    await asyncio.wait([writing])

        report = tally.report(opened, request_id, agency)
        shown = await self.store.first_refusals(opened, self.limits.shown_refusals)
        report.refusals.extend(shown)
        report.refusals_not_shown = max(0, report.refused - len(shown))
        report.create_time.FromDatetime(opened.created_at)
        report.complete_time.CopyFrom(_now())
        report.trace_id = telemetry.current_trace_id()
        report = await self.store.complete(opened, fingerprint.hexdigest(), report)
        await self._after(opened.batch_id, report.trace_id)
        elapsed = time.monotonic() - started
        _duration.record(elapsed, {"transport": transport})
        for name in ("received", "accepted", "duplicates", "refused"):
            span.set_attribute(f"onedoor.ingest.{name}", getattr(report, name))
        log.info(
            "batch %s from %s (attempt %d, %s): %d received, %d accepted, %d duplicates, "
            "%d refused in %.1fs",
            opened.batch_id,
            agency,
            opened.attempt,
            transport,
            report.received,
            report.accepted,
            report.duplicates,
            report.refused,
            elapsed,
        )
        return report


def _now() -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.GetCurrentTime()
    return stamp
