"""nameko's event handler, with a consumer that survives the broker going away mid-work and
queues declared as configured (classic or quorum: services.router.queues).

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
import threading
from typing import Any

from amqp.exceptions import PreconditionFailed
from nameko.amqp.consume import Consumer
from nameko.events import EventHandler

from services.router import settings

log = logging.getLogger(__name__)

# Longer than kombu's one-second wait for a message, which the loop ends on.
STOP_WAIT_SECONDS = 3.0


class QueueMismatch(RuntimeError):
    """A router queue exists with other arguments than the configured ones."""


class BrokerLossTolerantConsumer(Consumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._running = False
        self._ended = threading.Event()

    def get_consumers(self, consumer_cls: Any, channel: Any) -> Any:
        # kombu takes a refused queue declaration for a lost connection and reconnects every
        # second, for ever, while the router consumes nothing from that queue. Raised as
        # something else, it kills the container and the router exits, saying why.
        try:
            return super().get_consumers(consumer_cls, channel)
        except PreconditionFailed as error:
            raise QueueMismatch(
                f"{error.reply_text}: the queue exists with other arguments than "
                "ROUTER_QUEUE_TYPE and ROUTER_QUEUE_DELIVERY_LIMIT ask for; delete the router's "
                "queues first (deploy/k8s/README.md, RabbitMQ queues)"
            ) from None

    def run(self, *args: Any, **kwargs: Any) -> Any:
        # nameko's container start waits until every consumer is ready. A consumer that ends
        # first (its error, or the container killing it for another's) releases that wait, so
        # the start goes on, finds the container dead and the process exits.
        self._running = True
        try:
            return super().run(*args, **kwargs)
        finally:
            self.ready.set()
            self._ended.set()

    def stop(self) -> None:
        # kombu's loop sees the flag when its wait for a message times out (within a second);
        # waited for here, so that the container does not kill the loop (with a warning, at
        # every stop) before it has seen it.
        super().stop()
        if self._running:
            self._ended.wait(STOP_WAIT_SECONDS)

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
    """nameko's event handler, with the consumer above and its queue declared as configured
    (classic or quorum, see queues)."""

    consumer_cls = BrokerLossTolerantConsumer

    def setup(self) -> None:
        super().setup()
        # EventHandler.setup makes the queue and hands this same object to the consumer, which
        # declares it only when it starts consuming: the arguments join it before that.
        self.queue.queue_arguments = {
            **(self.queue.queue_arguments or {}),
            **settings.installed().queue_arguments,
        }


event_handler = RouterEventHandler.decorator

# For NamekoInstrumentor's entrypoint_adapters: it picks an adapter by the entrypoint's exact
# class, and this one is traced as the event handler it is (a CONSUMER span continuing the
# publisher's trace).
TRACING_ADAPTERS = {
    f"{__name__}.RouterEventHandler": "nameko_opentelemetry.events.EventHandlerEntrypointAdapter"
}
