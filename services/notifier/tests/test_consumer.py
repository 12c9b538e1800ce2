"""The send records' event consumer, its pure parts: the queues it takes events from and the
trace context it continues. Against RabbitMQ: tests/test_notifier_consumer.py."""

from __future__ import annotations

from services.common import broker
from services.notifier.records.consumer import SUBSCRIPTIONS


def test_the_queues_are_the_ones_nameko_named() -> None:
    # nameko's EventHandler: evt-<source>-<event type>--<service>.<method>, SERVICE_POOL.
    queues = {s.queue for s in SUBSCRIPTIONS}
    assert "evt-intake-case_accepted--notifier.on_case_accepted" in queues
    assert "evt-intake-case_progressed--notifier.on_case_progressed" in queues
    assert "evt-assistance-case_decided--notifier.on_assistance_decided" in queues
    assert all(s.exchange == f"{s.source}.events" for s in SUBSCRIPTIONS)


def test_the_trace_context_is_read_from_nameko_s_headers() -> None:
    carried = broker.trace_carrier(
        {"nameko.traceparent": b"00-ab-cd-01", "nameko.baggage": "r=1", "other": "x", "nameko.n": 3}
    )
    assert carried == {"traceparent": "00-ab-cd-01", "baggage": "r=1"}
