"""Who may do what: every call carries a valid bearer token; a call outside the caller's role
or jurisdiction is refused and changes nothing; internal services answer only the platform."""

from __future__ import annotations

import datetime as dt
import uuid

import grpc
import jwt
import pytest

from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.gateway.v1 import gateway_service_pb2_grpc
from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from services.common import auth
from tests.conftest import AddMetadata, bearer, wait_for_entry
from tests.factories import dibao_json, person

CALLERS = {
    "clerk": bearer("window_clerk"),
    "clerk of kunshan": bearer("window_clerk", "320583"),
    "clerk of suzhou": bearer("window_clerk", "320500"),
    "assistance officer": bearer("officer", department="assistance"),
    "elderly officer": bearer("officer", department="elderly"),
    "auditor": bearer("auditor"),
    "operator": bearer("operator"),
}

# operation -> callers allowed (everyone else gets 403)
ALLOWED = {
    "submit": {"clerk", "clerk of suzhou"},
    "look up": {"clerk", "clerk of suzhou", "assistance officer"},
    "list overdue": {"clerk", "clerk of suzhou"},
    "work list": {"clerk", "clerk of suzhou"},
    "search by person": {"clerk", "clerk of suzhou"},
    "catalog": set(CALLERS),
    "assistance queue": {"assistance officer"},
    "decide for assistance": {"assistance officer"},
    "audit log": {"auditor"},
    "audit log by actor and day": {"auditor"},
    "audit chain verification": {"auditor"},
    "assistance case file": {"assistance officer"},
    "assistance warnings": {"assistance officer"},
    "health": {"operator"},
}


@pytest.fixture(scope="module")
async def routed_receipt(platform):
    import aiohttp

    async with aiohttp.ClientSession(
        f"http://127.0.0.1:{platform.ports.gateway_http}", headers=bearer()
    ) as http:
        async with http.post("/v1/applications", json=dibao_json()) as response:
            receipt = (await response.json())["receipt"]
        await wait_for_entry(http, receipt, "ROUTED")
    return receipt


def _call(http, operation: str, receipt: str, headers: dict[str, str]):
    decision = {
        "requestId": str(uuid.uuid4()),
        "decision": "DECISION_REJECT",
        "reason": "x",
    }
    return {
        "submit": lambda: http.post("/v1/applications", json=dibao_json(), headers=headers),
        "look up": lambda: http.get(f"/v1/applications/{receipt}", headers=headers),
        "list overdue": lambda: http.get(
            "/v1/applications", params={"overdue": "true"}, headers=headers
        ),
        "work list": lambda: http.get(
            "/v1/applications", params={"workList": "awaiting_materials"}, headers=headers
        ),
        "search by person": lambda: http.post(
            "/v1/applications:search", json={"idNumber": person().id_number}, headers=headers
        ),
        "catalog": lambda: http.get("/v1/matters", headers=headers),
        "assistance queue": lambda: http.get("/v1/departments/assistance/cases", headers=headers),
        "decide for assistance": lambda: http.post(
            f"/v1/departments/assistance/cases/{receipt}:decide", json=decision, headers=headers
        ),
        "audit log": lambda: http.get("/v1/audit", headers=headers),
        "audit log by actor and day": lambda: http.get(
            "/v1/audit",
            params={"actor": "officer:x", "sinceDate": "2026-01-01", "untilDate": "2026-12-31"},
            headers=headers,
        ),
        "audit chain verification": lambda: http.get("/v1/audit:verify", headers=headers),
        "assistance case file": lambda: http.get(
            f"/v1/departments/assistance/cases/{receipt}/file", headers=headers
        ),
        "assistance warnings": lambda: http.get(
            "/v1/departments/assistance/warnings", headers=headers
        ),
        "health": lambda: http.get("/healthz", headers=headers),
    }[operation]()


# Every caller against every operation, except the one allowed decision: deciding would close
# the shared case for the rest of the matrix (test_an_allowed_officer_decides covers it).
MATRIX = [
    (operation, caller)
    for operation in ALLOWED
    for caller in CALLERS
    if not (operation == "decide for assistance" and caller in ALLOWED[operation])
]


