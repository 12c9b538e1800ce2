"""Agencies' records become warnings on the real platform: a medical push for a known dibao
household raises an illness-poverty risk warning in assistance's queue, linked to the batch's
trace and the records that caused it, every match audited; a death of a beneficiary prompts the
settlement; a re-push raises nothing new; an officer contacts and dismisses (with a reason);
records nobody knows are kept unmatched."""

from __future__ import annotations

import datetime as dt
import json
import signal
import uuid
from collections.abc import AsyncIterator

import asyncpg
import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.ingest.v1 import ingest_service_pb2 as pb
from onedoor.ingest.v1 import ingest_service_pb2_grpc, warnings_service_pb2_grpc
from onedoor.ingest.v1 import warnings_service_pb2 as wpb
from services.common import auth, keyed_hash
from services.common.clock import BureauClock
from services.launcher.platform import Platform
from tests.conftest import bearer, service_stub, wait_for_entry
from tests.factories import dibao_json, person

TAICANG = "320585"
OFFICER = "officer-0042"


def agency(name: str = "medical_insurance") -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {auth.issue('agency', TAICANG, agency=name)}"),)


@pytest.fixture
async def ingest(platform: Platform) -> AsyncIterator[ingest_service_pb2_grpc.IngestServiceStub]:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.ingest}") as channel:
        yield ingest_service_pb2_grpc.IngestServiceStub(channel)


@pytest.fixture
async def queue(platform: Platform) -> AsyncIterator[warnings_service_pb2_grpc.WarningsServiceStub]:
    # Called as the gateway calls it, with the service credential.
    async with service_stub(
        platform.ports.ingest, warnings_service_pb2_grpc.WarningsServiceStub
    ) as stub:
        yield stub


@pytest.fixture
async def ingest_db(platform: Platform) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(platform.database_url("ingest"))
    yield conn
    await conn.close()


async def push(
    ingest: ingest_service_pb2_grpc.IngestServiceStub,
    records: list[pb.AgencyRecord],
    request_id: str | None = None,
    agency_name: str = "medical_insurance",
) -> pb.BatchReport:
    request_id = request_id or str(uuid.uuid4())

    async def chunks() -> AsyncIterator[pb.PushRecordsRequest]:
        yield pb.PushRecordsRequest(request_id=request_id, records=records)

    answer = await ingest.PushRecords(chunks(), metadata=agency(agency_name))
    return answer.report


def bill(id_number: str, paid_fen: int, days_ago: int = 10) -> pb.AgencyRecord:
    settled = BureauClock().today() - dt.timedelta(days=days_ago)
    return pb.AgencyRecord(
        record_id=f"MI-{uuid.uuid4().hex[:12]}",
        id_number=id_number,
        medical_expense=pb.MedicalExpense(
            settled_on=settled.isoformat(), total_fen=paid_fen * 2, out_of_pocket_fen=paid_fen
        ),
    )


async def approved_dibao_household(http, assistance) -> tuple[list[str], str]:
    """A dibao household of two, approved: (its members' identity numbers, the receipt)."""
    applicant = person()
    body = dibao_json(applicant, incomes_fen=(50_000, 30_000))
    async with http.post("/v1/applications", json=body) as response:
        assert response.status == 200, await response.text()
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    decided = await assistance.DecideCase(
        dpb.DecideCaseRequest(
            request_id=str(uuid.uuid4()),
            receipt=receipt,
            decision=dpb.DECISION_APPROVE,
            officer_id=OFFICER,
        )
    )
    assert decided.case.state == dpb.CASE_STATE_APPROVED
    return [m["idNumber"] for m in body["householdMembers"]], receipt


async def queue_of(
    queue: warnings_service_pb2_grpc.WarningsServiceStub,
    department: str,
    state: int = wpb.WARNING_STATE_UNSPECIFIED,
) -> list[wpb.Warning]:
    found: list[wpb.Warning] = []
    token = ""
    while True:
        page = await queue.ListWarnings(
            wpb.ListWarningsRequest(
                department=department,
                jurisdiction=TAICANG,
                state=state,
                page_size=2,
                page_token=token,
                officer_id=OFFICER,
            )
        )
        found.extend(page.warnings)
        token = page.next_page_token
        if not token:
            return found


