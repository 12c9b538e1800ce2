"""Staff sign in at the bureau's identity provider (node-oidc-provider, started beside the test
platform): its tokens are accepted over HTTP and gRPC with the role, department and
jurisdiction they carry; tokens of another issuer, for another audience, expired or signed with
a key the provider does not publish are refused with 401; a rotated key is picked up by the
running gateway."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import grpc
import jwt
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.gateway.v1 import gateway_service_pb2_grpc
from services.launcher.identity_provider import (
    AUDIENCE,
    IdentityProvider,
    demo_password,
    new_keys,
    sign_in,
)
from services.launcher.platform import Platform
from tests.conftest import AddMetadata


def console_origin(platform: Platform) -> str:
    return f"http://127.0.0.1:{platform.ports.gateway_http}"


async def access_token(provider: IdentityProvider, platform: Platform, username: str) -> str:
    tokens = await asyncio.to_thread(
        sign_in, provider.issuer, username, demo_password(), console_origin(platform)
    )
    return str(tokens["access_token"])


def provider_key(provider: IdentityProvider, alg: str = "RS256") -> dict[str, Any]:
    """The provider's own private signing key: the test wrote its keys file."""
    keys = json.loads(provider.keys_file.read_text())["keys"]
    return next(k for k in keys if k["alg"] == alg)


def mint(key: dict[str, Any], **claims: Any) -> str:
    signing = jwt.PyJWK(key)
    return jwt.encode(claims, signing.key, algorithm=key["alg"], headers={"kid": key["kid"]})


def staff_claims(issuer: str, **overrides: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": "clerk",
        "iat": now,
        "exp": now + dt.timedelta(minutes=10),
        "role": "window_clerk",
        "jurisdiction": "320585",
    }
    return {**claims, **overrides}


async def refusal(platform: Platform, token: str) -> str:
    """The gateway's 401 for ``token``: its AIP-193 body's message, checked not to echo it."""
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(console_origin(platform)) as http,
        http.get("/v1/matters", headers=headers) as response,
    ):
        body = await response.json()
        assert response.status == 401, body
    error = body["error"]
    assert error["status"] == "UNAUTHENTICATED"
    assert error["details"][-1]["reason"] == "UNAUTHENTICATED"
    assert token not in json.dumps(body)
    return str(error["message"])


async def status_for(platform: Platform, token: str, path: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        aiohttp.ClientSession(console_origin(platform)) as http,
        http.get(path, headers=headers) as response,
    ):
        return response.status


@pytest.fixture
async def another_issuer() -> AsyncIterator[tuple[str, dict[str, Any]]]:
    """A second, test-only identity provider: discovery and a JWKS of its own key."""
    key = new_keys()["keys"][0]
    public = {k: v for k, v in key.items() if k in ("kty", "n", "e", "kid", "alg", "use")}
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")

    async def discovery(request: web.Request) -> web.Response:
        issuer = str(server.make_url("")).rstrip("/")
        return web.json_response({"issuer": issuer, "jwks_uri": f"{issuer}/jwks"})

    async def jwks(request: web.Request) -> web.Response:
        return web.json_response({"keys": [public]})

    app.router.add_get("/.well-known/openid-configuration", discovery)
    app.router.add_get("/jwks", jwks)
    await server.start_server()
    yield str(server.make_url("")).rstrip("/"), key
    await server.close()


async def test_a_clerk_signed_in_at_the_provider_is_served(
    platform: Platform, identity_provider: IdentityProvider
) -> None:
    token = await access_token(identity_provider, platform, "clerk")
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert await status_for(platform, token, "/v1/matters") == 200
    assert await status_for(platform, token, "/v1/applications") == 200
    # The role comes from the token: a clerk reads no audit log and no department's queue.
    assert await status_for(platform, token, "/v1/audit") == 403
    assert await status_for(platform, token, "/v1/departments/assistance/cases") == 403


async def test_an_officers_department_comes_from_the_provider(
    platform: Platform, identity_provider: IdentityProvider
) -> None:
    token = await access_token(identity_provider, platform, "officer-assistance")
    assert await status_for(platform, token, "/v1/departments/assistance/cases") == 200
    assert await status_for(platform, token, "/v1/departments/elderly/cases") == 403


