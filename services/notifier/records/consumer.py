"""The events the notifier tells people about, consumed from RabbitMQ (at least once) on the
queues nameko's notifier consumed them from before (``evt-intake-case_accepted--notifier.
on_case_accepted``, one per event and source), so that an upgrade finds what waits there and
never takes an event from the router's queues.

An event is acknowledged once its notices are recorded. One that intake or the database could
not serve goes back to its queue after a pause (so that a service away is not hammered); a
body that is no such event, or names no case intake knows, is dropped, said once: no delivery
could help.
Recording is idempotent (services.notifier.records.store), so a redelivery records nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aio_pika
import grpc
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from google.protobuf.message import Message
from opentelemetry import trace

from onedoor.events.v1 import events_pb2
from services.common import broker, events, telemetry
from services.common.catalog import DEPARTMENTS

log = logging.getLogger(__name__)
_tracer = telemetry.tracer(__name__)

RETRY_PAUSE_SECONDS = 1.0
# intake's answers no redelivery could change: no such case, or an event naming none.
HOPELESS = frozenset({grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT})
# The nameko service whose queues these were, in their names.
SERVICE = "notifier"


@dataclass(frozen=True)
class Subscription:
    source: str
    event_type: str
    # The handler's name as nameko named the queue after it.
    handler: str
    event: type[Message]

    @property
    def exchange(self) -> str:
        return f"{self.source}.events"

    @property
    def queue(self) -> str:
        return f"evt-{self.source}-{self.event_type}--{SERVICE}.{self.handler}"


SUBSCRIPTIONS = (
    Subscription("intake", events.CASE_ACCEPTED, "on_case_accepted", events_pb2.CaseAccepted),
    Subscription("intake", events.CASE_PROGRESSED, "on_case_progressed", events_pb2.CaseProgressed),
    *(
        Subscription(d, events.CASE_DECIDED, f"on_{d}_decided", events_pb2.CaseDecided)
        for d in DEPARTMENTS
    ),
)

Handler = Callable[[Any], Awaitable[object]]


class EventConsumer:
    def __init__(self, connection: AbstractRobustConnection, handle: Handler, prefetch: int):
        self.connection = connection
        self.handle = handle
        self.prefetch = prefetch
        self._channel: AbstractChannel | None = None
        self._in_hand: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        """Declares every queue as nameko did (durable, bound to its source's topic exchange)
        and starts consuming; the robust connection declares and consumes again after a
        broker restart."""
        channel = await self.connection.channel()
        await channel.set_qos(prefetch_count=self.prefetch)
        for subscription in SUBSCRIPTIONS:
            exchange = await channel.declare_exchange(
                subscription.exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
            queue = await channel.declare_queue(subscription.queue, durable=True)
            await queue.bind(exchange, routing_key=subscription.event_type)
            await queue.consume(self._consumer(subscription))
        self._channel = channel

    async def stop(self) -> None:
        """Takes no more events and finishes the ones in hand; those not acknowledged by
        then come again from their queues."""
        if self._channel is not None:
            await self._channel.close()
        if self._in_hand:
            await asyncio.wait(self._in_hand, timeout=10)

    def _consumer(
        self, subscription: Subscription
    ) -> Callable[[AbstractIncomingMessage], Awaitable[None]]:
        async def consume(message: AbstractIncomingMessage) -> None:
            task = asyncio.current_task()
            if task is not None:
                self._in_hand.add(task)
            try:
                await self._consume(subscription, message)
            finally:
                if task is not None:
                    self._in_hand.discard(task)

        return consume

    async def _consume(self, subscription: Subscription, message: AbstractIncomingMessage) -> None:
        parent = telemetry.extract(broker.trace_carrier(dict(message.headers)))
        with _tracer.start_as_current_span(
            f"{SERVICE}.{subscription.handler}",
            context=parent,
            kind=trace.SpanKind.CONSUMER,
            attributes={
                "messaging.system": "rabbitmq",
                "messaging.operation.type": "process",
                "messaging.destination.name": subscription.queue,
                "messaging.rabbitmq.destination.routing_key": subscription.event_type,
                "messaging.message.id": message.message_id or "",
            },
        ) as span:
            name = subscription.event.DESCRIPTOR.name
            try:
                body = json.loads(message.body)
                if not isinstance(body, dict):
                    raise events.MalformedEvent("not an object")
                receipt = str(body.get("receipt", ""))
                event = events.parse(body, subscription.event)
            except (ValueError, events.MalformedEvent) as error:
                # MalformedEvent names the fields; a JSON error says where the body broke.
                log.error("dropping a %s: %s", name, type(error).__name__)
                span.set_status(trace.StatusCode.ERROR, "malformed")
                await _settled(message.ack())
                return
            with telemetry.bound_receipt(receipt):
                try:
                    await self.handle(event)
                except grpc.aio.AioRpcError as error:
                    if error.code() in HOPELESS:
                        log.error("dropping %s: %s for %s", name, error.code().name, receipt)
                        await _settled(message.ack())
                        return
                    await self._again(message, span, f"{name} for {receipt}", error.code().name)
                    return
                except Exception as error:
                    await self._again(message, span, f"{name} for {receipt}", type(error).__name__)
                    return
            await _settled(message.ack())

    async def _again(
        self, message: AbstractIncomingMessage, span: trace.Span, what: str, cause: str
    ) -> None:
        log.warning("%s: %s; will retry", what, cause)
        span.set_status(trace.StatusCode.ERROR, cause)
        await asyncio.sleep(RETRY_PAUSE_SECONDS)
        await _settled(message.nack(requeue=True))


async def _settled(settling: Awaitable[None]) -> None:
    # An ack or requeue on a channel the broker has just dropped is lost; the message comes
    # again on the new one, and recording it again records nothing.
    try:
        await settling
    except (aio_pika.exceptions.AMQPError, ConnectionError) as error:
        log.warning("acknowledgement lost with the broker connection (%s)", type(error).__name__)
