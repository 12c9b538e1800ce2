"""Configuration comes from environment variables only, so the same image runs anywhere.

Each process declares its settings as a frozen dataclass built by ``from_env``; a missing or
malformed variable fails at start-up with a message that names the variable to set.
"""

from __future__ import annotations

import os

from services.common.catalog import DEPARTMENTS
from services.common.clock import DEFAULT_TIME_ZONE, BureauClock, zone_named


class ConfigError(RuntimeError):
    """A variable is missing or malformed; the message says which and what to set."""


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ConfigError(f"environment variable {name} is not set; set it and start again")
        return default
    return value


def env_int(name: str, default: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        if default is None:
            raise ConfigError(f"environment variable {name} is not set; set it to a whole number")
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not a whole number") from None


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not a number") from None


# Defaults match the project's development machines: PostgreSQL with trust auth on loopback,
# RabbitMQ with the guest account. Deployments set every one of these.
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"


def database_url(service: str) -> str:
    """``<SERVICE>_DATABASE_URL``, defaulting to a local database named ``onedoor_<service>``."""
    return env_str(f"{service.upper()}_DATABASE_URL", f"{DEFAULT_POSTGRES}/onedoor_{service}")


def amqp_uri() -> str:
    return env_str("AMQP_URI", DEFAULT_AMQP_URI)


# Where each gRPC service listens by default, and the variable that overrides its address.
# The departments take the ports from 50062 on, in the catalog's order.
FIRST_DEPARTMENT_PORT = 50062
DEFAULT_PORTS = {
    "gateway": 50051,
    "intake": 50061,
    **{d: FIRST_DEPARTMENT_PORT + i for i, d in enumerate(DEPARTMENTS)},
    "relay": 50069,
}
assert len(set(DEFAULT_PORTS.values())) == len(DEFAULT_PORTS), "two services share a port"


def service_port(service: str) -> int:
    return env_int(f"{service.upper()}_GRPC_PORT", DEFAULT_PORTS[service])


def service_address(service: str) -> str:
    """``<SERVICE>_ADDR`` (host:port) of a gRPC service this process calls."""
    return env_str(f"{service.upper()}_ADDR", f"127.0.0.1:{DEFAULT_PORTS[service]}")


def bureau_clock() -> BureauClock:
    """The bureau's clock in ``BUREAU_TIME_ZONE`` (default Asia/Shanghai), whatever the host's
    or the pod's TZ."""
    try:
        return BureauClock(zone_named(env_str("BUREAU_TIME_ZONE", DEFAULT_TIME_ZONE)))
    except ValueError as error:
        raise ConfigError(str(error)) from None
