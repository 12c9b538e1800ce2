"""One person, one open case per matter; one household, one file; and AIP-155 request ids
that cannot swallow another application. Against the real platform, over HTTP and gRPC."""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
from typing import Any

import aiohttp
import asyncpg
import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from onedoor.gateway.v1 import gateway_service_pb2 as pb
from services.common.clock import BureauClock
from services.common.keyed_hash import person_key
from services.common.receipt import receipt_for
from services.launcher.platform import Platform
from tests.conftest import bearer, wait_for_entry
from tests.factories import application, dibao_json, person, request_id


def _error_info(error: grpc.aio.AioRpcError) -> dict[str, Any]:
    status = rpc_status.from_call(error)
    assert status is not None
    for detail in status.details:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return {"reason": info.reason, "metadata": dict(info.metadata)}
    raise AssertionError("no ErrorInfo detail")


def _http_reason(body: dict[str, Any]) -> tuple[str, dict[str, str]]:
    for detail in body["error"]["details"]:
        if detail["@type"].endswith("ErrorInfo"):
            return detail["reason"], detail.get("metadata", {})
    raise AssertionError(f"no ErrorInfo in {body}")


async def _submit(http: aiohttp.ClientSession, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post("/v1/applications", json=body) as response:
        return response.status, await response.json()


async def _submit_grpc(gateway: Any, body: dict[str, Any]) -> tuple[int, Any]:
    request = json_format.ParseDict(body, pb.SubmitApplicationRequest())
    try:
        answer = await gateway.SubmitApplication(request)
    except grpc.aio.AioRpcError as error:
        return error.code().value[0], error
    return 0, answer


async def _cases_naming(intake_db: asyncpg.Connection, matter: str, receipts: set[str]) -> int:
    return int(
        await intake_db.fetchval(
            "SELECT count(*) FROM cases WHERE matter_code = $1 AND receipt = ANY($2::text[])",
            matter,
            list(receipts),
        )
    )


async def test_a_second_application_while_one_is_open_is_refused_naming_the_open_case(http):
    someone = person(age=70)
    first_status, first = await _submit(http, application("elderly.senior_card", someone))
    assert first_status == 200, first
    status, refused = await _submit(http, application("elderly.senior_card", someone))
    assert status == 400, refused
    reason, metadata = _http_reason(refused)
    assert reason == "DUPLICATE_APPLICATION"
    assert metadata["open_receipt"] == first["receipt"]
    assert first["receipt"] in refused["error"]["message"]
    # Never the person's data.
    assert someone.id_number not in str(refused) and someone.name not in str(refused)
    # Another matter for the same person is not a duplicate.
    status, allowance = await _submit(http, application("elderly.home_care", someone, care={}))
    assert status in (200, 400), allowance
    if status == 400:
        assert _http_reason(allowance)[0] != "DUPLICATE_APPLICATION"


async def test_a_household_member_cannot_open_a_second_dibao_for_the_same_household(http):
    applicant, spouse = person(), person()
    body = dibao_json(applicant=applicant, incomes_fen=(50000, 30000))
    status, first = await _submit(http, body)
    assert status == 200, first
    # The spouse applies with another member list that still names the applicant.
    again = dibao_json(applicant=spouse, incomes_fen=(30000, 20000))
    again["householdMembers"][1]["idNumber"] = applicant.id_number
    again["householdMembers"][1]["name"] = applicant.name
    again["details"]["economicCheckConsent"]["memberIdNumbers"] = [
        spouse.id_number,
        applicant.id_number,
    ]
    status, refused = await _submit(http, again)
    assert status == 400, refused
    assert _http_reason(refused) == ("DUPLICATE_APPLICATION", {"open_receipt": first["receipt"]})


async def test_temporary_assistance_may_run_several_cases_for_one_person(http):
    someone = person()
    answers = [
        await _submit(
            http,
            application(
                "assistance.temporary",
                someone,
                household=[(someone, 0)],
                requestedAmountFen=100000,
            ),
        )
        for _ in range(2)
    ]
    assert [status for status, _ in answers] == [200, 200], answers


async def test_a_final_case_frees_the_person_to_apply_again(http, platform: Platform):
    someone = person(age=75)
    status, first = await _submit(http, application("elderly.senior_card", someone))
    assert status == 200, first
    await wait_for_entry(http, first["receipt"], "ROUTED")
    officer = bearer("officer", department="elderly")
    async with http.post(
        f"/v1/departments/elderly/cases/{first['receipt']}:decide",
        json={"requestId": request_id(), "decision": "DECISION_REJECT", "reason": "材料不实"},
        headers=officer,
    ) as response:
        assert response.status == 200, await response.text()
    await wait_for_entry(http, first["receipt"], "REJECTED")
    status, second = await _submit(http, application("elderly.senior_card", someone))
    assert status == 200, second
    assert second["receipt"] != first["receipt"]


async def test_twenty_at_once_over_http_and_grpc_make_one_case_and_one_file(
    http, gateway, platform: Platform, intake_db
):
    applicant, child = person(), person()
    base = dibao_json(applicant=applicant, incomes_fen=(40000, 0))
    base["householdMembers"][1].update(name=child.name, idNumber=child.id_number)
    base["details"]["economicCheckConsent"]["memberIdNumbers"] = [
        applicant.id_number,
        child.id_number,
    ]
    bodies = []
    for _ in range(20):
        body = copy.deepcopy(base)
        body["requestId"] = request_id()
        bodies.append(body)
    answers = await asyncio.gather(
        *(
            _submit(http, body) if i % 2 else _submit_grpc(gateway, body)
            for i, body in enumerate(bodies)
        )
    )
    accepted = [a for status, a in answers if status in (0, 200)]
    assert len(accepted) == 1, [s for s, _ in answers]
    receipt = accepted[0]["receipt"] if isinstance(accepted[0], dict) else accepted[0].receipt
    for status, answer in answers:
        if status == 400:
            assert _http_reason(answer) == ("DUPLICATE_APPLICATION", {"open_receipt": receipt})
        elif status == grpc.StatusCode.FAILED_PRECONDITION.value[0]:
            info = _error_info(answer)
            assert info == {
                "reason": "DUPLICATE_APPLICATION",
                "metadata": {"open_receipt": receipt},
            }
        else:
            assert status in (0, 200), answer
    # Of the twenty request ids, one case stored: the refused ones left nothing behind.
    receipts = {receipt_for("320585", body["requestId"]) for body in bodies}
    assert receipt in receipts
    assert await _cases_naming(intake_db, "assistance.dibao", receipts) == 1
    await wait_for_entry(http, receipt, "ROUTED")

    conn = await asyncpg.connect(platform.database_url("assistance"))
    try:
        keys = [person_key(applicant.id_number), person_key(child.id_number)]
        files = await conn.fetch(
            "SELECT DISTINCT file_id FROM household_members WHERE person_key = ANY($1::text[])",
            keys,
        )
        assert len(files) == 1
        empty = await conn.fetchval(
            """SELECT count(*) FROM household_files f
                WHERE NOT EXISTS (SELECT 1 FROM household_members m WHERE m.file_id = f.id)"""
        )
        assert empty == 0
    finally:
        await conn.close()

    # Approved, then the applicant dies: no benefit of the household keeps running for them.
    officer = bearer("officer", department="assistance")
    async with http.post(
        f"/v1/departments/assistance/cases/{receipt}:decide",
        json={"requestId": request_id(), "decision": "DECISION_APPROVE"},
        headers=officer,
    ) as response:
        assert response.status == 200, await response.text()
    await wait_for_entry(http, receipt, "APPROVED")
    today = BureauClock().today()
    death = application(
        "registry.death",
        person(),
        death={
            "deceasedName": applicant.name,
            "deceasedIdNumber": applicant.id_number,
            "dateOfDeath": today.isoformat(),
        },
    )
    status, registered = await _submit(http, death)
    assert status == 200, registered
    await wait_for_entry(http, registered["receipt"], "COMPLETED")
    conn = await asyncpg.connect(platform.database_url("assistance"))
    try:
        running = await conn.fetchval(
            """SELECT count(*) FROM household_benefits
                WHERE beneficiary_key = $1 AND stopped_at IS NULL""",
            person_key(applicant.id_number),
        )
        assert running == 0
    finally:
        await conn.close()


async def test_a_reused_request_id_with_another_application_is_refused_over_http(http, intake_db):
    first_body = dibao_json()
    status, first = await _submit(http, first_body)
    assert status == 200, first
    other = application("elderly.senior_card", person(age=66))
    other["requestId"] = first_body["requestId"]
    async with http.post("/v1/applications", json=other) as response:
        assert response.status == 409, await response.text()
        refused = await response.json()
    assert _http_reason(refused)[0] == "REQUEST_ID_REUSED"
    assert refused["error"]["status"] == "ALREADY_EXISTS"
    # Nothing stored for the second one, and the first is untouched.
    matters = await intake_db.fetch(
        "SELECT matter_code FROM cases WHERE request_id = $1", first_body["requestId"]
    )
    assert [m["matter_code"] for m in matters] == ["assistance.dibao"]
    # The same request resent still answers with the first receipt.
    status, again = await _submit(http, first_body)
    assert status == 200 and again["receipt"] == first["receipt"] and not again.get("created")


async def test_a_reused_request_id_with_another_application_is_refused_over_grpc(
    gateway, intake_db
):
    first_body = dibao_json()
    status, first = await _submit_grpc(gateway, first_body)
    assert status == 0, first
    changed = copy.deepcopy(first_body)
    changed["householdMembers"][0]["monthlyIncomeFen"] = 1
    status, refused = await _submit_grpc(gateway, changed)
    assert status == grpc.StatusCode.ALREADY_EXISTS.value[0], refused
    assert _error_info(refused)["reason"] == "REQUEST_ID_REUSED"
    stored = await intake_db.fetchval(
        "SELECT count(*) FROM cases WHERE request_id = $1", first_body["requestId"]
    )
    assert stored == 1
    status, again = await _submit_grpc(gateway, first_body)
    assert status == 0 and again.receipt == first.receipt and not again.created


async def test_a_reused_request_id_is_refused_even_where_the_records_now_refuse(http):
    # A death registered, then its request id reused for another death: the registry refuses
    # the second on its records, and the window must not answer with the first receipt.
    today = BureauClock().today()
    first_body = application(
        "registry.death",
        person(),
        death={
            "deceasedName": "测试",
            "deceasedIdNumber": person(age=81).id_number,
            "dateOfDeath": (today - dt.timedelta(days=1)).isoformat(),
        },
    )
    status, first = await _submit(http, first_body)
    assert status == 200, first
    await wait_for_entry(http, first["receipt"], "COMPLETED")
    other = copy.deepcopy(first_body)
    other["details"]["death"]["deceasedName"] = "另一位"
    async with http.post("/v1/applications", json=other) as response:
        assert response.status == 409, await response.text()
        assert _http_reason(await response.json())[0] == "REQUEST_ID_REUSED"
