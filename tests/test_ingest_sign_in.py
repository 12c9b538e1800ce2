"""Agencies' machine clients sign in at the bureau's identity provider (node-oidc-provider,
started beside the test platform) with the client-credentials grant, and push with the token
it issues for ingest's audience, over gRPC and HTTP. Ingest verifies it as the gateway
verifies staff's (services/common/oidc.py): tokens of another issuer, for the gateway's
audience, expired or naming no agency are refused with UNAUTHENTICATED naming what is wrong;
a clerk's token from the same provider, even one for ingest's audience, with PERMISSION_DENIED;
nothing refused is kept."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import grpc
import jwt
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from onedoor.ingest.v1 import ingest_service_pb2 as pb
from onedoor.ingest.v1 import ingest_service_pb2_grpc
from services.cli.login import client_credentials
from services.cli.outcome import CliError
from services.launcher.identity_provider import (
    AUDIENCE,
    INGEST_AUDIENCE,
    IdentityProvider,
    demo_agency,
    demo_password,
    sign_in,
)
from services.launcher.platform import Platform
from tests.test_ingest import KUNSHAN, TAICANG, chunks, expense, new_id, person, refusals
from tests.test_sign_in import another_issuer, mint, provider_key  # noqa: F401 (a fixture)

ROUTE = "/v1/agency-records:batch"


async def agency_token(
    provider: IdentityProvider, agency: str = "medical_insurance", jurisdiction: str = TAICANG
) -> str:
    client = demo_agency(agency, jurisdiction)
    return await asyncio.to_thread(
        client_credentials,
        provider.issuer,
        client["client_id"],
        client["client_secret"],
        INGEST_AUDIENCE,
        10.0,
    )


async def clerk_token(provider: IdentityProvider, platform: Platform, resource: str = "") -> str:
    tokens = await asyncio.to_thread(
        sign_in,
        provider.issuer,
        "clerk",
        demo_password(),
        f"http://127.0.0.1:{platform.ports.gateway_http}",
        resource,
    )
    return str(tokens["access_token"])


def agency_claims(issuer: str, **overrides: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    claims = {
        "iss": issuer,
        "aud": INGEST_AUDIENCE,
        "sub": "agency-medical-insurance-320585",
        "iat": now,
        "exp": now + dt.timedelta(minutes=10),
        "role": "agency",
        "agency": "medical_insurance",
        "jurisdiction": TAICANG,
    }
    return {k: v for k, v in {**claims, **overrides}.items() if v is not None}


@pytest.fixture
async def ingest(platform: Platform) -> AsyncIterator[ingest_service_pb2_grpc.IngestServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.ingest}") as channel:
        yield ingest_service_pb2_grpc.IngestServiceStub(channel)


@pytest.fixture
async def ingest_http(platform: Platform) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(f"http://127.0.0.1:{platform.ports.ingest_http}") as s:
        yield s


@pytest.fixture
async def ingest_db(platform: Platform) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(platform.database_url("ingest"))
    yield conn
    await conn.close()


async def push_grpc(
    ingest: ingest_service_pb2_grpc.IngestServiceStub, token: str, records: list[pb.AgencyRecord]
) -> pb.BatchReport:
    response = await ingest.PushRecords(
        chunks(new_id(), records), metadata=(("authorization", f"Bearer {token}"),)
    )
    return response.report


async def push_http(
    ingest_http: aiohttp.ClientSession, token: str, record: pb.AgencyRecord
) -> tuple[int, dict[str, Any]]:
    async with ingest_http.post(
        ROUTE,
        params={"requestId": new_id()},
        data=json_format.MessageToJson(record, indent=None),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/jsonl"},
    ) as response:
        return response.status, await response.json()


async def refused_grpc(
    ingest: ingest_service_pb2_grpc.IngestServiceStub, token: str, record: pb.AgencyRecord
) -> tuple[grpc.StatusCode, str, str]:
    """The refusal's code, message and ErrorInfo reason; the token never echoed."""
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await push_grpc(ingest, token, [record])
    status = rpc_status.from_call(refused.value)
    assert status is not None
    [info] = [d for d in status.details if d.Is(error_details_pb2.ErrorInfo.DESCRIPTOR)]
    reason = error_details_pb2.ErrorInfo()
    info.Unpack(reason)
    assert token not in (refused.value.details() or "")
    return refused.value.code(), refused.value.details() or "", reason.reason


