"""Metrics for every onedoor process, through the same OpenTelemetry SDK as the traces.

``OTEL_METRICS_EXPORTER`` picks the readers (comma-separated, as the spec has it):

- ``prometheus`` (the default): Prometheus text on ``GET /metrics`` at
  ``<PROCESS>_METRICS_PORT``, for a ServiceMonitor or scrape annotations to collect;
- ``otlp``: pushed every ``OTEL_METRIC_EXPORT_INTERVAL`` ms (the SDK's default, 60 s) to
  ``OTEL_EXPORTER_OTLP_ENDPOINT``, over the traces' protocol;
- ``console``: printed to stderr, for a look on a developer's machine;
- ``none``: no meter provider, every instrument a no-op (what the bench compares against).

Instruments are made from services.common.metric_catalog, which declares every onedoor metric
and the only labels it may carry.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import (
    ConsoleMetricExporter,
    MetricExporter,
    MetricReader,
    PeriodicExportingMetricReader,
)
from opentelemetry.sdk.resources import Resource

from services.common.config import TelemetrySettings

log = logging.getLogger(__name__)

_provider: MeterProvider | None = None
_server: Any = None


def _otlp_exporter(protocol: str) -> MetricExporter:
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as Grpc,
        )

        return Grpc()
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter as Http

    return Http()


def setup(settings: TelemetrySettings, resource: Resource) -> None:
    """Installs the process's meter provider and, with ``prometheus``, serves /metrics."""
    global _provider, _server
    if _provider is not None or not settings.metrics_exporters:
        return
    readers: list[MetricReader] = []
    for name in settings.metrics_exporters:
        if name == "prometheus":
            from opentelemetry.exporter.prometheus import PrometheusMetricReader

            readers.append(PrometheusMetricReader())
        elif name == "otlp":
            readers.append(PeriodicExportingMetricReader(_otlp_exporter(settings.otlp_protocol)))
        elif name == "console":
            readers.append(PeriodicExportingMetricReader(ConsoleMetricExporter(out=sys.stderr)))
    _provider = MeterProvider(metric_readers=readers, resource=resource)
    metrics.set_meter_provider(_provider)
    if "prometheus" in settings.metrics_exporters:
        # prometheus_client's own server: a thread of its own (a green one under eventlet, in
        # the router) that answers scrapes without a log line, apart from the process's API.
        from prometheus_client import start_http_server

        try:
            _server, _thread = start_http_server(settings.metrics_port, addr=settings.metrics_host)
        except OSError as error:
            variable = f"{settings.process.upper()}_METRICS_PORT"
            raise SystemExit(
                f"cannot serve /metrics on port {settings.metrics_port} ({error.strerror}): "
                f"set {variable} to a free port, or OTEL_METRICS_EXPORTER=none"
            ) from None
        log.info("metrics on http://%s:%d/metrics", settings.metrics_host, settings.metrics_port)


def shutdown() -> None:
    """Pushes what the OTLP reader still holds, and stops serving /metrics."""
    if _server is not None:
        _server.shutdown()
    if _provider is not None:
        _provider.shutdown()
