"""The transactional outbox, shared by every service that publishes events.

A service calls :func:`add` with an event of ``onedoor.events.v1`` (services.common.events)
inside the transaction that changes its state; the relay (``services.relay``) claims
unpublished rows (marking them published in its transaction), publishes them with publisher
confirms and commits. A crash between publish and commit publishes again: delivery is at least
once, and every consumer is idempotent by ``event_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import asyncpg
from google.protobuf.message import Message

from services.common import events, telemetry


def exchange_of(service: str) -> str:
    """nameko's event exchange for a publishing service."""
    return f"{service}.events"


def event_row(service: str, event: Message) -> tuple[str, str, str, str, str]:
    """An outbox row's values (event_id, exchange, event_type, payload, trace_context) for an
    event of onedoor.events.v1, stamped with a new event id and the schema version, for a
    writer that inserts it in a statement of its own making."""
    stamped = events.stamped(event)
    carrier = telemetry.inject({})
    return (
        stamped.event_id,  # type: ignore[attr-defined]
        exchange_of(service),
        events.event_type(stamped),
        json.dumps(events.to_body(stamped), ensure_ascii=False),
        json.dumps(dict(carrier)),
    )


async def add(conn: asyncpg.Connection, service: str, event: Message) -> str:
    """Queues an event in the caller's transaction; returns its event id."""
    row = event_row(service, event)
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
    """Takes the oldest unpublished rows, oldest first, marking them published in the caller's
    transaction (other relays skip them meanwhile): the caller publishes them before it
    commits, and a failed publish rolls the mark back with the rest."""
    rows = await conn.fetch(
        """UPDATE outbox SET published_at = now()
            WHERE id IN (SELECT id FROM outbox
                          WHERE published_at IS NULL
                          ORDER BY id
                          LIMIT $1
                            FOR UPDATE SKIP LOCKED)
        RETURNING id, event_id, exchange, event_type, payload, trace_context""",
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
        # RETURNING keeps no order: the events go out in the order they were written.
        for r in sorted(rows, key=lambda r: r["id"])
    ]
