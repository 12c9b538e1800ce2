"""The officer's case file: the household masked with its incomes, the materials, the
assessment, the household file's other cases and the matter's reason templates; reading it is
audited as a case-file read; a decision carries the officer's display name onto the timeline
and into the audit log, never into the logs."""

from __future__ import annotations

import uuid
from typing import Any

import aiohttp

from tests.conftest import bearer, eventually, get_application, wait_for_entry
from tests.factories import dibao_json, person

OFFICER_NAME = "救助科 李强"
OFFICER = bearer("officer", department="assistance", name=OFFICER_NAME)
AUDITOR = bearer("auditor")


async def _routed(http: aiohttp.ClientSession, application: dict[str, Any]) -> str:
    async with http.post("/v1/applications", json=application) as response:
        assert response.status == 200, await response.text()
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    return receipt


async def _audit(http: aiohttp.ClientSession, receipt: str) -> list[dict[str, Any]]:
    params = {"receipt": receipt, "pageSize": "200"}
    async with http.get("/v1/audit", params=params, headers=AUDITOR) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["entries"]


async def _case_file(http: aiohttp.ClientSession, receipt: str) -> dict[str, Any]:
    path = f"/v1/departments/assistance/cases/{receipt}/file"
    async with http.get(path, headers=OFFICER) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def test_the_case_file_shows_the_household_masked_with_incomes_and_is_audited(http):
    applicant = person()
    application = dibao_json(applicant)
    receipt = await _routed(http, application)

    found = await _case_file(http, receipt)
    members = found["members"]
    assert [m["monthlyIncomeFen"] for m in members] == ["50000", "30000"]
    assert members[0]["name"] == applicant.name[0] + "*" * (len(applicant.name) - 1)
    assert members[0]["idNumber"].startswith(applicant.id_number[:4])
    assert members[0]["idNumber"].endswith(applicant.id_number[-4:])
    shown = str(found)
    for member in application["householdMembers"]:
        assert member["name"] not in shown and member["idNumber"] not in shown
    # The window accepts a case only with every material the matter asks for.
    materials = found["materials"]
    assert [m["code"] for m in materials if not m["extra"]] == [
        "id_card",
        "hukou_booklet",
        "income_proof",
        "economic_check_consent",
    ]
    assert all(m["handedIn"] and m["titleZh"] for m in materials)
    assert found["case"]["assessment"], "the department's assessment is shown"
    assert found["application"]["receipt"] == receipt
    templates = found["reasonTemplates"]
    kinds = {t["decision"] for t in templates}
    assert kinds == {"DECISION_APPROVE", "DECISION_REJECT", "DECISION_REQUEST_MATERIALS"}
    assert any(t["code"] == "income_above_standard" for t in templates)
    # The matter's own approval first, then the general one.
    approvals = [t["code"] for t in templates if t["decision"] == "DECISION_APPROVE"]
    assert approvals == ["income_below_standard", "meets_conditions"]

    read = (await _audit(http, receipt))[-1]
    assert (read["action"], read["actor"]) == ("case_file.read", "officer:officer-320585")
    assert "household_members.monthly_income_fen" in read["fields"]
    assert read["actorName"] == OFFICER_NAME


async def test_another_department_or_city_may_not_read_the_case_file(http):
    receipt = await _routed(http, dibao_json())
    for headers in (
        bearer("officer", department="elderly"),
        bearer("officer", "320583", department="assistance"),
        bearer(),
    ):
        path = f"/v1/departments/assistance/cases/{receipt}/file"
        async with http.get(path, headers=headers) as response:
            assert response.status == 403, await response.text()
    assert not [e for e in await _audit(http, receipt) if e["action"] == "case_file.read"]


async def test_the_household_files_other_cases_are_in_the_case_file(http):
    applicant = person()
    first = await _routed(http, dibao_json(applicant))
    decide = f"/v1/departments/assistance/cases/{first}:decide"
    body = {"requestId": str(uuid.uuid4()), "decision": "DECISION_REJECT", "reason": "x"}
    async with http.post(decide, json=body, headers=OFFICER) as response:
        assert response.status == 200, await response.text()
    await wait_for_entry(http, first, "REJECTED")
    second = await _routed(http, dibao_json(applicant))

    found = await _case_file(http, second)
    others = found["householdCases"]
    assert [(c["receipt"], c["state"]) for c in others] == [(first, "CASE_STATE_REJECTED")]
    assert found["case"]["householdFile"]


async def test_a_decision_with_a_template_shows_the_officers_name_on_the_timeline_and_audit(http):
    receipt = await _routed(http, dibao_json())
    template = next(
        t
        for t in (await _case_file(http, receipt))["reasonTemplates"]
        if t["code"] == "income_proof"
    )
    reason = f"{template['text']} 六月至今的工资单。"
    decide = f"/v1/departments/assistance/cases/{receipt}:decide"
    body = {
        "requestId": str(uuid.uuid4()),
        "decision": "DECISION_REQUEST_MATERIALS",
        "reason": reason,
    }
    async with http.post(decide, json=body, headers=OFFICER) as response:
        assert response.status == 200, await response.text()

    entry = (await wait_for_entry(http, receipt, "MATERIALS_REQUESTED"))["timeline"][-1]
    assert entry["kind"] == "TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED"
    assert (entry["note"], entry["actorName"]) == (reason, OFFICER_NAME)
    decided = [e for e in await _audit(http, receipt) if e["action"] == "case.decided"]
    assert [e["actorName"] for e in decided] == [OFFICER_NAME]

    # The window's acceptance names the clerk, who signed in here without a name.
    shown = await get_application(http, receipt)
    accepted = shown["timeline"][0]
    assert accepted["actorName"] == ""


async def test_an_approval_with_its_template_is_recorded_as_chosen(http):
    receipt = await _routed(http, dibao_json())
    template = next(
        t
        for t in (await _case_file(http, receipt))["reasonTemplates"]
        if t["decision"] == "DECISION_APPROVE"
    )
    assert template["code"] == "income_below_standard"
    decide = f"/v1/departments/assistance/cases/{receipt}:decide"
    body = {
        "requestId": str(uuid.uuid4()),
        "decision": "DECISION_APPROVE",
        "reason": template["text"],
    }
    async with http.post(decide, json=body, headers=OFFICER) as response:
        assert response.status == 200, await response.text()
    entry = (await wait_for_entry(http, receipt, "APPROVED"))["timeline"][-1]
    assert (entry["note"], entry["actorName"]) == (template["text"], OFFICER_NAME)


async def test_the_officers_name_stays_out_of_the_logs(platform, http):
    receipt = await _routed(http, dibao_json())
    decide = f"/v1/departments/assistance/cases/{receipt}:decide"
    body = {"requestId": str(uuid.uuid4()), "decision": "DECISION_APPROVE"}
    async with http.post(decide, json=body, headers=OFFICER) as response:
        assert response.status == 200
    await wait_for_entry(http, receipt, "APPROVED")

    async def logged() -> str | None:
        text = "".join(
            log.read_text(errors="replace") for log in sorted(platform.log_dir.glob("*.log"))
        )
        return text if f"outcome approved, receipt {receipt}" in text else None

    assert OFFICER_NAME not in await eventually(logged, what="the decision logged")
