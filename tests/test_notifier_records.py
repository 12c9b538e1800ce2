"""The notifier's send records process (python -m services.notifier.records) on its own
database: started as a real process, called over gRPC as the notifier calls it."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from onedoor.notifier.v1 import send_records_service_pb2 as pb
from onedoor.notifier.v1 import send_records_service_pb2_grpc
from services.common import auth
from services.common.config import DEFAULT_POSTGRES
from services.common.timestamps import to_timestamp
from services.launcher.platform import free_port

ROOT = Path(__file__).resolve().parents[1]
TOKEN = ((auth.SERVICE_TOKEN_METADATA, auth.DEVELOPMENT_SERVICE_TOKEN),)
NOW = dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def records(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(its address, its database URL), on a database of its own, dropped afterwards."""
    database = f"onedoor_records_{uuid.uuid4().hex[:8]}_notifier"
    url = f"{DEFAULT_POSTGRES}/{database}"
    port = free_port()
    log = tmp_path_factory.mktemp("records") / "notifier_records.log"
    env = {
        **os.environ,
        "NOTIFIER_DATABASE_URL": url,
        "NOTIFIER_RECORDS_GRPC_PORT": str(port),
        "NOTIFIER_RECORDS_METRICS_PORT": str(free_port()),
        "BIND_HOST": "127.0.0.1",
    }
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.notifier.records"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_serving(f"127.0.0.1:{port}", process, log)
        yield f"127.0.0.1:{port}", url
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(20)
        asyncio.run(_drop(database))


def _wait_serving(address: str, process: subprocess.Popen[bytes], log: Path) -> None:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    deadline = time.monotonic() + 60
    while True:
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, "the send records process did not start"
        with grpc.insecure_channel(address) as channel:
            try:
                answer = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=1
                )
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.RpcError:
                pass
        time.sleep(0.2)


async def _drop(database: str) -> None:
    conn = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
async def stub(
    records: tuple[str, str],
) -> AsyncIterator[send_records_service_pb2_grpc.SendRecordsServiceStub]:
    async with grpc.aio.insecure_channel(records[0]) as channel:
        yield send_records_service_pb2_grpc.SendRecordsServiceStub(channel)


def notice(receipt: str, **changes: object) -> pb.Notice:
    fields: dict[str, object] = {
        "receipt": receipt,
        "notice_key": "accepted",
        "recipient": "applicant",
        "event": "accepted",
        "matter_code": "dibao",
        "language": "zh-CN",
        "sealed_phone": "sealed-test-value",
        "args": {"matter": "最低生活保障"},
    }
    fields.update(changes)
    return pb.Notice(**fields)  # type: ignore[arg-type]


def violations(error: grpc.aio.AioRpcError) -> list[str]:
    status = rpc_status.from_call(error)
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in status.details)
    return [v.field for v in bad.field_violations]


async def test_bad_requests_are_refused_naming_the_field(stub) -> None:
    cases = [
        (
            stub.RecordNotices(pb.RecordNoticesRequest(notices=[notice("R1")]), metadata=TOKEN),
            ["now", "due_time"],
        ),
        (
            stub.RecordNotices(
                pb.RecordNoticesRequest(
                    notices=[notice("R1", notice_key="")],
                    now=to_timestamp(NOW),
                    due_time=to_timestamp(NOW),
                ),
                metadata=TOKEN,
            ),
            ["notices[0].notice_key"],
        ),
        (
            stub.ClaimNotices(
                pb.ClaimNoticesRequest(now=to_timestamp(NOW), limit=0, lease_seconds=60),
                metadata=TOKEN,
            ),
            ["limit"],
        ),
        (
            stub.ClaimNotices(pb.ClaimNoticesRequest(limit=5), metadata=TOKEN),
            ["now", "lease_seconds"],
        ),
        (stub.MarkSent(pb.MarkSentRequest(id=0), metadata=TOKEN), ["id", "sent_time"]),
        (stub.BatchMarkSent(pb.BatchMarkSentRequest(), metadata=TOKEN), ["requests"]),
        (
            stub.BatchMarkSent(
                pb.BatchMarkSentRequest(
                    requests=[
                        pb.MarkSentRequest(id=7, sent_time=to_timestamp(NOW)),
                        pb.MarkSentRequest(id=-1),
                    ]
                ),
                metadata=TOKEN,
            ),
            ["requests[1].id", "requests[1].sent_time"],
        ),
        (stub.MarkRetry(pb.MarkRetryRequest(id=3), metadata=TOKEN), ["due_time"]),
        (stub.MarkFailed(pb.MarkFailedRequest(), metadata=TOKEN), ["id"]),
    ]
    for call, fields in cases:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await call
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violations(raised.value) == fields


