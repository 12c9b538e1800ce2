"""The `onedoor` command line against the real platform: the installed entry point, run as a
clerk, an officer and an auditor would run it, exit codes and all."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from services.cli.tables import width
from services.common import auth
from tests.conftest import eventually
from tests.factories import dibao_json, person

ONEDOOR = Path(sys.executable).parent / "onedoor"
CLERK = auth.issue("window_clerk", "320585")
OFFICER = auth.issue("officer", "320585", department="assistance", subject="officer-0042")
AUDITOR = auth.issue("auditor", "320585")


@dataclass
class Ran:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


async def onedoor(
    platform, *argv: str, token: str | None = CLERK, env: dict[str, str] | None = None
) -> Ran:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ONEDOOR_")}
    environment["ONEDOOR_GATEWAY"] = f"http://127.0.0.1:{platform.ports.gateway_http}"
    if token is not None:
        environment["ONEDOOR_TOKEN"] = token
    environment |= env or {}
    process = await asyncio.create_subprocess_exec(
        str(ONEDOOR),
        *argv,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=120)
    assert process.returncode is not None
    return Ran(process.returncode, out.decode(), err.decode())


def _application_file(tmp_path: Path, body: dict[str, Any]) -> Path:
    path = tmp_path / "application.json"
    path.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return path


async def _submit_routed(platform, tmp_path: Path) -> str:
    ran = await onedoor(
        platform, "submit", str(_application_file(tmp_path, dibao_json())), "--wait", "--json"
    )
    assert ran.code == 0, ran.err
    return str(ran.json()["submission"]["receipt"])


async def test_submit_wait_status_and_matters(platform, tmp_path):
    applicant = person()
    body = dibao_json(applicant)
    del body["requestId"]
    application = _application_file(tmp_path, body)

    submitted = await onedoor(platform, "submit", str(application), "--wait")
    assert submitted.code == 0, submitted.err
    request_id = submitted.err.split("request id ", 1)[1].split()[0]
    receipt = next(
        line.split()[1] for line in submitted.out.splitlines() if line.startswith("receipt")
    )
    assert "created      yes" in submitted.out
    # --wait ends once the department has the case, and shows it.
    assert "status       ROUTED" in submitted.out
    assert f"{receipt}: ROUTED after" in submitted.err

    # A retry with the printed request id gets the same receipt and stores nothing new.
    again = await onedoor(
        platform, "submit", str(application), "--request-id", request_id, "--json"
    )
    assert again.code == 0, again.err
    assert (again.json()["receipt"], again.json()["created"]) == (receipt, False)

    status = await onedoor(platform, "status", receipt)
    assert status.code == 0, status.err
    assert "departments  assistance" in status.out
    assert "progress:" in status.out and "timeline:" in status.out

    # Each row starts with the bureau's local time: date, time and offset.
    def timeline(shown: str) -> list[list[str]]:
        return [line.split()[3:6] for line in shown.split("timeline:")[1].splitlines()[2:]]

    # What the platform says, in the bureau's language unless --lang asks for another.
    assert timeline(status.out) == [
        ["ACCEPTED", "window", "窗口受理"],
        [
            "ROUTED",
            "assistance",
            "初审符合条件：家庭2人，人均月收入400.00元，低于苏州市标准945.00元；家庭金融资产未超过限额",
        ],
    ]
    in_english = await onedoor(platform, "--lang", "en", "status", receipt)
    assert in_english.code == 0, in_english.err
    assert timeline(in_english.out) == [
        ["ACCEPTED", "window", "accepted"],
        ["ROUTED", "assistance", "assessment:"],
    ]
    # Only the masked forms the API returns.
    assert applicant.name not in status.out and applicant.id_number not in status.out
    assert f"{applicant.id_number[:4]}**********{applicant.id_number[-4:]}" in status.out

    as_json = (await onedoor(platform, "status", receipt, "--json")).json()
    assert as_json["application"]["receipt"] == receipt
    assert as_json["application"]["status"] == "CASE_STATUS_ROUTED"

    matters = await onedoor(platform, "matters")
    assert matters.code == 0, matters.err
    lines = matters.out.splitlines()
    assert lines[0].split() == [
        "CODE",
        "名称",
        "TITLE",
        "DEPARTMENTS",
        "DAYS",
        "CROSS-JURISDICTION",
    ]
    catalog = (await onedoor(platform, "matters", "--json")).json()
    assert len(catalog["matters"]) == 15
    # Chinese titles of different lengths still leave the English ones aligned, by columns.
    starts = {
        width(line[: line.index(m["titleEn"][:10])])
        for line, m in zip(lines[1:], catalog["matters"], strict=True)
    }
    assert len(starts) == 1, matters.out
    one = await onedoor(platform, "matters", "assistance.dibao")
    assert "economic_check_consent" in one.out


async def test_officer_queue_decision_and_trace(platform, tmp_path):
    receipt = await _submit_routed(platform, tmp_path)

    queue = await onedoor(platform, "cases", "--all", "--page-size", "200", "--json", token=OFFICER)
    assert queue.code == 0, queue.err
    mine = [c for c in queue.json()["cases"] if c["receipt"] == receipt]
    assert mine and mine[0]["state"] == "CASE_STATE_OPEN"
    table = await onedoor(platform, "cases", "--page-size", "3", token=OFFICER)
    assert table.code == 0, table.err
    assert table.out.splitlines()[0].split()[:3] == ["RECEIPT", "MATTER", "STATE"]

    # An officer of another department is refused, and changes nothing.
    elderly = auth.issue("officer", "320585", department="elderly")
    refused = await onedoor(
        platform, "decide", receipt, "approve", "--department", "assistance", token=elderly
    )
    assert refused.code == 1
    assert "403 PERMISSION_DENIED" in refused.err

    rejected_without_reason = await onedoor(platform, "decide", receipt, "reject", token=OFFICER)
    assert rejected_without_reason.code == 2

    decided = await onedoor(platform, "decide", receipt, "approve", token=OFFICER)
    assert decided.code == 0, decided.err
    assert "state       APPROVED" in decided.out
    assert "department  assistance" in decided.out

    async def approved() -> dict[str, Any] | None:
        found = (await onedoor(platform, "status", receipt, "--json")).json()["application"]
        return found if found["status"] == "CASE_STATUS_APPROVED" else None

    application = await eventually(approved, what=f"{receipt} approved on the timeline")

    trace = await onedoor(
        platform, "trace", receipt, env={"ONEDOOR_TRACE_URL": "http://jaeger:16686/"}
    )
    assert trace.code == 0, trace.err
    trace_id = application["traceId"]
    assert f"trace id  {trace_id}" in trace.out
    assert f"link      http://jaeger:16686/trace/{trace_id}" in trace.out
    assert "APPROVED" in trace.out  # the decision ran in its own trace
    traced = (await onedoor(platform, "trace", receipt, "--json")).json()
    assert traced["traceId"] == trace_id and traced["traceUrl"] == ""


async def test_a_refused_submission_names_the_field(platform, tmp_path):
    body = dibao_json()
    number = body["applicant"]["idNumber"]
    body["applicant"]["idNumber"] = number[:-1] + ("0" if number[-1] != "0" else "1")
    ran = await onedoor(platform, "submit", str(_application_file(tmp_path, body)))
    assert ran.code == 1
    assert "400 INVALID_ARGUMENT" in ran.err
    assert "  applicant.id_number: " in ran.err
    assert "next: nothing was stored" in ran.err
    # Never quoting the bad value back.
    assert body["applicant"]["idNumber"] not in ran.err

    as_json = await onedoor(platform, "submit", str(_application_file(tmp_path, body)), "--json")
    assert as_json.code == 1
    assert as_json.json()["error"]["status"] == "INVALID_ARGUMENT"


async def test_without_a_valid_token_the_exit_code_is_3(platform):
    missing = await onedoor(platform, "matters", token=None)
    assert missing.code == 3
    assert "set ONEDOOR_TOKEN" in missing.err
    forged = await onedoor(platform, "status", "320585-AAAAA-BBBBB", token="not.a.token")
    assert forged.code == 3
    assert "401 UNAUTHENTICATED: the token is not valid" in forged.err
    unreachable = await onedoor(platform, "matters", "--gateway", "http://127.0.0.1:1")
    assert unreachable.code == 3


async def test_audit_verify_holds_then_finds_a_tampered_row(platform, tmp_path):
    # Reads and a decision that the gateway writes to the audit log.
    receipt = await _submit_routed(platform, tmp_path)
    await onedoor(platform, "status", receipt)
    await onedoor(platform, "decide", receipt, "approve", token=OFFICER)

    listed = await onedoor(platform, "audit", "list", "--receipt", receipt, "--all", token=AUDITOR)
    assert listed.code == 0, listed.err
    assert "case.read" in listed.out and "case.decided" in listed.out

    intact = await onedoor(platform, "audit", "verify", token=AUDITOR)
    assert intact.code == 0, intact.err
    assert intact.out.startswith("audit log intact: ")
    assert int(intact.out.split(": ")[1].split()[0]) >= 3

    clerk_refused = await onedoor(platform, "audit", "verify")
    assert clerk_refused.code == 1 and "PERMISSION_DENIED" in clerk_refused.err

    intake = await asyncpg.connect(platform.database_url("intake"))
    try:
        sequence, actor = await intake.fetchrow(
            "SELECT sequence, actor FROM audit_log WHERE receipt = $1 ORDER BY sequence LIMIT 1",
            receipt,
        )
        await _rewrite_actor(intake, sequence, "window_clerk:somebody-else")
        try:
            broken = await onedoor(platform, "audit", "verify", token=AUDITOR)
            assert broken.code == 1, broken.out + broken.err
            assert broken.out == f"audit log BROKEN at sequence {sequence}\n"
            verdict = (await onedoor(platform, "audit", "verify", "--json", token=AUDITOR)).json()
            assert (verdict["intact"], verdict["firstBreak"]) == (False, sequence)
        finally:
            # The platform is shared with the rest of the session; put the row back.
            await _rewrite_actor(intake, sequence, actor)
    finally:
        await intake.close()
    restored = await onedoor(platform, "audit", "verify", token=AUDITOR)
    assert restored.code == 0, restored.out + restored.err


async def _rewrite_actor(conn: asyncpg.Connection, sequence: int, actor: str) -> None:
    """What only a database superuser could do: the append-only trigger is lifted for one
    update, in one transaction so that nothing else slips through meanwhile."""
    async with conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute("UPDATE audit_log SET actor = $1 WHERE sequence = $2", actor, sequence)
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
