"""Storage of cases decided elsewhere (forwards) and cases accepted elsewhere (origins)."""

from __future__ import annotations

import datetime as dt
import json

import asyncpg
from google.protobuf import json_format

from onedoor.case.v1 import case_pb2
from services.common import pagination
from services.intake.status import FINAL_NAMES

AWAITING_HOME, DELIVERED = "awaiting_home", "delivered"
# Why the last attempt failed (the column's CHECK constraint holds the same set).
CAUSES = frozenset({"tls_refused", "peer_down", "refused_by_peer", "peer_unconfigured"})
# How an operator's listing names where a forward stands: waiting longer than the gateway's
# threshold makes it stuck (it is still retried; a forward is never dropped).
WAITING, STUCK = "waiting", "stuck"
LISTED_STATES = (WAITING, STUCK, DELIVERED)
# After a failed delivery, wait 2, 4, 8 ... seconds before the next try, at most a minute for
# a peer that is down (it should get its cases soon after it is back), at most five for
# trouble that needs a person (a refused certificate, a peer's refusal, a peer no longer
# configured): retrying those faster only fills the peer's log.
FIRST_BACKOFF_SECONDS = 2
MAX_BACKOFF_SECONDS = 60
MAX_BACKOFF_NEEDING_A_PERSON_SECONDS = 300
# Once delivered, how often the accepting side pulls the home jurisdiction's status, in case
# a push went astray.
PULL_EVERY = dt.timedelta(seconds=30)


def backoff(failed_attempts: int, cause: str) -> dt.timedelta:
    """How long after its ``failed_attempts``-th failure (1 for the first) a forward waits."""
    cap = MAX_BACKOFF_SECONDS if cause == "peer_down" else MAX_BACKOFF_NEEDING_A_PERSON_SECONDS
    # Capped before the power is taken, so a forward failing for months does not overflow.
    exponent = min(max(failed_attempts, 1) - 1, 20)
    return dt.timedelta(seconds=min(FIRST_BACKOFF_SECONDS * 2**exponent, cap))


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
    if not cases:
        # Most cases cross no border: no statement for them.
        return
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
        """SELECT receipt, trace_context, cause FROM forwards
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


async def record_failure(conn: asyncpg.Connection, receipt: str, error: str, cause: str) -> None:
    """A failed delivery attempt: its cause and text, and the next attempt after back-off."""
    attempts = await conn.fetchval(
        "SELECT attempts FROM forwards WHERE receipt = $1 FOR UPDATE", receipt
    )
    if attempts is None:
        return
    await conn.execute(
        """UPDATE forwards SET attempts = attempts + 1, last_error = $2, cause = $3,
               updated_at = now(), first_attempt_at = coalesce(first_attempt_at, now()),
               last_attempt_at = now(), due_at = now() + $4::interval
            WHERE receipt = $1""",
        receipt,
        error[:500],
        cause,
        backoff(attempts + 1, cause),
    )


async def record_remote(
    conn: asyncpg.Connection,
    receipt: str,
    remote_receipt: str,
    status: int,
    timeline: list[case_pb2.TimelineEntry],
    cause: str = "",
    error: str = "",
) -> asyncpg.Record | None:
    """Stores what the home jurisdiction says (with ``cause`` and ``error`` when it is a
    refusal); returns the row as it was before."""
    before = await conn.fetchrow("SELECT * FROM forwards WHERE receipt = $1 FOR UPDATE", receipt)
    if before is None:
        return None
    await conn.execute(
        """UPDATE forwards SET state = $2, remote_receipt = $3, remote_status = $4,
               remote_timeline = $5::jsonb, attempts = attempts + CASE WHEN state = $6 THEN 1 ELSE 0 END,
               first_attempt_at = CASE WHEN state = $6 THEN coalesce(first_attempt_at, now())
                                       ELSE first_attempt_at END,
               last_attempt_at = CASE WHEN state = $6 THEN now() ELSE last_attempt_at END,
               cause = $8, last_error = $9, updated_at = now(), due_at = now() + $7::interval
            WHERE receipt = $1""",
        receipt,
        DELIVERED,
        remote_receipt,
        case_pb2.CaseStatus.Name(status),
        json.dumps([json_format.MessageToDict(e) for e in timeline]),
        AWAITING_HOME,
        PULL_EVERY,
        cause,
        error[:500],
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


def listed_state(row: asyncpg.Record, stuck_since: dt.datetime) -> str:
    if row["state"] == DELIVERED:
        return DELIVERED
    return STUCK if row["created_at"] < stuck_since else WAITING


async def page(
    conn: asyncpg.Connection,
    state: str,
    stuck_after: dt.timedelta,
    size: int,
    after: tuple[dt.datetime, str] | None,
) -> tuple[list[asyncpg.Record], list[str], str]:
    """A page of forwards in ``state`` ("" for all), oldest first, each with its listed state;
    and the next page's token. "Stuck" is measured on the database's clock, as the waiting."""
    stuck_since = await conn.fetchval("SELECT now() - $1::interval", stuck_after)
    rows = await conn.fetch(
        """SELECT receipt, peer, home_division, state, cause, attempts, last_error, created_at,
                  first_attempt_at, last_attempt_at, due_at
             FROM forwards
            WHERE ($1 = '' OR ($1 = 'delivered' AND state = 'delivered')
                   OR ($1 = 'stuck' AND state = 'awaiting_home' AND created_at < $2)
                   OR ($1 = 'waiting' AND state = 'awaiting_home' AND created_at >= $2))
              AND ($3::timestamptz IS NULL OR (created_at, receipt) > ($3, $4))
            ORDER BY created_at, receipt
            LIMIT $5""",
        state,
        stuck_since,
        after[0] if after else None,
        after[1] if after else "",
        size + 1,
    )
    found, token = pagination.split_page(
        rows, size, lambda r: pagination.encode_time_key(r["created_at"], r["receipt"])
    )
    return found, [listed_state(r, stuck_since) for r in found], token


async def backlog(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Per peer: forwards not yet delivered and when the oldest was held."""
    return list(
        await conn.fetch(
            """SELECT peer, count(*) AS waiting, min(created_at) AS oldest FROM forwards
                WHERE state = 'awaiting_home' GROUP BY peer ORDER BY peer"""
        )
    )
