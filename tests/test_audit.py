"""The audit log records every read of a case's personal data and every officer action: who,
when, which case, from which trace; the services cannot change or remove a row."""

from __future__ import annotations

import random
import uuid
from typing import Any

import aiohttp
import asyncpg
import pytest

from services.cli.chain import entry as chain_entry
from services.common import audit
from tests.conftest import bearer, wait_for_entry
from tests.factories import dibao_json, person

OFFICER = bearer("officer", department="assistance")
AUDITOR = bearer("auditor")


async def _entries(http: aiohttp.ClientSession, receipt: str = "") -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = []
    token = ""
    while True:
        params = {"pageSize": "200", "pageToken": token, "receipt": receipt}
        async with http.get("/v1/audit", params=params, headers=AUDITOR) as response:
            assert response.status == 200, await response.text()
            page = await response.json()
        entries += page["entries"]
        token = page.get("nextPageToken", "")
        if not token:
            return entries


async def test_a_lookup_and_a_decision_are_audited_with_who_which_case_and_trace(platform, http):
    applicant = person()
    async with http.post("/v1/applications", json=dibao_json(applicant)) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")  # itself a read, audited
    before = len(await _entries(http, receipt))

    async with http.get(f"/v1/applications/{receipt}") as response:
        assert response.status == 200
        lookup_trace = response.headers["X-Trace-Id"]
    decide = f"/v1/departments/assistance/cases/{receipt}:decide"
    # A body naming another officer is refused: who decides is the signed-in officer.
    body = {"requestId": str(uuid.uuid4()), "decision": "DECISION_APPROVE"}
    impersonating = {**body, "officerId": "officer-impersonated"}
    async with http.post(decide, json=impersonating, headers=OFFICER) as response:
        assert response.status == 400, await response.text()
        error = (await response.json())["error"]
        assert error["details"][0]["fieldViolations"][0]["field"] == "officer_id"
    async with http.post(decide, json=body, headers=OFFICER) as response:
        assert response.status == 200, await response.text()
        decision_trace = response.headers["X-Trace-Id"]

    conn = await asyncpg.connect(platform.database_url("assistance"))
    try:
        officers = await conn.fetch("SELECT officer_id FROM decisions WHERE receipt = $1", receipt)
    finally:
        await conn.close()
    assert [r["officer_id"] for r in officers] == ["officer-320585"]

    entries = await _entries(http, receipt)
    assert len(entries) == before + 2
    read, decided = entries[-2:]
    assert (read["actor"], read["action"], read["receipt"]) == (
        "window_clerk:window_clerk-320585",
        "case.read",
        receipt,
    )
    assert read["fields"] == ["applicant.id_number", "applicant.name"]
    assert read["traceId"] == lookup_trace
    assert (decided["actor"], decided["action"]) == ("officer:officer-320585", "case.decided")
    assert decided["detail"] == "assistance: CASE_STATE_APPROVED"
    assert decided["traceId"] == decision_trace
    assert read["createTime"] <= decided["createTime"]
    # Names of fields, never their values.
    shown = str(entries)
    assert applicant.id_number not in shown and applicant.name not in shown


async def test_a_listing_records_each_case_it_showed(http):
    async with http.get("/v1/applications", params={"pageSize": "3"}) as response:
        listed = [a["receipt"] for a in (await response.json())["applications"]]
    assert listed, "earlier tests left cases to list"
    tail = (await _entries(http))[-len(listed) :]
    assert [(e["action"], e["receipt"]) for e in tail] == [("case.listed", r) for r in listed]


async def test_a_refused_read_is_not_served_and_not_recorded_as_served(http):
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    before = len(await _entries(http, receipt))
    other_city = bearer(jurisdiction="320583")
    async with http.get(f"/v1/applications/{receipt}", headers=other_city) as response:
        assert response.status == 403
    assert len(await _entries(http, receipt)) == before


