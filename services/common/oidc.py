"""Tokens from the bureau's identity provider (OpenID Connect): staff's, verified at the
gateway, and agencies' machine clients' (the client-credentials grant), verified at ingest.

The provider is found by discovery (``<issuer>/.well-known/openid-configuration``), its keys
by its ``jwks_uri``. Keys are cached and picked by ``kid``; a ``kid`` not in the cache fetches
the key set again (the provider rotated), at most once per ``min_refresh_seconds`` so a flood of
made-up ``kid`` values costs the provider one request, not one each. Every fetch is aiohttp on
the gateway's event loop, never a blocking call. Role, department, agency and jurisdiction
come from claims whose names the bureau configures (its directory's names for them).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import aiohttp
import grpc
import jwt

from services.common.catalog import DEPARTMENTS
from services.common.errors import ApiError

ALGORITHMS = ("RS256", "ES256")


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    audience: str
    role_claim: str = "role"
    department_claim: str = "department"
    jurisdiction_claim: str = "jurisdiction"
    # Which agency an ``agency`` caller (a machine client of the medical-insurance bureau...) is.
    agency_claim: str = "agency"
    # Clocks of the provider and the gateway disagree by a little.
    leeway_seconds: float = 30.0
    # The shortest time between two fetches of the key set.
    min_refresh_seconds: float = 30.0
    # Keys are fetched again after this long, so a key the provider withdrew stops working.
    max_key_age_seconds: float = 3600.0


@dataclass(frozen=True)
class StaffClaims:
    """Who the token names, before it becomes a Principal."""

    subject: str
    role: str
    jurisdiction: str
    department: str
    # The staff member's display name (the standard ``name`` claim), where the token has one.
    name: str = ""
    # For an ``agency`` caller, the agency it pushes records for; empty for staff.
    agency: str = ""


def unauthenticated(message: str) -> ApiError:
    return ApiError(grpc.StatusCode.UNAUTHENTICATED, message, reason="UNAUTHENTICATED")


def _unavailable(message: str) -> ApiError:
    return ApiError(grpc.StatusCode.UNAVAILABLE, message, reason="IDENTITY_PROVIDER_UNAVAILABLE")


def _claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested objects (``realm_access.role``)."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def staff_claims(
    claims: Mapping[str, Any],
    settings: OidcSettings,
    roles: tuple[str, ...],
    agencies: tuple[str, ...] = (),
) -> StaffClaims:
    """Role, jurisdiction, department and agency from a verified token's claims, or
    UNAUTHENTICATED naming the claim that is missing or wrong (never its value). An ``agency``
    caller names one of ``agencies`` (none where agencies are not served, as at the gateway)."""
    role = _claim(claims, settings.role_claim)
    if isinstance(role, list):
        # Directories often carry a list of groups; a member of staff acts in one role.
        known = [r for r in role if r in roles]
        role = known[0] if len(known) == 1 else None
    if role not in roles:
        raise unauthenticated(f"the token's claim {settings.role_claim} names no onedoor role")
    jurisdiction = _claim(claims, settings.jurisdiction_claim)
    if not (isinstance(jurisdiction, str) and len(jurisdiction) == 6 and jurisdiction.isdigit()):
        raise unauthenticated(
            f"the token's claim {settings.jurisdiction_claim} is not a 6-digit division code"
        )
    department = _claim(claims, settings.department_claim) or ""
    if role == "officer" and department not in DEPARTMENTS:
        raise unauthenticated(
            f"an officer's token names a department in claim {settings.department_claim}"
        )
    agency = ""
    if role == "agency":
        agency = _claim(claims, settings.agency_claim)
        if agency not in agencies:
            raise unauthenticated(
                f"an agency's token names no known agency in claim {settings.agency_claim}"
            )
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise unauthenticated("the token names no subject (sub)")
    return StaffClaims(
        subject,
        str(role),
        jurisdiction,
        str(department),
        display_name(claims.get("name")),
        str(agency),
    )


def display_name(claim: Any) -> str:
    """A staff member's name as shown to other staff: a string of at most 64 characters
    without control characters, or nothing."""
    if not isinstance(claim, str):
        return ""
    shown = "".join(c for c in claim if c.isprintable()).strip()
    return shown[:64]


class KeySet:
    """The provider's signing keys, by kid, fetched through discovery and cached."""

    def __init__(
        self,
        settings: OidcSettings,
        session: Callable[[], aiohttp.ClientSession],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._session = session
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._jwks_uri = ""
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        # How often the key set was fetched: tests read it, to show the rate limit holds.
        self.fetches = 0

    async def _get_json(self, url: str) -> Any:
        try:
            async with self._session().get(
                url, timeout=aiohttp.ClientTimeout(total=5), allow_redirects=False
            ) as response:
                if response.status != 200:
                    raise _unavailable(
                        f"the identity provider answered {response.status} for {url}"
                    )
                return json.loads(await response.read())
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise _unavailable(f"the identity provider cannot be reached at {url}") from None

    async def _discover(self) -> str:
        if not self._jwks_uri:
            url = f"{self.settings.issuer.rstrip('/')}/.well-known/openid-configuration"
            document = await self._get_json(url)
            if not isinstance(document, dict) or document.get("issuer") != self.settings.issuer:
                raise _unavailable(f"{url} names another issuer than {self.settings.issuer}")
            uri = document.get("jwks_uri")
            if not isinstance(uri, str) or not uri:
                raise _unavailable(f"{url} names no jwks_uri")
            self._jwks_uri = uri
        return self._jwks_uri

    async def _fetch(self) -> None:
        document = await self._get_json(await self._discover())
        self.fetches += 1
        self._fetched_at = self._clock()
        keys: dict[str, jwt.PyJWK] = {}
        for entry in document.get("keys", []) if isinstance(document, dict) else []:
            if entry.get("use", "sig") != "sig" or entry.get("alg", "") not in ("", *ALGORITHMS):
                continue
            try:
                key = jwt.PyJWK(entry)
            except jwt.PyJWKError:
                # A key of a kind this gateway does not use (an encryption key, say).
                continue
            keys[str(entry.get("kid", ""))] = key
        self._keys = keys

    def _stale(self) -> bool:
        return (
            self._fetched_at is None
            or self._clock() - self._fetched_at >= self.settings.max_key_age_seconds
        )

    def _may_refresh(self) -> bool:
        return (
            self._fetched_at is None
            or self._clock() - self._fetched_at >= self.settings.min_refresh_seconds
        )

    def _lookup(self, kid: str) -> jwt.PyJWK | None:
        if kid:
            return self._keys.get(kid)
        # A provider with one key may leave kid out.
        return next(iter(self._keys.values())) if len(self._keys) == 1 else None

    def publishes(self, kid: str) -> bool:
        """Whether the key set, as last fetched, holds the key ``kid`` names."""
        return self._lookup(kid) is not None

    async def key(self, kid: str) -> jwt.PyJWK:
        key = None if self._stale() else self._lookup(kid)
        if key is not None:
            return key
        async with self._lock:
            # Another caller may have fetched while this one waited for the lock.
            key = None if self._stale() else self._lookup(kid)
            if key is None and self._may_refresh():
                try:
                    await self._fetch()
                except ApiError:
                    if not self._keys:
                        raise
                    # The provider is down: the keys it published an hour ago still hold.
                    self._fetched_at = self._clock()
                key = self._lookup(kid)
        if key is None:
            raise unauthenticated(
                "the token is signed with a key the identity provider does not publish"
            )
        return key


class Verifier:
    """Verifies the provider's access tokens: signature (RS256/ES256, by kid), issuer, audience
    and expiry, then the caller's claims."""

    def __init__(
        self,
        settings: OidcSettings,
        roles: tuple[str, ...],
        clock: Callable[[], float] = time.monotonic,
        agencies: tuple[str, ...] = (),
    ) -> None:
        self.settings = settings
        self.roles = roles
        self.agencies = agencies
        self._client: aiohttp.ClientSession | None = None
        self.keys = KeySet(settings, self._session, clock)

    def _session(self) -> aiohttp.ClientSession:
        # Made on first use, inside the running event loop.
        if self._client is None or self._client.closed:
            self._client = aiohttp.ClientSession()
        return self._client

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()

    def is_ours(self, unverified_claims: Mapping[str, Any]) -> bool:
        return unverified_claims.get("iss") == self.settings.issuer

    async def verify(self, token: str) -> StaffClaims:
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            raise unauthenticated("the token is not a JWT") from None
        # Checked before any key is fetched: a stranger's token costs the provider nothing.
        if not self.is_ours(unverified):
            raise unauthenticated("the token's issuer is not the bureau's identity provider")
        if header.get("alg") not in ALGORITHMS:
            raise unauthenticated(
                f"the token's signing algorithm is not accepted; use {' or '.join(ALGORITHMS)}"
            )
        key = await self.keys.key(str(header.get("kid") or ""))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(ALGORITHMS),
                issuer=self.settings.issuer,
                audience=self.settings.audience,
                leeway=self.settings.leeway_seconds,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthenticated("the token has expired; sign in again") from None
        except jwt.InvalidAudienceError:
            raise unauthenticated(f"the token's audience is not {self.settings.audience}") from None
        except jwt.InvalidIssuerError:
            raise unauthenticated(
                "the token's issuer is not the bureau's identity provider"
            ) from None
        except jwt.MissingRequiredClaimError as error:
            raise unauthenticated(f"the token lacks the claim {error.claim}") from None
        except jwt.InvalidSignatureError:
            raise unauthenticated("the token's signature is not valid") from None
        except jwt.InvalidTokenError:
            raise unauthenticated("the token is not valid") from None
        return staff_claims(claims, self.settings, self.roles, self.agencies)
