"""Agencies push records to the ingest service of the real platform: over gRPC
(PushRecords, a stream of chunks) and HTTP (JSON Lines and CSV), as agency callers of Taicang
(320585). Records are kept once per (agency, record id); bad lines are refused on their own
with their line and field; other jurisdictions' persons, other agencies' kinds and staff
tokens are refused."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
import uuid
from collections.abc import AsyncIterator, Iterable, Iterator

import aiohttp
import asyncpg
import grpc
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from onedoor.ingest.v1 import ingest_service_pb2 as pb
from onedoor.ingest.v1 import ingest_service_pb2_grpc
from services.common import auth, identity, keyed_hash
from services.launcher.platform import Platform
from services.launcher.trace_sink import TraceSink
from tests.conftest import eventually
from tests.factories import PERSONAL_DATA

TAICANG = "320585"
KUNSHAN = "320583"


def agency_token(agency: str = "medical_insurance", jurisdiction: str = TAICANG) -> str:
    return f"Bearer {auth.issue('agency', jurisdiction, agency=agency)}"


def person(n: int, division: str = TAICANG) -> str:
    """A well-formed number, noted for the whole run's privacy scan."""
    number = identity.compose(division, dt.date(1950, 1, 1) + dt.timedelta(days=n), n % 1000)
    PERSONAL_DATA.add(number)
    return number


def expense(
    record_id: str, id_number: str, total: int = 120_000, paid: int = 45_000
) -> pb.AgencyRecord:
    return pb.AgencyRecord(
        record_id=record_id,
        id_number=id_number,
        medical_expense=pb.MedicalExpense(
            settled_on="2026-10-12", total_fen=total, out_of_pocket_fen=paid
        ),
    )


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
async def ingest(platform: Platform) -> AsyncIterator[ingest_service_pb2_grpc.IngestServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.ingest}") as channel:
        yield ingest_service_pb2_grpc.IngestServiceStub(channel)


@pytest.fixture
async def ingest_db(platform: Platform) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(platform.database_url("ingest"))
    yield conn
    await conn.close()


@pytest.fixture
async def ingest_http(platform: Platform) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(f"http://127.0.0.1:{platform.ports.ingest_http}") as s:
        yield s


def chunks(
    request_id: str, records: Iterable[pb.AgencyRecord], size: int = 2
) -> Iterator[pb.PushRecordsRequest]:
    batch = list(records)
    for start in range(0, max(len(batch), 1), size):
        yield pb.PushRecordsRequest(
            request_id=request_id if start == 0 else "", records=batch[start : start + size]
        )


async def push(
    ingest: ingest_service_pb2_grpc.IngestServiceStub,
    records: Iterable[pb.AgencyRecord],
    request_id: str = "",
    token: str = "",
) -> pb.BatchReport:
    response = await ingest.PushRecords(
        chunks(request_id or new_id(), records),
        metadata=(("authorization", token or agency_token()),),
    )
    return response.report