def about(
    warnings: list[wpb.Warning], household_file: str, kind: int = wpb.WARNING_KIND_UNSPECIFIED
) -> list[wpb.Warning]:
    return [
        w
        for w in warnings
        if w.household_file == household_file and kind in (wpb.WARNING_KIND_UNSPECIFIED, w.kind)
    ]


async def file_of(assistance_db: asyncpg.Connection, id_number: str) -> str:
    return str(
        await assistance_db.fetchval(
            "SELECT file_id FROM household_members WHERE person_key = $1",
            keyed_hash.person_key(id_number),
        )
    )


@pytest.fixture
async def assistance_db(platform: Platform) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(platform.database_url("assistance"))
    yield conn
    await conn.close()


async def test_a_medical_push_for_a_dibao_household_raises_one_risk_warning(
    http, assistance, ingest, queue, ingest_db, intake_db, assistance_db
):
    members, _ = await approved_dibao_household(http, assistance)
    household_file = await file_of(assistance_db, members[0])
    # The household's income: (500 + 300) yuan a month, 9,600 yuan a year; Taicang's line is
    # 40% of it, 3,840 yuan.
    small = bill(members[1], 100_000)
    large = bill(members[0], 400_000)
    below = await push(ingest, [small])
    assert below.accepted == 1
    assert about(await queue_of(queue, "assistance"), household_file) == []

    report = await push(ingest, [large])
    assert report.accepted == 1
    # The risk, and (spending over the line changes the household's picture) its dibao's
    # review brought forward.
    warnings = about(await queue_of(queue, "assistance"), household_file)
    assert sorted(w.kind for w in warnings) == [
        wpb.WARNING_KIND_ILLNESS_POVERTY_RISK,
        wpb.WARNING_KIND_IDENTIFICATION_REVIEW,
    ]
    (warning,) = about(warnings, household_file, wpb.WARNING_KIND_ILLNESS_POVERTY_RISK)
    assert warning.state == wpb.WARNING_STATE_NEW
    assert warning.matter_code == "assistance.temporary"
    assert warning.division == TAICANG
    assert warning.trace_id == report.trace_id and warning.batch_id == report.batch_id
    # Both bills are counted, each once: 5,000 yuan above 3,840.
    assert warning.reason.code == case_pb2.TEXT_CODE_ILLNESS_POVERTY_RISK
    paid = {a.name: a for a in warning.reason.args}["out_of_pocket"]
    assert paid.amount_fen == 500_000
    assert sorted((c.agency, c.record_id) for c in warning.caused_by) == sorted(
        [("medical_insurance", small.record_id), ("medical_insurance", large.record_id)]
    )

    # Every match audited under its batch's trace; every warning shown audited as read.
    matched = await intake_db.fetch(
        "SELECT actor, fields, detail FROM audit_log WHERE action = 'record.matched' "
        "AND trace_id = $1",
        report.trace_id,
    )
    assert [(r["actor"], r["detail"]) for r in matched] == [
        (
            "service:ingest",
            f"batch={report.batch_id} agency=medical_insurance record={large.record_id} "
            f"household_file={household_file}",
        )
    ]
    reads = await intake_db.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'warning.read' AND actor = $1 "
        "AND detail LIKE $2",
        f"officer:{OFFICER}",
        f"%{warning.warning_id}%",
    )
    assert reads >= 1

    # The same records again, as the same batch or a new one: nothing new.
    again = await push(ingest, [large], request_id=report.request_id)
    assert again == report
    other = await push(ingest, [small, large])
    assert (other.accepted, other.duplicates) == (0, 2)
    # Another bill while the warnings are open adds no second one for the household.
    more = await push(ingest, [bill(members[1], 50_000)])
    assert more.accepted == 1
    assert sorted(
        w.warning_id for w in about(await queue_of(queue, "assistance"), household_file)
    ) == sorted(w.warning_id for w in warnings)
    stored = await ingest_db.fetchval(
        "SELECT count(*) FROM warnings WHERE household_file = $1", household_file
    )
    assert stored == 2


