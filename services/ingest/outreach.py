"""After a batch is stored: its records matched to the persons and household files the
departments know, judged by the outreach rules, the outcomes raised as warnings under their
dedup keys, and every match audited. A chunk of records at a time (one lookup per department
per chunk, never one call per record), each chunk marked judged in the transaction that raises
its warnings, so judging cut off midway resumes where it stopped and raises nothing twice."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg
from opentelemetry import trace

from onedoor.intake.v1 import intake_service_pb2
from services.common import telemetry
from services.common.clock import BureauClock
from services.ingest.judging import illness_poverty
from services.ingest.judging.judgement import daily, judge_batch
from services.ingest.judging.outreach_rules import OutreachRules
from services.ingest.judging.records import (
    Death,
    DisabilityCategory,
    DisabilityGrade,
    MedicalExpense,
    PersonKey,
    Record,
    RecordId,
    Unemployment,
)
from services.ingest.platform_knows import Known, PlatformKnows
from services.ingest.warnings_store import WarningsStore

log = logging.getLogger("services.ingest")

ACTOR = "service:ingest"
MATCHED = "record.matched"
# What a match reads of the person: the department's view, by keyed hash.
MATCH_FIELDS = ("person_key", "household_file", "held_matters")

# Appends audit entries (intake's AppendAudit); the batch's trace id is on each.
Audit = Callable[[Sequence[intake_service_pb2.AuditEntry]], Awaitable[None]]


_JUDGING_LOCK = 0x0D00_1D6E

_UNJUDGED = """
SELECT agency, record_id, person_key, kind, occurred_on, total_fen, out_of_pocket_fen, grade,
       category
  FROM agency_records
 WHERE batch_id = $1::uuid AND judged_at IS NULL
 ORDER BY agency, record_id
 LIMIT $2
"""


def as_record(row: asyncpg.Record) -> Record:
    """A stored row as the judging's typed record."""
    source = RecordId(row["agency"], row["record_id"])
    person = PersonKey.from_hex(row["person_key"])
    kind = row["kind"]
    if kind == "MEDICAL_EXPENSE":
        return MedicalExpense(
            source, person, row["occurred_on"], row["total_fen"], row["out_of_pocket_fen"]
        )
    if kind == "DEATH":
        return Death(source, person, row["occurred_on"])
    if kind == "DISABILITY_GRADE":
        return DisabilityGrade(
            source,
            person,
            row["grade"],
            DisabilityCategory(row["category"].lower()),
            row["occurred_on"],
        )
    return Unemployment(source, person, row["occurred_on"])


@dataclass(frozen=True)
class Judged:
    records: int = 0
    matched: int = 0
    raised: int = 0

    def __add__(self, other: Judged) -> Judged:
        return Judged(
            self.records + other.records,
            self.matched + other.matched,
            self.raised + other.raised,
        )


