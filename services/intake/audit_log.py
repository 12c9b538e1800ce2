"""The audit log's storage: appended under a lock so that each row's hash covers the last."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import asyncpg

from onedoor.intake.v1 import intake_service_pb2 as pb
from services.common import metric_catalog, pagination
from services.common.audit import GENESIS, Entry, chain_hash
from services.common.timestamps import to_timestamp

_CHAIN_LOCK = 0x0D00_A0D1

_APPEND_DURATION = metric_catalog.histogram(metric_catalog.AUDIT_APPEND_DURATION)
_APPEND_BATCH_SIZE = metric_catalog.histogram(metric_catalog.AUDIT_APPEND_BATCH_SIZE)


def _proto(row: asyncpg.Record) -> pb.AuditEntry:
    return pb.AuditEntry(
        sequence=row["sequence"],
        create_time=to_timestamp(row["created_at"]),
        actor=row["actor"],
        action=row["action"],
        receipt=row["receipt"],
        fields=row["fields"],
        trace_id=row["trace_id"],
        detail=row["detail"],
        hash=row["hash"],
        actor_name=row["actor_name"],
    )


@dataclass(frozen=True)
class Among:
    """Which entries a page shows: every condition set must hold."""

    receipt: str = ""
    actor: str = ""
    since: dt.datetime | None = None
    until: dt.datetime | None = None


@dataclass(frozen=True)
class Verdict:
    checked: int
    # Sequence number of the first entry whose hash does not follow; None when intact.
    broken_at: int | None
    last_sequence: int | None


class AuditLog:
    """The audit_log table: the append-only, hash-chained record of who did what."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def append(self, entries: Sequence[pb.AuditEntry]) -> list[pb.AuditEntry]:
        """Appends the entries in order, in one transaction. Timed from waiting for a
        connection to the commit: writers queue on the chain's lock, held to the commit, and
        that wait is what a slow append is made of."""
        started = time.perf_counter()
        async with self.pool.acquire() as conn, conn.transaction():
            stored = await _append(conn, entries)
        _APPEND_DURATION.record(time.perf_counter() - started)
        _APPEND_BATCH_SIZE.record(len(stored))
        return stored

    async def page(
        self, size: int, token: str, among: Among = Among()
    ) -> tuple[list[pb.AuditEntry], str]:
        """Entries in sequence order, of all or only those ``among`` names."""
        async with self.pool.acquire() as conn:
            return await _page(conn, among, size, token)

    async def verify(self, batch: int = 1000) -> Verdict:
        """Walks the whole chain from the database, a batch of rows at a time, and stops at
        the first entry whose hash does not follow."""
        checked = 0
        last: int | None = None

        async def rows() -> AsyncIterator[asyncpg.Record]:
            after = 0
            async with self.pool.acquire() as conn:
                while True:
                    found = await conn.fetch(
                        "SELECT * FROM audit_log WHERE sequence > $1 ORDER BY sequence LIMIT $2",
                        after,
                        batch,
                    )
                    for row in found:
                        yield row
                    if len(found) < batch:
                        return
                    after = found[-1]["sequence"]

        previous = GENESIS
        async for row in rows():
            checked += 1
            last = row["sequence"]
            if chain_hash(previous, _chained(row)) != row["hash"]:
                return Verdict(checked=checked, broken_at=last, last_sequence=last)
            previous = row["hash"]
        return Verdict(checked=checked, broken_at=None, last_sequence=last)


def _chained(row: asyncpg.Record) -> Entry:
    """A stored row as the chain hashed it when it was appended."""
    return Entry(
        row["sequence"],
        row["created_at"].astimezone(dt.UTC).isoformat(),
        row["actor"],
        row["action"],
        row["receipt"],
        tuple(row["fields"]),
        row["trace_id"],
        row["detail"],
        row["actor_name"],
    )


async def _append(
    conn: asyncpg.Connection, entries: Sequence[pb.AuditEntry]
) -> list[pb.AuditEntry]:
    """Appends in order in the caller's transaction. The lock orders writers along the chain,
    and is held to commit: one lock, one read of the last hash and one insert per batch, so a
    gateway that batches its entries pays for the commit once."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _CHAIN_LOCK)
    previous = (
        await conn.fetchval("SELECT hash FROM audit_log ORDER BY sequence DESC LIMIT 1") or GENESIS
    )
    sequences = sorted(
        r[0]
        for r in await conn.fetch(
            "SELECT nextval(pg_get_serial_sequence('audit_log', 'sequence'))"
            " FROM generate_series(1, $1)",
            len(entries),
        )
    )
    created_at = dt.datetime.now(dt.UTC)
    stored: list[pb.AuditEntry] = []
    for sequence, entry in zip(sequences, entries, strict=True):
        chained = Entry(
            sequence,
            created_at.isoformat(),
            entry.actor,
            entry.action,
            entry.receipt,
            tuple(entry.fields),
            entry.trace_id,
            entry.detail,
            entry.actor_name,
        )
        previous = chain_hash(previous, chained)
        stored.append(
            pb.AuditEntry(
                sequence=sequence,
                create_time=to_timestamp(created_at),
                actor=entry.actor,
                action=entry.action,
                receipt=entry.receipt,
                fields=entry.fields,
                trace_id=entry.trace_id,
                detail=entry.detail,
                hash=previous,
                actor_name=entry.actor_name,
            )
        )
    await conn.executemany(
        """INSERT INTO audit_log (sequence, created_at, actor, action, receipt, fields, trace_id,
                                  detail, hash, actor_name)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        [
            (
                e.sequence,
                created_at,
                e.actor,
                e.action,
                e.receipt,
                list(e.fields),
                e.trace_id,
                e.detail,
                e.hash,
                e.actor_name,
            )
            for e in stored
        ],
    )
    return stored


async def _page(
    conn: asyncpg.Connection, among: Among, size: int, token: str
) -> tuple[list[pb.AuditEntry], str]:
    """Keyset-paged on the sequence, whichever filters are set: the token is the last
    sequence shown, so a page never repeats or skips an entry appended meanwhile."""
    after = pagination.decode_sequence(token)
    rows = await conn.fetch(
        """SELECT * FROM audit_log
            WHERE ($1 = '' OR receipt = $1) AND ($2 = '' OR actor = $2)
              AND ($3::timestamptz IS NULL OR created_at >= $3)
              AND ($4::timestamptz IS NULL OR created_at < $4)
              AND sequence > $5
            ORDER BY sequence LIMIT $6""",
        among.receipt,
        among.actor,
        among.since,
        among.until,
        after or 0,
        size + 1,
    )
    shown, token = pagination.split_page(
        rows, size, lambda r: pagination.encode_sequence(r["sequence"])
    )
    return [_proto(r) for r in shown], token