async def records_of(conn: asyncpg.Connection, record_ids: Iterable[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM agency_records WHERE agency = 'medical_insurance' "
        "AND record_id = ANY($1::text[]) ORDER BY record_id",
        list(record_ids),
    )


def refusals(report: pb.BatchReport) -> list[tuple[int, str, str]]:
    return [(r.line, r.field, pb.RefusalReason.Name(r.reason)) for r in report.refusals]


async def test_a_push_over_grpc_keeps_every_record_hashed_never_in_the_clear(
    ingest, ingest_db, trace_sink: TraceSink
):
    tag = new_id()[:8]
    numbers = [person(i) for i in range(1, 6)]
    batch = [expense(f"mi-{tag}-{i}", n) for i, n in enumerate(numbers)]

    report = await push(ingest, batch)

    assert (report.received, report.accepted, report.duplicates, report.refused) == (5, 5, 0, 0)
    assert report.agency == "medical_insurance"
    [kind] = report.kinds
    assert (kind.kind, kind.accepted) == (pb.RECORD_KIND_MEDICAL_EXPENSE, 5)
    rows = await records_of(ingest_db, [r.record_id for r in batch])
    assert [r["person_key"] for r in rows] == [keyed_hash.person_key(n) for n in numbers]
    assert {(r["kind"], r["total_fen"], r["out_of_pocket_fen"]) for r in rows} == {
        ("MEDICAL_EXPENSE", 120_000, 45_000)
    }
    assert all(str(r["occurred_on"]) == "2026-10-12" for r in rows)
    stored = json.dumps([dict(r) for r in rows], default=str)
    assert not any(n in stored for n in numbers)

    # The batch is one trace: the ingest server's span and its SQL, nothing naming a person.
    method = "onedoor.ingest.v1.IngestService/PushRecords"

    # Its SQL too: opening the batch, keeping the chunk, completing it, all in the one trace
    # (waited for, as a span may reach the sink in a later export than the server's).
    async def spans() -> list | None:
        found = [s for s in trace_sink.spans(report.trace_id) if s.service == "ingest"]
        served = any(s.name == method for s in found)
        return found if served and sum(s.kind == "CLIENT" for s in found) >= 3 else None

    found = await eventually(spans, what="the batch's server span and its three statements")
    [server] = [s for s in found if s.name == method]
    assert server.attributes["onedoor.ingest.accepted"] == 5
    assert not any(n in json.dumps([s.attributes for s in found], default=str) for n in numbers)


async def test_pushing_the_same_records_again_changes_nothing(ingest, ingest_db):
    tag = new_id()[:8]
    batch = [expense(f"mi-{tag}-{i}", person(100 + i)) for i in range(4)]
    request_id = new_id()
    first = await push(ingest, batch, request_id)
    assert first.accepted == 4
    before = await records_of(ingest_db, [r.record_id for r in batch])

    # Under a new request id: a new batch, every record a duplicate, none changed.
    again = await push(ingest, [*batch, batch[0]])
    assert (again.received, again.accepted, again.duplicates, again.refused) == (5, 0, 5, 0)
    assert await records_of(ingest_db, [r.record_id for r in batch]) == before

    # Under its own request id: the first report, and nothing read twice.
    repeated = await push(ingest, batch, request_id)
    assert repeated == first
    batches = await ingest_db.fetchval(
        "SELECT count(*) FROM batches WHERE request_id = $1", request_id
    )
    assert batches == 1


async def test_a_used_request_id_for_another_batch_is_refused_and_keeps_nothing(ingest, ingest_db):
    request_id = new_id()
    tag = new_id()[:8]
    await push(ingest, [expense(f"mi-{tag}-a", person(200))], request_id)
    other = expense(f"mi-{tag}-b", person(201))
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await push(ingest, [other], request_id)
    assert refused.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert not await records_of(ingest_db, [other.record_id])


async def test_bad_lines_are_refused_with_their_line_and_field_and_the_good_kept(
    ingest_http, ingest_db
):
    tag = new_id()[:8]
    good = person(300)
    bad_digit = good[:-1] + ("0" if good[-1] != "0" else "1")
    PERSONAL_DATA.add(bad_digit)
    lines = [
        json_format.MessageToJson(expense(f"mi-{tag}-1", good), indent=None),
        json_format.MessageToJson(expense(f"mi-{tag}-2", bad_digit), indent=None),
        json_format.MessageToJson(
            expense(f"mi-{tag}-3", person(301), total=1000, paid=2000), indent=None
        ),
        "{not json",
        json.dumps(
            {
                "recordId": f"mi-{tag}-5",
                "idNumber": person(302),
                "medicalExpense": {
                    "settledOn": "2026-13-01",
                    "totalFen": "100",
                    "outOfPocketFen": "10",
                },
            }
        ),
        json.dumps(
            {
                "recordId": f"mi-{tag}-6",
                "idNumber": person(303),
                "medicalExpense": {"settledOn": "2026-01-01", "totalFen": "many"},
            }
        ),
        "",
        json_format.MessageToJson(expense(f"mi-{tag}-8", person(304)), indent=None),
    ]
    async with ingest_http.post(
        "/v1/agency-records:batch",
        params={"requestId": new_id()},
        data="\n".join(lines) + "\n",
        headers={"Authorization": agency_token(), "Content-Type": "application/jsonl"},
    ) as response:
        assert response.status == 200, await response.text()
        body = await response.json()
    report = json_format.ParseDict(body, pb.PushRecordsResponse()).report

    assert (report.received, report.accepted, report.refused) == (7, 2, 5)
    assert refusals(report) == [
        (2, "id_number", "REFUSAL_REASON_INVALID_FIELD"),
        (3, "medical_expense.out_of_pocket_fen", "REFUSAL_REASON_INVALID_FIELD"),
        (4, "line", "REFUSAL_REASON_UNREADABLE_LINE"),
        (5, "medical_expense.settled_on", "REFUSAL_REASON_INVALID_FIELD"),
        (6, "medical_expense", "REFUSAL_REASON_INVALID_FIELD"),
    ]
    assert report.refusals[0].description == "check digit does not match"
    assert bad_digit not in json.dumps(body)
    kept = await records_of(ingest_db, [f"mi-{tag}-{i}" for i in range(1, 9)])
    assert [r["record_id"] for r in kept] == [f"mi-{tag}-1", f"mi-{tag}-8"]
    stored = await ingest_db.fetch(
        "SELECT line, field, reason FROM batch_refusals WHERE batch_id = $1::uuid ORDER BY line",
        report.batch_id,
    )
    assert [tuple(r) for r in stored] == [
        (line, field, reason.removeprefix("REFUSAL_REASON_"))
        for line, field, reason in refusals(report)
    ]


async def test_a_csv_export_is_pushed_over_http(ingest_http, ingest_db):
    tag = new_id()[:8]
    csv = "\r\n".join(
        [
            "\ufeffrecord_id,id_number,kind,changed_on,grade,category",
            f"dpf-{tag}-1,{person(400)},DISABILITY_GRADE,2026-09-01,2,PHYSICAL",
            f"dpf-{tag}-2,{person(401)},DISABILITY_GRADE,2026-09-02,5,PHYSICAL",
            f"dpf-{tag}-3,{person(402)},DISABILITY_GRADE,2026-09-03,1",
            f"dpf-{tag}-4,{person(403)},DISABILITY_GRADE,2026-09-04,3,VISUAL",
            f"dpf-{tag}-5,{person(404)},MEDICAL_EXPENSE,2026-09-04,3,VISUAL",
        ]
    )
    token = agency_token("disabled_persons_federation")
    async with ingest_http.post(
        "/v1/agency-records:batch",
        params={"requestId": new_id()},
        data=csv.encode(),
        headers={"Authorization": token, "Content-Type": "text/csv; charset=utf-8"},
    ) as response:
        assert response.status == 200, await response.text()
        report = json_format.ParseDict(await response.json(), pb.PushRecordsResponse()).report
    assert (report.accepted, report.refused) == (2, 3)
    assert refusals(report) == [
        (3, "disability_grade.grade", "REFUSAL_REASON_INVALID_FIELD"),
        (4, "line", "REFUSAL_REASON_UNREADABLE_LINE"),
        (6, "medical_expense", "REFUSAL_REASON_KIND_NOT_KEPT_BY_AGENCY"),
    ]
    rows = await ingest_db.fetch(
        "SELECT record_id, grade, category, occurred_on FROM agency_records "
        "WHERE agency = 'disabled_persons_federation' AND record_id LIKE $1 ORDER BY record_id",
        f"dpf-{tag}-%",
    )
    assert [tuple(r) for r in rows] == [
        (f"dpf-{tag}-1", 2, "PHYSICAL", dt.date(2026, 9, 1)),
        (f"dpf-{tag}-4", 3, "VISUAL", dt.date(2026, 9, 4)),
    ]

    # A header onedoor cannot read refuses the whole body, before anything is kept.
    request_id = new_id()
    async with ingest_http.post(
        "/v1/agency-records:batch",
        params={"requestId": request_id},
        data=f"record_id,id_number,kind,colour\ndpf-{tag}-9,{person(409)},DEATH,red\n",
        headers={"Authorization": token, "Content-Type": "text/csv"},
    ) as response:
        assert response.status == 400
        error = (await response.json())["error"]
    assert error["status"] == "INVALID_ARGUMENT"
    assert error["details"][0]["fieldViolations"][0]["field"] == "header"
    assert not await ingest_db.fetchval(
        "SELECT count(*) FROM batches WHERE request_id = $1", request_id
    )


async def test_persons_of_another_jurisdiction_are_refused_per_record(ingest, ingest_db):
    tag = new_id()[:8]
    ours, theirs = person(500), person(501, KUNSHAN)
    report = await push(ingest, [expense(f"mi-{tag}-1", ours), expense(f"mi-{tag}-2", theirs)])
    assert (report.accepted, report.refused) == (1, 1)
    assert refusals(report) == [(2, "id_number", "REFUSAL_REASON_OUTSIDE_JURISDICTION")]
    [reason] = report.refused_by_reason
    assert (reason.reason, reason.count) == (pb.REFUSAL_REASON_OUTSIDE_JURISDICTION, 1)
    assert [
        r["record_id"] for r in await records_of(ingest_db, [f"mi-{tag}-1", f"mi-{tag}-2"])
    ] == [f"mi-{tag}-1"]

    # Kunshan's own agency may push for its persons: the rule is the jurisdiction, not the city.
    kunshan = await push(
        ingest, [expense(f"mi-{tag}-3", theirs)], token=agency_token(jurisdiction=KUNSHAN)
    )
    assert kunshan.accepted == 1


async def test_a_window_clerks_token_is_refused_and_nothing_is_kept(ingest, ingest_http, ingest_db):
    tag = new_id()[:8]
    clerk = f"Bearer {auth.issue('window_clerk', TAICANG)}"
    request_id = new_id()
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await push(ingest, [expense(f"mi-{tag}-1", person(600))], request_id, token=clerk)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    status = rpc_status.from_call(refused.value)
    assert status is not None
    infos = [d for d in status.details if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR)]
    assert infos

    async with ingest_http.post(
        "/v1/agency-records:batch",
        params={"requestId": request_id},
        data=json_format.MessageToJson(expense(f"mi-{tag}-2", person(601)), indent=None),
        headers={"Authorization": clerk, "Content-Type": "application/jsonl"},
    ) as response:
        assert response.status == 403
        assert (await response.json())["error"]["status"] == "PERMISSION_DENIED"

    # Without any token: UNAUTHENTICATED.
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await ingest.PushRecords(chunks(new_id(), [expense(f"mi-{tag}-3", person(602))]))
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED

    assert not await records_of(ingest_db, [f"mi-{tag}-{i}" for i in (1, 2, 3)])
    assert not await ingest_db.fetchval(
        "SELECT count(*) FROM batches WHERE request_id = $1", request_id
    )


