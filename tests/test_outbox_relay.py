"""The outbox relay over a real outbox (a scratch database) and a real broker (a virtual host
of its own): one round takes the rows, marked published in its transaction, and publishes
them in the order they were written; a refused publish leaves the whole round unpublished, to
go out again, nothing lost."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import aio_pika
import asyncpg
import pytest

from services.common import schema
from services.launcher.platform import create_vhost, delete_vhost
from services.relay.publisher import EventPublisher
from services.relay.relay import OutboxRelay, PublishFailed
from tests.scratch import scratch_pool

pytestmark = pytest.mark.platform

EXCHANGE = "intake.events"


@pytest.fixture
async def pool() -> AsyncIterator[asyncpg.Pool]:
    async with scratch_pool("outbox_relay", [schema.COMMON_MIGRATIONS], max_size=3) as opened:
        yield opened


@pytest.fixture
async def broker() -> AsyncIterator[aio_pika.abc.AbstractRobustConnection]:
    name = f"onedoor-test-relay-{uuid.uuid4().hex[:8]}"
    connection = await aio_pika.connect_robust(create_vhost(name))
    try:
        yield connection
    finally:
        await connection.close()
        delete_vhost(name)


async def _write(pool: asyncpg.Pool, *event_types: str) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in event_types]
    await pool.executemany(
        """INSERT INTO outbox (event_id, exchange, event_type, payload)
           VALUES ($1, $2, $3, $4::jsonb)""",
        [
            (uuid.UUID(i), EXCHANGE, kind, json.dumps({"event_id": i}))
            for i, kind in zip(ids, event_types, strict=True)
        ],
    )
    return ids


async def _unpublished(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"))


async def _drain(queue: aio_pika.abc.AbstractQueue) -> list[str]:
    said = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        said.append(json.loads(message.body)["event_id"])
    return said


async def test_a_round_publishes_in_order_and_a_refusal_leaves_it_all_to_go_again(pool, broker):
    channel = await broker.channel()
    exchange = await channel.declare_exchange(EXCHANGE, aio_pika.ExchangeType.TOPIC, durable=True)
    queue = await channel.declare_queue("", exclusive=True)
    await queue.bind(exchange, routing_key="case_accepted")
    relay = OutboxRelay("intake", pool, EventPublisher(broker), poll_seconds=1.0)

    accepted = await _write(pool, "case_accepted", "case_accepted", "case_accepted")
    assert await relay.publish_batch() == 3
    assert await _unpublished(pool) == 0
    assert await _drain(queue) == accepted

    # No queue takes case_decided yet: the broker returns it, and the round's rows (the
    # published one too) stay in the outbox.
    first, decided, last = await _write(pool, "case_accepted", "case_decided", "case_accepted")
    with pytest.raises(PublishFailed):
        await relay.publish_batch()
    assert await _unpublished(pool) == 3
    assert await _drain(queue) == [first]

    await queue.bind(exchange, routing_key="case_decided")
    assert await relay.publish_batch() == 3
    assert await _unpublished(pool) == 0
    assert await _drain(queue) == [first, decided, last]
    assert await relay.publish_batch() == 0
