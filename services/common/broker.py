"""The asyncio processes' connection to RabbitMQ (aio-pika's robust connection): the relay's,
which publishes the outboxes' events, and the notifier's send records, which consume them.
The nameko router has its own (kombu's)."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import aio_pika
from aio_pika.abc import AbstractRobustConnection

# nameko's event format: its context data travels as headers with this prefix, which is where
# the OpenTelemetry nameko instrumentation looks for ``traceparent`` and ``baggage``.
NAMEKO_HEADER_PREFIX = "nameko."


async def connect(uri: str) -> AbstractRobustConnection:
    """A connection that comes back after a broker restart, with its channels, queues and
    consumers. aio-pika retries a lost connection every 5 s by default: every event would wait
    up to that long after a restart, so it retries each second unless ``uri`` says otherwise."""
    if "reconnect_interval" not in parse_qs(urlsplit(uri).query):
        uri += f"{'&' if urlsplit(uri).query else '?'}reconnect_interval=1"
    return await aio_pika.connect_robust(uri)


def trace_carrier(headers: dict[str, object]) -> dict[str, str]:
    """The trace context and baggage a message carries, as telemetry.extract takes them."""
    carrier = {}
    for name, value in headers.items():
        if not name.startswith(NAMEKO_HEADER_PREFIX):
            continue
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            carrier[name.removeprefix(NAMEKO_HEADER_PREFIX)] = value
    return carrier
