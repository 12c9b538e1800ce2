"""The seed's year of medical expenses pushed to the ingest service: 246,000 generated records
(valid identity numbers of Taicang, 320585) through ``PushRecords`` (gRPC, chunks of 1,000)
and the same rows as CSV through ``POST /v1/agency-records:batch``, against a baseline in the
same run: PostgreSQL's COPY of the same CSV into a plain table (no checks, no hashing, no
uniqueness). Also: the same year pushed again (every record a duplicate), and the ingest
process's peak resident memory after a small warm-up batch and after each year, which stays
flat if the service streams.

The records fall on people the platform knows, as a year's would: every 50th record's person
is a member of one of the dibao households opened and approved at assistance before the
clock starts (two members each), so the push's judging (inline: the report comes when every
warning it raises is in its department's queue) matches and judges for real. The phase
reports the warnings queued and the time until the last was in its queue.

``python -m bench.ingest`` (``make bench-ingest``) runs this alone, on a platform of the ingest
service and the services its judging asks; ``make bench`` runs it as its last phase. ``--records N`` for a shorter try.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import grpc

from bench.resources import peak_rss_mib
from bench.stack import Cleanup
from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.department.v1 import department_service_pb2_grpc
from onedoor.ingest.v1 import ingest_service_pb2 as pb
from onedoor.ingest.v1 import ingest_service_pb2_grpc
from services.common import auth, identity, receipt
from services.common.config import DEFAULT_POSTGRES
from services.launcher import settings as launcher_settings
from services.launcher.platform import ROOT, Platform, Ports, drop_databases

YEAR = 246_000
WARM_UP = 10_000
CHUNK = 1_000
TARGET_SECONDS = 120.0
BASELINE_DATABASE = "onedoor_bench_ingest_baseline"
PREFIX = "onedoor_bench_ingest"
HEADER = "record_id,id_number,kind,settled_on,total_fen,out_of_pocket_fen\n"
FIRST_BIRTH = dt.date(1935, 1, 1)


# Every KNOWN_EVERY-th record's person is a member of a known dibao household.
KNOWN_EVERY = 50
# The services the judging asks (departments that know persons; intake keeps the audit).
JUDGING = ("intake", "assistance", "elderly")


def say(line: str) -> None:
    print(line, flush=True)


BIRTH_DAYS = 30_000


def _number(n: int) -> str:
    # Births spread over 82 years from 1935, a few people a day: every number distinct.
    born = FIRST_BIRTH + dt.timedelta(days=n % BIRTH_DAYS)
    return identity.compose("320585", born, n // BIRTH_DAYS + 1)


def _fields(n: int) -> tuple[str, int, int]:
    settled = dt.date(2025, 12, 1) + dt.timedelta(days=n % 365)
    total = 5_000 + (n * 7919) % 2_000_000
    return settled.isoformat(), total, total * ((n % 60) + 10) // 100


def records(tag: str, count: int) -> Iterator[pb.AgencyRecord]:
    for n in range(count):
        settled, total, paid = _fields(n)
        yield pb.AgencyRecord(
            record_id=f"{tag}-{n:07d}",
            id_number=_number(n),
            medical_expense=pb.MedicalExpense(
                settled_on=settled, total_fen=total, out_of_pocket_fen=paid
            ),
        )


def write_csv(path: Path, tag: str, count: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write(HEADER)
        for n in range(count):
            settled, total, paid = _fields(n)
            out.write(f"{tag}-{n:07d},{_number(n)},MEDICAL_EXPENSE,{settled},{total},{paid}\n")


def chunks(tag: str, count: int) -> list[pb.PushRecordsRequest]:
    """The batch's chunks, made before the clock starts: the figure is the service's, not
    the generator's (the request id is set on the first when pushed)."""
    made: list[pb.PushRecordsRequest] = []
    chunk: list[pb.AgencyRecord] = []
    for record in records(tag, count):
        chunk.append(record)
        if len(chunk) == CHUNK:
            made.append(pb.PushRecordsRequest(records=chunk))
            chunk = []
    if chunk or not made:
        made.append(pb.PushRecordsRequest(records=chunk))
    return made


async def _stream(made: list[pb.PushRecordsRequest]) -> AsyncIterator[pb.PushRecordsRequest]:
    first = pb.PushRecordsRequest(request_id=str(uuid.uuid4()))
    first.MergeFrom(made[0])
    yield first
    for chunk in made[1:]:
        yield chunk


