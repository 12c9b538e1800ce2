"""Configuration comes from environment variables only, so the same image runs anywhere.

Each process has a settings module (``services/<process>/settings.py``, ``gateway/settings.py``)
that declares the variables it reads as :class:`Variable` (``variables(environ)``) and builds
one frozen settings dataclass from them (``from_env()``), once, in the process's ``__main__``,
which passes it down. A missing or malformed variable fails at start-up with a message naming
the variable to set. Nothing below the settings modules reads the environment
(tests/test_settings.py holds every module to it); the keys read deep in the call graph
(identity hashing, personal data, tokens) are configured once by ``__main__`` through
:meth:`Keys.configure`.

The declarations are what tests/test_k8s_manifests.py holds the manifests against: every
required variable set, every address, database and broker set, every secret from a Secret.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from services.common import auth, keyed_hash, personal_data
from services.common.catalog import DEPARTMENTS
from services.common.clock import DEFAULT_TIME_ZONE, BureauClock, zone_named
from services.common.event_loop import LOOPS


class ConfigError(RuntimeError):
    """A variable is missing or malformed; the message says which and what to set."""


@dataclass(frozen=True)
class Variable:
    """One environment variable a process reads."""

    name: str
    # None: required, the process does not start without it.
    default: str | None = None
    # A key: development placeholder by default, which every deployment replaces from a Secret.
    secret: bool = False
    # A port this process listens on: "grpc", "http", or "peer" (gRPC with mutual TLS).
    listens: str = ""
    # The gRPC service whose address this is (``<SERVICE>_ADDR``).
    calls: str = ""
    # The service whose database this URL names (``<SERVICE>_DATABASE_URL``).
    database: str = ""
    # The AMQP broker's URI.
    broker: bool = False

    @property
    def required(self) -> bool:
        return self.default is None


class Environment:
    """Reads declared variables from one mapping (``os.environ`` in a process, a dict in a
    test). Reading a variable that is not declared is a programming error."""

    def __init__(self, variables: Iterable[Variable], environ: Mapping[str, str]) -> None:
        self.variables = {v.name: v for v in variables}
        self.environ = environ

    def text(self, name: str) -> str:
        variable = self.variables.get(name)
        if variable is None:
            raise KeyError(f"{name} is read but not declared in the process's variables")
        value = self.environ.get(name, "")
        if value == "":
            if variable.default is None:
                raise ConfigError(f"environment variable {name} is not set; set it and start again")
            return variable.default
        return value

    def integer(self, name: str) -> int:
        raw = self.text(name)
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(
                f"environment variable {name}={raw!r} is not a whole number"
            ) from None

    def number(self, name: str) -> float:
        raw = self.text(name)
        try:
            return float(raw)
        except ValueError:
            raise ConfigError(f"environment variable {name}={raw!r} is not a number") from None

    def flag(self, name: str) -> bool:
        return self.choice(name, ("true", "false")) == "true"

    def choice(self, name: str, choices: Iterable[str]) -> str:
        value = self.text(name)
        allowed = tuple(choices)
        if value not in allowed:
            raise ConfigError(f"environment variable {name}={value!r}: use {' or '.join(allowed)}")
        return value


def environment(
    variables: Iterable[Variable], environ: Mapping[str, str] | None = None
) -> Environment:
    """The declared variables over ``environ``, the process's own environment by default:
    the one place a process reads it."""
    return Environment(variables, os.environ if environ is None else environ)


# Defaults match the project's development machines: PostgreSQL with trust auth on loopback,
# RabbitMQ with the guest account. Deployments set every one of these.
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432"
DEFAULT_AMQP_URI = "amqp://guest:guest@127.0.0.1:5672/"

# Where each gRPC service listens by default, and the variable that overrides its address.
# The departments take the ports from 50062 on, in the catalog's order.
FIRST_DEPARTMENT_PORT = 50062
DEFAULT_PORTS = {
    "gateway": 50051,
    "intake": 50061,
    **{d: FIRST_DEPARTMENT_PORT + i for i, d in enumerate(DEPARTMENTS)},
    "relay": 50069,
    # Other agencies' records come in here (its own port: agencies reach nothing else).
    "ingest": 50070,
    # The notifier's send records, beside it in its Pod (loopback only).
    "notifier_records": 50071,
}
assert len(set(DEFAULT_PORTS.values())) == len(DEFAULT_PORTS), "two services share a port"

# Where each process serves Prometheus text on GET /metrics, from OpenTelemetry's customary
# 9464 on (a cluster sets each pod's to 9464; one machine running them all needs eight).
FIRST_METRICS_PORT = 9464
METRICS_PORTS = {
    name: FIRST_METRICS_PORT + i
    for i, name in enumerate(
        (
            "gateway",
            "intake",
            *DEPARTMENTS,
            "relay",
            "router",
            "ingest",
            "notifier",
            "notifier_records",
        )
    )
}


# --- the variables several processes read ----------------------------------------------------


def grpc_port(service: str) -> Variable:
    """``<SERVICE>_GRPC_PORT``: where this process serves gRPC."""
    return Variable(f"{service.upper()}_GRPC_PORT", str(DEFAULT_PORTS[service]), listens="grpc")


def address(service: str) -> Variable:
    """``<SERVICE>_ADDR`` (host:port) of a gRPC service this process calls."""
    return Variable(f"{service.upper()}_ADDR", f"127.0.0.1:{DEFAULT_PORTS[service]}", calls=service)


def database(service: str) -> Variable:
    """``<SERVICE>_DATABASE_URL``, defaulting to a local database named ``onedoor_<service>``."""
    return Variable(
        f"{service.upper()}_DATABASE_URL",
        f"{DEFAULT_POSTGRES}/onedoor_{service}",
        database=service,
    )


AMQP_URI = Variable("AMQP_URI", DEFAULT_AMQP_URI, broker=True)
BIND_HOST = Variable("BIND_HOST", "0.0.0.0")
# The bureau's clock, whatever the host's or the pod's TZ.
BUREAU_TIME_ZONE = Variable("BUREAU_TIME_ZONE", DEFAULT_TIME_ZONE)
# Local runs and tests migrate at start-up; a cluster sets it false and migrates with a Job
# per version (`onedoor migrate`), the services only checking the schema.
MIGRATE_AT_START = Variable("ONEDOOR_MIGRATE_AT_START", "true")
# What an asyncio process's event loop is (services.common.event_loop): uvloop or asyncio.
EVENT_LOOP = Variable("EVENT_LOOP", "uvloop")


def event_loop(env: Environment) -> str:
    loop = env.text(EVENT_LOOP.name)
    if loop not in LOOPS:
        raise ConfigError(f"EVENT_LOOP={loop!r} is not supported; use {' or '.join(LOOPS)}")
    return loop


def bureau_clock(env: Environment) -> BureauClock:
    try:
        return BureauClock(zone_named(env.text(BUREAU_TIME_ZONE.name)))
    except ValueError as error:
        raise ConfigError(str(error)) from None


@dataclass(frozen=True)
class TelemetrySettings:
    """What services.common.telemetry, metrics and logs are set up with. The OTel SDK reads the
    rest of the standard variables (OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_BSP_*,
    OTEL_METRIC_EXPORT_INTERVAL) itself."""

    # The process's own name, in every log line.
    process: str
    # OTEL_SERVICE_NAME, or the process's name.
    service_name: str
    # otlp, console: none configured means no spans leave the process.
    exporters: tuple[str, ...]
    # http/protobuf (the spec's default, and the only one that works under eventlet) or grpc.
    otlp_protocol: str
    log_level: str
    # prometheus (GET /metrics on metrics_port), otlp, console; none turns metrics off.
    metrics_exporters: tuple[str, ...] = ("prometheus",)
    metrics_port: int = FIRST_METRICS_PORT
    # Where /metrics listens: BIND_HOST, which every process declares with its servers.
    metrics_host: str = "0.0.0.0"

    EXPORTERS = ("otlp", "console", "none")
    METRICS_EXPORTERS = ("prometheus", "otlp", "console", "none")
    PROTOCOLS = ("http/protobuf", "grpc")

    @staticmethod
    def variables(process: str) -> tuple[Variable, ...]:
        return (
            Variable("OTEL_TRACES_EXPORTER", "none"),
            Variable("OTEL_METRICS_EXPORTER", "prometheus"),
            Variable("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", ""),
            Variable("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL", ""),
            Variable("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"),
            Variable("OTEL_SERVICE_NAME", process),
            Variable(
                f"{process.upper()}_METRICS_PORT", str(METRICS_PORTS[process]), listens="metrics"
            ),
            Variable("LOG_LEVEL", "INFO"),
        )

    @staticmethod
    def _names(env: Environment, variable: str, allowed: Iterable[str]) -> tuple[str, ...]:
        allowed = tuple(allowed)
        names = [n.strip() for n in env.text(variable).split(",")]
        for name in names:
            if name not in ("", *allowed):
                raise ConfigError(f"{variable}={name!r} is not supported; use {', '.join(allowed)}")
        return tuple(n for n in names if n not in ("", "none"))

    @classmethod
    def _protocol(cls, env: Environment, signal: str) -> str:
        variable = f"OTEL_EXPORTER_OTLP_{signal}_PROTOCOL"
        protocol = env.text(variable) or env.text("OTEL_EXPORTER_OTLP_PROTOCOL")
        if protocol not in cls.PROTOCOLS:
            raise ConfigError(
                f"{variable} or OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r} is not supported; use "
                "http/protobuf or grpc"
            )
        return protocol

    @classmethod
    def read(cls, process: str, env: Environment) -> TelemetrySettings:
        exporters = cls._names(env, "OTEL_TRACES_EXPORTER", cls.EXPORTERS)
        metrics_exporters = cls._names(env, "OTEL_METRICS_EXPORTER", cls.METRICS_EXPORTERS)
        protocol = cls._protocol(env, "TRACES")
        metrics_protocol = cls._protocol(env, "METRICS")
        if "otlp" in metrics_exporters and metrics_protocol != protocol:
            raise ConfigError(
                "OTEL_EXPORTER_OTLP_METRICS_PROTOCOL differs from the traces' protocol; "
                "onedoor sends both the same way: set OTEL_EXPORTER_OTLP_PROTOCOL only"
            )
        level = env.text("LOG_LEVEL").upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ConfigError(f"LOG_LEVEL={level!r}: use DEBUG, INFO, WARNING or ERROR")
        port = env.integer(f"{process.upper()}_METRICS_PORT")
        return cls(
            process=process,
            service_name=env.text("OTEL_SERVICE_NAME"),
            exporters=exporters,
            otlp_protocol=protocol,
            log_level=level,
            metrics_exporters=metrics_exporters,
            metrics_port=port,
            metrics_host=env.text(BIND_HOST.name),
        )


def opt_in_stable_http_conventions() -> None:
    """The HTTP instrumentation reads its semantic-convention mode from the environment only:
    the stable conventions label request durations with the route template
    (``http.route``), never the raw path, which names receipts."""
    os.environ.setdefault("OTEL_SEMCONV_STABILITY_OPT_IN", "http")


@dataclass(frozen=True)
class ServerSettings:
    """How a gRPC server of this process binds, ages connections and drains."""

    bind_host: str
    # Clients keep one connection for as long as it lives; ending connections after a few
    # minutes makes them re-resolve, so new replicas get their share of calls.
    max_connection_age_seconds: int
    shutdown_grace_seconds: float

    VARIABLES = (
        BIND_HOST,
        Variable("GRPC_MAX_CONNECTION_AGE_SECONDS", "300"),
        Variable("SHUTDOWN_GRACE_SECONDS", "10.0"),
    )

    @classmethod
    def read(cls, env: Environment) -> ServerSettings:
        return cls(
            bind_host=env.text("BIND_HOST"),
            max_connection_age_seconds=env.integer("GRPC_MAX_CONNECTION_AGE_SECONDS"),
            shutdown_grace_seconds=env.number("SHUTDOWN_GRACE_SECONDS"),
        )


# --- keys --------------------------------------------------------------------------------------

KEY_VARIABLES = {
    "identity_hash": Variable("IDENTITY_HASH_KEY", keyed_hash.DEVELOPMENT_KEY, secret=True),
    "personal_data": Variable("PERSONAL_DATA_KEY", personal_data.DEVELOPMENT_DATA_KEY, secret=True),
    "jwt": Variable("AUTH_JWT_KEY", auth.DEVELOPMENT_JWT_KEY, secret=True),
    "service_token": Variable("SERVICE_TOKEN", auth.DEVELOPMENT_SERVICE_TOKEN, secret=True),
}


@dataclass(frozen=True)
class Keys:
    """The keys a process holds, only those it needs (the gateway hashes identities but never
    holds the key that opens stored personal data)."""

    identity_hash: str | None = None
    personal_data: str | None = None
    jwt: str | None = None
    service_token: str | None = None

    @staticmethod
    def variables(*kinds: str) -> tuple[Variable, ...]:
        return tuple(KEY_VARIABLES[kind] for kind in kinds)

    @classmethod
    def read(cls, env: Environment, *kinds: str) -> Keys:
        keys = cls(**{kind: env.text(KEY_VARIABLES[kind].name) for kind in kinds})
        if keys.personal_data is not None:
            try:
                personal_data.check_key(keys.personal_data)
            except ValueError as error:
                raise ConfigError(str(error)) from None
        return keys

    @classmethod
    def development(cls) -> Keys:
        """Every development key: tests and benchmarks that hash, seal or sign in-process."""
        return cls(**{kind: str(v.default) for kind, v in KEY_VARIABLES.items()})

    def configure(self) -> None:
        """Hands each key to the module that uses it, once, at start-up."""
        if self.identity_hash is not None:
            keyed_hash.configure(self.identity_hash)
        if self.personal_data is not None:
            personal_data.configure(self.personal_data)
        if self.jwt is not None or self.service_token is not None:
            auth.configure(jwt_key=self.jwt, service_token=self.service_token)