@pytest.mark.parametrize(("operation", "caller"), MATRIX)
async def test_permission_matrix(http, intake_db, routed_receipt, operation, caller):
    before = await intake_db.fetchval("SELECT count(*) FROM cases")
    async with _call(http, operation, routed_receipt, CALLERS[caller]) as response:
        body = await response.json()
        expected = 200 if caller in ALLOWED[operation] else 403
        assert response.status == expected, (operation, caller, body)
    if expected == 403:
        assert body["error"]["status"] == "PERMISSION_DENIED"
        assert await intake_db.fetchval("SELECT count(*) FROM cases") == before
        shown = await (await http.get(f"/v1/applications/{routed_receipt}")).json()
        assert shown["application"]["status"] == "CASE_STATUS_ROUTED"


async def test_an_allowed_officer_decides(http):
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    decision = {"requestId": str(uuid.uuid4()), "decision": "DECISION_APPROVE"}
    async with _call(
        http, "decide for assistance", receipt, CALLERS["assistance officer"]
    ) as response:
        assert response.status == 200
    # The same decision by request id from another department's officer is refused.
    async with http.post(
        f"/v1/departments/elderly/cases/{receipt}:decide",
        json=decision,
        headers=CALLERS["assistance officer"],
    ) as response:
        assert response.status == 403


def _expired() -> str:
    return auth.issue("window_clerk", "320585", lifetime=dt.timedelta(seconds=-1))


def _forged() -> str:
    claims = {"iss": "onedoor", "sub": "x", "role": "window_clerk", "jurisdiction": "320585"}
    claims["exp"] = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    return jwt.encode(claims, "not-the-platform-key-0123456789-0123456789", algorithm="HS256")


@pytest.mark.parametrize(
    "authorization",
    [
        "",
        "Basic abc",
        "Bearer",
        "Bearer not.a.token",
        f"Bearer {_expired()}",
        f"Bearer {_forged()}",
    ],
    ids=["none", "basic", "empty bearer", "garbage", "expired", "forged"],
)
async def test_without_a_valid_token_every_call_is_unauthenticated(
    platform, intake_db, authorization
):
    import aiohttp

    headers = {"Authorization": authorization} if authorization else {}
    before = await intake_db.fetchval("SELECT count(*) FROM cases")
    async with aiohttp.ClientSession(f"http://127.0.0.1:{platform.ports.gateway_http}") as http:
        for path in ("/v1/matters", "/healthz"):
            async with http.get(path, headers=headers) as response:
                assert response.status == 401
                assert (await response.json())["error"]["status"] == "UNAUTHENTICATED"
        async with http.post("/v1/applications", json=dibao_json(), headers=headers) as response:
            assert response.status == 401
    assert await intake_db.fetchval("SELECT count(*) FROM cases") == before

    metadata = (("authorization", authorization),) if authorization else ()
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{platform.ports.gateway_grpc}",
        interceptors=[AddMetadata(metadata)] if metadata else None,
    ) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await gateway_service_pb2_grpc.GatewayServiceStub(channel).ListMatters(
                pb.ListMattersRequest()
            )
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_grpc_refuses_outside_the_role(platform):
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{platform.ports.gateway_grpc}",
        interceptors=[AddMetadata((("authorization", CALLERS["operator"]["Authorization"]),))],
    ) as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await gateway_service_pb2_grpc.GatewayServiceStub(channel).SubmitApplication(
                pb.SubmitApplicationRequest()
            )
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_internal_services_answer_only_the_platform(platform, routed_receipt):
    request = intake_service_pb2.GetCaseRequest(receipt=routed_receipt)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.intake}") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await intake_service_pb2_grpc.IntakeServiceStub(channel).GetCase(request)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
        found = await intake_service_pb2_grpc.IntakeServiceStub(channel).GetCase(
            request, metadata=auth.service_metadata()
        )
        assert found.case.receipt == routed_receipt
