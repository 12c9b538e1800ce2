"""The intake service's settings, built once by its ``__main__``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common import config
from services.common.clock import BureauClock
from services.common.config import ConfigError, Keys, ServerSettings, TelemetrySettings, Variable

NAME = "intake"
# The ledger seals personal data, finds people by keyed hash, answers only the platform.
KEYS = ("identity_hash", "personal_data", "service_token")
# How often the cases-open, overdue and due-soon gauges are counted again from the ledger.
CASE_GAUGES_SECONDS = Variable("INTAKE_CASE_GAUGES_SECONDS", "15.0")


@dataclass(frozen=True)
class Settings:
    telemetry: TelemetrySettings
    # uvloop or asyncio (services.common.event_loop).
    event_loop: str
    server: ServerSettings
    port: int
    database_url: str
    clock: BureauClock
    keys: Keys
    migrate_at_start: bool
    case_gauges_seconds: float


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return (
        *TelemetrySettings.variables(NAME),
        config.EVENT_LOOP,
        *ServerSettings.VARIABLES,
        config.grpc_port(NAME),
        config.database(NAME),
        config.BUREAU_TIME_ZONE,
        config.MIGRATE_AT_START,
        CASE_GAUGES_SECONDS,
        *Keys.variables(*KEYS),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    gauges = env.number(CASE_GAUGES_SECONDS.name)
    if gauges <= 0:
        raise ConfigError(f"{CASE_GAUGES_SECONDS.name}={gauges}: use a positive number of seconds")
    return Settings(
        telemetry=TelemetrySettings.read(NAME, env),
        event_loop=config.event_loop(env),
        server=ServerSettings.read(env),
        port=env.integer(config.grpc_port(NAME).name),
        database_url=env.text(config.database(NAME).name),
        clock=config.bureau_clock(env),
        keys=Keys.read(env, *KEYS),
        migrate_at_start=env.flag(config.MIGRATE_AT_START.name),
        case_gauges_seconds=gauges,
    )
