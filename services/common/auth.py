"""Who is calling: bearer tokens for people at the gateway, a shared credential between the
platform's own processes.

People (clerks, officers, auditors, operators) carry a JWT from the bureau's identity provider
(OpenID Connect, verified in services/common/oidc.py): its role, the jurisdiction (division
code) it acts for and, for an officer, the department. Agencies' machine clients pushing to
ingest carry one too, got with the client-credentials grant: role ``agency``, the agency
and its jurisdiction. For local use only, a gateway switched
to it (``GATEWAY_DEV_TOKENS=true``) also takes self-issued tokens signed with ``AUTH_JWT_KEY``
(HS256, ``onedoor token``). The internal services accept calls only from the gateway and the router, which
present ``SERVICE_TOKEN`` in the ``x-onedoor-service-token`` metadata; Kubernetes NetworkPolicies
admit the same arrows at the network layer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import time
from collections import OrderedDict
from dataclasses import dataclass

import grpc
import jwt

from services.common import divisions, oidc
from services.common.catalog import DEPARTMENTS
from services.common.errors import ApiError

ROLES = ("window_clerk", "officer", "auditor", "operator", "agency")
# The agencies that push records to the ingest service, each as an ``agency`` caller bound to
# one jurisdiction (the token's ``agency`` claim names which): the medical-insurance bureau,
# hospitals (health commission), public security, the disabled persons' federation, human
# resources and social security.
AGENCIES = (
    "medical_insurance",
    "health",
    "public_security",
    "disabled_persons_federation",
    "human_resources",
)
ISSUER = "onedoor"
SERVICE_TOKEN_METADATA = "x-onedoor-service-token"
DEVELOPMENT_JWT_KEY = "onedoor-development-only-jwt-signing-key-0123456789"
DEVELOPMENT_SERVICE_TOKEN = "onedoor-development-only-service-token"


@dataclass(frozen=True)
class Principal:
    subject: str
    role: str
    jurisdiction: str
    department: str = ""
    # How the staff member is shown to other staff (the timeline, the audit log); never in
    # metrics or logs. Empty when the token carries no name.
    display_name: str = ""
    # For an ``agency`` caller, which agency (one of AGENCIES); empty for staff.
    agency: str = ""

    def covers(self, division: str) -> bool:
        """Whether the division lies in this principal's jurisdiction."""
        return divisions.within(self.jurisdiction, division)


# Configured once by the process's __main__ (config.Keys.configure), only with the keys the
# process holds; using one before that is an error, never a silent development default.
_keys: dict[str, str] = {}


def configure(jwt_key: str | None = None, service_token: str | None = None) -> None:
    if jwt_key is not None:
        _keys["AUTH_JWT_KEY"] = jwt_key
    if service_token is not None:
        _keys["SERVICE_TOKEN"] = service_token


def _configured(name: str) -> str:
    key = _keys.get(name)
    if not key:
        raise RuntimeError(
            f"auth has no {name}: the process's __main__ calls config.Keys.configure() with "
            "its settings first (tests: the root conftest)"
        )
    return key


def _jwt_key() -> str:
    return _configured("AUTH_JWT_KEY")


def service_token() -> str:
    return _configured("SERVICE_TOKEN")


def issue(
    role: str,
    jurisdiction: str,
    department: str = "",
    subject: str = "",
    lifetime: dt.timedelta = dt.timedelta(hours=8),
    now: dt.datetime | None = None,
    name: str = "",
    agency: str = "",
) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if role == "agency" and agency not in AGENCIES:
        raise ValueError(f"an agency caller is one agency: {', '.join(AGENCIES)}")
    if role == "officer" and department not in DEPARTMENTS:
        raise ValueError(f"an officer acts for one department: {', '.join(DEPARTMENTS)}")
    if not (len(jurisdiction) == 6 and jurisdiction.isdigit()):
        raise ValueError("jurisdiction must be a 6-digit division code")
    now = now or dt.datetime.now(dt.UTC)
    claims = {
        "iss": ISSUER,
        "sub": subject or f"{role}-{jurisdiction}",
        "role": role,
        "jurisdiction": jurisdiction,
        "iat": now,
        "exp": now + lifetime,
    }
    if department:
        claims["department"] = department
    if name:
        claims["name"] = name
    if agency:
        claims["agency"] = agency
    return jwt.encode(claims, _jwt_key(), algorithm="HS256")


_unauthenticated = oidc.unauthenticated


