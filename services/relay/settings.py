"""The outbox relay's settings, built once by its ``__main__``.

``RELAY_SOURCES`` names the services whose outboxes it drains (default: intake and every
department of the catalog); the relay then reads each one's ``<SERVICE>_DATABASE_URL``, so
its variables depend on that one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common import config
from services.common.catalog import DEPARTMENTS
from services.common.config import ConfigError, ServerSettings, TelemetrySettings, Variable

NAME = "relay"
# Every service with an outbox.
OUTBOXES = ("intake", *DEPARTMENTS)
SOURCES = Variable("RELAY_SOURCES", ",".join(OUTBOXES))


@dataclass(frozen=True)
class Settings:
    telemetry: TelemetrySettings
    # uvloop or asyncio (services.common.event_loop).
    event_loop: str
    server: ServerSettings
    # Health only: Kubernetes probes the relay like every other process.
    port: int
    amqp_uri: str
    poll_seconds: float
    # service -> its database's URL, in RELAY_SOURCES's order.
    database_urls: Mapping[str, str]
    # Locally the relay may be first to a database and creates its outbox; in a cluster the
    # services' migration Jobs do, and the relay checks nothing of schemas it does not own.
    migrate_at_start: bool


def sources(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    raw = config.environment((SOURCES,), environ).text(SOURCES.name)
    found = tuple(s.strip() for s in raw.split(",") if s.strip())
    unknown = [s for s in found if s not in OUTBOXES]
    if unknown or not found:
        raise ConfigError(
            f"RELAY_SOURCES={raw!r}: name services with an outbox ({', '.join(OUTBOXES)})"
        )
    return found


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return (
        *TelemetrySettings.variables(NAME),
        config.EVENT_LOOP,
        *ServerSettings.VARIABLES,
        config.grpc_port(NAME),
        config.AMQP_URI,
        Variable("RELAY_POLL_SECONDS", "1.0"),
        SOURCES,
        config.MIGRATE_AT_START,
        *(config.database(s) for s in sources(environ)),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    poll = env.number("RELAY_POLL_SECONDS")
    if poll <= 0:
        raise ConfigError(f"RELAY_POLL_SECONDS={poll}: use a positive number of seconds")
    return Settings(
        telemetry=TelemetrySettings.read(NAME, env),
        event_loop=config.event_loop(env),
        server=ServerSettings.read(env),
        port=env.integer(config.grpc_port(NAME).name),
        amqp_uri=env.text(config.AMQP_URI.name),
        poll_seconds=poll,
        database_urls={s: env.text(config.database(s).name) for s in sources(environ)},
        migrate_at_start=env.flag(config.MIGRATE_AT_START.name),
    )
