"""The command line's settings, read once by ``main``: the options a command is not given
come from these (an option always wins)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.common import config
from services.common.catalog import DEPARTMENTS
from services.common.clock import BureauClock
from services.common.config import Keys, Variable

DEFAULT_GATEWAY = "http://127.0.0.1:8080"
DEFAULT_INGEST = "http://127.0.0.1:8070"
# `onedoor migrate` reaches a service's database itself, not through the gateway.
DATABASES = ("intake", *DEPARTMENTS, "ingest", "notifier")
# `onedoor token` signs tokens for local use with the platform's key.
KEYS = ("jwt",)


@dataclass(frozen=True)
class Settings:
    # The gateway's HTTP address.
    gateway: str
    # The ingest service's HTTP address (`onedoor push`).
    ingest: str
    # The bearer token ("" when none is set: a command that calls the gateway then stops).
    token: str
    # `onedoor push --client-id`: the identity provider an agency's client signs in at, and
    # the client's secret (read from here or a prompt, never from an option: options end up
    # in the shell's history and in the process list).
    issuer: str
    client_secret: str
    # The trace viewer `onedoor trace` links to ("": none).
    trace_url: str
    keys: Keys
    # Each service database's URL, for `onedoor migrate`.
    databases: Mapping[str, str]
    # The bureau's clock: times are shown in its local time (BUREAU_TIME_ZONE).
    clock: BureauClock


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return (
        Variable("ONEDOOR_GATEWAY", DEFAULT_GATEWAY),
        Variable("ONEDOOR_TOKEN", ""),
        Variable("ONEDOOR_TRACE_URL", ""),
        Variable("ONEDOOR_INGEST", DEFAULT_INGEST),
        Variable("ONEDOOR_ISSUER", ""),
        Variable("ONEDOOR_CLIENT_SECRET", ""),
        *Keys.variables(*KEYS),
        *(config.database(service) for service in DATABASES),
        config.BUREAU_TIME_ZONE,
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    return Settings(
        gateway=env.text("ONEDOOR_GATEWAY"),
        ingest=env.text("ONEDOOR_INGEST"),
        token=env.text("ONEDOOR_TOKEN").strip(),
        issuer=env.text("ONEDOOR_ISSUER"),
        client_secret=env.text("ONEDOOR_CLIENT_SECRET"),
        trace_url=env.text("ONEDOOR_TRACE_URL"),
        keys=Keys.read(env, *KEYS),
        databases={s: env.text(f"{s.upper()}_DATABASE_URL") for s in DATABASES},
        clock=config.bureau_clock(env),
    )
