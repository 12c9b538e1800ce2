"""The gateway's settings, built once by its ``__main__``.

A gateway with a peers file (``GATEWAY_PEERS_FILE``) federates: it then needs its name and
its TLS identity (``GATEWAY_NAME``, ``GATEWAY_TLS_CERT_FILE``, ``GATEWAY_TLS_KEY_FILE``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway import cors
from gateway.backends import SERVICES
from services.common import config, divisions
from services.common.clock import BureauClock
from services.common.config import (
    ConfigError,
    Keys,
    ServerSettings,
    TelemetrySettings,
    Variable,
)

NAME = "gateway"
# It finds people by keyed hash, verifies people's tokens and calls the services as the
# platform; it never holds the key that opens stored personal data.
KEYS = ("identity_hash", "jwt", "service_token")
PEERS_FILE = Variable("GATEWAY_PEERS_FILE", "")


@dataclass(frozen=True)
class Settings:
    telemetry: TelemetrySettings
    server: ServerSettings
    grpc_port: int
    http_port: int
    # FederationService, for peers holding a certificate only.
    peer_port: int
    # The division code this gateway's windows act for.
    jurisdiction: str
    federation_poll_seconds: float
    # A forward not delivered this long after it was held is stuck (listed, alerted on).
    federation_stuck_after_seconds: float
    clock: BureauClock
    # service -> host:port
    addresses: Mapping[str, str]
    peers_file: str
    name: str
    tls_cert_file: str
    tls_key_file: str
    keys: Keys
    # Origins whose pages may call the HTTP API from a browser (CORS); none by default.
    cors_origins: frozenset[str]


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    federates = bool(config.environment((PEERS_FILE,), environ).text(PEERS_FILE.name))
    identity = None if federates else ""
    return (
        *TelemetrySettings.variables(NAME),
        *ServerSettings.VARIABLES,
        config.grpc_port(NAME),
        Variable("GATEWAY_HTTP_PORT", "8080", listens="http"),
        Variable("GATEWAY_PEER_PORT", "50052", listens="peer"),
        Variable("GATEWAY_JURISDICTION", "320585"),
        Variable("GATEWAY_FEDERATION_POLL_SECONDS", "1.0"),
        Variable("GATEWAY_FEDERATION_STUCK_AFTER_SECONDS", "900"),
        config.BUREAU_TIME_ZONE,
        *(config.address(s) for s in SERVICES),
        PEERS_FILE,
        Variable("GATEWAY_NAME", identity),
        Variable("GATEWAY_TLS_CERT_FILE", identity),
        Variable("GATEWAY_TLS_KEY_FILE", identity),
        Variable("GATEWAY_CORS_ORIGINS", ""),
        *Keys.variables(*KEYS),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    jurisdiction = env.text("GATEWAY_JURISDICTION")
    if not divisions.is_known(jurisdiction):
        raise ConfigError(f"GATEWAY_JURISDICTION={jurisdiction} is not a GB/T 2260 division code")
    try:
        cors_origins = cors.parse_origins(env.text("GATEWAY_CORS_ORIGINS"))
    except ValueError as error:
        raise ConfigError(str(error)) from None
    poll = env.number("GATEWAY_FEDERATION_POLL_SECONDS")
    if poll <= 0:
        raise ConfigError(f"GATEWAY_FEDERATION_POLL_SECONDS={poll}: use a positive number")
    stuck_after = env.number("GATEWAY_FEDERATION_STUCK_AFTER_SECONDS")
    if not 0 < stuck_after < 2**31:
        raise ConfigError(
            f"GATEWAY_FEDERATION_STUCK_AFTER_SECONDS={stuck_after}: use a positive number of seconds"
        )
    return Settings(
        telemetry=TelemetrySettings.read(NAME, env),
        server=ServerSettings.read(env),
        grpc_port=env.integer(config.grpc_port(NAME).name),
        http_port=env.integer("GATEWAY_HTTP_PORT"),
        peer_port=env.integer("GATEWAY_PEER_PORT"),
        jurisdiction=jurisdiction,
        federation_poll_seconds=poll,
        federation_stuck_after_seconds=stuck_after,
        clock=config.bureau_clock(env),
        addresses={s: env.text(config.address(s).name) for s in SERVICES},
        peers_file=env.text(PEERS_FILE.name),
        name=env.text("GATEWAY_NAME"),
        tls_cert_file=env.text("GATEWAY_TLS_CERT_FILE"),
        tls_key_file=env.text("GATEWAY_TLS_KEY_FILE"),
        keys=Keys.read(env, *KEYS),
        cors_origins=cors_origins,
    )
