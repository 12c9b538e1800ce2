"""OpenTelemetry for every onedoor process, set up once from the process's settings
(``config.TelemetrySettings``, read from the standard OTEL_* variables): traces here, metrics
in services.common.metrics, JSON logs in services.common.logs, all three from :func:`setup`.

- ``OTEL_TRACES_EXPORTER``: ``otlp`` (deployments; endpoint from ``OTEL_EXPORTER_OTLP_ENDPOINT``,
  protocol from ``OTEL_EXPORTER_OTLP_PROTOCOL``: ``http/protobuf``, the spec's default, or
  ``grpc``), ``console``, or ``none`` (the local default). Comma-separated values combine.
- ``OTEL_SERVICE_NAME`` overrides the process's own name; ``OTEL_BSP_*`` tune batching (the
  SDK reads those, and the exporter's endpoint, itself).

Every span of a case carries its receipt number as ``onedoor.receipt``: the receipt travels in
W3C baggage across gRPC, the outbox and AMQP, and :class:`ReceiptSpanProcessor` copies it onto
each span as it starts, SQL spans included, so an operator finds a case's traces by receipt.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator, Mapping, MutableMapping

from opentelemetry import baggage, context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
)

from services.common import config, logs, metrics
from services.common.config import TelemetrySettings

RECEIPT_KEY = logs.RECEIPT_BAGGAGE

_provider: TracerProvider | None = None


class ReceiptSpanProcessor(SpanProcessor):
    """Stamps the case's receipt from baggage onto every span as it starts."""

    def on_start(self, span: Span, parent_context: context.Context | None = None) -> None:
        receipt = baggage.get_baggage(RECEIPT_KEY, parent_context)
        if receipt:
            span.set_attribute(RECEIPT_KEY, str(receipt))

    def on_end(self, span: ReadableSpan) -> None:
        pass


class _ProcessResource(Resource):
    """The process's resource with its hash taken once. The OTLP exporter groups each span it
    encodes by resource, and Resource's own hash serialises every attribute to sorted JSON on
    each call: once per span exported, in every process. A resource never changes after it is
    made, so its hash need not be recomputed."""

    def __init__(self, resource: Resource) -> None:
        super().__init__(resource.attributes, resource.schema_url)
        self._hash = super().__hash__()

    def __hash__(self) -> int:
        return self._hash


def process_resource(service_name: str) -> Resource:
    """What every span and metric of this process says it came from."""
    return _ProcessResource(
        Resource.create({"service.name": service_name, "service.namespace": "onedoor"})
    )


def _exporters(settings: TelemetrySettings) -> list[SpanExporter]:
    exporters: list[SpanExporter] = []
    for name in settings.exporters:
        if name == "console":
            exporters.append(ConsoleSpanExporter(out=sys.stderr))
        elif name == "otlp":
            exporters.append(_otlp_exporter(settings.otlp_protocol))
        else:
            raise ValueError(
                f"OTEL_TRACES_EXPORTER={name!r} is not supported; use otlp, console or none"
            )
    return exporters


def _otlp_exporter(protocol: str) -> SpanExporter:
    # http/protobuf is the default: it is also the only one that works under eventlet (the
    # router), where grpcio's C core would block the hub.
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc

        return Grpc()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

        return Http()
    raise ValueError(
        f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported; use http/protobuf or grpc"
    )


def setup(
    settings: TelemetrySettings,
    *,
    instrument_asyncpg: bool = True,
    native_stderr: bool = True,
) -> None:
    """Installs JSON logging, the tracer and meter providers and the instrumentations a
    process needs. Call first. ``native_stderr=False`` under eventlet (see
    logs.capture_native_stderr)."""
    global _provider
    if _provider is not None:
        return
    logs.setup(settings.process, settings.log_level, native_stderr=native_stderr)
    config.opt_in_stable_http_conventions()
    resource = process_resource(settings.service_name)
    metrics.setup(settings, resource)
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(ReceiptSpanProcessor())
    for exporter in _exporters(settings):
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    _provider = provider

    if instrument_asyncpg:
        from services.common import sql_tracing

        # Statements are recorded with their placeholders, never their parameters.
        sql_tracing.instrument()


def shutdown() -> None:
    """Flushes spans still in the batch and metrics the OTLP reader holds; call on the way
    out."""
    if _provider is not None:
        _provider.shutdown()
    metrics.shutdown()


def tracer(name: str) -> trace.Tracer:
    return trace.get_tracer(name)


def current_trace_id() -> str:
    span_context = trace.get_current_span().get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else ""


@contextlib.contextmanager
def bound_receipt(receipt: str) -> Iterator[None]:
    """Marks everything done inside as work on this case: the current span gets the receipt
    now, and spans, calls and outbox rows started inside inherit it through baggage."""
    if receipt:
        trace.get_current_span().set_attribute(RECEIPT_KEY, receipt)
    token = context.attach(baggage.set_baggage(RECEIPT_KEY, receipt))
    try:
        yield
    finally:
        context.detach(token)


def inject(carrier: MutableMapping[str, str]) -> MutableMapping[str, str]:
    """Writes the current trace context and baggage into a carrier (metadata, headers, rows)."""
    propagate.inject(carrier)
    return carrier


def extract(carrier: Mapping[str, str]) -> context.Context:
    return propagate.extract(carrier)
