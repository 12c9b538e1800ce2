"""The send records process's settings, built once by its ``__main__``. It owns the notifier's
database, consumes the events the notifier tells people about (asking intake for each case's
contacts), and listens on loopback only: its one caller is the notifier in the same Pod."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from services.common import config
from services.common.clock import BureauClock
from services.common.config import Keys, ServerSettings, TelemetrySettings, Variable
from services.notifier import settings as notifier_settings

NAME = "notifier_records"
# The database is the notifier's (NOTIFIER_DATABASE_URL, onedoor_notifier).
DATABASE = "notifier"
# The service credential: its callers present it, and it presents it to intake.
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
    amqp_uri: str
    # Events handled at once (the channel's prefetch): each waits on intake and the database.
    prefetch: int
    intake_address: str
    clock: BureauClock
    # When a dated notice (the divorce calendar) is due on its day, bureau time.
    morning: dt.time


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
        config.AMQP_URI,
        Variable("NOTIFIER_RECORDS_PREFETCH", "20"),
        config.address("intake"),
        *notifier_settings.CLOCK_VARIABLES,
        Variable("NOTIFIER_MORNING", "09:00"),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    pool_size = env.integer("NOTIFIER_RECORDS_POOL_SIZE")
    if pool_size < 1:
        raise config.ConfigError(f"NOTIFIER_RECORDS_POOL_SIZE={pool_size}: use 1 or more")
    prefetch = env.integer("NOTIFIER_RECORDS_PREFETCH")
    if prefetch < 1:
        raise config.ConfigError(f"NOTIFIER_RECORDS_PREFETCH={prefetch}: use 1 or more")
    try:
        morning = dt.time.fromisoformat(env.text("NOTIFIER_MORNING"))
    except ValueError:
        raise config.ConfigError("NOTIFIER_MORNING must be a time of day, HH:MM") from None
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
        amqp_uri=env.text(config.AMQP_URI.name),
        prefetch=prefetch,
        intake_address=env.text(config.address("intake").name),
        clock=notifier_settings.clock(env),
        morning=morning,
    )
