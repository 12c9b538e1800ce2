"""A department's case store: SQL for the shared officer workflow lives here."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable

import asyncpg
from google.protobuf import json_format

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as pb
from onedoor.events.v1 import events_pb2
from services.common import outbox, pagination, personal_data
from services.common.department.decisions import OPEN_STATES, OUTCOME, state_after
from services.common.department.rules import Opening
from services.common.timestamps import to_timestamp

OpenHook = Callable[[asyncpg.Connection, case_pb2.Case], Awaitable[Opening]]
DecidedHook = Callable[[asyncpg.Connection, case_pb2.Case, int], Awaitable[None]]


def _from_row(row: asyncpg.Record, department: str) -> pb.DepartmentCase:
    found = pb.DepartmentCase(
        receipt=row["receipt"],
        department=department,
        matter_code=row["matter_code"],
        matter_version=row["matter_version"],
        state=pb.CaseState.Value(row["state"]),
        decision_reason=row["decision_reason"],
        hukou_division=row["hukou_division"],
        accepting_division=row["accepting_division"],
        create_time=to_timestamp(row["created_at"]),
        update_time=to_timestamp(row["updated_at"]),
        decision_deadline=to_timestamp(row["decision_deadline"]),
        household_file=row["household_file"],
    )
    json_format.ParseDict(json.loads(row["assessment"]), found.assessment)
    return found


def application_of(row: asyncpg.Record) -> case_pb2.Case:
    return personal_data.unseal_case(
        json_format.ParseDict(json.loads(row["application"]), case_pb2.Case())
    )


async def _lock(conn: asyncpg.Connection, receipt: str) -> None:
    # Serialises work on one receipt (a redelivered event racing the first) inside a
    # transaction, even before the case's row exists.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", receipt)


class DepartmentCases:
    def __init__(self, pool: asyncpg.Pool, department: str) -> None:
        self.pool = pool
        self.department = department

    async def get(self, receipt: str) -> pb.DepartmentCase | None:
        row = await self.pool.fetchrow("SELECT * FROM department_cases WHERE receipt = $1", receipt)
        return _from_row(row, self.department) if row else None

    async def open(self, case: case_pb2.Case, assess: OpenHook) -> tuple[pb.DepartmentCase, bool]:
        """Opens the case once, assessing it with the department's rules; a second call returns
        the first."""
        async with self.pool.acquire() as conn, conn.transaction():
            await _lock(conn, case.receipt)
            row = await conn.fetchrow(
                "SELECT * FROM department_cases WHERE receipt = $1", case.receipt
            )
            if row is not None:
                return _from_row(row, self.department), False
            opening = await assess(conn, case)
            row = await conn.fetchrow(
                """INSERT INTO department_cases (receipt, matter_code, matter_version, state,
                       hukou_division, accepting_division, decision_deadline, application,
                       assessment, household_file)
                   VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10)
                   RETURNING *""",
                case.receipt,
                case.matter_code,
                case.matter_version,
                pb.CaseState.Name(pb.CASE_STATE_OPEN),
                case.applicant.hukou_division,
                case.accepting_division,
                case.decision_deadline.ToDatetime(dt.UTC),
                json_format.MessageToJson(personal_data.seal_case(case)),
                json_format.MessageToJson(opening.assessment),
                opening.household_file,
            )
            return _from_row(row, self.department), True

    async def list(
        self, states: list[str], size: int, token: str
    ) -> tuple[list[pb.DepartmentCase], str]:
        """Oldest first, keyset-paginated on (created_at, receipt)."""
        after = pagination.decode_time_key(token)
        rows = await self.pool.fetch(
            """SELECT * FROM department_cases
                WHERE state = ANY($1::text[])
                  AND ($2::timestamptz IS NULL OR (created_at, receipt) > ($2, $3))
                ORDER BY created_at, receipt
                LIMIT $4""",
            states,
            after[0] if after else None,
            after[1] if after else "",
            size + 1,
        )
        page, token = pagination.split_page(
            rows, size, lambda r: pagination.encode_time_key(r["created_at"], r["receipt"])
        )
        return [_from_row(r, self.department) for r in page], token

    async def decide(
        self,
        request_id: str,
        receipt: str,
        decision: pb.Decision.ValueType,
        reason: str,
        officer_id: str,
        decided: DecidedHook,
    ) -> pb.DepartmentCase | None:
        """Records an officer's decision, what it does to the department's records, and its
        case_decided event in one transaction. A request id seen before changes nothing."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM department_cases WHERE receipt = $1 FOR UPDATE", receipt
            )
            if row is None:
                return None
            if await conn.fetchval("SELECT 1 FROM decisions WHERE request_id = $1", request_id):
                return _from_row(row, self.department)
            new_state = state_after(pb.CaseState.Value(row["state"]), decision)
            await conn.execute(
                """INSERT INTO decisions (request_id, receipt, decision, reason, officer_id)
                   VALUES ($1, $2, $3, $4, $5)""",
                request_id,
                receipt,
                pb.Decision.Name(decision),
                reason,
                officer_id,
            )
            await decided(conn, application_of(row), decision)
            return await self.move(conn, receipt, new_state, reason, OUTCOME[decision])

    async def move(
        self,
        conn: asyncpg.Connection,
        receipt: str,
        state: pb.CaseState.ValueType,
        reason: str,
        outcome: events_pb2.Outcome.ValueType,
    ) -> pb.DepartmentCase:
        """Moves a case to ``state`` and tells the platform (case_decided with ``outcome``), in
        the caller's transaction."""
        updated = await conn.fetchrow(
            """UPDATE department_cases SET state = $2, decision_reason = $3, updated_at = now()
                WHERE receipt = $1 RETURNING *""",
            receipt,
            pb.CaseState.Name(state),
            reason,
        )
        await outbox.add(
            conn,
            self.department,
            events_pb2.CaseDecided(
                receipt=receipt, department=self.department, outcome=outcome, reason=reason
            ),
        )
        return _from_row(updated, self.department)

    async def resume(self, receipt: str) -> pb.DepartmentCase | None:
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                """UPDATE department_cases SET state = $2, updated_at = now()
                    WHERE receipt = $1 AND state = $3 RETURNING *""",
                receipt,
                pb.CaseState.Name(pb.CASE_STATE_OPEN),
                pb.CaseState.Name(pb.CASE_STATE_AWAITING_MATERIALS),
            )
            if row is None:
                row = await conn.fetchrow(
                    "SELECT * FROM department_cases WHERE receipt = $1", receipt
                )
            return _from_row(row, self.department) if row else None

    async def settle_death(
        self,
        receipt: str,
        person_key: str,
        settle: Callable[[asyncpg.Connection], Awaitable[tuple[bool, str]]],
    ) -> tuple[bool, str]:
        """Settles once per death registration; a repeated call returns the first outcome."""
        async with self.pool.acquire() as conn, conn.transaction():
            await _lock(conn, receipt)
            row = await conn.fetchrow(
                "SELECT held_something, outcome FROM death_settlements WHERE receipt = $1", receipt
            )
            if row is not None:
                return row["held_something"], row["outcome"]
            held, outcome = await settle(conn)
            await conn.execute(
                """INSERT INTO death_settlements (receipt, person_key, held_something, outcome)
                   VALUES ($1, $2, $3, $4)""",
                receipt,
                person_key,
                held,
                outcome,
            )
            return held, outcome


OPEN_STATE_NAMES = [pb.CaseState.Name(s) for s in sorted(OPEN_STATES)]
