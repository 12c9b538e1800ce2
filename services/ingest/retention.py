"""Records that matched nobody the platform knows are deleted once the jurisdiction's
retention period is over (judging.unmatched: kept through received_on + retention_days, in
the bureau's days). The proof: each sweep's count per jurisdiction is kept in
retention_sweeps and appended to the audit log, and what is past the period is gone from
agency_records (tests/test_outreach.py deletes an aged record and keeps a matched one)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import asyncpg

from onedoor.intake.v1 import intake_service_pb2
from services.common import telemetry
from services.common.clock import BureauClock
from services.ingest.judging.outreach_rules import OutreachRules
from services.ingest.outreach import ACTOR, Audit

log = logging.getLogger("services.ingest")

DELETED = "records.deleted"


@dataclass(frozen=True)
class Swept:
    jurisdiction: str
    received_before: dt.datetime
    deleted: int


class RetentionSweep:
    def __init__(
        self, pool: asyncpg.Pool, audit: Audit, clock: BureauClock, rules: OutreachRules
    ) -> None:
        self.pool = pool
        self.audit = audit
        self.clock = clock
        self.rules = rules

    def received_before(self, jurisdiction: str, today: dt.date) -> dt.datetime:
        """The first instant still kept on ``today``: a record received on local day R is
        kept through R + retention_days, so what was received before today - retention_days
        (local midnight) is past it."""
        days = self.rules.for_division(jurisdiction).unmatched.retention_days
        first_kept = today - dt.timedelta(days=days)
        return dt.datetime.combine(first_kept, dt.time(), tzinfo=self.clock.zone)

    async def sweep(self) -> list[Swept]:
        """Deletes, per pushing jurisdiction, the unmatched records past its retention period;
        a second sweep the same day finds nothing more to delete and adds nothing."""
        today = self.clock.today()
        swept: list[Swept] = []
        jurisdictions = [
            r["jurisdiction"]
            for r in await self.pool.fetch("SELECT DISTINCT jurisdiction FROM batches")
        ]
        for jurisdiction in jurisdictions:
            before = self.received_before(jurisdiction, today)
            async with self.pool.acquire() as conn, conn.transaction():
                deleted = await conn.fetchval(
                    """WITH gone AS (
                           DELETE FROM agency_records r USING batches b
                            WHERE b.batch_id = r.batch_id AND b.jurisdiction = $1
                              AND r.judged_at IS NOT NULL AND r.matched_at IS NULL
                              AND r.received_at < $2
                           RETURNING 1)
                       SELECT count(*) FROM gone""",
                    jurisdiction,
                    before,
                )
                await conn.execute(
                    """INSERT INTO retention_sweeps (swept_on, jurisdiction, received_before,
                                                     deleted)
                       VALUES ($1, $2, $3, $4)
                       ON CONFLICT (swept_on, jurisdiction) DO UPDATE
                          SET deleted = retention_sweeps.deleted + excluded.deleted,
                              updated_at = now()""",
                    today,
                    jurisdiction,
                    before,
                    deleted,
                )
                # In the transaction: a deletion the audit log could not record is undone.
                if deleted:
                    await self.audit(
                        [
                            intake_service_pb2.AuditEntry(
                                actor=ACTOR,
                                action=DELETED,
                                trace_id=telemetry.current_trace_id(),
                                # In codes (key=value): unmatched records received
                                # before the date, their retention period over.
                                detail=(
                                    f"deleted={deleted} jurisdiction={jurisdiction} "
                                    f"before={before.isoformat()}"
                                ),
                            )
                        ]
                    )
            swept.append(Swept(jurisdiction, before, int(deleted)))
            if deleted:
                log.info(
                    "retention: %d unmatched records of %s received before %s deleted",
                    deleted,
                    jurisdiction,
                    before.isoformat(),
                )
        return swept