async def test_a_death_of_a_beneficiary_prompts_the_settlement_and_an_early_review(
    http, assistance, ingest, queue, assistance_db
):
    members, _ = await approved_dibao_household(http, assistance)
    household_file = await file_of(assistance_db, members[0])
    died = BureauClock().today() - dt.timedelta(days=2)
    death = pb.AgencyRecord(
        record_id=f"PS-{uuid.uuid4().hex[:12]}",
        id_number=members[0],
        death=pb.Death(died_on=died.isoformat()),
    )
    report = await push(ingest, [death], agency_name="public_security")
    assert report.accepted == 1
    (prompt,) = about(await queue_of(queue, "registry"), household_file)
    assert prompt.kind == wpb.WARNING_KIND_AFTER_DEATH_SETTLEMENT
    assert prompt.person_key == keyed_hash.person_key(members[0])
    held = [d for d in prompt.reason.details]
    assert [{a.name: a.matter for a in d.args}["matter"] for d in held] == ["assistance.dibao"]
    (review,) = about(await queue_of(queue, "assistance"), household_file)
    assert review.kind == wpb.WARNING_KIND_IDENTIFICATION_REVIEW
    # Nothing is stopped on an unconfirmed push: the benefit still runs.
    running = await assistance_db.fetchval(
        "SELECT count(*) FROM household_benefits WHERE file_id = $1 AND stopped_at IS NULL",
        household_file,
    )
    assert running == 1
    # Another agency reports the same death: no second prompt.
    again = pb.AgencyRecord(
        record_id=f"H-{uuid.uuid4().hex[:12]}",
        id_number=members[0],
        death=pb.Death(died_on=died.isoformat()),
    )
    assert (await push(ingest, [again], agency_name="health")).accepted == 1
    assert len(about(await queue_of(queue, "registry"), household_file)) == 1