async def kept(ingest_db: asyncpg.Connection, *record_ids: str) -> list[str]:
    rows = await ingest_db.fetch(
        "SELECT record_id FROM agency_records WHERE record_id = ANY($1::text[]) ORDER BY record_id",
        list(record_ids),
    )
    return [r["record_id"] for r in rows]


async def test_an_agency_client_signed_in_at_the_provider_pushes_over_grpc_and_http(
    identity_provider: IdentityProvider, ingest, ingest_http, ingest_db
) -> None:
    token = await agency_token(identity_provider)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert jwt.get_unverified_header(token)["alg"] == "RS256"
    assert (claims["aud"], claims["role"], claims["agency"], claims["jurisdiction"]) == (
        INGEST_AUDIENCE,
        "agency",
        "medical_insurance",
        TAICANG,
    )
    tag = new_id()[:8]
    report = await push_grpc(ingest, token, [expense(f"oidc-{tag}-1", person(900))])
    assert (report.agency, report.accepted, report.refused) == ("medical_insurance", 1, 0)

    status, body = await push_http(ingest_http, token, expense(f"oidc-{tag}-2", person(901)))
    assert status == 200, body
    assert int(body["report"]["accepted"]) == 1
    assert await kept(ingest_db, f"oidc-{tag}-1", f"oidc-{tag}-2") == [
        f"oidc-{tag}-1",
        f"oidc-{tag}-2",
    ]
    # Who pushed is the client the provider named (sub), as the batch records it.
    pushed_by = await ingest_db.fetchval(
        "SELECT pushed_by FROM batches WHERE batch_id = $1::uuid", report.batch_id
    )
    assert pushed_by == "agency:agency-medical-insurance-320585"


async def test_an_agency_of_another_jurisdiction_pushes_only_its_own_persons(
    identity_provider: IdentityProvider, ingest, ingest_db
) -> None:
    token = await agency_token(identity_provider, jurisdiction=KUNSHAN)
    tag = new_id()[:8]
    report = await push_grpc(
        ingest,
        token,
        [expense(f"oidc-{tag}-1", person(910, KUNSHAN)), expense(f"oidc-{tag}-2", person(911))],
    )
    assert (report.accepted, report.refused) == (1, 1)
    assert refusals(report) == [(2, "id_number", "REFUSAL_REASON_OUTSIDE_JURISDICTION")]
    assert await kept(ingest_db, f"oidc-{tag}-1", f"oidc-{tag}-2") == [f"oidc-{tag}-1"]


async def test_tokens_ingest_cannot_trust_are_refused_naming_why(
    identity_provider: IdentityProvider,
    platform: Platform,
    ingest,
    ingest_http,
    ingest_db,
    another_issuer: tuple[str, dict[str, Any]],  # noqa: F811 (the imported fixture)
) -> None:
    tag = new_id()[:8]
    key = provider_key(identity_provider)
    issuer = identity_provider.issuer
    stranger_issuer, stranger_key = another_issuer
    cases = {
        # Signed by another provider, whose keys ingest never fetches.
        "issuer": mint(stranger_key, **agency_claims(stranger_issuer)),
        # A clerk's token for the gateway, from the same provider.
        "audience": await clerk_token(identity_provider, platform),
        "expired": mint(
            key,
            **agency_claims(
                issuer,
                iat=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2),
                exp=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
            ),
        ),
        # The provider's own key, but the directory gave the client no agency.
        "agency": mint(key, **agency_claims(issuer, agency=None)),
        "jurisdiction": mint(key, **agency_claims(issuer, jurisdiction=None)),
        "unknown agency": mint(key, **agency_claims(issuer, agency="tax_bureau")),
    }
    said = {
        "issuer": "issuer is not the bureau's identity provider",
        "audience": f"audience is not {INGEST_AUDIENCE}",
        "expired": "expired",
        "agency": "claim agency",
        "jurisdiction": "claim jurisdiction",
        "unknown agency": "claim agency",
    }
    for n, (case, token) in enumerate(cases.items()):
        code, message, reason = await refused_grpc(
            ingest, token, expense(f"oidc-{tag}-g{n}", person(920 + n))
        )
        assert (code, reason) == (grpc.StatusCode.UNAUTHENTICATED, "UNAUTHENTICATED"), case
        assert said[case] in message, (case, message)
        status, body = await push_http(
            ingest_http, token, expense(f"oidc-{tag}-h{n}", person(930 + n))
        )
        assert status == 401, (case, body)
        assert body["error"]["status"] == "UNAUTHENTICATED"
        assert said[case] in body["error"]["message"], (case, body)
        assert token not in json.dumps(body)
    assert await kept(ingest_db, *(f"oidc-{tag}-{s}{n}" for s in "gh" for n in range(6))) == []


