"""The ingest service killed mid-batch: an agency's gRPC push of a batch is cut off by SIGKILL
after part of it was kept; the service comes back and the agency pushes the same batch again
under the same request id, as AIP-155 asks. Every record is kept exactly once, the report
counts every record as this batch's, and a third push of it is answered with that report."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest

from onedoor.ingest.v1 import ingest_service_pb2 as pb
from onedoor.ingest.v1 import ingest_service_pb2_grpc
from services.common import auth, identity
from services.launcher.platform import Platform

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]

RECORDS = 30_000
CHUNK = 500
# The agency's client paces its chunks so the kill lands in the middle of the stream.
PAUSE_SECONDS = 0.05
KILL_AFTER_KEPT = 5_000


def batch(tag: str) -> list[pb.AgencyRecord]:
    first = dt.date(1940, 1, 1)
    return [
        pb.AgencyRecord(
            record_id=f"{tag}-{n}",
            id_number=identity.compose("320585", first + dt.timedelta(days=n // 900), n % 900),
            medical_expense=pb.MedicalExpense(
                settled_on="2026-06-30", total_fen=10_000 + n, out_of_pocket_fen=n % 10_000
            ),
        )
        for n in range(RECORDS)
    ]


async def stream(
    request_id: str, records: list[pb.AgencyRecord]
) -> AsyncIterator[pb.PushRecordsRequest]:
    for start in range(0, len(records), CHUNK):
        yield pb.PushRecordsRequest(
            request_id=request_id if start == 0 else "", records=records[start : start + CHUNK]
        )
        await asyncio.sleep(PAUSE_SECONDS)


async def test_a_batch_cut_off_by_a_crash_and_pushed_again_loses_and_doubles_nothing(
    platform: Platform,
):
    token = auth.issue("agency", "320585", agency="medical_insurance")
    metadata = (("authorization", f"Bearer {token}"),)
    tag = f"fault-{uuid.uuid4().hex[:8]}"
    records = batch(tag)
    request_id = str(uuid.uuid4())
    db = await asyncpg.connect(platform.database_url("ingest"))

    async def kept() -> int:
        return int(
            await db.fetchval(
                "SELECT count(*) FROM agency_records WHERE record_id LIKE $1", f"{tag}-%"
            )
        )

    try:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.ingest}") as channel:
            ingest = ingest_service_pb2_grpc.IngestServiceStub(channel)

            async def first_push() -> pb.PushRecordsResponse:
                return await ingest.PushRecords(stream(request_id, records), metadata=metadata)

            cut_off = asyncio.create_task(first_push())
            while await kept() < KILL_AFTER_KEPT:
                assert not cut_off.done(), "the push ended before the kill"
                await asyncio.sleep(0.05)
            await asyncio.to_thread(platform.kill, "ingest")
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await cut_off
            assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
        before_retry = await kept()
        assert KILL_AFTER_KEPT <= before_retry < RECORDS
        print(f"\n    ingest killed with {before_retry} of {RECORDS} records kept", flush=True)

        await asyncio.to_thread(platform.start, "ingest")
        await asyncio.to_thread(platform.wait_healthy, 60.0, False, ("ingest",))
        async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.ingest}") as channel:
            ingest = ingest_service_pb2_grpc.IngestServiceStub(channel)
            retried = (
                await ingest.PushRecords(stream(request_id, records), metadata=metadata)
            ).report
            assert (retried.received, retried.accepted, retried.duplicates, retried.refused) == (
                RECORDS,
                RECORDS,
                0,
                0,
            )
            assert await kept() == RECORDS
            attempts = await db.fetchval(
                "SELECT attempts FROM batches WHERE request_id = $1", request_id
            )
            assert attempts == 2

            again = (
                await ingest.PushRecords(stream(request_id, records), metadata=metadata)
            ).report
            assert again == retried
            assert await kept() == RECORDS
    finally:
        await db.close()
