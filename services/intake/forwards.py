"""Storage of cases decided elsewhere (forwards) and cases accepted elsewhere (origins)."""

from __future__ import annotations

import datetime as dt
import json

import asyncpg
from google.protobuf import json_format

from onedoor.case.v1 import case_pb2
from services.intake.status import FINAL_NAMES

AWAITING_HOME, DELIVERED = "awaiting_home", "delivered"
# After a failed delivery, wait 2, 4, 8 ... seconds, at most this long, before the next try.
MAX_BACKOFF_SECONDS = 60
# Once delivered, how often the accepting side pulls the home jurisdiction's status, in case
# a push went astray.
PULL_EVERY = dt.timedelta(seconds=30)


async def hold(
    conn: asyncpg.Connection, case: case_pb2.Case, trace_context: dict[str, str]
) -> None:
    await conn.execute(
        """INSERT INTO forwards (receipt, home_division, peer, state, trace_context)
           VALUES ($1, $2, $3, $4, $5::jsonb)""",
        case.receipt,
        case.forwarding.home_division,
        case.forwarding.peer,
        AWAITING_HOME,
        json.dumps(trace_context),
    )


async def record_origin(conn: asyncpg.Connection, case: case_pb2.Case) -> None:
    origin = case.origin
    await conn.execute(
        """INSERT INTO origins (receipt, peer, accepting_receipt, accepting_division, clerk_jurisdiction)
           VALUES ($1, $2, $3, $4, $5)""",
        case.receipt,
        origin.peer,
        origin.accepting_receipt,
        origin.accepting_division,
        origin.clerk_jurisdiction,
    )


async def attach(conn: asyncpg.Connection, cases: list[case_pb2.Case]) -> None:
    """Fills in each case's forwarding and origin, where it has one."""
    receipts = [c.receipt for c in cases]
    forwards = {
        r["receipt"]: r
        for r in await conn.fetch(
            "SELECT * FROM forwards WHERE receipt = ANY($1::text[])", receipts
        )
    }
    origins = {
        r["receipt"]: r
        for r in await conn.fetch("SELECT * FROM origins WHERE receipt = ANY($1::text[])", receipts)
    }
    for case in cases:
        if (f := forwards.get(case.receipt)) is not None:
            forwarding = case.forwarding
            forwarding.home_division = f["home_division"]
            forwarding.peer = f["peer"]
            forwarding.state = f["state"]
            forwarding.remote_receipt = f["remote_receipt"]
            forwarding.remote_status = case_pb2.CaseStatus.Value(f["remote_status"])
            forwarding.attempts = f["attempts"]
            forwarding.update_time.FromDatetime(f["updated_at"])
            for entry in json.loads(f["remote_timeline"]):
                json_format.ParseDict(entry, forwarding.remote_timeline.add())
        if (o := origins.get(case.receipt)) is not None:
            case.origin.peer = o["peer"]
            case.origin.accepting_receipt = o["accepting_receipt"]
            case.origin.accepting_division = o["accepting_division"]
            case.origin.clerk_jurisdiction = o["clerk_jurisdiction"]


async def claim(
    conn: asyncpg.Connection, delivered: bool, limit: int, lease: dt.timedelta
) -> list[asyncpg.Record]:
    """Leases due forwards: not yet delivered ones, or delivered ones still open at home."""
    rows = await conn.fetch(
        """SELECT receipt, trace_context FROM forwards
            WHERE state = $1 AND due_at <= now()
              AND ($1 = 'awaiting_home' OR remote_status <> ALL($2::text[]))
            ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED""",
        DELIVERED if delivered else AWAITING_HOME,
        FINAL_NAMES,
        limit,
    )
    await conn.execute(
        "UPDATE forwards SET due_at = now() + $2::interval WHERE receipt = ANY($1::text[])",
        [r["receipt"] for r in rows],
        lease,
    )
    return rows


async def record_failure(conn: asyncpg.Connection, receipt: str, error: str) -> None:
    await conn.execute(
        """UPDATE forwards SET attempts = attempts + 1, last_error = $2, updated_at = now(),
               due_at = now() + make_interval(secs => least(power(2, attempts + 1), $3))
            WHERE receipt = $1""",
        receipt,
        error[:500],
        MAX_BACKOFF_SECONDS,
    )


async def record_remote(
    conn: asyncpg.Connection,
    receipt: str,
    remote_receipt: str,
    status: int,
    timeline: list[case_pb2.TimelineEntry],
) -> asyncpg.Record | None:
    """Stores what the home jurisdiction says; returns the row as it was before."""
    before = await conn.fetchrow("SELECT * FROM forwards WHERE receipt = $1 FOR UPDATE", receipt)
    if before is None:
        return None
    await conn.execute(
        """UPDATE forwards SET state = $2, remote_receipt = $3, remote_status = $4,
               remote_timeline = $5::jsonb, attempts = attempts + CASE WHEN state = $6 THEN 1 ELSE 0 END,
               last_error = '', updated_at = now(), due_at = now() + $7::interval
            WHERE receipt = $1""",
        receipt,
        DELIVERED,
        remote_receipt,
        case_pb2.CaseStatus.Name(status),
        json.dumps([json_format.MessageToDict(e) for e in timeline]),
        AWAITING_HOME,
        PULL_EVERY,
    )
    return before


async def unreported(conn: asyncpg.Connection, limit: int) -> list[str]:
    rows = await conn.fetch(
        """SELECT o.receipt FROM origins o
            WHERE (SELECT count(*) FROM timeline t WHERE t.receipt = o.receipt) > o.reported_length
            LIMIT $1""",
        limit,
    )
    return [r["receipt"] for r in rows]


async def mark_reported(conn: asyncpg.Connection, receipt: str, length: int) -> None:
    await conn.execute(
        "UPDATE origins SET reported_length = greatest(reported_length, $2) WHERE receipt = $1",
        receipt,
        length,
    )
