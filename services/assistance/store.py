"""Social assistance's storage. SQL lives here and nowhere else in the service."""

from __future__ import annotations

import dataclasses
import json

import asyncpg
from google.protobuf import json_format

from onedoor.assistance.v1 import assistance_service_pb2 as pb
from onedoor.intake.v1 import case_pb2
from services.assistance.decisions import state_after
from services.assistance.dibao import Assessment
from services.common import outbox
from services.common.timestamps import to_timestamp

SERVICE = "assistance"
CASE_DECIDED = "case_decided"


def _from_row(row: asyncpg.Record) -> pb.AssistanceCase:
    assessment = json.loads(row["assessment"])
    return pb.AssistanceCase(
        receipt=row["receipt"],
        matter_code=row["matter_code"],
        state=pb.AssistanceCaseState.Value(row["state"]),
        hukou_division=row["hukou_division"],
        household_size=row["household_size"],
        assessment=pb.Assessment(**assessment),
        decision_reason=row["decision_reason"],
        create_time=to_timestamp(row["created_at"]),
        update_time=to_timestamp(row["updated_at"]),
    )


class AssistanceCases:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def get(self, receipt: str) -> pb.AssistanceCase | None:
        row = await self.pool.fetchrow("SELECT * FROM assistance_cases WHERE receipt = $1", receipt)
        return _from_row(row) if row else None

    async def open(
        self, case: case_pb2.Case, assessment: Assessment
    ) -> tuple[pb.AssistanceCase, bool]:
        """Opens the department case once; a second call returns the first."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                """INSERT INTO assistance_cases (receipt, matter_code, state, hukou_division,
                       household_size, household, assessment)
                   VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7::jsonb)
                   ON CONFLICT (receipt) DO NOTHING
                   RETURNING *""",
                case.receipt,
                case.matter_code,
                pb.AssistanceCaseState.Name(pb.ASSISTANCE_CASE_STATE_OPEN),
                case.applicant.hukou_division,
                len(case.household_members),
                json.dumps([json_format.MessageToDict(m) for m in case.household_members]),
                json.dumps(dataclasses.asdict(assessment)),
            )
            if row is not None:
                return _from_row(row), True
            existing = await conn.fetchrow(
                "SELECT * FROM assistance_cases WHERE receipt = $1", case.receipt
            )
            return _from_row(existing), False

    async def decide(
        self,
        request_id: str,
        receipt: str,
        decision: pb.Decision.ValueType,
        reason: str,
        officer_id: str,
    ) -> pb.AssistanceCase | None:
        """Records an officer's decision and its ``case_decided`` event in one transaction.
        A request id seen before changes nothing and returns the case as it stands."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM assistance_cases WHERE receipt = $1 FOR UPDATE", receipt
            )
            if row is None:
                return None
            seen = await conn.fetchval("SELECT 1 FROM decisions WHERE request_id = $1", request_id)
            if seen:
                return _from_row(row)
            new_state = state_after(pb.AssistanceCaseState.Value(row["state"]), decision)
            await conn.execute(
                """INSERT INTO decisions (request_id, receipt, decision, reason, officer_id)
                   VALUES ($1, $2, $3, $4, $5)""",
                request_id,
                receipt,
                pb.Decision.Name(decision),
                reason,
                officer_id,
            )
            updated = await conn.fetchrow(
                """UPDATE assistance_cases SET state = $2, decision_reason = $3, updated_at = now()
                    WHERE receipt = $1 RETURNING *""",
                receipt,
                pb.AssistanceCaseState.Name(new_state),
                reason,
            )
            await outbox.add(
                conn,
                SERVICE,
                CASE_DECIDED,
                {
                    "receipt": receipt,
                    "department": SERVICE,
                    "decision": pb.Decision.Name(decision),
                    "reason": reason,
                },
            )
            return _from_row(updated)
