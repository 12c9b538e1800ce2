"""The intake service's settings, built once by its ``__main__``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common import config
from services.common.clock import BureauClock
from services.common.config import Keys, ServerSettings, TelemetrySettings, Variable

NAME = "intake"
# The ledger seals personal data, finds people by keyed hash, answers only the platform.
KEYS = ("identity_hash", "personal_data", "service_token")


@dataclass(frozen=True)
class Settings:
    telemetry: TelemetrySettings
    server: ServerSettings
    port: int
    database_url: str
    clock: BureauClock
    keys: Keys
    migrate_at_start: bool


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return (
        *TelemetrySettings.variables(NAME),
        *ServerSettings.VARIABLES,
        config.grpc_port(NAME),
        config.database(NAME),
        config.BUREAU_TIME_ZONE,
        config.MIGRATE_AT_START,
        *Keys.variables(*KEYS),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    return Settings(
        telemetry=TelemetrySettings.read(NAME, env),
        server=ServerSettings.read(env),
        port=env.integer(config.grpc_port(NAME).name),
        database_url=env.text(config.database(NAME).name),
        clock=config.bureau_clock(env),
        keys=Keys.read(env, *KEYS),
        migrate_at_start=env.flag(config.MIGRATE_AT_START.name),
    )
