"""The send records' event consumer against a real RabbitMQ (a virtual host of its own): what
it acknowledges, what it drops and what it requeues. The handler is the test's: what telling
does with an event is tested on the whole platform (tests/test_notifier.py)."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import aio_pika
import grpc
import pytest

from onedoor.events.v1 import events_pb2
from services.common import broker, events
from services.launcher.platform import create_vhost, delete_vhost
from services.notifier.records import consumer
from services.notifier.records.consumer import SUBSCRIPTIONS, EventConsumer

# RabbitMQ, as the platform's tests: not among make test-unit's.
pytestmark = pytest.mark.platform


class Unavailable(grpc.aio.AioRpcError):
    def __init__(self, code: grpc.StatusCode) -> None:
        super().__init__(code, grpc.aio.Metadata(), grpc.aio.Metadata())


@pytest.fixture
async def amqp_uri() -> AsyncIterator[str]:
    name = f"onedoor-test-consumer-{uuid.uuid4().hex[:8]}"
    uri = await asyncio.to_thread(create_vhost, name)
    yield uri
    await asyncio.to_thread(delete_vhost, name)


async def _publish(uri: str, body: bytes, routing_key: str = events.CASE_ACCEPTED) -> None:
    connection = await aio_pika.connect(uri)
    async with connection:
        channel = await connection.channel()
        exchange = await channel.declare_exchange(
            "intake.events", aio_pika.ExchangeType.TOPIC, durable=True
        )
        await exchange.publish(aio_pika.Message(body=body), routing_key=routing_key)


def _accepted(receipt: str) -> bytes:
    event = events.stamped(events_pb2.CaseAccepted(receipt=receipt, departments=["assistance"]))
    return json.dumps(events.to_body(event)).encode()


async def _waiting(uri: str) -> int:
    connection = await aio_pika.connect(uri)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(SUBSCRIPTIONS[0].queue, durable=True, passive=True)
        return int(queue.declaration_result.message_count or 0)


async def test_an_event_is_handled_and_acknowledged_once_and_trouble_requeues_it(
    amqp_uri: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(consumer, "RETRY_PAUSE_SECONDS", 0.05)
    seen: list[str] = []
    handled = asyncio.Event()

    async def handle(event: events_pb2.CaseAccepted) -> None:
        seen.append(event.receipt)
        if event.receipt == "R-AWAY" and seen.count("R-AWAY") < 3:
            raise Unavailable(grpc.StatusCode.UNAVAILABLE)
        if event.receipt == "R-GONE":
            raise Unavailable(grpc.StatusCode.NOT_FOUND)
        if event.receipt == "R-ODD":
            raise Unavailable(grpc.StatusCode.INVALID_ARGUMENT)
        if event.receipt == "R-LAST":
            handled.set()

    connection = await broker.connect(amqp_uri)
    taking = EventConsumer(connection, handle, prefetch=1)
    await taking.start()
    try:
        await _publish(amqp_uri, b"{not json")
        await _publish(amqp_uri, b"[]")
        await _publish(amqp_uri, json.dumps({"receipt": "R-BAD", "departments": 7}).encode())
        for receipt in ("R-AWAY", "R-GONE", "R-ODD", "R-OK", "R-LAST"):
            await _publish(amqp_uri, _accepted(receipt))
        await asyncio.wait_for(handled.wait(), 20)
        await asyncio.sleep(0.3)
    finally:
        await taking.stop()
        await connection.close()
    # The malformed bodies reach no handler; intake away: tried until it answers (with prefetch
    # 1 the requeued event comes back before the next); no case, or a request intake refuses:
    # dropped.
    assert seen == ["R-AWAY", "R-AWAY", "R-AWAY", "R-GONE", "R-ODD", "R-OK", "R-LAST"]
    assert await _waiting(amqp_uri) == 0
