"""What every department process reads: its gRPC port and database, its server's and
telemetry's settings, the bureau's time zone, the keys a department holds, and where intake
is (a case opened by receipt is read from there). Each
department's own settings module (``services/<department>/settings.py``) adds its own."""

from __future__ import annotations

from dataclasses import dataclass

from services.common import config
from services.common.clock import BureauClock
from services.common.config import Environment, Keys, ServerSettings, TelemetrySettings, Variable

# A department seals and opens personal data, finds people by keyed hash, and answers only
# the platform's own processes.
KEYS = ("identity_hash", "personal_data", "service_token")


@dataclass(frozen=True)
class DepartmentSettings:
    name: str
    telemetry: TelemetrySettings
    # uvloop or asyncio (services.common.event_loop).
    event_loop: str
    server: ServerSettings
    port: int
    database_url: str
    clock: BureauClock
    keys: Keys
    migrate_at_start: bool
    intake_address: str


def variables(name: str) -> tuple[Variable, ...]:
    return (
        *TelemetrySettings.variables(name),
        config.EVENT_LOOP,
        *ServerSettings.VARIABLES,
        config.grpc_port(name),
        config.database(name),
        config.BUREAU_TIME_ZONE,
        config.MIGRATE_AT_START,
        *Keys.variables(*KEYS),
        config.address("intake"),
    )


def read(name: str, env: Environment) -> DepartmentSettings:
    return DepartmentSettings(
        name=name,
        telemetry=TelemetrySettings.read(name, env),
        event_loop=config.event_loop(env),
        server=ServerSettings.read(env),
        port=env.integer(config.grpc_port(name).name),
        database_url=env.text(config.database(name).name),
        clock=config.bureau_clock(env),
        keys=Keys.read(env, *KEYS),
        migrate_at_start=env.flag(config.MIGRATE_AT_START.name),
        intake_address=env.text(config.address("intake").name),
    )