async def test_an_officer_contacts_then_dismisses_with_a_reason(
    http, assistance, ingest, queue, intake_db, assistance_db
):
    members, _ = await approved_dibao_household(http, assistance)
    household_file = await file_of(assistance_db, members[0])
    await push(ingest, [bill(members[0], 900_000)])
    (warning,) = about(
        await queue_of(queue, "assistance", wpb.WARNING_STATE_NEW),
        household_file,
        wpb.WARNING_KIND_ILLNESS_POVERTY_RISK,
    )

    contacted = await queue.ContactWarning(
        wpb.ContactWarningRequest(
            department="assistance",
            jurisdiction=TAICANG,
            warning_id=warning.warning_id,
            officer_id=OFFICER,
        )
    )
    assert contacted.warning.state == wpb.WARNING_STATE_CONTACTED
    assert contacted.warning.handled_by == OFFICER
    # Retried, the same move changes nothing.
    again = await queue.ContactWarning(
        wpb.ContactWarningRequest(
            department="assistance",
            jurisdiction=TAICANG,
            warning_id=warning.warning_id,
            officer_id=OFFICER,
        )
    )
    assert again.warning.update_time == contacted.warning.update_time

    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await queue.DismissWarning(
            wpb.DismissWarningRequest(
                department="assistance",
                jurisdiction=TAICANG,
                warning_id=warning.warning_id,
                officer_id=OFFICER,
                reason="  ",
            )
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(raised.value)
    assert status is not None
    bad = error_details_pb2.BadRequest()
    assert any(d.Unpack(bad) for d in status.details)
    assert [v.field for v in bad.field_violations] == ["reason"]

    dismissed = await queue.DismissWarning(
        wpb.DismissWarningRequest(
            department="assistance",
            jurisdiction=TAICANG,
            warning_id=warning.warning_id,
            officer_id=OFFICER,
            reason="已电话核实，医疗费用已由大病保险报销",
        )
    )
    assert dismissed.warning.state == wpb.WARNING_STATE_DISMISSED
    assert dismissed.warning.dismiss_reason == "已电话核实，医疗费用已由大病保险报销"
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await queue.ContactWarning(
            wpb.ContactWarningRequest(
                department="assistance",
                jurisdiction=TAICANG,
                warning_id=warning.warning_id,
                officer_id=OFFICER,
            )
        )
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    moves = await intake_db.fetch(
        "SELECT action FROM audit_log WHERE detail LIKE $1 AND action <> 'warning.read' "
        "ORDER BY sequence",
        f"%{warning.warning_id}%",
    )
    assert [m["action"] for m in moves] == ["warning.contacted", "warning.dismissed"]

    # Another department's officer finds nothing of it; another jurisdiction neither.
    assert about(await queue_of(queue, "elderly"), household_file) == []
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await queue.ContactWarning(
            wpb.ContactWarningRequest(
                department="assistance",
                jurisdiction="320583",
                warning_id=warning.warning_id,
                officer_id=OFFICER,
            )
        )
    assert raised.value.code() == grpc.StatusCode.NOT_FOUND


async def test_records_of_persons_nobody_knows_are_kept_unmatched(ingest, ingest_db, intake_db):
    stranger = person()
    record = bill(stranger.id_number, 9_000_000)
    report = await push(ingest, [record])
    assert report.accepted == 1
    row = await ingest_db.fetchrow(
        "SELECT matched_at, judged_at FROM agency_records WHERE record_id = $1", record.record_id
    )
    assert row["judged_at"] is not None and row["matched_at"] is None
    assert not await intake_db.fetchval(
        "SELECT count(*) FROM audit_log WHERE trace_id = $1 AND action = 'record.matched'",
        report.trace_id,
    )


async def test_the_queue_answers_only_the_gateway(platform: Platform):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.ingest}") as channel:
        stub = warnings_service_pb2_grpc.WarningsServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.ListWarnings(
                wpb.ListWarningsRequest(
                    department="assistance", jurisdiction=TAICANG, officer_id=OFFICER
                ),
                metadata=agency(),
            )
    assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_officers_work_the_queue_over_http_in_their_language(
    http, assistance, ingest, assistance_db, intake_db
):
    members, _ = await approved_dibao_household(http, assistance)
    household_file = await file_of(assistance_db, members[0])
    await push(ingest, [bill(members[0], 700_000)])
    officer = bearer("officer", department="assistance", name="王科员")
    listed = await http.get(
        "/v1/departments/assistance/warnings",
        params={"state": "new", "pageSize": "200"},
        headers={**officer, "Accept-Language": "zh-CN"},
    )
    assert listed.status == 200, await listed.text()
    shown = [
        w
        for w in (await listed.json())["warnings"]
        if w["householdFile"] == household_file and w["kind"] == "WARNING_KIND_ILLNESS_POVERTY_RISK"
    ]
    (warning,) = shown
    said = warning["reason"]["text"]
    assert said.endswith("超过家庭年收入9,600.00元的40%（3,840.00元）"), said
    assert "有因病致贫风险" in said

    path = f"/v1/departments/assistance/warnings/{warning['warningId']}"
    refused = await http.post(f"{path}:dismiss", json={"reason": ""}, headers=officer)
    assert refused.status == 400
    (bad,) = [d for d in (await refused.json())["error"]["details"] if "fieldViolations" in d]
    assert [v["field"] for v in bad["fieldViolations"]] == ["reason"]
    elderly = bearer("officer", department="elderly")
    assert (await http.post(f"{path}:contact", headers=elderly)).status == 403
    contacted = await http.post(f"{path}:contact", headers=officer)
    assert contacted.status == 200, await contacted.text()
    assert (await contacted.json())["warning"]["state"] == "WARNING_STATE_CONTACTED"
    dismissed = await http.post(f"{path}:dismiss", json={"reason": "已核实"}, headers=officer)
    assert (await dismissed.json())["warning"]["state"] == "WARNING_STATE_DISMISSED"
    named = await intake_db.fetchval(
        "SELECT actor_name FROM audit_log WHERE action = 'warning.dismissed' AND detail LIKE $1",
        f"%{warning['warningId']}%",
    )
    assert named == "王科员"


