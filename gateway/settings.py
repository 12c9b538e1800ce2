"""The gateway's settings, built once by its ``__main__``.

A gateway with a peers file (``GATEWAY_PEERS_FILE``) federates: it then needs its name and
its TLS identity (``GATEWAY_NAME``, ``GATEWAY_TLS_CERT_FILE``, ``GATEWAY_TLS_KEY_FILE``).

Staff sign in through the bureau's identity provider (``GATEWAY_OIDC_ISSUER``, which then needs
``GATEWAY_OIDC_AUDIENCE``); the self-issued development tokens are accepted only with
``GATEWAY_DEV_TOKENS=true`` (``make run`` and the tests). A gateway with neither starts (its
health and metrics still answer) but refuses every call, and says so at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway import cors
from gateway.backends import SERVICES
from services.common import auth, config, divisions, oidc_settings
from services.common.clock import BureauClock
from services.common.config import (
    ConfigError,
    Keys,
    ServerSettings,
    TelemetrySettings,
    Variable,
)
from services.common.oidc import OidcSettings, Verifier

NAME = "gateway"
# It finds people by keyed hash, verifies people's tokens and calls the services as the
# platform; it never holds the key that opens stored personal data.
KEYS = ("identity_hash", "jwt", "service_token")
PEERS_FILE = Variable("GATEWAY_PEERS_FILE", "")
OIDC_ISSUER = oidc_settings.issuer("GATEWAY")
# Staff: a role, a department for officers, a jurisdiction; never an agency.
OIDC_CLAIMS = ("role", "department", "jurisdiction")


@dataclass(frozen=True)
class Settings:
    telemetry: TelemetrySettings
    # uvloop or asyncio (services.common.event_loop).
    event_loop: str
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
    # The bureau's identity provider; None: development tokens only.
    oidc: OidcSettings | None
    # The console's client id at the provider (a public client, PKCE).
    console_client_id: str
    # Self-issued HS256 tokens (``onedoor token``): for local use only.
    dev_tokens: bool
    # The bureau's contact line on the applicant's receipt ("" prints none).
    bureau_contact: str = ""
    # The public status page behind the receipt's QR (gateway/status_page.py): the key of its
    # verification codes, and the base URL the QR points at ("": this gateway's own).
    status_page_key: str = ""
    status_page_url: str = ""

    def sign_in(self) -> auth.SignIn:
        provider = Verifier(self.oidc, auth.ROLES) if self.oidc is not None else None
        return auth.SignIn(provider, self.dev_tokens)


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    federates = bool(config.environment((PEERS_FILE,), environ).text(PEERS_FILE.name))
    identity = None if federates else ""
    signs_in = bool(config.environment((OIDC_ISSUER,), environ).text(OIDC_ISSUER.name))
    return (
        *TelemetrySettings.variables(NAME),
        config.EVENT_LOOP,
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
        # Printed on the applicant's receipt after "咨询电话", e.g. "0512-53520000（工作日 9:00–17:00）".
        Variable("GATEWAY_BUREAU_CONTACT", ""),
        Variable("GATEWAY_STATUS_PAGE_KEY", "development-status-page-key", secret=True),
        Variable("GATEWAY_STATUS_PAGE_URL", ""),
        *oidc_settings.variables("GATEWAY", OIDC_CLAIMS, signs_in),
        Variable("GATEWAY_OIDC_CONSOLE_CLIENT_ID", "onedoor-console"),
        Variable("GATEWAY_DEV_TOKENS", "false"),
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
    oidc = oidc_settings.read("GATEWAY", OIDC_CLAIMS, env)
    dev_tokens = env.flag("GATEWAY_DEV_TOKENS")
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
        event_loop=config.event_loop(env),
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
        oidc=oidc,
        console_client_id=env.text("GATEWAY_OIDC_CONSOLE_CLIENT_ID"),
        dev_tokens=dev_tokens,
        bureau_contact=env.text("GATEWAY_BUREAU_CONTACT"),
        status_page_key=env.text("GATEWAY_STATUS_PAGE_KEY"),
        status_page_url=env.text("GATEWAY_STATUS_PAGE_URL")
        or f"http://127.0.0.1:{env.integer('GATEWAY_HTTP_PORT')}",
    )