class IngestRun:
    """A platform of the ingest service and those its judging asks (intake, assistance,
    elderly care), on free ports, their databases their own."""

    def __init__(self, log_dir: Path, tracing_endpoint: str | None = None) -> None:
        env = (
            {
                "OTEL_TRACES_EXPORTER": "otlp",
                "OTEL_EXPORTER_OTLP_ENDPOINT": tracing_endpoint,
                "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            }
            if tracing_endpoint
            else {"OTEL_TRACES_EXPORTER": "none"}
        )
        self.platform = Platform(
            log_dir=log_dir / "ingest", ports=Ports.free(), database_prefix=PREFIX, extra_env=env
        )

    def start(self, cleanup: Cleanup) -> None:
        drop_databases(PREFIX)
        cleanup.push(f"drop {PREFIX}_* databases", lambda: drop_databases(PREFIX))
        cleanup.push("stop the ingest service", self.platform.stop)
        for name in (*JUDGING, "ingest"):
            self.platform.start(name)
        self.platform.wait_healthy(timeout=90, names=(*JUDGING, "ingest"))

    def peak_rss(self) -> float | None:
        return peak_rss_mib(self.platform.processes["ingest"].pid)


def known_households(count: int) -> list[tuple[int, int]]:
    """The households the platform knows: pairs of the record numbers whose persons are its
    two members (every KNOWN_EVERY-th record, paired in order)."""
    known = list(range(0, count, KNOWN_EVERY))
    return list(zip(known[0::2], known[1::2], strict=False))


def _dibao(pair: tuple[int, int], n: int) -> case_pb2.Case:
    first, second = (_number(p) for p in pair)
    return case_pb2.Case(
        receipt=receipt.receipt_for("320585", f"bench-household-{n}"),
        matter_code="assistance.dibao",
        matter_version=1,
        applicant=case_pb2.Applicant(
            name="基准户主", id_number=first, phone="13900000000", hukou_division="320585"
        ),
        household_members=[
            # Low incomes: the year's spending is judged against a small annual income.
            case_pb2.HouseholdMember(
                name="基准户主", id_number=first, relation="本人", monthly_income_fen=60_000
            ),
            case_pb2.HouseholdMember(
                name="基准成员", id_number=second, relation="配偶", monthly_income_fen=20_000
            ),
        ],
        accepting_division="320585",
        departments=["assistance"],
    )


async def seed_households(run: IngestRun, count: int) -> int:
    """Opens and approves the known households' dibao cases at assistance, ten at a time;
    returns how many."""
    pairs = known_households(count)
    metadata = auth.service_metadata()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{run.platform.ports.assistance}") as channel:
        stub = department_service_pb2_grpc.DepartmentServiceStub(channel)

        async def one(n: int, pair: tuple[int, int]) -> None:
            opened = await stub.OpenCase(
                dpb.OpenCaseRequest(case=_dibao(pair, n)), metadata=metadata, timeout=60
            )
            await stub.DecideCase(
                dpb.DecideCaseRequest(
                    request_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-decide-{n}")),
                    receipt=opened.case.receipt,
                    decision=dpb.DECISION_APPROVE,
                    officer_id="bench",
                ),
                metadata=metadata,
                timeout=60,
            )

        for start in range(0, len(pairs), 10):
            await asyncio.gather(
                *(one(start + i, p) for i, p in enumerate(pairs[start : start + 10]))
            )
    return len(pairs)


async def _queued(run: IngestRun) -> tuple[int, int]:
    """(warnings in the queues, records not yet judged) in the ingest database."""
    conn = await asyncpg.connect(run.platform.database_url("ingest"))
    try:
        warnings = await conn.fetchval("SELECT count(*) FROM warnings")
        unjudged = await conn.fetchval(
            "SELECT count(*) FROM agency_records WHERE judged_at IS NULL"
        )
        return int(warnings), int(unjudged)
    finally:
        await conn.close()


def _token() -> str:
    return f"Bearer {auth.issue('agency', '320585', agency='medical_insurance')}"


async def _push_grpc(
    run: IngestRun, made: list[pb.PushRecordsRequest]
) -> tuple[float, pb.BatchReport]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{run.platform.ports.ingest}") as channel:
        stub = ingest_service_pb2_grpc.IngestServiceStub(channel)
        started = time.monotonic()
        response = await stub.PushRecords(
            _stream(made),
            metadata=(("authorization", _token()),),
            timeout=900,
        )
        return time.monotonic() - started, response.report


def _push_csv(run: IngestRun, path: Path) -> tuple[float, dict[str, Any]]:
    url = (
        f"http://127.0.0.1:{run.platform.ports.ingest_http}/v1/agency-records:batch"
        f"?requestId={uuid.uuid4()}"
    )

    def pieces() -> Iterator[bytes]:
        with path.open("rb") as handle:
            while piece := handle.read(64 * 1024):
                yield piece

    request = urllib.request.Request(
        url,
        data=pieces(),
        method="POST",
        headers={
            "Authorization": _token(),
            "Content-Type": "text/csv",
            "Content-Length": str(path.stat().st_size),
        },
    )
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=900) as response:
        body = json.loads(response.read())
    return time.monotonic() - started, body["report"]


