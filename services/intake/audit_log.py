"""The audit log's storage: appended under a lock so that each row's hash covers the last."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence

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
    )


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

    async def page(self, receipt: str, size: int, token: str) -> tuple[list[pb.AuditEntry], str]:
        """Entries in sequence order, of one case or (with an empty receipt) of all."""
        async with self.pool.acquire() as conn:
            return await _page(conn, receipt, size, token)


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
            )
        )
    await conn.executemany(
        """INSERT INTO audit_log (sequence, created_at, actor, action, receipt, fields, trace_id, detail, hash)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
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
            )
            for e in stored
        ],
    )
    return stored


async def _page(
    conn: asyncpg.Connection, receipt: str, size: int, token: str
) -> tuple[list[pb.AuditEntry], str]:
    after = pagination.decode_sequence(token)
    rows = await conn.fetch(
        """SELECT * FROM audit_log WHERE ($1 = '' OR receipt = $1) AND sequence > $2
            ORDER BY sequence LIMIT $3""",
        receipt,
        after or 0,
        size + 1,
    )
    shown, token = pagination.split_page(
        rows, size, lambda r: pagination.encode_sequence(r["sequence"])
    )
    return [_proto(r) for r in shown], token