async def test_onedoor_warnings_lists_contacts_and_dismisses(
    platform, http, assistance, ingest, assistance_db
):
    from tests.test_cli import onedoor

    members, _ = await approved_dibao_household(http, assistance)
    household_file = await file_of(assistance_db, members[0])
    await push(ingest, [bill(members[0], 800_000)])
    officer = auth.issue("officer", TAICANG, department="assistance")
    listed = await onedoor(
        platform, "warnings", "list", "--state", "new", "--all", "--json", token=officer
    )
    assert listed.code == 0, listed.err
    (warning,) = [
        w
        for w in listed.json()["warnings"]
        if w["householdFile"] == household_file and w["kind"] == "WARNING_KIND_ILLNESS_POVERTY_RISK"
    ]
    table = await onedoor(platform, "warnings", "list", "--all", token=officer)
    assert warning["warningId"] in table.out and "家庭医疗费用个人自付8,000.00元" in table.out

    contacted = await onedoor(platform, "warnings", "contact", warning["warningId"], token=officer)
    assert contacted.code == 0, contacted.err
    assert "CONTACTED" in contacted.out
    # Another household's warning: a case opened from it.
    other, _ = await approved_dibao_household(http, assistance)
    other_file = await file_of(assistance_db, other[0])
    await push(ingest, [bill(other[0], 800_000)])
    listed = await onedoor(platform, "warnings", "list", "--all", "--json", token=officer)
    (risk,) = [
        w
        for w in listed.json()["warnings"]
        if w["householdFile"] == other_file and w["kind"] == "WARNING_KIND_ILLNESS_POVERTY_RISK"
    ]
    opened = await onedoor(platform, "warnings", "open-case", risk["warningId"], token=officer)
    assert opened.code == 0, opened.err
    assert "CASE_OPENED" in opened.out and "onedoor status" in opened.err
    no_reason = await onedoor(
        platform, "warnings", "dismiss", warning["warningId"], "--reason", " ", token=officer
    )
    assert no_reason.code != 0 and "reason" in no_reason.err
    dismissed = await onedoor(
        platform,
        "warnings",
        "dismiss",
        warning["warningId"],
        "--reason",
        "已核实",
        "--json",
        token=officer,
    )
    assert dismissed.code == 0, dismissed.err
    assert dismissed.json()["warning"]["state"] == "WARNING_STATE_DISMISSED"
    clerk = await onedoor(platform, "warnings", "list", "--department", "assistance")
    assert clerk.code != 0 and "officer" in clerk.err


async def test_an_officer_opens_a_proactive_case_from_a_warning_and_approves_it(
    http, assistance, ingest, assistance_db, intake_db
):
    members, dibao_receipt = await approved_dibao_household(http, assistance)
    household_file = await file_of(assistance_db, members[0])
    report = await push(ingest, [bill(members[1], 600_000)])
    officer = bearer("officer", department="assistance", name="王科员")
    listed = await http.get(
        "/v1/departments/assistance/warnings",
        params={"state": "new", "pageSize": "200"},
        headers=officer,
    )
    (warning,) = [
        w
        for w in (await listed.json())["warnings"]
        if w["householdFile"] == household_file and w["kind"] == "WARNING_KIND_ILLNESS_POVERTY_RISK"
    ]
    assert warning["sourceReceipt"] == dibao_receipt
    path = f"/v1/departments/assistance/warnings/{warning['warningId']}:openCase"
    assert (await http.post(path, headers=bearer("officer", department="elderly"))).status == 403

    opened = await http.post(path, headers=officer)
    assert opened.status == 200, await opened.text()
    marked = (await opened.json())["warning"]
    assert marked["state"] == "WARNING_STATE_CASE_OPENED"
    receipt = marked["receipt"]
    # Opened again (a retry): the same case, nothing twice.
    again = await http.post(path, headers=officer)
    assert (await again.json())["warning"]["receipt"] == receipt
    assert (
        await intake_db.fetchval(
            "SELECT count(*) FROM proactive_origins WHERE warning_id = $1::uuid",
            warning["warningId"],
        )
        == 1
    )
    origin = await intake_db.fetchrow(
        "SELECT receipt, department, batch_trace_id FROM proactive_origins WHERE warning_id = $1::uuid",
        warning["warningId"],
    )
    assert (origin["receipt"], origin["department"], origin["batch_trace_id"]) == (
        receipt,
        "assistance",
        report.trace_id,
    )

    # The same ledger as a window case: routed to its department, with a deadline, audited.
    case = await wait_for_entry(http, receipt, "ROUTED")
    assert case["matterCode"] == "assistance.temporary"
    assert case["decisionDeadline"]
    first = case["timeline"][0]
    assert first["kind"] == "TIMELINE_ENTRY_KIND_ACCEPTED"
    assert first["message"]["code"] == "TEXT_CODE_OPENED_FROM_WARNING"
    assert first["message"]["details"][0]["code"] == "TEXT_CODE_ILLNESS_POVERTY_RISK"
    # No consent came with it: none is assumed for a case nobody applied for.
    stored = await intake_db.fetchval("SELECT details FROM cases WHERE receipt = $1", receipt)
    assert not json.loads(stored or "{}").get("economicCheckConsent")
    audited = await intake_db.fetchval(
        "SELECT count(*) FROM audit_log WHERE receipt = $1 AND action = 'case.opened_from_warning'",
        receipt,
    )
    assert audited >= 1

    decided = await assistance.DecideCase(
        dpb.DecideCaseRequest(
            request_id=str(uuid.uuid4()),
            receipt=receipt,
            decision=dpb.DECISION_APPROVE,
            officer_id=OFFICER,
        )
    )
    assert decided.case.state == dpb.CASE_STATE_APPROVED
    approved = await wait_for_entry(http, receipt, "APPROVED")
    assert approved["status"] == "CASE_STATUS_APPROVED"