async def test_onedoor_push_sends_a_file_and_ends_with_the_report(platform, ingest_db, tmp_path):
    tag = new_id()[:8]
    export = tmp_path / "expenses.csv"
    export.write_text(
        "record_id,id_number,kind,settled_on,total_fen,out_of_pocket_fen\n"
        + "".join(
            f"mi-{tag}-{i},{person(700 + i)},MEDICAL_EXPENSE,2026-08-0{i + 1},50000,20000\n"
            for i in range(3)
        )
        + f"mi-{tag}-9,{person(709)},MEDICAL_EXPENSE,2026-08-09,50000,90000\n",
        encoding="utf-8",
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ONEDOOR_")}
    environment["ONEDOOR_INGEST"] = f"http://127.0.0.1:{platform.ports.ingest_http}"
    environment["ONEDOOR_TOKEN"] = agency_token().removeprefix("Bearer ")

    async def onedoor(*argv: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.cli",
            *argv,
            env=environment,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    request_id = new_id()
    code, out, err = await onedoor("push", str(export), "--request-id", request_id)
    # One line refused: exit 1, and the report says which and why.
    assert code == 1, err
    assert "accepted     3" in out
    assert "refused      1" in out
    assert "medical_expense.out_of_pocket_fen" in out
    assert person(709) not in out + err
    kept = await ingest_db.fetchval(
        "SELECT count(*) FROM agency_records WHERE record_id LIKE $1", f"mi-{tag}-%"
    )
    assert kept == 3

    code, again, _ = await onedoor("push", str(export), "--request-id", request_id, "--json")
    report = json.loads(again)["report"]
    assert (report["requestId"], int(report["accepted"])) == (request_id, 3)

    code, _, err = await onedoor("push", str(export), "--ingest", "http://127.0.0.1:9")
    assert code == 3
    assert "--request-id" in err


async def test_an_agency_token_opens_nothing_at_the_window(platform):
    async with aiohttp.ClientSession(
        f"http://127.0.0.1:{platform.ports.gateway_http}",
        headers={"Authorization": agency_token()},
    ) as window:
        async with window.get("/v1/departments/assistance/cases") as response:
            assert response.status == 403
        async with window.post("/v1/applications:search", json={"idNumber": person(800)}) as r:
            assert r.status == 403
            assert (await r.json())["error"]["status"] == "PERMISSION_DENIED"
