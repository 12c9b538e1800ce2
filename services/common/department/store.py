"""A department's case store: SQL for the shared officer workflow lives here."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
from collections.abc import AsyncIterator, Sequence

import asyncpg
from google.protobuf import json_format

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as pb
from onedoor.events.v1 import events_pb2
from services.common import metric_catalog, outbox, pagination, personal_data
from services.common.department.decisions import OPEN_STATES
from services.common.department.rules import Opening, StoredCase
from services.common.stored_json import stored_json
from services.common.timestamps import to_timestamp

log = logging.getLogger(__name__)

_DECISIONS = metric_catalog.counter(metric_catalog.DECISIONS)


def outcome_label(outcome: events_pb2.Outcome.ValueType) -> str:
    """OUTCOME_MATERIALS_REQUESTED is "materials_requested"."""
    return events_pb2.Outcome.Name(outcome).removeprefix("OUTCOME_").lower()


def _from_row(
    row: asyncpg.Record, department: str, assessment: pb.Assessment | None = None
) -> pb.DepartmentCase:
    """The case as a row holds it; ``assessment``, when the caller has it in hand (it has just
    written it), instead of parsing the row's JSON back."""
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
    if assessment is not None:
        found.assessment.CopyFrom(assessment)
    else:
        json_format.ParseDict(json.loads(row["assessment"]), found.assessment)
    if row["decision_message"] is not None:
        json_format.Parse(row["decision_message"], found.decision_message)
    return found


def _application_of(row: asyncpg.Record) -> case_pb2.Case:
    return personal_data.unseal_case(
        json_format.ParseDict(json.loads(row["application"]), case_pb2.Case())
    )


# Work on one receipt is serialised by this transaction-scoped lock, wherever it is taken.
_RECEIPT_LOCK = "pg_advisory_xact_lock(hashtext($1))"


class OpenedMeanwhile(Exception):
    """The case was opened by another transaction after this one looked for it."""