async def test_the_chain_holds_and_the_service_cannot_rewrite_it(http, intake_db):
    entries = await _entries(http)
    # Rebuilt from the API's JSON as `onedoor audit verify` does.
    chain = [chain_entry(e) for e in entries]
    assert chain, "the earlier tests were audited"
    assert audit.first_break(chain) is None

    for statement in ("UPDATE audit_log SET actor = 'nobody'", "DELETE FROM audit_log"):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await intake_db.execute(statement)


async def test_every_staff_action_names_the_staff_member_in_the_audit_and_on_the_timeline(http):
    """A read, a listing, a search, a supply of materials, a divorce's confirmation and its
    withdrawal: each entry carries the clerk's display name from the sign-in, and the timeline
    entries the clerk's actions write name the clerk too."""
    from tests.test_matters import application, decide, party, routed

    # A name as staff directories hold them (Chinese, no Latin letters for the auditor's screen
    # to show later), unique to this run.
    name = "窗口 王" + "".join(
        random.choice("伟芳娜秀英敏静丽强磊军洋勇艳杰涛明超") for _ in range(4)
    )
    clerk = bearer(name=name)
    dibao = await routed(http, dibao_json())
    await decide(http, "assistance", dibao, "DECISION_REQUEST_MATERIALS", "收入证明")
    await wait_for_entry(http, dibao, "MATERIALS_REQUESTED")
    actions: list[tuple[str, str]] = []

    async with http.get(f"/v1/applications/{dibao}", headers=clerk) as response:
        assert response.status == 200, await response.text()
    actions.append(("case.read", dibao))
    async with http.get("/v1/applications", params={"pageSize": "1"}, headers=clerk) as r:
        (listed,) = [a["receipt"] for a in (await r.json())["applications"]]
    actions.append(("case.listed", listed))
    async with http.post(
        f"/v1/applications/{dibao}:supplyMaterials",
        json={"materials": ["income_proof"]},
        headers=clerk,
    ) as response:
        assert response.status == 200, await response.text()
    actions.append(("materials.supplied", dibao))

    husband, wife = person(age=40, sex="male"), person(age=38, sex="female")
    marriage = await routed(http, application("registry.marriage", husband, otherParty=party(wife)))
    await decide(http, "registry", marriage, "DECISION_APPROVE")
    await wait_for_entry(http, marriage, "APPROVED")
    divorce = await routed(http, application("registry.divorce", husband, otherParty=party(wife)))
    async with http.post(
        "/v1/applications:search", json={"idNumber": husband.id_number}, headers=clerk
    ) as response:
        assert response.status == 200, await response.text()
        found = sorted(a["receipt"] for a in (await response.json())["applications"])
    assert found == sorted([marriage, divorce])
    async with http.post(
        f"/v1/applications/{divorce}:withdrawDivorce",
        json={"idNumber": wife.id_number},
        headers=clerk,
    ) as response:
        assert response.status == 200, await response.text()
    actions.append(("divorce.withdrawn", divorce))
    # A refused step (the divorce is closed now) records nothing.
    async with http.post(
        f"/v1/applications/{divorce}:confirmDivorce",
        json={"idNumber": husband.id_number},
        headers=clerk,
    ) as response:
        assert response.status == 400, await response.text()

    entries = [e for e in await _entries(http) if e["actor"] == "window_clerk:window_clerk-320585"]
    mine = [e for e in entries if e.get("actorName") == name]
    assert [(e["action"], e["receipt"]) for e in mine if e["action"] != "person.searched"] == (
        actions
    )
    searched = sorted(e["receipt"] for e in mine if e["action"] == "person.searched")
    assert searched == found

    supplied = (await wait_for_entry(http, dibao, "MATERIALS_SUPPLIED"))["timeline"]
    (handed_in,) = [e for e in supplied if e["kind"] == "TIMELINE_ENTRY_KIND_MATERIALS_SUPPLIED"]
    assert handed_in["actorName"] == name
    assert handed_in["message"]["text"] == "已补交材料：家庭成员收入证明"
    withdrawn = (await wait_for_entry(http, divorce, "WITHDRAWN"))["timeline"]
    (step,) = [e for e in withdrawn if e["kind"] == "TIMELINE_ENTRY_KIND_WITHDRAWN"]
    assert step["actorName"] == name
