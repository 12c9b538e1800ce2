"""nameko's event handler, with a consumer that survives the broker going away mid-work.

nameko 3.0.0rc11 acknowledges and requeues messages under ``except ConnectionError``, but the
name there is py-amqp's ``ConnectionError``, not the builtin one. A socket error from a
connection the broker has just dropped (a crashed or restarted RabbitMQ: ``ConnectionResetError``,
``BrokenPipeError``) escapes the worker thread, and nameko kills the whole container: the
router process exits and routes nothing until something restarts it.

Ignoring the failed ack or requeue is safe: a message neither acknowledged nor requeued on a
closed channel goes back to its queue and is delivered again, and every handler is idempotent.
"""

from __future__ import annotations

import logging
from typing import Any

from nameko.amqp.consume import Consumer
from nameko.events import EventHandler

log = logging.getLogger(__name__)


class BrokerLossTolerantConsumer(Consumer):
    def ack_message(self, message: Any) -> None:
        try:
            super().ack_message(message)
        except OSError as error:
            log.warning(
                "ack lost with the broker connection (%s); the message comes again",
                type(error).__name__,
            )

    def requeue_message(self, message: Any) -> None:
        try:
            super().requeue_message(message)
        except OSError as error:
            log.warning(
                "requeue lost with the broker connection (%s); the message comes again",
                type(error).__name__,
            )


class RouterEventHandler(EventHandler):
    consumer_cls = BrokerLossTolerantConsumer


event_handler = RouterEventHandler.decorator

# For NamekoInstrumentor's entrypoint_adapters: it picks an adapter by the entrypoint's exact
# class, and this one is traced as the event handler it is (a CONSUMER span continuing the
# publisher's trace).
TRACING_ADAPTERS = {
    f"{__name__}.RouterEventHandler": "nameko_opentelemetry.events.EventHandlerEntrypointAdapter"
}