async def test_the_provider_token_is_accepted_over_grpc(
    platform: Platform, identity_provider: IdentityProvider
) -> None:
    token = await access_token(identity_provider, platform, "clerk")
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{platform.ports.gateway_grpc}",
        interceptors=[AddMetadata((("authorization", f"Bearer {token}"),))],
    ) as channel:
        matters = await gateway_service_pb2_grpc.GatewayServiceStub(channel).ListMatters(
            pb.ListMattersRequest()
        )
    assert len(matters.matters) == 15


async def test_a_wrong_password_gets_no_token(
    platform: Platform, identity_provider: IdentityProvider
) -> None:
    from services.launcher.identity_provider import SignInError

    with pytest.raises(SignInError, match="refused"):
        await asyncio.to_thread(
            sign_in, identity_provider.issuer, "clerk", "guessed", console_origin(platform)
        )


async def test_another_issuers_token_is_refused(
    platform: Platform, another_issuer: tuple[str, dict[str, Any]]
) -> None:
    issuer, key = another_issuer
    message = await refusal(platform, mint(key, **staff_claims(issuer)))
    assert "issuer" in message


async def test_a_token_for_another_audience_is_refused(
    platform: Platform, identity_provider: IdentityProvider
) -> None:
    token = mint(
        provider_key(identity_provider),
        **staff_claims(identity_provider.issuer, aud="urn:some:other:service"),
    )
    assert "audience" in await refusal(platform, token)


async def test_an_expired_token_is_refused(
    platform: Platform, identity_provider: IdentityProvider
) -> None:
    now = dt.datetime.now(dt.UTC)
    token = mint(
        provider_key(identity_provider, "ES256"),
        **staff_claims(
            identity_provider.issuer,
            iat=now - dt.timedelta(hours=2),
            exp=now - dt.timedelta(hours=1),
        ),
    )
    assert "expired" in await refusal(platform, token)


async def test_a_token_signed_with_an_unknown_key_is_refused(
    platform: Platform, identity_provider: IdentityProvider
) -> None:
    stranger = new_keys()["keys"][0]
    token = mint(stranger, **staff_claims(identity_provider.issuer))
    assert "does not publish" in await refusal(platform, token)
    # A key of the test's own under a kid the provider does publish: the signature fails.
    forged = mint(
        {**stranger, "kid": provider_key(identity_provider)["kid"]},
        **staff_claims(identity_provider.issuer),
    )
    assert "signature" in await refusal(platform, forged)


async def test_a_rotated_key_is_picked_up_without_restarting_the_gateway(
    platform: Platform, identity_provider: IdentityProvider
) -> None:
    before = await access_token(identity_provider, platform, "clerk")
    assert await status_for(platform, before, "/v1/matters") == 200
    gateway_pid = platform.processes["gateway"].pid
    old_kid = jwt.get_unverified_header(before)["kid"]

    await asyncio.to_thread(identity_provider.rotate)
    after = await access_token(identity_provider, platform, "clerk")
    assert jwt.get_unverified_header(after)["kid"] != old_kid
    # The gateway has its old key set cached; the new kid makes it fetch the new one. The
    # first try may fall within the refresh rate limit of the gateway's previous fetch.
    for _ in range(40):
        if await status_for(platform, after, "/v1/matters") == 200:
            break
        await asyncio.sleep(0.25)
    else:
        pytest.fail("the gateway never accepted a token signed with the rotated key")
    assert platform.processes["gateway"].pid == gateway_pid
    assert platform.processes["gateway"].poll() is None
    # The withdrawn key no longer opens the door.
    assert "does not publish" in await refusal(platform, before)


def test_the_demo_staff_cover_every_role_and_department() -> None:
    """The provider's demo staff (deploy/local/oidc/staff.json) can do every part of the day."""
    from services.launcher.identity_provider import demo_staff

    roles = {person["role"] for person in demo_staff()}
    assert roles == {"window_clerk", "officer", "auditor", "operator"}
    departments = {p.get("department") for p in demo_staff() if p["role"] == "officer"}
    assert departments == {"assistance", "elderly", "orgs", "registry"}
    assert {p["jurisdiction"] for p in demo_staff()} == {"320585"}
