"""Serves a nameko service (the router, the notifier) once its process has read its settings:
telemetry without the SQL spans (asyncpg does not run under eventlet), each
entrypoint traced, and nameko configured from the settings, the same way for every one.

The caller has monkey-patched the process with eventlet before importing this module."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import nameko
from nameko.cli.run import run
from nameko_opentelemetry import NamekoInstrumentor

from services.common import config, telemetry


class NamekoSettings(Protocol):
    @property
    def telemetry(self) -> config.TelemetrySettings: ...
    @property
    def keys(self) -> config.Keys: ...
    @property
    def amqp_uri(self) -> str: ...
    @property
    def bind_host(self) -> str: ...
    @property
    def http_port(self) -> int: ...
    @property
    def max_workers(self) -> int: ...


def serve(configured: NamekoSettings, service_module: str, adapters: Mapping[str, Any]) -> None:
    """Runs ``service_module``'s nameko services until the process is told to stop."""
    configured.keys.configure()
    telemetry.setup(
        configured.telemetry,
        instrument_asyncpg=False,
        native_stderr=False,
    )
    NamekoInstrumentor().instrument(entrypoint_adapters=adapters)
    nameko.config.update(
        {
            "AMQP_URI": configured.amqp_uri,
            "WEB_SERVER_ADDRESS": f"{configured.bind_host}:{configured.http_port}",
            "max_workers": configured.max_workers,
        }
    )
    try:
        run([service_module])
    finally:
        telemetry.shutdown()
