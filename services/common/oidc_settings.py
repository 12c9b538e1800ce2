"""A service's trust in the bureau's identity provider, from ``<PREFIX>_OIDC_*`` variables: the
issuer, the audience its tokens are issued for, the names of the claims it reads, the clock
leeway and how often the key set may be fetched again. The gateway (staff) and ingest
(agencies' machine clients) each have their own prefix, audience and claims. The process's
settings module reads the environment; this only declares and checks.
"""

from __future__ import annotations

from typing import Protocol

from services.common.config import ConfigError, Variable
from services.common.oidc import OidcSettings

# The claims a service may read; each service names those it reads, the others keep their
# defaults (the gateway reads no agency, ingest no department).
CLAIMS = ("role", "department", "jurisdiction", "agency")


class Values(Protocol):
    """The process's environment, as its settings module reads it."""

    def text(self, name: str) -> str: ...

    def number(self, name: str) -> float: ...


def issuer(prefix: str) -> Variable:
    return Variable(f"{prefix}_OIDC_ISSUER", "")


def variables(prefix: str, claims: tuple[str, ...], trusts: bool) -> tuple[Variable, ...]:
    """The variables; the audience is required once an issuer is set (``trusts``)."""
    return (
        issuer(prefix),
        Variable(f"{prefix}_OIDC_AUDIENCE", None if trusts else ""),
        *(Variable(f"{prefix}_OIDC_{claim.upper()}_CLAIM", claim) for claim in claims),
        Variable(f"{prefix}_OIDC_LEEWAY_SECONDS", "30"),
        Variable(f"{prefix}_OIDC_JWKS_MIN_REFRESH_SECONDS", "30"),
    )


def read(prefix: str, claims: tuple[str, ...], env: Values) -> OidcSettings | None:
    """The settings, or None when no issuer is set. Every variable is read (and checked)
    whether or not an issuer is set: a typo in one fails at start-up, not on the day the
    provider is switched on."""
    issuer_url = env.text(issuer(prefix).name)
    audience = env.text(f"{prefix}_OIDC_AUDIENCE")
    names = {c: env.text(f"{prefix}_OIDC_{c.upper()}_CLAIM") for c in claims if c in CLAIMS}
    leeway = env.number(f"{prefix}_OIDC_LEEWAY_SECONDS")
    if not 0 <= leeway <= 300:
        raise ConfigError(f"{prefix}_OIDC_LEEWAY_SECONDS={leeway}: use 0 to 300 seconds")
    refresh = env.number(f"{prefix}_OIDC_JWKS_MIN_REFRESH_SECONDS")
    if refresh <= 0:
        raise ConfigError(
            f"{prefix}_OIDC_JWKS_MIN_REFRESH_SECONDS={refresh}: use a positive number"
        )
    if not issuer_url:
        return None
    if not issuer_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise ConfigError(
            f"{prefix}_OIDC_ISSUER={issuer_url}: the identity provider is reached over https "
            "(plain http on loopback only)"
        )
    return OidcSettings(
        issuer=issuer_url,
        audience=audience,
        leeway_seconds=leeway,
        min_refresh_seconds=refresh,
        role_claim=names.get("role", "role"),
        department_claim=names.get("department", "department"),
        jurisdiction_claim=names.get("jurisdiction", "jurisdiction"),
        agency_claim=names.get("agency", "agency"),
    )
