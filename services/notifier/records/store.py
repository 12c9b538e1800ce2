"""The send records' SQL, on asyncpg: the notifier's database (services/notifier/migrations).

Every instant here is the caller's (the notifier's bureau clock), never the database's
``now()``, so that quiet hours and the tests' clock are one. A notice is unique in the
database (receipt, notice_key, recipient): a second delivery of its event, or two at once,
records nothing more.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence

import asyncpg

from onedoor.notifier.v1 import send_records_service_pb2 as pb
from services.common.timestamps import to_timestamp


class SendRecordsStore:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def record(self, notices: Sequence[pb.Notice], now: dt.datetime, due: dt.datetime) -> int:
        """Records each notice once (as the wire has it); one whose person opted out gets a row
        never sent. A dated notice is due on its own day, or at ``due`` if that is later.
        Returns how many were new."""
        if not notices:
            return 0
        # One statement for them all: atomic without a transaction of its own (a transaction
        # around one INSERT a notice cost two statements more an event).
        rows = await self.pool.fetch(
            """INSERT INTO notices (receipt, notice_key, recipient, event, matter_code, language,
                                    sealed_phone, args, state, due_at, created_at)
               SELECT receipt, notice_key, recipient, event, matter_code, language,
                      sealed_phone, args::jsonb, state, due_at, $11
                 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                             $6::text[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
                      AS n(receipt, notice_key, recipient, event, matter_code, language,
                           sealed_phone, args, state, due_at)
               ON CONFLICT (receipt, notice_key, recipient) DO NOTHING
               RETURNING id""",
            [n.receipt for n in notices],
            [n.notice_key for n in notices],
            [n.recipient for n in notices],
            [n.event for n in notices],
            [n.matter_code for n in notices],
            [n.language for n in notices],
            [n.sealed_phone for n in notices],
            [json.dumps(dict(n.args), ensure_ascii=False) for n in notices],
            ["opted_out" if n.opted_out else "pending" for n in notices],
            [_due(n, due) for n in notices],
            now,
        )
        return len(rows)

    async def claim(
        self, now: dt.datetime, limit: int, lease_seconds: float
    ) -> list[pb.ClaimedNotice]:
        """Leases due records: pending ones, and those a sender took and did not finish
        before its lease ran out (it died mid-send). Concurrent claims skip each other's."""
        lease = now + dt.timedelta(seconds=lease_seconds)
        rows = await self.pool.fetch(
            """UPDATE notices SET state = 'sending', lease_until = $2, attempts = attempts + 1
                WHERE id IN (SELECT id FROM notices
                              WHERE due_at <= $1
                                AND (state = 'pending'
                                     OR (state = 'sending' AND lease_until < $1))
                              ORDER BY due_at, id
                              LIMIT $3
                              FOR UPDATE SKIP LOCKED)
            RETURNING id, receipt, notice_key, recipient, event, matter_code, language,
                      sealed_phone, args, attempts, lease_until""",
            now,
            lease,
            limit,
        )
        return [
            # Answered as the wire's record: nothing between the row and the notifier.
            pb.ClaimedNotice(
                id=r["id"],
                receipt=r["receipt"],
                notice_key=r["notice_key"],
                recipient=r["recipient"],
                event=r["event"],
                matter_code=r["matter_code"],
                language=r["language"],
                sealed_phone=r["sealed_phone"],
                args=json.loads(r["args"]),
                attempts=r["attempts"],
                lease_until=to_timestamp(r["lease_until"]),
            )
            for r in rows
        ]

    async def sent(self, marks: Sequence[tuple[int, dt.datetime, str]]) -> None:
        """Marks each (record id, when it was sent, the provider's id for it) sent, in one
        statement."""
        ids, times, provider_ids = zip(*marks, strict=True) if marks else ((), (), ())
        await self.pool.execute(
            """UPDATE notices n SET state = 'sent', sent_at = m.sent_at,
                                    provider_id = m.provider_id, lease_until = NULL,
                                    last_cause = ''
                 FROM unnest($1::bigint[], $2::timestamptz[], $3::text[])
                      AS m (id, sent_at, provider_id)
                WHERE n.id = m.id""",
            list(ids),
            list(times),
            list(provider_ids),
        )

    async def retry(self, record_id: int, at: dt.datetime, cause: str) -> None:
        await self.pool.execute(
            """UPDATE notices SET state = 'pending', due_at = $2, lease_until = NULL,
                                  last_cause = $3
                WHERE id = $1""",
            record_id,
            at,
            cause,
        )

    async def failed(self, record_id: int, cause: str) -> None:
        await self.pool.execute(
            """UPDATE notices SET state = 'failed', lease_until = NULL, last_cause = $2
                WHERE id = $1""",
            record_id,
            cause,
        )


def _due(notice: pb.Notice, due: dt.datetime) -> dt.datetime:
    if not notice.HasField("due_time"):
        return due
    return max(notice.due_time.ToDatetime(tzinfo=dt.UTC), due)
