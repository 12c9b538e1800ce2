"""The notifier's settings, built once by its ``__main__`` and installed before nameko
imports the service (nameko instantiates ``NotifierService`` itself; its timer's interval and
its gRPC proxy are fixed when the class is defined): ``service.py`` takes them from
:func:`installed`. No nameko here, so the tests import it without eventlet."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from services.common import config
from services.common.clock import BureauClock
from services.common.config import ConfigError, Keys, TelemetrySettings, Variable

NAME = "notifier"
# intake, and the send records process beside it in the Pod (which owns the database).
CALLS = ("intake", "notifier_records")
# The service credential (intake answers only the platform's processes) and the key that
# opens a phone number, which only this process uses, and only when it sends.
KEYS = ("service_token", "personal_data")
PROVIDERS = ("file", "http")


@dataclass(frozen=True)
class Settings:
    telemetry: TelemetrySettings
    bind_host: str
    http_port: int
    max_workers: int
    amqp_uri: str
    clock: BureauClock
    addresses: Mapping[str, str]
    keys: Keys
    # How often due messages are looked for and sent.
    send_seconds: float
    provider: str
    outbox_file: Path
    provider_url: str
    provider_account: str
    provider_secret: str
    provider_timeout_seconds: float
    # How long a sender holds a message it took: one that died mid-send leaves it to be sent
    # again (same idempotency key) after this.
    lease_seconds: float
    # The messages' signature and where a rejected applicant asks for a review, per language.
    bureau: Mapping[str, str]
    review: Mapping[str, str]


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    return (
        *TelemetrySettings.variables(NAME),
        config.BIND_HOST,
        Variable("NOTIFIER_HTTP_PORT", "8091", listens="http"),
        Variable("NOTIFIER_MAX_WORKERS", "10"),
        config.AMQP_URI,
        *(config.address(s) for s in CALLS),
        *Keys.variables(*KEYS),
        Variable("NOTIFIER_SEND_SECONDS", "1.0"),
        Variable("NOTIFIER_PROVIDER", "file"),
        Variable("NOTIFIER_OUTBOX_FILE", ".run/notifier/messages.jsonl"),
        Variable("NOTIFIER_PROVIDER_URL", ""),
        Variable("NOTIFIER_PROVIDER_ACCOUNT", ""),
        Variable("NOTIFIER_PROVIDER_SECRET", "development-provider-secret", secret=True),
        Variable("NOTIFIER_PROVIDER_TIMEOUT_SECONDS", "10"),
        Variable("NOTIFIER_LEASE_SECONDS", "60"),
        *CLOCK_VARIABLES,
        Variable("NOTIFIER_BUREAU_NAME", "民政局"),
        Variable("NOTIFIER_BUREAU_NAME_EN", "Civil Affairs Bureau"),
        Variable("NOTIFIER_REVIEW_OFFICE", "本级人民政府"),
        Variable("NOTIFIER_REVIEW_OFFICE_EN", "the people's government at the same level"),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    send = env.number("NOTIFIER_SEND_SECONDS")
    if send <= 0:
        raise ConfigError(f"NOTIFIER_SEND_SECONDS={send}: use a positive number of seconds")
    workers = env.integer("NOTIFIER_MAX_WORKERS")
    if workers < 1:
        raise ConfigError(f"NOTIFIER_MAX_WORKERS={workers}: use 1 or more")
    provider = env.text("NOTIFIER_PROVIDER")
    if provider not in PROVIDERS:
        raise ConfigError(f"NOTIFIER_PROVIDER={provider!r}: use one of {', '.join(PROVIDERS)}")
    url = env.text("NOTIFIER_PROVIDER_URL")
    if provider == "http" and not url.startswith(("http://", "https://")):
        raise ConfigError("NOTIFIER_PROVIDER=http needs NOTIFIER_PROVIDER_URL, an http(s) URL")
    timeout = env.number("NOTIFIER_PROVIDER_TIMEOUT_SECONDS")
    if timeout <= 0:
        raise ConfigError("NOTIFIER_PROVIDER_TIMEOUT_SECONDS must be positive")
    lease = env.number("NOTIFIER_LEASE_SECONDS")
    if lease <= timeout:
        raise ConfigError(
            f"NOTIFIER_LEASE_SECONDS={lease} must exceed NOTIFIER_PROVIDER_TIMEOUT_SECONDS={timeout}"
        )
    return Settings(
        telemetry=TelemetrySettings.read(NAME, env),
        bind_host=env.text("BIND_HOST"),
        http_port=env.integer("NOTIFIER_HTTP_PORT"),
        max_workers=workers,
        amqp_uri=env.text(config.AMQP_URI.name),
        clock=clock(env),
        addresses={s: env.text(config.address(s).name) for s in CALLS},
        keys=Keys.read(env, *KEYS),
        send_seconds=send,
        provider=provider,
        outbox_file=Path(env.text("NOTIFIER_OUTBOX_FILE")),
        provider_url=url,
        provider_account=env.text("NOTIFIER_PROVIDER_ACCOUNT"),
        provider_secret=env.text("NOTIFIER_PROVIDER_SECRET"),
        provider_timeout_seconds=timeout,
        lease_seconds=lease,
        bureau={
            "zh-CN": env.text("NOTIFIER_BUREAU_NAME"),
            "en": env.text("NOTIFIER_BUREAU_NAME_EN"),
        },
        review={
            "zh-CN": env.text("NOTIFIER_REVIEW_OFFICE"),
            "en": env.text("NOTIFIER_REVIEW_OFFICE_EN"),
        },
    )


# For drills and tests of quiet hours and the divorce calendar: the notifier's clock starts at
# this RFC 3339 instant and runs RATE times as fast (eventlet's timers and libfaketime do not
# mix: its sleeps fail under a faked clock). Empty: the real clock. Read by both processes of
# the notifier's Pod: the send records date what they record by it, the notifier sends by it.
CLOCK_VARIABLES = (
    config.BUREAU_TIME_ZONE,
    Variable("NOTIFIER_CLOCK_START", ""),
    Variable("NOTIFIER_CLOCK_RATE", "1"),
)


def clock(env: config.Environment) -> BureauClock:
    """The bureau's clock, or the drill's (``CLOCK_VARIABLES``)."""
    real = config.bureau_clock(env)
    rate = env.number("NOTIFIER_CLOCK_RATE")
    if rate <= 0:
        raise ConfigError("NOTIFIER_CLOCK_RATE must be positive")
    start_text = env.text("NOTIFIER_CLOCK_START")
    if not start_text:
        return real
    try:
        start = dt.datetime.fromisoformat(start_text)
    except ValueError:
        raise ConfigError("NOTIFIER_CLOCK_START must be an RFC 3339 instant") from None
    if start.tzinfo is None:
        raise ConfigError("NOTIFIER_CLOCK_START needs its offset (Z or +08:00)")
    return BureauClock(real.zone, _running_from(start, rate))


def _running_from(start: dt.datetime, rate: float) -> Callable[[], dt.datetime]:
    began = time.monotonic()

    def now() -> dt.datetime:
        return start + dt.timedelta(seconds=(time.monotonic() - began) * rate)

    return now


_installed: Settings | None = None


def install(settings: Settings) -> None:
    global _installed
    _installed = settings


def installed() -> Settings:
    if _installed is None:
        raise RuntimeError(
            "the notifier's settings are not installed: start it with python -m services.notifier"
        )
    return _installed