def verify(authorization: str) -> Principal:
    """The principal of an ``Authorization: Bearer <jwt>`` value holding a self-issued
    development token, or UNAUTHENTICATED."""
    token = _bearer(authorization)
    try:
        claims = jwt.decode(
            token,
            _jwt_key(),
            algorithms=["HS256"],
            issuer=ISSUER,
            options={"require": ["exp", "iss", "sub", "role", "jurisdiction"]},
        )
    except jwt.ExpiredSignatureError:
        raise _unauthenticated("the token has expired; sign in again") from None
    except jwt.InvalidTokenError:
        raise _unauthenticated("the token is not valid") from None
    if claims["role"] not in ROLES:
        raise _unauthenticated("the token names no known role")
    agency = str(claims.get("agency", ""))
    if claims["role"] == "agency" and agency not in AGENCIES:
        raise _unauthenticated("an agency's token names no known agency in claim agency")
    return Principal(
        subject=str(claims["sub"]),
        role=claims["role"],
        jurisdiction=str(claims["jurisdiction"]),
        department=str(claims.get("department", "")),
        display_name=oidc.display_name(claims.get("name")),
        agency=agency if claims["role"] == "agency" else "",
    )


def _bearer(authorization: str) -> str:
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthenticated("a bearer token is required (Authorization: Bearer <token>)")
    return token


# A window sends the same token with every call for as long as the clerk's session lasts:
# verified once, it is taken at its word until it expires, for at most this long (so that a
# process does not trust a token for longer than it would take to notice a changed key set),
# and for at most this many tokens at once (the oldest forgotten first).
VERIFIED_SECONDS = 60.0
VERIFIED_HELD = 4096


@dataclass(frozen=True)
class _Verified:
    principal: Principal
    # time.time() until which the verification stands.
    until: float
    # The provider's key that verified it; None for a development token.
    kid: str | None


class SignIn:
    """Who may sign in at a gateway or at ingest: staff, or agencies' machine clients, with a
    token from the bureau's identity provider and, only where switched on for local use,
    holders of a self-issued development token."""

    def __init__(self, provider: oidc.Verifier | None, dev_tokens: bool) -> None:
        self.provider = provider
        self.dev_tokens = dev_tokens
        # sha256 of a token -> what its verification found.
        self._verified: OrderedDict[bytes, _Verified] = OrderedDict()

    async def principal(self, authorization: str) -> Principal:
        token = _bearer(authorization)
        digest = hashlib.sha256(token.encode()).digest()
        now = time.time()
        held = self._verified.get(digest)
        if held is not None and now < held.until and self._still_published(held.kid):
            return held.principal
        principal = await self._verify(token, authorization)
        header = jwt.get_unverified_header(token)
        expires = float(jwt.decode(token, options={"verify_signature": False})["exp"])
        self._verified[digest] = _Verified(
            principal,
            min(expires, now + VERIFIED_SECONDS),
            None if header.get("alg") == "HS256" else str(header.get("kid") or ""),
        )
        if len(self._verified) > VERIFIED_HELD:
            self._verified.popitem(last=False)
        return principal

    def _still_published(self, kid: str | None) -> bool:
        """Whether the key a token was verified with still verifies: a development token's
        key is the process's own; a key the provider withdrew (and the gateway has seen it
        withdraw) verifies nothing any more."""
        return kid is None or (self.provider is not None and self.provider.keys.publishes(kid))

    async def _verify(self, token: str, authorization: str) -> Principal:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.InvalidTokenError:
            raise _unauthenticated("the token is not valid") from None
        if algorithm == "HS256":
            if not self.dev_tokens:
                raise _unauthenticated(
                    "self-issued development tokens are not accepted here; sign in through "
                    "the bureau's identity provider"
                )
            return verify(authorization)
        if self.provider is None:
            raise _unauthenticated("only development tokens are accepted here")
        caller = await self.provider.verify(token)
        return Principal(
            caller.subject,
            caller.role,
            caller.jurisdiction,
            caller.department,
            caller.name,
            agency=caller.agency,
        )

    async def close(self) -> None:
        if self.provider is not None:
            await self.provider.close()


def development_sign_in() -> SignIn:
    """Self-issued tokens only: in-process tests of the HTTP and gRPC adapters."""
    return SignIn(provider=None, dev_tokens=True)


def deny(message: str) -> ApiError:
    return ApiError(grpc.StatusCode.PERMISSION_DENIED, message, reason="PERMISSION_DENIED")


def pushing_agency(caller: Principal) -> str:
    """The agency an ``agency`` caller pushes records for; anyone else (a clerk, an officer)
    is refused, PERMISSION_DENIED. The one rule of who may push to the ingest service; which
    persons' records it may push is :meth:`Principal.covers` of their identity number's
    division, asked per record."""
    if caller.role != "agency" or caller.agency not in AGENCIES:
        raise deny(
            f"a {caller.role} may not push agency records; it takes an agency's token "
            "(role agency, with its agency and jurisdiction)"
        )
    return caller.agency


def is_service_token(presented: str) -> bool:
    return hmac.compare_digest(presented.encode(), service_token().encode())


def service_metadata() -> tuple[tuple[str, str], ...]:
    return ((SERVICE_TOKEN_METADATA, service_token()),)