class Outreach:
    def __init__(
        self,
        pool: asyncpg.Pool,
        knows: PlatformKnows,
        warnings: WarningsStore,
        audit: Audit,
        clock: BureauClock,
        rules: OutreachRules,
        chunk: int = 2000,
    ) -> None:
        self.pool = pool
        self.knows = knows
        self.warnings = warnings
        self.audit = audit
        self.clock = clock
        self.rules = rules
        self.chunk = chunk

    async def judge(self, batch_id: str, trace_id: str) -> Judged:
        """Judges the batch's records not yet judged, a chunk at a time."""
        span = trace.get_current_span()
        total = Judged()
        # One judge per batch at a time, across replicas (a push and the retry of deferred
        # batches, or two pushes of one batch): the other finds it taken and leaves it.
        async with self.pool.acquire() as lock:
            if not await lock.fetchval(
                "SELECT pg_try_advisory_lock($1, hashtext($2))", _JUDGING_LOCK, batch_id
            ):
                span.set_attribute("onedoor.ingest.judged_elsewhere", True)
                return total
            try:
                while True:
                    rows = await self.pool.fetch(_UNJUDGED, batch_id, self.chunk)
                    if not rows:
                        break
                    total += await self._judge_chunk(
                        batch_id, trace_id, [as_record(r) for r in rows]
                    )
                    if len(rows) < self.chunk:
                        break
            finally:
                await lock.execute(
                    "SELECT pg_advisory_unlock($1, hashtext($2))", _JUDGING_LOCK, batch_id
                )
        span.set_attribute("onedoor.ingest.matched", total.matched)
        span.set_attribute("onedoor.ingest.warnings_raised", total.raised)
        log.info(
            "batch %s judged: %d records, %d matched, %d warnings raised",
            batch_id,
            total.records,
            total.matched,
            total.raised,
        )
        return total

    async def judge_leftovers(self) -> Judged:
        """Judges what a stop cut off: complete batches with records not yet judged."""
        total = Judged()
        for row in await self.pool.fetch(
            """SELECT DISTINCT b.batch_id::text AS batch_id, b.trace_id
                 FROM agency_records r JOIN batches b ON b.batch_id = r.batch_id
                WHERE r.judged_at IS NULL AND b.state = 'complete'"""
        ):
            total += await self.judge(row["batch_id"], row["trace_id"])
        return total

    async def reviews_due(self) -> int:
        """The daily sweep's reviews due (judgement.daily) over every identified household the
        departments keep; the dedup keys make a second run the same day raise nothing."""
        today = self.clock.today()
        trace_id = telemetry.current_trace_id()
        raised = 0
        async for known in self.knows.identified_households():
            outcomes = daily((), known.households.values(), today, self.rules)
            async with self.pool.acquire() as conn, conn.transaction():
                raised += await self.warnings.raise_outcomes(
                    conn, outcomes, None, trace_id, known.receipts
                )
        log.info("daily sweep: %d reviews due raised", raised)
        return raised

    async def age_milestones(self) -> int:
        """The daily sweep's age milestones (judgement.daily): the persons the departments
        know who turned a configured age today or within the catch-up days (a day missed
        while the service was down), each raised once ever per age as a warning in elderly
        care's queue, whom an officer opens the age-allowance case for (免申即享)."""
        today = self.clock.today()
        every = [r.age_allowance for r in self.rules.by_prefix.values()]
        ages = sorted({m for r in every for m in r.milestones})
        first = today - dt.timedelta(days=max(r.catch_up_days for r in every) - 1)
        trace_id = telemetry.current_trace_id()
        raised = 0
        async for turning in self.knows.persons_turning(ages, first, today):
            # The rules of each person's own jurisdiction decide whether the day counts.
            outcomes = daily(turning.persons, (), today, self.rules)
            async with self.pool.acquire() as conn, conn.transaction():
                raised += await self.warnings.raise_outcomes(
                    conn, outcomes, None, trace_id, turning.receipts
                )
        log.info("daily sweep: %d age milestones raised", raised)
        return raised

    async def _bills_held(self, known: Known, today: dt.date) -> dict[str, list[MedicalExpense]]:
        """Per household file, its living members' stored bills in the illness window (the
        chunk's own among them: judge_batch counts each record once)."""
        owner: dict[str, str] = {}
        since = today
        for household in known.households.values():
            start, _ = illness_poverty.window(
                today, self.rules.for_division(household.division).illness_poverty
            )
            since = min(since, start)
            for member in household.members:
                owner[member.hex()] = household.file_id
        if not owner:
            return {}
        rows = await self.pool.fetch(
            """SELECT agency, record_id, person_key, kind, occurred_on, total_fen,
                      out_of_pocket_fen, grade, category
                 FROM agency_records
                WHERE person_key = ANY($1::text[]) AND kind = 'MEDICAL_EXPENSE'
                  AND occurred_on >= $2
                ORDER BY occurred_on, agency, record_id""",
            list(owner),
            since,
        )
        held: dict[str, list[MedicalExpense]] = {}
        for row in rows:
            bill = as_record(row)
            assert isinstance(bill, MedicalExpense)
            held.setdefault(owner[row["person_key"]], []).append(bill)
        return held

    async def _judge_chunk(self, batch_id: str, trace_id: str, records: list[Record]) -> Judged:
        today = self.clock.today()
        known = await self.knows.lookup([r.person.hex() for r in records])
        held = await self._bills_held(known, today)
        judgement = judge_batch(records, known.persons, known.households, held, today, self.rules)
        matched = {(m.agency, m.record_id) for m, _ in judgement.matched}
        # The matches are audited before anything comes of them: a match that could not be
        # recorded raises no warning (the chunk stays unjudged and is judged again).
        if judgement.matched:
            await self.audit(
                [
                    intake_service_pb2.AuditEntry(
                        actor=ACTOR,
                        action=MATCHED,
                        fields=MATCH_FIELDS,
                        trace_id=trace_id,
                        # In codes (key=value), which the console names in its language.
                        detail=(
                            f"batch={batch_id} agency={record.agency} record={record.record_id}"
                            + (
                                f" household_file={file}"
                                if (file := known.persons[person].household_file)
                                else ""
                            )
                        ),
                    )
                    for record, person in judgement.matched
                ]
            )
        async with self.pool.acquire() as conn, conn.transaction():
            raised = await self.warnings.raise_outcomes(
                conn, judgement.outcomes, batch_id, trace_id, known.receipts
            )
            await conn.execute(
                """UPDATE agency_records r
                      SET judged_at = now(),
                          matched_at = CASE WHEN m.matched THEN now() ELSE r.matched_at END
                     FROM unnest($1::text[], $2::text[], $3::bool[]) AS m(agency, record_id,
                                                                           matched)
                    WHERE r.agency = m.agency AND r.record_id = m.record_id""",
                [r.source.agency for r in records],
                [r.source.record_id for r in records],
                [(r.source.agency, r.source.record_id) in matched for r in records],
            )
        return Judged(len(records), len(matched), raised)
