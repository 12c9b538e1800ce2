"""The ingest database: batches, the agencies' records by (agency, record id), and each
batch's refused lines. Uniqueness is the database's: records are inserted with ``ON CONFLICT
DO NOTHING``, a chunk at a time, never looked up first, so a record pushed twice (in two
batches, twice in one, or by two pushes at the same instant) is kept once."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from onedoor.ingest.v1 import ingest_service_pb2 as pb
from services.ingest.records import Kept, Refused, kind_name


@dataclass(frozen=True)
class Opened:
    """A batch as a push finds it: new or resumed (``attempt`` > 1), or already complete."""

    batch_id: str
    attempt: int
    created_at: dt.datetime
    # For a complete batch: its fingerprint and first report.
    fingerprint: str | None = None
    report: bytes | None = None

    @property
    def complete(self) -> bool:
        return self.report is not None


_OPEN = """
INSERT INTO batches (agency, jurisdiction, request_id, pushed_by, trace_id)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (agency, request_id) DO UPDATE
    SET attempts = batches.attempts + CASE WHEN batches.state = 'receiving' THEN 1 ELSE 0 END
RETURNING batch_id::text, attempts, created_at, state, fingerprint, report
"""

# One chunk of records: kept unless (agency, record_id) is there already. Returned per kind:
# those this statement kept, and those an earlier, cut-off attempt of the same batch kept (the
# statement's snapshot does not see its own inserts, so the two never overlap).
_KEEP = """
WITH incoming AS (
    SELECT * FROM unnest($3::text[], $4::text[], $5::text[], $6::date[], $7::bigint[],
                         $8::bigint[], $9::smallint[], $10::text[])
        AS t(record_id, person_key, kind, occurred_on, total_fen, out_of_pocket_fen, grade,
             category)
), kept AS (
    INSERT INTO agency_records (agency, record_id, person_key, kind, occurred_on, total_fen,
                                out_of_pocket_fen, grade, category, batch_id, attempt)
    SELECT $1, record_id, person_key, kind, occurred_on, total_fen, out_of_pocket_fen, grade,
           category, $2::uuid, $11
    FROM incoming
    ON CONFLICT (agency, record_id) DO NOTHING
    RETURNING kind
), earlier AS (
    SELECT r.kind FROM agency_records r
    JOIN (SELECT DISTINCT record_id FROM incoming) i ON i.record_id = r.record_id
    WHERE r.agency = $1 AND r.batch_id = $2::uuid AND r.attempt < $11
)
SELECT kind, count(*) AS n FROM (SELECT kind FROM kept UNION ALL SELECT kind FROM earlier) k
GROUP BY kind
"""

_REFUSE = """
INSERT INTO batch_refusals (batch_id, line, record_id, kind, field, reason, description)
SELECT $1::uuid, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
                              $7::text[])
ON CONFLICT (batch_id, line) DO NOTHING
"""


class IngestStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def open_batch(
        self, agency: str, jurisdiction: str, request_id: str, pushed_by: str, trace_id: str
    ) -> Opened:
        row = await self.pool.fetchrow(_OPEN, agency, jurisdiction, request_id, pushed_by, trace_id)
        assert row is not None
        complete = row["state"] == "complete"
        return Opened(
            batch_id=row["batch_id"],
            attempt=row["attempts"],
            created_at=row["created_at"],
            fingerprint=row["fingerprint"] if complete else None,
            report=bytes(row["report"]) if complete else None,
        )

    async def keep(
        self, conn: asyncpg.Connection, agency: str, opened: Opened, chunk: Sequence[Kept]
    ) -> Counter[str]:
        """Keeps a chunk; returns how many of it are this batch's by kind name (the rest of
        the chunk are duplicates)."""
        rows = await conn.fetch(
            _KEEP,
            agency,
            opened.batch_id,
            [k.record_id for k in chunk],
            [k.person_key for k in chunk],
            [kind_name(k.kind) for k in chunk],
            [k.occurred_on for k in chunk],
            [k.total_fen for k in chunk],
            [k.out_of_pocket_fen for k in chunk],
            [k.grade for k in chunk],
            [k.category for k in chunk],
            opened.attempt,
        )
        return Counter({row["kind"]: row["n"] for row in rows})

    async def refuse(
        self, conn: asyncpg.Connection, opened: Opened, refusals: Sequence[Refused]
    ) -> None:
        await conn.execute(
            _REFUSE,
            opened.batch_id,
            [r.line for r in refusals],
            [r.record_id for r in refusals],
            [kind_name(r.kind) if r.kind else "" for r in refusals],
            [r.field for r in refusals],
            [pb.RefusalReason.Name(r.reason).removeprefix("REFUSAL_REASON_") for r in refusals],
            [r.description for r in refusals],
        )

    async def first_refusals(self, opened: Opened, limit: int) -> list[pb.Refusal]:
        rows = await self.pool.fetch(
            "SELECT line, record_id, field, reason, description FROM batch_refusals "
            "WHERE batch_id = $1::uuid ORDER BY line LIMIT $2",
            opened.batch_id,
            limit,
        )
        return [
            pb.Refusal(
                line=row["line"],
                record_id=row["record_id"],
                field=row["field"],
                reason=pb.RefusalReason.Value(f"REFUSAL_REASON_{row['reason']}"),
                description=row["description"],
            )
            for row in rows
        ]

    async def complete(
        self, opened: Opened, fingerprint: str, report: pb.BatchReport
    ) -> pb.BatchReport:
        """Marks the batch complete with its report; when another push of it completed first,
        that one's report stands and is returned."""
        async with self.pool.acquire() as conn:
            done = await conn.fetchval(
                "UPDATE batches SET state = 'complete', fingerprint = $2, report = $3, "
                "completed_at = $4 WHERE batch_id = $1::uuid AND state = 'receiving' "
                "RETURNING 1",
                opened.batch_id,
                fingerprint,
                report.SerializeToString(),
                report.complete_time.ToDatetime(tzinfo=dt.UTC),
            )
            if done:
                return report
            stored = await conn.fetchval(
                "SELECT report FROM batches WHERE batch_id = $1::uuid", opened.batch_id
            )
        return pb.BatchReport.FromString(bytes(stored))

    async def record_count(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM agency_records"))