class DepartmentCases:
    """The department_cases, decisions and death_settlements tables. The servicer opens a
    transaction here, applies the department's rules on its connection, and writes the result
    back through these methods: the store never calls the department."""

    def __init__(self, pool: asyncpg.Pool, department: str) -> None:
        self.pool = pool
        self.department = department

    @contextlib.asynccontextmanager
    async def connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection outside any transaction, for reading (the window's checks)."""
        async with self.pool.acquire() as conn:
            yield conn

    @contextlib.asynccontextmanager
    async def transaction(self, receipt: str = "") -> AsyncIterator[asyncpg.Connection]:
        """A transaction; with a receipt, work on that receipt is serialised (a redelivered
        event racing the first) even before the case's row exists."""
        async with self.pool.acquire() as conn, conn.transaction():
            if receipt:
                await conn.execute(f"SELECT {_RECEIPT_LOCK}", receipt)
            yield conn

    async def get(self, receipt: str) -> pb.DepartmentCase | None:
        row = await self.pool.fetchrow("SELECT * FROM department_cases WHERE receipt = $1", receipt)
        return _from_row(row, self.department) if row else None

    async def find(
        self, conn: asyncpg.Connection, receipt: str, *, for_update: bool = False
    ) -> StoredCase | None:
        row = await conn.fetchrow(
            "SELECT * FROM department_cases WHERE receipt = $1"
            + (" FOR UPDATE" if for_update else ""),
            receipt,
        )
        if row is None:
            return None
        return StoredCase(_from_row(row, self.department), _application_of(row))

    async def locked(self, conn: asyncpg.Connection, receipt: str) -> StoredCase | None:
        """Takes the receipt's transaction lock (as ``transaction(receipt)`` does) and reads
        its case, in one statement. The read sees what was committed when the statement
        began, before the lock was granted: a case another transaction committed while this
        one waited is not seen, and inserting it again fails on the primary key instead."""
        row = await conn.fetchrow(
            f"""SELECT d.* FROM (SELECT {_RECEIPT_LOCK}) AS lock
                  LEFT JOIN department_cases d ON d.receipt = $1""",
            receipt,
        )
        # One row always (the lock's); no case, and the case's columns are NULL.
        if row["receipt"] is None:
            return None
        return StoredCase(_from_row(row, self.department), _application_of(row))

    async def insert(
        self, conn: asyncpg.Connection, case: case_pb2.Case, opening: Opening
    ) -> pb.DepartmentCase:
        """Stores a newly opened case with the department's assessment of it; OpenedMeanwhile
        if the receipt's case is there already."""
        try:
            row = await self._insert(conn, case, opening)
        except asyncpg.UniqueViolationError as error:
            if error.table_name != "department_cases":
                raise
            raise OpenedMeanwhile(case.receipt) from None
        return _from_row(row, self.department, opening.assessment)

    async def _insert(
        self, conn: asyncpg.Connection, case: case_pb2.Case, opening: Opening
    ) -> asyncpg.Record:
        return await conn.fetchrow(
            """INSERT INTO department_cases (receipt, matter_code, matter_version, state,
                   hukou_division, accepting_division, decision_deadline, application,
                   assessment, household_file)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8::jsonb, $9::jsonb, $10)
               RETURNING receipt, matter_code, matter_version, state, decision_reason,
                         hukou_division, accepting_division, created_at, updated_at,
                         decision_deadline, household_file, decision_message""",
            case.receipt,
            case.matter_code,
            case.matter_version,
            pb.CaseState.Name(pb.CASE_STATE_OPEN),
            case.applicant.hukou_division,
            case.accepting_division,
            case.decision_deadline.ToDatetime(dt.UTC),
            stored_json(personal_data.seal_case(case)),
            stored_json(opening.assessment),
            opening.household_file,
        )

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

    async def household_cases(
        self, household_file: str, excluding: str, limit: int = 50
    ) -> Sequence[pb.HouseholdCase]:
        """The household file's other cases here, newest first: what the household already
        asked for, and got, before this case."""
        rows = await self.pool.fetch(
            """SELECT receipt, matter_code, state, created_at FROM department_cases
                WHERE household_file = $1 AND receipt <> $2
                ORDER BY created_at DESC, receipt LIMIT $3""",
            household_file,
            excluding,
            limit,
        )
        return [
            pb.HouseholdCase(
                receipt=r["receipt"],
                matter_code=r["matter_code"],
                state=pb.CaseState.Value(r["state"]),
                create_time=to_timestamp(r["created_at"]),
            )
            for r in rows
        ]

    async def decision_seen(self, conn: asyncpg.Connection, request_id: str) -> bool:
        return bool(
            await conn.fetchval("SELECT 1 FROM decisions WHERE request_id = $1", request_id)
        )

    async def record_decision(
        self,
        conn: asyncpg.Connection,
        request_id: str,
        receipt: str,
        decision: pb.Decision.ValueType,
        reason: str,
        officer_id: str,
    ) -> None:
        await conn.execute(
            """INSERT INTO decisions (request_id, receipt, decision, reason, officer_id)
               VALUES ($1, $2, $3, $4, $5)""",
            request_id,
            receipt,
            pb.Decision.Name(decision),
            reason,
            officer_id,
        )

    async def add_facts(
        self, conn: asyncpg.Connection, receipt: str, facts: Sequence[pb.Fact]
    ) -> None:
        """Adds facts a decision established (a credit code assigned) to the case's assessment."""
        await conn.execute(
            """UPDATE department_cases
                  SET assessment = jsonb_set(assessment, '{facts}',
                      coalesce(assessment->'facts', '[]'::jsonb) || $2::jsonb)
                WHERE receipt = $1""",
            receipt,
            json.dumps([json_format.MessageToDict(f) for f in facts], ensure_ascii=False),
        )

    async def move(
        self,
        conn: asyncpg.Connection,
        receipt: str,
        state: pb.CaseState.ValueType,
        reason: str,
        outcome: events_pb2.Outcome.ValueType,
        *,
        officer_name: str = "",
        message: case_pb2.Text | None = None,
    ) -> pb.DepartmentCase:
        """Moves a case to ``state`` and tells the platform (case_decided with ``outcome``), in
        the caller's transaction.

        Every decision a department records comes through here (an officer's, a party's
        confirmation or withdrawal, a lapse), and only once it is recorded (a replayed request
        id or a refused decision never gets here), so here it is counted. It is counted before
        the caller commits, its last step: only a connection lost at the commit would leave a
        decision counted that was not recorded."""
        updated = await conn.fetchrow(
            """UPDATE department_cases
                  SET state = $2, decision_reason = $3, decision_message = $4::jsonb,
                      updated_at = now()
                WHERE receipt = $1 RETURNING *""",
            receipt,
            pb.CaseState.Name(state),
            reason,
            stored_json(message) if message is not None else None,
        )
        await outbox.add(
            conn,
            self.department,
            events_pb2.CaseDecided(
                receipt=receipt,
                department=self.department,
                outcome=outcome,
                reason=reason,
                officer_name=officer_name,
                message=message,
            ),
        )
        said = outcome_label(outcome)
        _DECISIONS.add(1, {"department": self.department, "outcome": said})
        log.info(
            "case decided: department %s, matter %s, outcome %s, receipt %s",
            self.department,
            updated["matter_code"],
            said,
            receipt,
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

    async def settlement(
        self, conn: asyncpg.Connection, receipt: str
    ) -> pb.SettleDeathResponse | None:
        """What the department did for a death registration, if it has settled it: as codes,
        or as the prose of a settlement recorded before codes existed."""
        row = await conn.fetchrow(
            """SELECT held_something, outcome, outcome_message
                 FROM death_settlements WHERE receipt = $1""",
            receipt,
        )
        if row is None:
            return None
        settled = pb.SettleDeathResponse(
            held_something=row["held_something"], outcome=row["outcome"]
        )
        for said in json.loads(row["outcome_message"]):
            json_format.ParseDict(said, settled.outcome_message.add())
        return settled

    async def record_settlement(
        self,
        conn: asyncpg.Connection,
        receipt: str,
        person_key: str,
        held: bool,
        outcome: Sequence[case_pb2.Text],
    ) -> None:
        await conn.execute(
            """INSERT INTO death_settlements
                      (receipt, person_key, held_something, outcome, outcome_message)
               VALUES ($1, $2, $3, '', $4)""",
            receipt,
            person_key,
            held,
            json.dumps([json_format.MessageToDict(t) for t in outcome]),
        )


OPEN_STATE_NAMES = [pb.CaseState.Name(s) for s in sorted(OPEN_STATES)]


async def open_applications(
    conn: asyncpg.Connection, matter_code: str, accepting_division: str, excluding: str
) -> list[case_pb2.Case]:
    """The applications of a matter accepted at ``accepting_division`` and still being decided
    (open or awaiting materials), but for the case ``excluding``: for a department's checks
    against what is pending (an organisation name asked for twice)."""
    rows = await conn.fetch(
        """SELECT application FROM department_cases
            WHERE matter_code = $1 AND accepting_division = $2
              AND state = ANY($3::text[]) AND receipt <> $4""",
        matter_code,
        accepting_division,
        OPEN_STATE_NAMES,
        excluding,
    )
    return [_application_of(r) for r in rows]