async def test_the_case_file_shows_the_household_files_warnings_beside_its_cases(
    platform, http, assistance, ingest, queue, assistance_db, intake_db
):
    members, receipt = await approved_dibao_household(http, assistance)
    household_file = await file_of(assistance_db, members[0])
    others, _ = await approved_dibao_household(http, assistance)
    await push(ingest, [bill(members[0], 700_000), bill(others[0], 700_000)])
    officer = bearer("officer", department="assistance", name="王科员")
    path = f"/v1/departments/assistance/cases/{receipt}/file"
    listed = await http.get(
        "/v1/departments/assistance/warnings",
        params={"state": "new", "pageSize": "200"},
        headers=officer,
    )
    (risk,) = [
        w
        for w in (await listed.json())["warnings"]
        if w["householdFile"] == household_file and w["kind"] == "WARNING_KIND_ILLNESS_POVERTY_RISK"
    ]
    opened = await http.post(
        f"/v1/departments/assistance/warnings/{risk['warningId']}:openCase", headers=officer
    )
    assert opened.status == 200, await opened.text()
    proactive = (await opened.json())["warning"]["receipt"]

    read = await http.get(path, headers={**officer, "Accept-Language": "zh-CN"})
    assert read.status == 200, await read.text()
    shown = (await read.json())["householdWarnings"]
    # Only this household's, every one the department holds about it (the risk and the
    # earlier review of its dibao that the spending brings forward), newest first.
    held = about(await queue_of(queue, "assistance"), household_file)
    assert [w["warningId"] for w in shown] == [w.warning_id for w in held]
    assert {w["householdFile"] for w in shown} == {household_file}
    (shown_risk,) = [w for w in shown if w["warningId"] == risk["warningId"]]
    assert shown_risk["state"] == "WARNING_STATE_CASE_OPENED"
    assert shown_risk["receipt"] == proactive
    assert "有因病致贫风险" in shown_risk["reason"]["text"]

    async def reads_by_the_officer() -> list[int]:
        return [
            await intake_db.fetchval(
                "SELECT count(*) FROM audit_log WHERE action = 'warning.read' AND detail = $1 "
                "AND actor_name = '王科员'",
                f"department=assistance warning={w['warningId']} household_file={household_file}",
            )
            for w in shown
        ]

    # Each warning the case file shows is audited as a read under the officer's name.
    before = await reads_by_the_officer()
    english = await http.get(path, headers={**officer, "Accept-Language": "en"})
    assert await reads_by_the_officer() == [n + 1 for n in before]
    (in_english,) = [
        w
        for w in (await english.json())["householdWarnings"]
        if w["warningId"] == risk["warningId"]
    ]
    said = in_english["reason"]["text"]
    assert said and not any("\u4e00" <= c <= "\u9fff" for c in said), said

    # The outreach service frozen (a stop-the-world pause, a partition): the officer still
    # gets the case file, within the warnings' own deadline, told that they are missing.
    ingest_process = platform.processes["ingest"]
    ingest_process.send_signal(signal.SIGSTOP)
    try:
        frozen = await http.get(path, headers=officer)
        assert frozen.status == 200, await frozen.text()
        without = await frozen.json()
        assert without["householdWarningsUnavailable"] is True
        assert not without.get("householdWarnings")
        assert without["application"]["receipt"] == receipt
    finally:
        ingest_process.send_signal(signal.SIGCONT)
    back = await http.get(path, headers=officer)
    assert not (await back.json()).get("householdWarningsUnavailable")


async def test_the_household_file_filter_refuses_what_is_no_file_id(queue):
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await queue.ListWarnings(
            wpb.ListWarningsRequest(
                department="assistance",
                jurisdiction=TAICANG,
                officer_id=OFFICER,
                household_file="x" * 65,
            )
        )
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    status = rpc_status.from_call(raised.value)
    assert status is not None
    (detail,) = [d for d in status.details if d.Is(error_details_pb2.BadRequest.DESCRIPTOR)]
    bad = error_details_pb2.BadRequest()
    detail.Unpack(bad)
    assert [v.field for v in bad.field_violations] == ["household_file"]
