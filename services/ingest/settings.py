"""The ingest service's settings, built once by its ``__main__``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from services.common import auth, config, oidc_settings
from services.common.clock import BureauClock
from services.common.config import ConfigError, Keys, ServerSettings, TelemetrySettings, Variable
from services.common.oidc import OidcSettings, Verifier
from services.ingest.judging import outreach_rules
from services.ingest.judging.outreach_rules import OutreachRules, RulesError

NAME = "ingest"
# It hashes identity numbers on arrival and verifies agencies' tokens; it opens no sealed
# personal data (it stores none). It calls intake (the audit log) and the departments that
# know persons (matching), and answers the gateway (the warnings queue), with the service token.
KEYS = ("identity_hash", "jwt", "service_token")
# The departments asked what they know of the persons a batch names (KnownPersonsService).
ASKED = ("assistance", "elderly")
# The bureau's outreach rules (services/ingest/judging/outreach_rules.toml by default).
OUTREACH_RULES_FILE = Variable("OUTREACH_RULES_FILE", "")
# Where agencies post JSON Lines and CSV batches (the gRPC port is INGEST_GRPC_PORT).
HTTP_PORT = Variable("INGEST_HTTP_PORT", "8070", listens="http")
# Agencies' machine clients sign in at the bureau's identity provider with the client-credentials
# grant: INGEST_OIDC_ISSUER (then INGEST_OIDC_AUDIENCE), and the names of the claims that say
# the caller's role, agency and jurisdiction.
OIDC = "INGEST"
OIDC_CLAIMS = ("role", "agency", "jurisdiction")
# Self-issued HS256 agency tokens (`onedoor token --role agency`), for local runs and tests
# only; off by default, so a deployment refuses them.
DEV_TOKENS = Variable("INGEST_DEV_TOKENS", "false")
# Records kept in one statement: memory holds one chunk of a batch, never the batch.
CHUNK_RECORDS = Variable("INGEST_CHUNK_RECORDS", "2000")


@dataclass(frozen=True)
class Settings:
    telemetry: TelemetrySettings
    # uvloop or asyncio (services.common.event_loop).
    event_loop: str
    server: ServerSettings
    port: int
    http_port: int
    database_url: str
    clock: BureauClock
    keys: Keys
    migrate_at_start: bool
    # The bureau's identity provider for agencies; None: development tokens only.
    oidc: OidcSettings | None
    dev_tokens: bool
    chunk_records: int
    # host:port of intake and of each department in ASKED.
    addresses: Mapping[str, str]
    rules: OutreachRules

    def sign_in(self) -> auth.SignIn:
        # Every role is verified, so a member of staff's token is refused as what it is (403,
        # not an agency), not as a token of no known role.
        provider = (
            Verifier(self.oidc, auth.ROLES, agencies=auth.AGENCIES)
            if self.oidc is not None
            else None
        )
        return auth.SignIn(provider, self.dev_tokens)


def variables(environ: Mapping[str, str] | None = None) -> tuple[Variable, ...]:
    issuer = oidc_settings.issuer(OIDC)
    trusts = bool(config.environment((issuer,), environ).text(issuer.name))
    return (
        *TelemetrySettings.variables(NAME),
        config.EVENT_LOOP,
        *ServerSettings.VARIABLES,
        config.grpc_port(NAME),
        HTTP_PORT,
        config.database(NAME),
        config.BUREAU_TIME_ZONE,
        config.MIGRATE_AT_START,
        *oidc_settings.variables(OIDC, OIDC_CLAIMS, trusts),
        DEV_TOKENS,
        CHUNK_RECORDS,
        OUTREACH_RULES_FILE,
        config.address("intake"),
        *(config.address(d) for d in ASKED),
        *Keys.variables(*KEYS),
    )


def from_env(environ: Mapping[str, str] | None = None) -> Settings:
    env = config.environment(variables(environ), environ)
    chunk = env.integer(CHUNK_RECORDS.name)
    if not 1 <= chunk <= 50_000:
        raise ConfigError(f"{CHUNK_RECORDS.name}={chunk}: use 1 to 50000 records")
    return Settings(
        telemetry=TelemetrySettings.read(NAME, env),
        event_loop=config.event_loop(env),
        server=ServerSettings.read(env),
        port=env.integer(config.grpc_port(NAME).name),
        http_port=env.integer(HTTP_PORT.name),
        database_url=env.text(config.database(NAME).name),
        clock=config.bureau_clock(env),
        keys=Keys.read(env, *KEYS),
        migrate_at_start=env.flag(config.MIGRATE_AT_START.name),
        oidc=oidc_settings.read(OIDC, OIDC_CLAIMS, env),
        dev_tokens=env.flag(DEV_TOKENS.name),
        chunk_records=chunk,
        addresses={s: env.text(config.address(s).name) for s in ("intake", *ASKED)},
        rules=_rules(env.text(OUTREACH_RULES_FILE.name)),
    )


def _rules(path: str) -> OutreachRules:
    try:
        return outreach_rules.load(Path(path)) if path else outreach_rules.load()
    except (OSError, RulesError) as error:
        raise ConfigError(f"{OUTREACH_RULES_FILE.name}={path!r}: {error}") from error