async def _baseline_copy(path: Path) -> float:
    admin = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{BASELINE_DATABASE}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{BASELINE_DATABASE}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(f"{DEFAULT_POSTGRES}/{BASELINE_DATABASE}")
    try:
        await conn.execute(
            "CREATE TABLE records (record_id text, id_number text, kind text, settled_on date, "
            "total_fen bigint, out_of_pocket_fen bigint)"
        )
        started = time.monotonic()
        with path.open("rb") as handle:
            await conn.copy_to_table("records", source=handle, format="csv", header=True)
        return time.monotonic() - started
    finally:
        await conn.close()
        admin = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{BASELINE_DATABASE}" WITH (FORCE)')
        await admin.close()


def _rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def measure(
    cleanup: Cleanup, log_dir: Path, count: int, tracing_endpoint: str | None
) -> dict[str, Any]:
    """Runs the phase; returns its figures (records/s, seconds, MiB)."""
    run = IngestRun(log_dir, tracing_endpoint)
    say(
        "==> ingest: starting intake, assistance, elderly care and the ingest service "
        f"(logs in {run.platform.log_dir})"
    )
    run.start(cleanup)
    csv_path = log_dir / "ingest-year.csv"
    log_dir.mkdir(parents=True, exist_ok=True)
    say(f"    writing {count:,} medical-expense records as CSV")
    write_csv(csv_path, "csv", count)
    results: dict[str, Any] = {"records": count, "rss_mib": {}}

    say(f"    opening and approving the known dibao households (every {KNOWN_EVERY}th person)")
    households = asyncio.run(seed_households(run, count))
    say(f"      {households:,} households of two")

    say(f"    warm-up: {WARM_UP:,} records over gRPC")
    asyncio.run(_push_grpc(run, chunks("warm", WARM_UP)))
    results["rss_mib"]["after warm-up"] = run.peak_rss()

    say(f"    the year over gRPC PushRecords: {count:,} records")
    year = chunks("year", count)
    before, _ = asyncio.run(_queued(run))
    seconds, report = asyncio.run(_push_grpc(run, year))
    assert report.accepted == count, f"accepted {report.accepted} of {count}"
    results["grpc"] = {"seconds": round(seconds, 2), "rate": _rate(count, seconds)}
    results["rss_mib"]["after the gRPC year"] = run.peak_rss()
    # The push answers once its judging is done: every warning is queued by then, unless the
    # judging was deferred (a department unreachable), which leaves records unjudged.
    queued, unjudged = asyncio.run(_queued(run))
    results["warnings"] = {
        "households": households,
        "queued": queued - before,
        "unjudged": unjudged,
        "seconds": round(seconds, 2),
    }
    say(f"      {seconds:.1f} s, {_rate(count, seconds):,.0f} records/s")
    say(f"      {queued - before:,} warnings queued by then, {unjudged:,} records left unjudged")

    say("    the same year again over gRPC (every record a duplicate)")
    seconds, report = asyncio.run(_push_grpc(run, year))
    del year
    assert (report.accepted, report.duplicates) == (0, count), str(report)
    results["grpc_again"] = {"seconds": round(seconds, 2), "rate": _rate(count, seconds)}
    say(f"      {seconds:.1f} s, {_rate(count, seconds):,.0f} records/s")

    say(f"    the year as CSV over HTTP: {csv_path.stat().st_size / 2**20:.1f} MiB")
    seconds, body = _push_csv(run, csv_path)
    assert int(body["accepted"]) == count, f"accepted {body['accepted']} of {count}"
    results["csv"] = {"seconds": round(seconds, 2), "rate": _rate(count, seconds)}
    results["rss_mib"]["after the CSV year"] = run.peak_rss()
    say(f"      {seconds:.1f} s, {_rate(count, seconds):,.0f} records/s")
    run.platform.stop()

    say("    baseline: COPY of the same CSV into a plain table")
    seconds = asyncio.run(_baseline_copy(csv_path))
    results["baseline_copy"] = {"seconds": round(seconds, 2), "rate": _rate(count, seconds)}
    say(f"      {seconds:.1f} s, {_rate(count, seconds):,.0f} records/s")
    csv_path.unlink()
    return results