async def test_a_clerks_token_from_the_provider_is_refused_as_no_agency(
    identity_provider: IdentityProvider, platform: Platform, ingest, ingest_http, ingest_db
) -> None:
    # Even issued for ingest's audience, a member of staff's token pushes nothing.
    token = await clerk_token(identity_provider, platform, resource=INGEST_AUDIENCE)
    assert jwt.decode(token, options={"verify_signature": False})["aud"] == INGEST_AUDIENCE
    tag = new_id()[:8]
    code, message, reason = await refused_grpc(ingest, token, expense(f"oidc-{tag}-1", person(940)))
    assert (code, reason) == (grpc.StatusCode.PERMISSION_DENIED, "PERMISSION_DENIED")
    assert "window_clerk" in message and "role agency" in message
    status, body = await push_http(ingest_http, token, expense(f"oidc-{tag}-2", person(941)))
    assert status == 403, body
    assert body["error"]["status"] == "PERMISSION_DENIED"
    assert await kept(ingest_db, f"oidc-{tag}-1", f"oidc-{tag}-2") == []


async def test_an_agency_client_gets_no_token_for_the_gateway(
    identity_provider: IdentityProvider,
) -> None:
    client = demo_agency("medical_insurance", TAICANG)
    with pytest.raises(CliError, match="no token for urn:onedoor:gateway"):
        await asyncio.to_thread(
            client_credentials,
            identity_provider.issuer,
            client["client_id"],
            client["client_secret"],
            AUDIENCE,
            10.0,
        )
    with pytest.raises(CliError, match="wrong id or secret"):
        await asyncio.to_thread(
            client_credentials,
            identity_provider.issuer,
            client["client_id"],
            "not-the-secret",
            INGEST_AUDIENCE,
            10.0,
        )


async def test_onedoor_push_signs_the_agency_client_in_with_its_secret_from_the_environment(
    identity_provider: IdentityProvider, platform: Platform, ingest_db, tmp_path
) -> None:
    tag = new_id()[:8]
    export = tmp_path / "deaths.jsonl"
    export.write_text(
        json.dumps(
            {
                "recordId": f"oidc-{tag}-1",
                "idNumber": person(950),
                "death": {"diedOn": "2026-11-20"},
            }
        )
        + "\n",
        encoding="utf-8",
    )
    client = demo_agency("health", TAICANG)
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ONEDOOR_")}
    environment["ONEDOOR_INGEST"] = f"http://127.0.0.1:{platform.ports.ingest_http}"
    environment["ONEDOOR_ISSUER"] = identity_provider.issuer

    async def onedoor(*argv: str) -> tuple[int, str, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "services.cli",
            *argv,
            env=environment,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), timeout=120)
        assert process.returncode is not None
        return process.returncode, out.decode(), err.decode()

    # No secret and no terminal to ask at: it stops before sending anything.
    code, _, err = await onedoor("push", str(export), "--client-id", client["client_id"])
    assert code == 2, err
    assert "ONEDOOR_CLIENT_SECRET" in err

    environment["ONEDOOR_CLIENT_SECRET"] = client["client_secret"]
    code, out, err = await onedoor("push", str(export), "--client-id", client["client_id"])
    assert code == 0, err
    assert "agency       health" in out
    assert "accepted     1" in out
    assert client["client_secret"] not in out + err
    assert await kept(ingest_db, f"oidc-{tag}-1") == [f"oidc-{tag}-1"]
