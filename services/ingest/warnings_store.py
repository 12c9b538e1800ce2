"""The warnings table: outcomes of the rules stored under their dedup keys (the database's
unique indexes decide what is new, never a read first), a department's queue keyset-paged,
and an officer's moves from state to state, each guarded by the state it leaves."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import asyncpg
from google.protobuf import json_format

from onedoor.ingest.v1 import warnings_service_pb2 as pb
from services.common import pagination
from services.common.stored_json import stored_json
from services.common.timestamps import to_timestamp
from services.ingest.judging.outcomes import Outcome

_INSERT = """
INSERT INTO warnings (kind, action, department, matter_code, division, reason, dedup_key,
                      dedup_scope, household_file, person_key, caused_by, source_receipt,
                      batch_id, trace_id)
SELECT k, a, d, m, dv, r::jsonb, dk, ds, hf, pk, cb::jsonb, sr, $13::uuid, $14
  FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[],
              $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[])
       AS t(k, a, d, m, dv, r, dk, ds, hf, pk, cb, sr)
ON CONFLICT DO NOTHING
RETURNING warning_id
"""


def _prefix(jurisdiction: str) -> str:
    # services.common.divisions.within, in SQL: a prefecture's 00 and a province's 0000 cover
    # what lies under them.
    prefix = jurisdiction
    while prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def _proto(row: asyncpg.Record) -> pb.Warning:
    found = pb.Warning(
        warning_id=str(row["warning_id"]),
        department=row["department"],
        matter_code=row["matter_code"],
        kind=pb.WarningKind.Value(f"WARNING_KIND_{row['kind'].upper()}"),
        state=pb.WarningState.Value(f"WARNING_STATE_{row['state']}"),
        division=row["division"],
        household_file=row["household_file"],
        person_key=row["person_key"],
        caused_by=[
            pb.RecordRef(agency=c["agency"], record_id=c["recordId"])
            for c in json.loads(row["caused_by"])
        ],
        batch_id=str(row["batch_id"] or ""),
        trace_id=row["trace_id"],
        create_time=to_timestamp(row["created_at"]),
        update_time=to_timestamp(row["updated_at"]),
        handled_by=row["handled_by"],
        dismiss_reason=row["dismiss_reason"],
        receipt=row["receipt"],
        source_receipt=row["source_receipt"],
    )
    json_format.ParseDict(json.loads(row["reason"]), found.reason)
    return found


def _source_receipt(outcome: Outcome, receipts: Mapping[str, str]) -> str:
    """The case whose applicant and members a case opened from the outcome names: the
    household file's latest, else (an outcome about one person, an age milestone) theirs."""
    found = receipts.get(outcome.household_file, "") if outcome.household_file else ""
    if not found and outcome.person:
        found = receipts.get(outcome.person.hex(), "")
    return found


@dataclass(frozen=True)
class Moved:
    """An officer's move: the warning as it is now, and whether this call moved it (a
    repeated call of the same move finds it done and changes nothing)."""

    warning: pb.Warning | None
    moved: bool


class WarningsStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def raise_outcomes(
        self,
        conn: asyncpg.Connection,
        outcomes: Sequence[Outcome],
        batch_id: str | None,
        trace_id: str,
        source_receipts: Mapping[str, str] | None = None,
    ) -> int:
        """Stores the outcomes not already raised (per their dedup scope); returns how many
        are new. ``source_receipts``: latest cases by household file id, or by person key
        (hex) for persons without a file."""
        if not outcomes:
            return 0
        rows = await conn.fetch(
            _INSERT,
            [o.kind.value for o in outcomes],
            [o.action.value for o in outcomes],
            [o.department for o in outcomes],
            [o.matter for o in outcomes],
            [o.division for o in outcomes],
            [stored_json(o.reason.text()) for o in outcomes],
            [o.dedup_key for o in outcomes],
            [o.dedup_scope.value for o in outcomes],
            [o.household_file or "" for o in outcomes],
            [o.person.hex() if o.person else "" for o in outcomes],
            [
                json.dumps([{"agency": c.agency, "recordId": c.record_id} for c in o.caused_by])
                for o in outcomes
            ],
            [_source_receipt(o, source_receipts or {}) for o in outcomes],
            batch_id,
            trace_id,
        )
        return len(rows)

    async def page(
        self,
        department: str,
        jurisdiction: str,
        state: str,
        size: int,
        token: str,
        household_file: str = "",
    ) -> tuple[list[pb.Warning], str]:
        """Newest first; the token is the last row's (created_at, warning_id). A household
        file given: only the warnings about it."""
        after = pagination.decode_time_uuid(token)
        rows = await self.pool.fetch(
            """SELECT * FROM warnings
                WHERE department = $1 AND division LIKE $2 || '%'
                  AND ($3 = '' OR state = $3::warning_state)
                  AND ($4::timestamptz IS NULL OR (created_at, warning_id) < ($4, $5::uuid))
                  AND ($7 = '' OR household_file = $7)
                ORDER BY created_at DESC, warning_id DESC
                LIMIT $6""",
            department,
            _prefix(jurisdiction),
            state,
            after[0] if after else None,
            after[1] if after else None,
            size + 1,
            household_file,
        )
        shown, next_token = pagination.split_page(
            rows, size, lambda r: pagination.encode_time_uuid(r["created_at"], str(r["warning_id"]))
        )
        return [_proto(r) for r in shown], next_token

    async def to_open_at_once(self, limit: int) -> list[pb.Warning]:
        """New warnings of rules that open their case at once (Action.PROACTIVE_CASE), oldest
        first. Those with no case to take the person from stay for an officer, who opens
        the case at the window."""
        rows = await self.pool.fetch(
            """SELECT * FROM warnings
                WHERE action = 'proactive_case' AND state = 'NEW' AND source_receipt <> ''
                  AND opening_refused IS NULL
                ORDER BY created_at, warning_id
                LIMIT $1""",
            limit,
        )
        return [_proto(r) for r in rows]

    async def refuse_opening(self, warning_id: str, why: str) -> None:
        """The bureau cannot open the warning's case itself: left new for an officer."""
        await self.pool.execute(
            "UPDATE warnings SET opening_refused = $2 WHERE warning_id = $1::uuid",
            warning_id,
            why,
        )

    async def get(self, department: str, jurisdiction: str, warning_id: str) -> pb.Warning | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM warnings WHERE warning_id = $1::uuid AND department = $2 "
            "AND division LIKE $3 || '%'",
            warning_id,
            department,
            _prefix(jurisdiction),
        )
        return _proto(row) if row else None

    async def move(
        self,
        department: str,
        jurisdiction: str,
        warning_id: str,
        to: str,
        leaving: Sequence[str],
        officer_id: str,
        dismiss_reason: str = "",
        receipt: str = "",
    ) -> Moved:
        """Moves a warning of the department's to ``to`` if it is in one of ``leaving``."""
        row = await self.pool.fetchrow(
            """UPDATE warnings SET state = $4::warning_state, handled_by = $5,
                      dismiss_reason = CASE WHEN $6 = '' THEN dismiss_reason ELSE $6 END,
                      receipt = CASE WHEN $7 = '' THEN receipt ELSE $7 END,
                      updated_at = now()
                WHERE warning_id = $1::uuid AND department = $2 AND division LIKE $3 || '%'
                  AND state = ANY($8::warning_state[])
                RETURNING *""",
            warning_id,
            department,
            _prefix(jurisdiction),
            to,
            officer_id,
            dismiss_reason,
            receipt,
            list(leaving),
        )
        if row is not None:
            return Moved(_proto(row), True)
        return Moved(await self.get(department, jurisdiction, warning_id), False)
