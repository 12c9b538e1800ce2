"""The clerk's day over the API: the window's work lists (filters and keyset paging) and the
search by person (POST only, matched by keyed hash, masked, audited)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import aiohttp
import asyncpg
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from onedoor.department.v1 import department_service_pb2 as apb
from onedoor.gateway.v1 import gateway_service_pb2 as gpb
from services.common import auth
from tests.conftest import bearer, wait_for_entry
from tests.factories import dibao_json, person


async def _submit(http: aiohttp.ClientSession, body: dict[str, Any] | None = None) -> str:
    async with http.post("/v1/applications", json=body or dibao_json()) as response:
        assert response.status == 200, await response.text()
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    return str(receipt)


async def _listed(http: aiohttp.ClientSession, **params: str) -> list[str]:
    """Every receipt of the listing, page by page."""
    receipts: list[str] = []
    token = ""
    while True:
        query = {**params, "pageSize": "100", **({"pageToken": token} if token else {})}
        async with http.get("/v1/applications", params=query) as response:
            assert response.status == 200, await response.text()
            page = await response.json()
        receipts += [a["receipt"] for a in page["applications"]]
        token = page["nextPageToken"]
        if not token:
            return receipts


async def _search(
    http: aiohttp.ClientSession, id_number: str, **more: Any
) -> aiohttp.ClientResponse:
    return await http.post("/v1/applications:search", json={"idNumber": id_number, **more})


async def test_work_lists_sort_the_window_s_cases(http, assistance, intake_db: asyncpg.Connection):
    waiting, overdue, due_soon = [await _submit(http) for _ in range(3)]
    await assistance.DecideCase(
        apb.DecideCaseRequest(
            request_id=str(uuid.uuid4()),
            receipt=waiting,
            decision=apb.DECISION_REQUEST_MATERIALS,
            reason="bank statements",
            officer_id="officer-0042",
        )
    )
    await wait_for_entry(http, waiting, "MATERIALS_REQUESTED")
    # Deadlines moved in the ledger itself: the legal limits are weeks long.
    now = dt.datetime.now(dt.UTC)
    await intake_db.execute(
        "UPDATE cases SET decision_deadline = $2 WHERE receipt = $1",
        overdue,
        now - dt.timedelta(days=1),
    )
    await intake_db.execute(
        "UPDATE cases SET decision_deadline = $2 WHERE receipt = $1",
        due_soon,
        now + dt.timedelta(hours=1),
    )

    today = await _listed(http, workList="today")
    assert {waiting, overdue, due_soon} <= set(today)
    assert len(today) == len(set(today))
    awaiting = await _listed(http, workList="awaiting_materials")
    assert waiting in awaiting and overdue not in awaiting and due_soon not in awaiting
    assert await _listed(http, status="awaiting_materials") == awaiting
    late = await _listed(http, workList="overdue")
    assert overdue in late and due_soon not in late and waiting not in late
    soon = await _listed(http, workList="due_soon")
    assert due_soon in soon and overdue not in soon and waiting not in soon
    # The old flag still means both.
    assert {overdue, due_soon} <= set(await _listed(http, overdue="true"))
    assert waiting not in await _listed(http, workList="today", matterCode="elderly.senior_card")
    assert waiting in await _listed(http, workList="today", matterCode="assistance.dibao")


async def test_a_work_list_pages_by_keyset_without_repeats(http):
    mine = {await _submit(http) for _ in range(3)}
    seen: list[str] = []
    token = ""
    while True:
        query = {"workList": "today", "matterCode": "assistance.dibao", "pageSize": "2"}
        async with http.get(
            "/v1/applications", params={**query, "pageToken": token} if token else query
        ) as response:
            page = await response.json()
        assert len(page["applications"]) <= 2
        seen += [a["receipt"] for a in page["applications"]]
        token = page["nextPageToken"]
        if not token:
            break
    assert mine <= set(seen)
    assert len(seen) == len(set(seen))


async def test_bad_work_list_filters_name_the_field(http):
    for params, field in [
        ({"workList": "tomorrow"}, "workList"),
        ({"status": "pondering"}, "status"),
        ({"matterCode": "assistance.nothing"}, "matter_code"),
        ({"workList": "overdue", "overdue": "true"}, "overdue"),
    ]:
        async with http.get("/v1/applications", params=params) as response:
            assert response.status == 400, params
            body = await response.json()
        fields = [
            v["field"] for d in body["error"]["details"] for v in d.get("fieldViolations", [])
        ]
        assert field in fields, (params, body)


async def test_search_finds_every_case_naming_the_person_masked_and_audited(
    http, intake_db: asyncpg.Connection
):
    applicant = person()
    body = dibao_json(applicant)
    member = body["householdMembers"][1]["idNumber"]
    receipt = await _submit(http, body)

    for number in (applicant.id_number, member):
        response = await _search(http, number)
        assert response.status == 200, await response.text()
        found = (await response.json())["applications"]
        assert [a["receipt"] for a in found] == [receipt]
    text = str(found)
    assert applicant.id_number not in text and applicant.name not in text
    assert (
        found[0]["applicantIdNumber"]
        == applicant.id_number[:4] + "*" * 10 + applicant.id_number[-4:]
    )

    entries = await intake_db.fetch(
        "SELECT actor, receipt, fields, detail FROM audit_log WHERE action = 'person.searched' AND receipt = $1",
        receipt,
    )
    assert len(entries) == 2
    assert all(e["actor"].startswith("window_clerk:") for e in entries)
    assert "search.id_number" in entries[0]["fields"]
    stored = str([dict(e) for e in entries])
    assert applicant.id_number not in stored and member not in stored


async def test_a_search_that_finds_nothing_is_still_audited(http, intake_db):
    nobody = person()
    before = await intake_db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'person.searched' AND receipt = ''"
    )
    response = await _search(http, nobody.id_number)
    assert response.status == 200
    assert (await response.json())["applications"] == []
    after = await intake_db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'person.searched' AND receipt = ''"
    )
    assert after == before + 1


async def test_search_takes_the_number_only_in_a_post_body(http):
    someone = person()
    # Not even tried with a number: it would land in the access log and the span's URL.
    async with http.get("/v1/applications:search") as response:
        assert response.status == 405
    response = await _search(
        http, someone.id_number[:-1] + ("0" if someone.id_number[-1] != "0" else "1")
    )
    assert response.status == 400
    body = await response.json()
    violations = [v for d in body["error"]["details"] for v in d.get("fieldViolations", [])]
    assert [v["field"] for v in violations] == ["id_number"]
    assert someone.id_number[:17] not in str(body)
    response = await _search(http, "张三")
    assert response.status == 400


async def test_the_case_records_the_clerk_who_accepted_it_not_who_reads_it(
    platform, gateway, intake_db: asyncpg.Connection
):
    base = f"http://127.0.0.1:{platform.ports.gateway_http}"
    accepting = auth.issue("window_clerk", "320585", subject="clerk-li-0007", name="李梅")
    reading = auth.issue("window_clerk", "320585", subject="clerk-zhao-0011", name="赵强")
    async with aiohttp.ClientSession(
        base, headers={"Authorization": f"Bearer {accepting}"}
    ) as clerk:
        receipt = await _submit(clerk)
    async with (
        aiohttp.ClientSession(base, headers={"Authorization": f"Bearer {reading}"}) as colleague,
        colleague.get(f"/v1/applications/{receipt}") as response,
    ):
        assert response.status == 200, await response.text()
        shown = (await response.json())["application"]
    assert shown["acceptedBy"] == {"subject": "clerk-li-0007", "displayName": "李梅"}
    accepted = [e for e in shown["timeline"] if e["kind"] == "TIMELINE_ENTRY_KIND_ACCEPTED"]
    assert [e.get("actorName") for e in accepted] == ["李梅"]

    over_grpc = await gateway.GetApplication(gpb.GetApplicationRequest(receipt=receipt))
    assert over_grpc.application.accepted_by.subject == "clerk-li-0007"
    assert over_grpc.application.accepted_by.display_name == "李梅"
    stored = await intake_db.fetchrow(
        "SELECT accepted_by, accepted_by_name FROM cases WHERE receipt = $1", receipt
    )
    assert tuple(stored) == ("clerk-li-0007", "李梅")


async def test_a_case_from_before_the_record_names_no_clerk(http, intake_db: asyncpg.Connection):
    receipt = await _submit(http)
    await intake_db.execute(
        "UPDATE cases SET accepted_by = '', accepted_by_name = '' WHERE receipt = $1", receipt
    )
    async with http.get(f"/v1/applications/{receipt}") as response:
        assert response.status == 200
        assert "acceptedBy" not in (await response.json())["application"]


async def test_refusals_say_in_the_callers_language_what_is_wrong(http, gateway):
    someone = person()
    wrong = someone.id_number[:-1] + ("0" if someone.id_number[-1] != "0" else "1")
    for language, message, description in [
        ("zh-CN", "有1项填写有误，请逐项核对", "校验码不符，请核对号码"),
        ("en", "1 field(s) of the request are not valid", "check digit does not match"),
    ]:
        async with http.post(
            "/v1/applications:search",
            json={"idNumber": wrong},
            headers={"Accept-Language": language},
        ) as response:
            assert response.status == 400
            error = (await response.json())["error"]
        # The developer's message stays; people read the localized one.
        assert error["message"].startswith("the request has invalid fields")
        assert error["localizedMessage"] == {"locale": language, "message": message}
        (violation,) = [v for d in error["details"] for v in d.get("fieldViolations", [])]
        assert violation["localizedMessage"] == {"locale": language, "message": description}
        assert wrong[:17] not in str(error)

    async with http.get("/v1/applications/320585-00000-00000") as response:
        assert response.status == 404
        said = (await response.json())["error"]["localizedMessage"]
    assert said == {"locale": "zh-CN", "message": "未找到所查的记录，请核对编号"}
    async with http.post(
        "/v1/applications:search", json={"idNumber": someone.id_number}, headers=bearer("auditor")
    ) as response:
        assert response.status == 403
        said = (await response.json())["error"]["localizedMessage"]
    assert said["message"] == "无权执行此操作（角色或辖区不符）"

    # Over gRPC: a LocalizedMessage detail in the language of the accept-language metadata.
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await gateway.GetApplication(
            gpb.GetApplicationRequest(receipt="320585-00000-00000"),
            metadata=(("accept-language", "en"),),
        )
    status = rpc_status.from_call(refused.value)
    assert status is not None
    localized = error_details_pb2.LocalizedMessage()
    (packed,) = [d for d in status.details if d.Is(localized.DESCRIPTOR)]
    packed.Unpack(localized)
    assert (localized.locale, localized.message) == (
        "en",
        "nothing is recorded under that number; check it",
    )
