"""Publishes outbox events to RabbitMQ in nameko's event format, with publisher confirms.

nameko's ``@event_handler("intake", "case_accepted")`` binds a durable queue to the topic
exchange ``intake.events`` with routing key ``case_accepted`` and reads a JSON body; its
context data travels as ``nameko.``-prefixed headers, which is where the OpenTelemetry nameko
instrumentation looks for ``traceparent`` and ``baggage``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

import aio_pika
from opentelemetry import trace

from services.common import telemetry
from services.common.broker import NAMEKO_HEADER_PREFIX
from services.common.outbox import PendingEvent

_tracer = telemetry.tracer(__name__)


class EventPublisher:
    def __init__(self, connection: aio_pika.abc.AbstractRobustConnection) -> None:
        self.connection = connection
        self._channel: aio_pika.abc.AbstractChannel | None = None
        self._exchanges: dict[str, aio_pika.abc.AbstractExchange] = {}

    async def _exchange(self, name: str) -> aio_pika.abc.AbstractExchange:
        if self._channel is None or self._channel.is_closed:
            # on_return_raises: a message no queue is bound for (the router has never run)
            # fails its publish, stays in the outbox, and goes out once the queue exists.
            self._channel = await self.connection.channel(
                publisher_confirms=True, on_return_raises=True
            )
            self._exchanges.clear()
        if name not in self._exchanges:
            self._exchanges[name] = await self._channel.declare_exchange(
                name, aio_pika.ExchangeType.TOPIC, durable=True
            )
        return self._exchanges[name]

    async def until_connected(self, timeout: float) -> bool:
        """Waits (at most ``timeout`` seconds) while the robust connection is re-established;
        True once it is up."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.connection.connected.wait(), timeout)
        return self.connection.connected.is_set()

    async def publish(self, event: PendingEvent) -> None:
        """Returns once the broker confirms; raises if it refuses or returns the message."""
        parent = telemetry.extract(event.trace_context)
        attributes = {
            "messaging.system": "rabbitmq",
            "messaging.operation.type": "publish",
            "messaging.destination.name": event.exchange,
            "messaging.rabbitmq.destination.routing_key": event.event_type,
            "messaging.message.id": event.event_id,
        }
        with _tracer.start_as_current_span(
            f"publish {event.exchange} {event.event_type}",
            context=parent,
            kind=trace.SpanKind.PRODUCER,
            attributes=attributes,
        ):
            carrier = telemetry.inject({})
            headers: aio_pika.abc.HeadersType = {
                f"{NAMEKO_HEADER_PREFIX}{k}": v for k, v in carrier.items()
            }
            message = aio_pika.Message(
                body=json.dumps(event.payload, ensure_ascii=False).encode("utf-8"),
                content_type="application/json",
                content_encoding="utf-8",
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=event.event_id,
                headers=headers,
            )
            exchange = await self._exchange(event.exchange)
            await exchange.publish(message, routing_key=event.event_type, mandatory=True)