def rows(results: dict[str, Any]) -> list[str]:
    measured = results.get("ingest")
    if not measured:
        return []
    base = measured["baseline_copy"]["rate"]
    lines = [
        f"INGEST: {measured['records']:,} medical-expense records (the seed's year), one batch each",
        f"  {'how':<44} {'seconds':>8} {'records/s':>10} {'x COPY':>7}",
    ]
    for key, name in (
        ("baseline_copy", "baseline: COPY into a plain table"),
        ("grpc", "PushRecords (gRPC), new records"),
        ("grpc_again", "PushRecords again (every one a duplicate)"),
        ("csv", "CSV over HTTP, new records"),
    ):
        figure = measured[key]
        ratio = figure["rate"] / base if base else 0.0
        lines.append(
            f"  {name:<44} {figure['seconds']:>8.1f} {figure['rate']:>10,.0f} {ratio:>7.2f}"
        )
    if warnings := measured.get("warnings"):
        lines.append(
            f"  {warnings['queued']:,} warnings about {warnings['households']:,} known households "
            f"queued {warnings['seconds']:.1f} s after the gRPC year's push began "
            f"({warnings['unjudged']:,} records left unjudged)"
        )
    lines.append(
        "  ingest peak RSS: "
        + ", ".join(f"{k} {v:.0f} MiB" for k, v in measured["rss_mib"].items() if v is not None)
    )
    return lines


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    measured = results.get("ingest")
    if not measured:
        return []
    n = measured["records"]
    found = []
    for key, how in (("grpc", "PushRecords"), ("csv", "CSV over HTTP")):
        seconds = measured[key]["seconds"] * YEAR / n
        found.append(
            {
                "target": f"the year's {YEAR:,} medical expenses through {how} in under 2 minutes",
                "value": seconds,
                "met": seconds < TARGET_SECONDS,
                "shown": f"{seconds:.1f} s" + ("" if n == YEAR else f" (scaled from {n:,})"),
            }
        )
    if warnings := measured.get("warnings"):
        seconds = warnings["seconds"] * YEAR / n
        found.append(
            {
                "target": "every warning of the year in its queue within 2 minutes of the push",
                "value": seconds,
                "met": warnings["unjudged"] == 0
                and warnings["queued"] > 0
                and seconds < TARGET_SECONDS,
                "shown": f"{warnings['queued']:,} warnings, {seconds:.1f} s"
                + ("" if n == YEAR else f" (scaled from {n:,})"),
            }
        )
    again, first = measured["grpc_again"]["seconds"], measured["grpc"]["seconds"]
    found.append(
        {
            "target": "re-pushing the year adds nothing and takes less than the first push",
            "value": again,
            "met": again < first,
            "shown": f"{again:.1f} s against {first:.1f} s",
        }
    )
    rss = measured["rss_mib"]
    warm, peak = rss.get("after warm-up"), max(v for v in rss.values() if v is not None)
    found.append(
        {
            "target": "ingest memory does not grow with the batch (peak within 1.5 x the warm-up's)",
            "value": peak,
            "met": None if not warm else peak <= 1.5 * warm,
            "shown": f"{peak:.0f} MiB after the years, {warm or 0:.0f} MiB after {WARM_UP:,}",
        }
    )
    return found


def main() -> int:
    launcher_settings.from_env().keys.configure()
    parser = argparse.ArgumentParser(description="Benchmark the ingest service and its judging.")
    parser.add_argument("--records", type=int, default=YEAR, help=f"default {YEAR:,}")
    args = parser.parse_args()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = ROOT / "bench" / "results" / "logs" / f"ingest-{stamp}"
    cleanup = Cleanup()
    try:
        results = {"ingest": measure(cleanup, log_dir, args.records, None)}
    finally:
        cleanup.run()
    out = ROOT / "bench" / "results" / "ingest-latest.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    print()
    print("\n".join(rows(results)))
    print("TARGETS")
    for t in targets(results):
        mark = {True: "met   ", False: "MISSED", None: "n/a   "}[t["met"]]
        print(f"  [{mark}] {t['target']}: {t['shown']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