async def test_only_the_platform_s_processes_may_call(stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await stub.ClaimNotices(
            pb.ClaimNoticesRequest(now=to_timestamp(NOW), limit=5, lease_seconds=60)
        )
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_two_deliveries_at_once_record_one_row(stub, records) -> None:
    receipt = f"R-{uuid.uuid4().hex[:10]}"
    request = pb.RecordNoticesRequest(
        notices=[notice(receipt)], now=to_timestamp(NOW), due_time=to_timestamp(NOW)
    )
    answers = await asyncio.gather(*(stub.RecordNotices(request, metadata=TOKEN) for _ in range(2)))
    assert sorted(a.recorded for a in answers) == [0, 1]
    conn = await asyncpg.connect(records[1])
    try:
        rows = await conn.fetch("SELECT state, due_at FROM notices WHERE receipt = $1", receipt)
    finally:
        await conn.close()
    assert [(r["state"], r["due_at"]) for r in rows] == [("pending", NOW)]


async def test_a_lease_keeps_a_record_from_other_senders_until_it_runs_out(stub) -> None:
    receipt = f"R-{uuid.uuid4().hex[:10]}"
    # Far in the future, so that no other test's records are due with it.
    now = NOW + dt.timedelta(days=3650)
    await stub.RecordNotices(
        pb.RecordNoticesRequest(
            notices=[notice(receipt), notice(receipt, recipient="spouse", opted_out=True)],
            now=to_timestamp(now),
            due_time=to_timestamp(now),
        ),
        metadata=TOKEN,
    )

    def claim(at: dt.datetime) -> pb.ClaimNoticesRequest:
        return pb.ClaimNoticesRequest(now=to_timestamp(at), limit=1000, lease_seconds=60)

    first = await stub.ClaimNotices(claim(now), metadata=TOKEN)
    mine = [n for n in first.notices if n.receipt == receipt]
    # The person who opted out is never sent.
    assert [(n.recipient, n.attempts) for n in mine] == [("applicant", 1)]
    assert mine[0].lease_until.ToDatetime(tzinfo=dt.UTC) == now + dt.timedelta(seconds=60)
    assert mine[0].args == {"matter": "最低生活保障"}
    again = await stub.ClaimNotices(claim(now + dt.timedelta(seconds=30)), metadata=TOKEN)
    assert [n for n in again.notices if n.receipt == receipt] == []
    later = await stub.ClaimNotices(claim(now + dt.timedelta(seconds=61)), metadata=TOKEN)
    (retaken,) = [n for n in later.notices if n.receipt == receipt]
    assert retaken.attempts == 2
    await stub.MarkSent(
        pb.MarkSentRequest(id=retaken.id, sent_time=to_timestamp(now), provider_id="p-1"),
        metadata=TOKEN,
    )
    done = await stub.ClaimNotices(claim(now + dt.timedelta(days=1)), metadata=TOKEN)
    assert [n for n in done.notices if n.receipt == receipt] == []


async def test_a_batch_marks_each_record_sent_with_its_own_time_and_provider_id(
    stub, records
) -> None:
    receipts = [f"R-{uuid.uuid4().hex[:10]}" for _ in range(3)]
    # Far in the future, so that no other test's records are due with these.
    now = NOW + dt.timedelta(days=7300)
    await stub.RecordNotices(
        pb.RecordNoticesRequest(
            notices=[notice(r) for r in receipts], now=to_timestamp(now), due_time=to_timestamp(now)
        ),
        metadata=TOKEN,
    )
    claimed = await stub.ClaimNotices(
        pb.ClaimNoticesRequest(now=to_timestamp(now), limit=1000, lease_seconds=60),
        metadata=TOKEN,
    )
    mine = [n for n in claimed.notices if n.receipt in receipts]
    assert len(mine) == 3
    marked = mine[:2]
    await stub.BatchMarkSent(
        pb.BatchMarkSentRequest(
            requests=[
                pb.MarkSentRequest(
                    id=n.id,
                    sent_time=to_timestamp(now + dt.timedelta(seconds=i)),
                    provider_id=f"p-{i}",
                )
                for i, n in enumerate(marked)
            ]
        ),
        metadata=TOKEN,
    )
    conn = await asyncpg.connect(records[1])
    try:
        rows = await conn.fetch(
            "SELECT receipt, state, sent_at, provider_id FROM notices WHERE receipt = ANY($1)",
            receipts,
        )
    finally:
        await conn.close()
    found = {r["receipt"]: (r["state"], r["sent_at"], r["provider_id"]) for r in rows}
    assert found == {
        marked[0].receipt: ("sent", now, "p-0"),
        marked[1].receipt: ("sent", now + dt.timedelta(seconds=1), "p-1"),
        mine[2].receipt: ("sending", None, ""),
    }
