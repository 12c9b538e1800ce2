"""The clerk's commands of `onedoor` against the real platform: search with the identity
number on stdin (never an argument), supply, and a divorce step, in the bureau's local time."""

from __future__ import annotations

import asyncio
import os
import uuid

from tests.conftest import wait_for_entry
from tests.factories import dibao_json, person
from tests.test_cli import CLERK, ONEDOOR, Ran
from tests.test_matters import decide


async def onedoor(platform, *argv: str, stdin: str = "", env: dict[str, str] | None = None) -> Ran:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ONEDOOR_")}
    environment["ONEDOOR_GATEWAY"] = f"http://127.0.0.1:{platform.ports.gateway_http}"
    environment["ONEDOOR_TOKEN"] = CLERK
    environment |= env or {}
    process = await asyncio.create_subprocess_exec(
        str(ONEDOOR),
        *argv,
        env=environment,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout=120)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


async def test_search_reads_the_number_from_stdin_and_shows_masked_cases(platform, http):
    body = dibao_json()
    async with http.post("/v1/applications", json=body) as response:
        receipt = (await response.json())["receipt"]
    number = body["householdMembers"][1]["idNumber"]
    ran = await onedoor(platform, "search", stdin=number + "\n")
    assert ran.code == 0, ran.err
    assert receipt in ran.out
    assert number not in ran.out and body["applicant"]["idNumber"] not in ran.out
    as_json = await onedoor(platform, "search", "--json", stdin=number + "\n")
    assert [a["receipt"] for a in as_json.json()["applications"]] == [receipt]
    nobody = await onedoor(platform, "search", stdin=person().id_number + "\n")
    assert nobody.code == 0 and "no applications" in nobody.out
    refused = await onedoor(platform, "search", stdin="张三\n")
    assert refused.code != 0 and "id_number" in refused.err


async def test_supply_resumes_the_case_and_times_are_local(platform, http):
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    await decide(
        http, "assistance", receipt, "DECISION_REQUEST_MATERIALS", f"income_proof {uuid.uuid4()}"
    )
    await wait_for_entry(http, receipt, "MATERIALS_REQUESTED")
    ran = await onedoor(
        platform, "supply", receipt, "income_proof", env={"BUREAU_TIME_ZONE": "Asia/Urumqi"}
    )
    assert ran.code == 0, ran.err
    assert "MATERIALS_SUPPLIED" in ran.out
    assert "+06:00" in ran.out and "+08:00" not in ran.out
    again = await onedoor(platform, "supply", receipt, "income_proof")
    assert again.code != 0 and "not waiting for materials" in again.err


async def test_a_divorce_step_for_a_case_that_is_no_divorce_is_refused(platform, http):
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    ran = await onedoor(
        platform, "divorce", "withdraw", receipt, "--party", "applicant", stdin=person().id_number
    )
    assert ran.code != 0
    assert "receipt" in ran.err and "not a divorce application" in ran.err
