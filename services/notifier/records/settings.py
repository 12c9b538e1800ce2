"""The send records process's settings, built once by its ``__main__``. It owns the notifier's
database and listens on loopback only: its one caller is the notifier in the same Pod."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common import config
from services.common.config import Keys, ServerSettings, TelemetrySettings, Variable

NAME = "notifier_records"
# The database is the notifier's (NOTIFIER_DATABASE_URL, onedoor_notifier).
DATABASE = "notifier"
# The service credential its callers present.
KEYS = ("service_token",)
# Loopback, whatever BIND_HOST says for the Pod's other servers: nothing outside the Pod
# calls it. Its /metrics follows BIND_HOST, for the cluster's scraper.
LISTEN_HOST = Variable("NOTIFIER_RECORDS_LISTEN_HOST", "127.0.0.1")


@dataclass(frozen=True)
class Settings:
    telemetry: TelemetrySettings
    # uvloop or asyncio (services.common.event_loop).
    event_loop: str
    server: ServerSettings
    port: int
    database_url: str
    migrate_at_start: bool
    keys: Keys
    pool_size: int


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return (
        *TelemetrySettings.variables(NAME),
        config.EVENT_LOOP,
        *ServerSettings.VARIABLES,
        LISTEN_HOST,
        config.grpc_port(NAME),
        config.database(DATABASE),
        config.MIGRATE_AT_START,
        *Keys.variables(*KEYS),
        Variable("NOTIFIER_RECORDS_POOL_SIZE", "10"),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    pool_size = env.integer("NOTIFIER_RECORDS_POOL_SIZE")
    if pool_size < 1:
        raise config.ConfigError(f"NOTIFIER_RECORDS_POOL_SIZE={pool_size}: use 1 or more")
    server = ServerSettings.read(env)
    return Settings(
        telemetry=TelemetrySettings.read(NAME, env),
        event_loop=config.event_loop(env),
        server=ServerSettings(
            bind_host=env.text(LISTEN_HOST.name),
            max_connection_age_seconds=server.max_connection_age_seconds,
            shutdown_grace_seconds=server.shutdown_grace_seconds,
        ),
        port=env.integer(config.grpc_port(NAME).name),
        database_url=env.text(config.database(DATABASE).name),
        migrate_at_start=env.flag(config.MIGRATE_AT_START.name),
        keys=Keys.read(env, *KEYS),
        pool_size=pool_size,
    )
