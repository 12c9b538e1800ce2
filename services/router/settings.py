"""The router's settings, built once by its ``__main__`` and installed before nameko imports
the service (nameko instantiates ``RouterService`` itself, and its timer's interval and its
gRPC proxies are fixed when the class is defined): ``service.py`` takes them from
:func:`installed`, which refuses to answer before :func:`install`.

No nameko here, so that the tests import it without eventlet.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common import config
from services.common.catalog import DEPARTMENTS
from services.common.clock import BureauClock
from services.common.config import ConfigError, Keys, TelemetrySettings, Variable
from services.router import queues

NAME = "router"
# The services it calls: intake, and every department of the catalog.
CALLS = ("intake", *DEPARTMENTS)
KEYS = ("service_token",)


@dataclass(frozen=True)
class Settings:
    telemetry: TelemetrySettings
    bind_host: str
    # /healthz, for the probes.
    http_port: int
    max_workers: int
    amqp_uri: str
    # How often open cases past their deadline are looked for.
    overdue_seconds: float
    clock: BureauClock
    # What every queue is declared with (see queues).
    queue_arguments: Mapping[str, str | int]
    # service -> host:port
    addresses: Mapping[str, str]
    keys: Keys


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return (
        *TelemetrySettings.variables(NAME),
        config.BIND_HOST,
        Variable("ROUTER_HTTP_PORT", "8090", listens="http"),
        Variable("ROUTER_MAX_WORKERS", "10"),
        config.AMQP_URI,
        Variable("ROUTER_OVERDUE_SECONDS", "300.0"),
        config.BUREAU_TIME_ZONE,
        Variable("ROUTER_QUEUE_TYPE", "classic"),
        Variable("ROUTER_QUEUE_DELIVERY_LIMIT", "0"),
        *(config.address(s) for s in CALLS),
        *Keys.variables(*KEYS),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    overdue = env.number("ROUTER_OVERDUE_SECONDS")
    if overdue <= 0:
        raise ConfigError(f"ROUTER_OVERDUE_SECONDS={overdue}: use a positive number of seconds")
    workers = env.integer("ROUTER_MAX_WORKERS")
    if workers < 1:
        raise ConfigError(f"ROUTER_MAX_WORKERS={workers}: use 1 or more")
    return Settings(
        telemetry=TelemetrySettings.read(NAME, env),
        bind_host=env.text("BIND_HOST"),
        http_port=env.integer("ROUTER_HTTP_PORT"),
        max_workers=workers,
        amqp_uri=env.text(config.AMQP_URI.name),
        overdue_seconds=overdue,
        clock=config.bureau_clock(env),
        queue_arguments=queues.queue_arguments(
            env.text("ROUTER_QUEUE_TYPE"), env.integer("ROUTER_QUEUE_DELIVERY_LIMIT")
        ),
        addresses={s: env.text(config.address(s).name) for s in CALLS},
        keys=Keys.read(env, *KEYS),
    )


_installed: Settings | None = None


def install(settings: Settings) -> None:
    """Makes the settings the router's, before nameko imports the service."""
    global _installed
    _installed = settings


def installed() -> Settings:
    if _installed is None:
        raise RuntimeError(
            "the router's settings are not installed: start it with python -m services.router"
        )
    return _installed
