"""The case ledger's storage. SQL lives here and nowhere else in intake."""

from __future__ import annotations

import datetime as dt
import json

import asyncpg
from google.protobuf import json_format

from onedoor.intake.v1 import case_pb2
from services.common import outbox
from services.common.timestamps import to_timestamp
from services.intake.status import status_after

SERVICE = "intake"
CASE_ACCEPTED = "case_accepted"


def _case_from_row(row: asyncpg.Record, timeline: list[asyncpg.Record]) -> case_pb2.Case:
    case = case_pb2.Case(
        name=f"cases/{row['receipt']}",
        receipt=row["receipt"],
        request_id=row["request_id"],
        matter_code=row["matter_code"],
        matter_version=row["matter_version"],
        status=case_pb2.CaseStatus.Value(row["status"]),
        materials=row["materials"],
        departments=row["departments"],
        accepting_division=row["accepting_division"],
        create_time=to_timestamp(row["created_at"]),
        decision_deadline=to_timestamp(row["decision_deadline"]),
        trace_id=row["trace_id"],
    )
    json_format.ParseDict(json.loads(row["applicant"]), case.applicant)
    for member in json.loads(row["household_members"]):
        json_format.ParseDict(member, case.household_members.add())
    for entry in timeline:
        case.timeline.add(
            kind=case_pb2.TimelineEntryKind.Value(entry["kind"]),
            department=entry["department"],
            note=entry["note"],
            create_time=to_timestamp(entry["created_at"]),
            trace_id=entry["trace_id"],
        )
    return case


async def _load(conn: asyncpg.Connection, receipt: str) -> case_pb2.Case | None:
    row = await conn.fetchrow("SELECT * FROM cases WHERE receipt = $1", receipt)
    if row is None:
        return None
    timeline = await conn.fetch(
        "SELECT kind, department, note, trace_id, created_at FROM timeline"
        " WHERE receipt = $1 ORDER BY id",
        receipt,
    )
    return _case_from_row(row, timeline)


class CaseLedger:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def get(self, receipt: str) -> case_pb2.Case | None:
        async with self.pool.acquire() as conn:
            return await _load(conn, receipt)

    async def create(self, case: case_pb2.Case) -> tuple[case_pb2.Case, bool]:
        """Stores a fully assigned case with its ``accepted`` entry and its ``case_accepted``
        event in one transaction. A request id seen before returns the stored case."""
        async with self.pool.acquire() as conn, conn.transaction():
            inserted = await conn.fetchval(
                """INSERT INTO cases (receipt, request_id, matter_code, matter_version, status,
                       accepting_division, hukou_division, departments, applicant,
                       household_members, materials, trace_id, created_at, decision_deadline)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11, $12, $13, $14)
                   ON CONFLICT (request_id) DO NOTHING
                   RETURNING receipt""",
                case.receipt,
                case.request_id,
                case.matter_code,
                case.matter_version,
                case_pb2.CaseStatus.Name(case.status),
                case.accepting_division,
                case.applicant.hukou_division,
                list(case.departments),
                json_format.MessageToJson(case.applicant),
                json.dumps([json_format.MessageToDict(m) for m in case.household_members]),
                list(case.materials),
                case.trace_id,
                case.create_time.ToDatetime(dt.UTC),
                case.decision_deadline.ToDatetime(dt.UTC),
            )
            if inserted is None:
                receipt = await conn.fetchval(
                    "SELECT receipt FROM cases WHERE request_id = $1", case.request_id
                )
                existing = await _load(conn, receipt)
                assert existing is not None
                return existing, False
            await conn.execute(
                """INSERT INTO timeline (receipt, entry_key, kind, note, trace_id, created_at)
                   VALUES ($1, $2, $3, $4, $5, $6)""",
                case.receipt,
                f"{case.receipt}:accepted",
                case_pb2.TimelineEntryKind.Name(case_pb2.TIMELINE_ENTRY_KIND_ACCEPTED),
                "accepted at the window",
                case.trace_id,
                case.create_time.ToDatetime(dt.UTC),
            )
            await outbox.add(
                conn,
                SERVICE,
                CASE_ACCEPTED,
                {
                    "receipt": case.receipt,
                    "matter_code": case.matter_code,
                    "matter_version": case.matter_version,
                    "departments": list(case.departments),
                    "accepting_division": case.accepting_division,
                    "hukou_division": case.applicant.hukou_division,
                },
            )
            stored = await _load(conn, case.receipt)
            assert stored is not None
            return stored, True

    async def append(
        self, receipt: str, entry_key: str, entry: case_pb2.TimelineEntry
    ) -> tuple[case_pb2.Case | None, bool]:
        """Appends an entry unless its key is taken, and moves the status; returns the case
        (None if there is no such case) and whether anything was appended."""
        async with self.pool.acquire() as conn, conn.transaction():
            current = await conn.fetchval(
                "SELECT status FROM cases WHERE receipt = $1 FOR UPDATE", receipt
            )
            if current is None:
                return None, False
            appended = await conn.fetchval(
                """INSERT INTO timeline (receipt, entry_key, kind, department, note, trace_id)
                   VALUES ($1, $2, $3, $4, $5, $6)
                   ON CONFLICT (entry_key) DO NOTHING
                   RETURNING id""",
                receipt,
                entry_key,
                case_pb2.TimelineEntryKind.Name(entry.kind),
                entry.department,
                entry.note,
                entry.trace_id,
            )
            if appended is not None:
                new_status = status_after(case_pb2.CaseStatus.Value(current), entry.kind)
                await conn.execute(
                    "UPDATE cases SET status = $2 WHERE receipt = $1",
                    receipt,
                    case_pb2.CaseStatus.Name(new_status),
                )
            return await _load(conn, receipt), appended is not None
