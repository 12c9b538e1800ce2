"""The transactional outbox, shared by every service that publishes events.

A service calls :func:`add` inside the transaction that changes its state; the relay
(``services.relay``) claims unpublished rows, publishes them with publisher confirms and marks
them published. A crash between publish and mark publishes again: delivery is at least once,
and every consumer is idempotent by ``event_id``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg

from services.common import telemetry


def exchange_of(service: str) -> str:
    """nameko's event exchange for a publishing service."""
    return f"{service}.events"


def event_row(
    service: str, event_type: str, payload: Mapping[str, Any]
) -> tuple[str, str, str, str, str]:
    """An outbox row's values (event_id, exchange, event_type, payload, trace_context), for a
    writer that inserts it in a statement of its own making."""
    event_id = str(uuid.uuid4())
    body = {"event_id": event_id, **payload}
    carrier = telemetry.inject({})
    return (
        event_id,
        exchange_of(service),
        event_type,
        json.dumps(body, ensure_ascii=False),
        json.dumps(dict(carrier)),
    )


async def add(
    conn: asyncpg.Connection, service: str, event_type: str, payload: Mapping[str, Any]
) -> str:
    """Queues an event in the caller's transaction; returns its event id."""
    row = event_row(service, event_type, payload)
    await conn.execute(
        """INSERT INTO outbox (event_id, exchange, event_type, payload, trace_context)
           VALUES ($1, $2, $3, $4::jsonb, $5::jsonb)""",
        *row,
    )
    return row[0]


@dataclass(frozen=True)
class PendingEvent:
    id: int
    event_id: str
    exchange: str
    event_type: str
    payload: dict[str, Any]
    trace_context: dict[str, str]


async def claim(conn: asyncpg.Connection, limit: int) -> list[PendingEvent]:
    """Locks the oldest unpublished rows for this transaction; other relays skip them."""
    rows = await conn.fetch(
        """SELECT id, event_id, exchange, event_type, payload, trace_context
             FROM outbox
            WHERE published_at IS NULL
            ORDER BY id
            LIMIT $1
              FOR UPDATE SKIP LOCKED""",
        limit,
    )
    return [
        PendingEvent(
            id=r["id"],
            event_id=str(r["event_id"]),
            exchange=r["exchange"],
            event_type=r["event_type"],
            payload=json.loads(r["payload"]),
            trace_context=json.loads(r["trace_context"]),
        )
        for r in rows
    ]


async def mark_published(conn: asyncpg.Connection, ids: list[int]) -> None:
    await conn.execute("UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])", ids)
