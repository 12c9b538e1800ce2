"""Verifying the identity provider's tokens, against a JWKS and discovery document served on
loopback by the test itself (the real provider is in tests/test_sign_in.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import grpc
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from services.common import auth
from services.common.errors import ApiError
from services.common.oidc import OidcSettings, Verifier

AUDIENCE = "urn:onedoor:gateway"


class SigningKey:
    def __init__(self, kind: str) -> None:
        self.kid = uuid.uuid4().hex
        if kind == "RS256":
            self.private: Any = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            public = RSAAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        else:
            self.private = ec.generate_private_key(ec.SECP256R1())
            public = ECAlgorithm.to_jwk(self.private.public_key(), as_dict=True)
        self.alg = kind
        self.public = {**public, "kid": self.kid, "alg": kind, "use": "sig"}

    def sign(self, claims: dict[str, Any], kid: str | None = None) -> str:
        return jwt.encode(
            claims, self.private, algorithm=self.alg, headers={"kid": kid or self.kid}
        )


class Provider:
    """A discovery document and a JWKS, counting how often the key set is asked for."""

    def __init__(self) -> None:
        self.keys = [SigningKey("RS256"), SigningKey("ES256")]
        self.jwks_requests = 0
        self.server: TestServer | None = None

    @property
    def issuer(self) -> str:
        assert self.server is not None
        return str(self.server.make_url("")).rstrip("/")

    def app(self) -> web.Application:
        async def discovery(request: web.Request) -> web.Response:
            return web.json_response({"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks"})

        async def jwks(request: web.Request) -> web.Response:
            self.jwks_requests += 1
            return web.json_response({"keys": [k.public for k in self.keys]})

        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", discovery)
        app.router.add_get("/jwks", jwks)
        return app

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = dt.datetime.now(dt.UTC)
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "officer-assistance",
            "iat": now,
            "exp": now + dt.timedelta(minutes=5),
            "role": "officer",
            "department": "assistance",
            "jurisdiction": "320585",
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    served = Provider()
    served.server = TestServer(served.app(), host="127.0.0.1")
    await served.server.start_server()
    yield served
    await served.server.close()


def settings_for(provider: Provider, **overrides: Any) -> OidcSettings:
    return OidcSettings(issuer=provider.issuer, audience=AUDIENCE, **overrides)


@pytest.fixture
async def clock() -> Clock:
    return Clock()


@pytest.fixture
async def verifier(provider: Provider, clock: Clock) -> AsyncIterator[Verifier]:
    made = Verifier(settings_for(provider, min_refresh_seconds=30), auth.ROLES, clock)
    yield made
    await made.close()


async def refused(verifier: Verifier, token: str) -> str:
    with pytest.raises(ApiError) as raised:
        await verifier.verify(token)
    assert raised.value.code == grpc.StatusCode.UNAUTHENTICATED
    message = str(raised.value.message)
    assert token not in message
    return message


@pytest.mark.parametrize("index", [0, 1], ids=["RS256", "ES256"])
async def test_a_token_signed_by_a_published_key_names_its_holder(
    provider: Provider, verifier: Verifier, index: int
) -> None:
    token = provider.keys[index].sign(provider.claims())
    staff = await verifier.verify(token)
    assert (staff.subject, staff.role, staff.department, staff.jurisdiction) == (
        "officer-assistance",
        "officer",
        "assistance",
        "320585",
    )


async def test_keys_are_fetched_once_and_cached(provider: Provider, verifier: Verifier) -> None:
    for _ in range(5):
        await verifier.verify(provider.keys[0].sign(provider.claims()))
    assert provider.jwks_requests == 1


async def test_another_issuers_token_is_refused_without_asking_the_provider(
    provider: Provider, verifier: Verifier
) -> None:
    token = provider.keys[0].sign(provider.claims(iss="https://idp.elsewhere.example"))
    assert "issuer" in await refused(verifier, token)
    assert provider.jwks_requests == 0


async def test_a_token_for_another_audience_is_refused(
    provider: Provider, verifier: Verifier
) -> None:
    token = provider.keys[0].sign(provider.claims(aud="urn:some:other:service"))
    assert "audience" in await refused(verifier, token)


async def test_an_expired_token_is_refused_past_the_leeway(
    provider: Provider, verifier: Verifier
) -> None:
    now = dt.datetime.now(dt.UTC)
    late = provider.keys[0].sign(provider.claims(exp=now - dt.timedelta(minutes=5)))
    assert "expired" in await refused(verifier, late)
    # A provider's clock a few seconds ahead of the gateway's is no reason to refuse.
    just = provider.keys[0].sign(provider.claims(exp=now - dt.timedelta(seconds=5)))
    assert (await verifier.verify(just)).role == "officer"


async def test_an_unknown_key_is_refused_and_a_flood_of_them_asks_the_provider_once(
    provider: Provider, verifier: Verifier
) -> None:
    stranger = SigningKey("RS256")
    await verifier.verify(provider.keys[0].sign(provider.claims()))
    assert provider.jwks_requests == 1
    for _ in range(50):
        token = stranger.sign(provider.claims(), kid=uuid.uuid4().hex)
        assert "does not publish" in await refused(verifier, token)
    # The first unknown kid came within the rate limit of the first fetch: not even one more.
    assert provider.jwks_requests == 1


async def test_a_key_signed_with_a_published_kid_but_another_key_is_refused(
    provider: Provider, verifier: Verifier
) -> None:
    forger = SigningKey("RS256")
    token = forger.sign(provider.claims(), kid=provider.keys[0].kid)
    assert "signature" in await refused(verifier, token)


async def test_a_rotated_key_is_picked_up_and_the_withdrawn_one_refused(
    provider: Provider, verifier: Verifier, clock: Clock
) -> None:
    old = provider.keys[0]
    await verifier.verify(old.sign(provider.claims()))
    provider.keys = [SigningKey("RS256")]
    clock.now += 31
    assert (await verifier.verify(provider.keys[0].sign(provider.claims()))).role == "officer"
    assert provider.jwks_requests == 2
    assert "does not publish" in await refused(verifier, old.sign(provider.claims()))


async def test_a_provider_that_cannot_be_reached_is_unavailable_not_unauthenticated(
    clock: Clock,
) -> None:
    gone = Verifier(OidcSettings(issuer="http://127.0.0.1:9", audience=AUDIENCE), auth.ROLES, clock)
    token = SigningKey("RS256").sign({"iss": "http://127.0.0.1:9", "sub": "x"})
    with pytest.raises(ApiError) as raised:
        await gone.verify(token)
    assert raised.value.code == grpc.StatusCode.UNAVAILABLE
    await gone.close()


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"role": "mayor"}, "role"),
        ({"role": None}, "role"),
        ({"jurisdiction": "3205"}, "jurisdiction"),
        ({"department": None}, "department"),
        ({"aud": None}, "aud"),
    ],
)
async def test_missing_or_wrong_staff_claims_are_named(
    provider: Provider, verifier: Verifier, overrides: dict[str, Any], named: str
) -> None:
    token = provider.keys[1].sign(provider.claims(**overrides))
    assert named in await refused(verifier, token)


async def test_the_claims_are_read_where_the_bureau_configures_them(
    provider: Provider, clock: Clock
) -> None:
    configured = Verifier(
        settings_for(
            provider,
            role_claim="onedoor.roles",
            department_claim="dept",
            jurisdiction_claim="division",
        ),
        auth.ROLES,
        clock,
    )
    claims = provider.claims(
        role=None,
        department=None,
        jurisdiction=None,
        onedoor={"roles": ["staff", "auditor"]},
        division="320585",
    )
    staff = await configured.verify(provider.keys[0].sign(claims))
    assert (staff.role, staff.jurisdiction, staff.department) == ("auditor", "320585", "")
    await configured.close()


async def test_a_symmetric_or_unsigned_token_from_the_provider_is_refused(
    provider: Provider, verifier: Verifier
) -> None:
    unsigned = jwt.encode(provider.claims(), key="", algorithm="none")
    assert "algorithm" in await refused(verifier, unsigned)
    # The public key as an HMAC secret: the classic confusion attack.
    hs = jwt.encode(provider.claims(), "a" * 48, algorithm="HS384")
    assert "algorithm" in await refused(verifier, hs)


async def test_development_tokens_are_taken_only_where_switched_on(
    provider: Provider, verifier: Verifier
) -> None:
    dev = f"Bearer {auth.issue('window_clerk', '320585')}"
    on = auth.SignIn(verifier, dev_tokens=True)
    off = auth.SignIn(verifier, dev_tokens=False)
    assert (await on.principal(dev)).role == "window_clerk"
    with pytest.raises(ApiError) as raised:
        await off.principal(dev)
    assert raised.value.code == grpc.StatusCode.UNAUTHENTICATED
    assert "identity provider" in str(raised.value.message)
    provided = f"Bearer {provider.keys[0].sign(provider.claims())}"
    assert (await off.principal(provided)).department == "assistance"


async def test_an_agency_clients_token_names_its_agency_and_becomes_an_agency_caller(
    provider: Provider, clock: Clock
) -> None:
    ingest = Verifier(
        settings_for(provider, agency_claim="org.agency"), auth.ROLES, clock, auth.AGENCIES
    )
    agency = provider.claims(
        sub="agency-medical-insurance-320585",
        role="agency",
        department=None,
        org={"agency": "medical_insurance"},
    )
    caller = await auth.SignIn(ingest, dev_tokens=False).principal(
        f"Bearer {provider.keys[0].sign(agency)}"
    )
    assert (caller.role, caller.agency, caller.jurisdiction) == (
        "agency",
        "medical_insurance",
        "320585",
    )
    assert auth.pushing_agency(caller) == "medical_insurance"
    for wrong in ({"org": None}, {"org": {"agency": "tax_bureau"}}, {"org": {"agency": 7}}):
        assert "claim org.agency" in await refused(
            ingest, provider.keys[0].sign({**agency, **wrong})
        )
    # Where no agencies are served (the gateway), an agency's token is no caller at all.
    gateway = Verifier(settings_for(provider), auth.ROLES, clock)
    assert "claim agency" in await refused(
        gateway, provider.keys[0].sign({**agency, "agency": "medical_insurance"})
    )
    await gateway.close()
    await ingest.close()


def test_a_services_oidc_settings_are_read_under_its_own_prefix() -> None:
    from services.common import oidc_settings
    from services.common.config import ConfigError, environment

    claims = ("role", "agency", "jurisdiction")

    def read(environ: dict[str, str]) -> OidcSettings | None:
        trusts = bool(environ.get("INGEST_OIDC_ISSUER"))
        declared = oidc_settings.variables("INGEST", claims, trusts)
        return oidc_settings.read("INGEST", claims, environment(declared, environ))

    assert read({}) is None
    with pytest.raises(ConfigError, match="INGEST_OIDC_AUDIENCE"):
        read({"INGEST_OIDC_ISSUER": "https://sso.example.gov.cn/realms/agencies"})
    with pytest.raises(ConfigError, match="INGEST_OIDC_ISSUER"):
        read({"INGEST_OIDC_ISSUER": "http://sso.example.gov.cn", "INGEST_OIDC_AUDIENCE": "a"})
    configured = read(
        {
            "INGEST_OIDC_ISSUER": "https://sso.example.gov.cn/realms/agencies",
            "INGEST_OIDC_AUDIENCE": "urn:onedoor:ingest",
            "INGEST_OIDC_AGENCY_CLAIM": "org_code",
        }
    )
    assert configured is not None
    assert (configured.audience, configured.agency_claim, configured.role_claim) == (
        "urn:onedoor:ingest",
        "org_code",
        "role",
    )


class Counting:
    """A verifier that counts the tokens it is asked to verify."""

    def __init__(self, verifier: Verifier) -> None:
        self.verifier = verifier
        self.keys = verifier.keys
        self.verified = 0

    async def verify(self, token: str) -> Any:
        self.verified += 1
        return await self.verifier.verify(token)

    async def close(self) -> None:
        await self.verifier.close()


async def test_a_token_verified_once_is_taken_at_its_word_while_it_stands(
    provider: Provider, verifier: Verifier
) -> None:
    counting = Counting(verifier)
    sign_in = auth.SignIn(counting, dev_tokens=False)  # type: ignore[arg-type]
    token = f"Bearer {provider.keys[0].sign(provider.claims())}"
    other = f"Bearer {provider.keys[1].sign(provider.claims(department='elderly'))}"
    for _ in range(3):
        assert (await sign_in.principal(token)).department == "assistance"
    assert (await sign_in.principal(other)).department == "elderly"
    assert counting.verified == 2


async def test_a_token_verified_before_is_refused_once_its_key_is_withdrawn(
    provider: Provider, verifier: Verifier, clock: Clock
) -> None:
    sign_in = auth.SignIn(verifier, dev_tokens=False)
    old = f"Bearer {provider.keys[0].sign(provider.claims())}"
    assert (await sign_in.principal(old)).role == "officer"
    provider.keys = [SigningKey("RS256")]
    clock.now += 31
    # A token signed with the new key makes the gateway fetch the key set again.
    await sign_in.principal(f"Bearer {provider.keys[0].sign(provider.claims())}")
    with pytest.raises(ApiError) as raised:
        await sign_in.principal(old)
    assert "does not publish" in str(raised.value.message)


async def test_a_token_verified_before_is_refused_once_it_expires() -> None:
    sign_in = auth.development_sign_in()
    # Issued so that it expires a second from now.
    token = f"Bearer {auth.issue('window_clerk', '320585', lifetime=dt.timedelta(seconds=1))}"
    assert (await sign_in.principal(token)).role == "window_clerk"
    await asyncio.sleep(2.1)
    with pytest.raises(ApiError) as raised:
        await sign_in.principal(token)
    assert "expired" in str(raised.value.message)
