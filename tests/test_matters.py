"""Every matter of the catalog through the real platform: submitted, routed, decided and on
its timeline, with each department's rules at their edges."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from typing import Any

import asyncpg
import grpc
import pytest

from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.department.v1 import department_service_pb2_grpc
from services.common import auth
from services.common.clock import BureauClock
from services.common.legal_calendar import LegalCalendar, Unit
from tests.conftest import (
    BANK_FILE,
    AddMetadata,
    bearer,
    eventually,
    get_application,
    wait_for_entry,
)
from tests.factories import application, party, person
from tests.said import codes, message_of, said, text_of

FOUNDATION_FEN = 300_000_000


async def submit(http, body: dict[str, Any], expect: int = 200) -> dict[str, Any]:
    async with http.post("/v1/applications", json=body) as response:
        answer = await response.json()
        assert response.status == expect, answer
        return dict(answer)


async def routed(http, body: dict[str, Any]) -> str:
    receipt = (await submit(http, body))["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    return receipt


async def decide(
    http, department: str, receipt: str, decision: str, reason: str = ""
) -> dict[str, Any]:
    body = {
        "requestId": str(uuid.uuid4()),
        "decision": decision,
        "reason": reason,
    }
    async with http.post(
        f"/v1/departments/{department}/cases/{receipt}:decide",
        json=body,
        headers=bearer("officer", department=department),
    ) as response:
        answer = await response.json()
        assert response.status == 200, answer
        return dict(answer["case"])


async def approved(http, department: str, body: dict[str, Any]) -> str:
    receipt = await routed(http, body)
    await decide(http, department, receipt, "DECISION_APPROVE")
    await wait_for_entry(http, receipt, "APPROVED")
    return receipt


async def department_case(platform, department: str, receipt: str) -> dpb.DepartmentCase:
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{platform.ports.grpc_port(department)}",
        interceptors=[AddMetadata(auth.service_metadata())],
    ) as channel:
        stub = department_service_pb2_grpc.DepartmentServiceStub(channel)
        return (await stub.GetCase(dpb.GetCaseRequest(receipt=receipt))).case


def fields_refused(answer: dict[str, Any]) -> set[str]:
    return {
        v["field"]
        for d in answer["error"]["details"]
        if "fieldViolations" in d
        for v in d["fieldViolations"]
    }


def consent_for(*people) -> dict[str, Any]:
    return {
        "consentingIdNumber": people[0].id_number,
        "consentTime": (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        .isoformat()
        .replace("+00:00", "Z"),
        "memberIdNumbers": [p.id_number for p in people],
    }


def organisation(
    name: str | None = None, kind: str = "ORGANISATION_KIND_SOCIAL_GROUP"
) -> dict[str, Any]:
    return {
        "name": name or f"太仓市{uuid.uuid4().hex[:6]}志愿者协会",
        "kind": kind,
        "registeredCapitalFen": FOUNDATION_FEN,
    }


def simple_matters() -> dict[str, tuple[str, Any]]:
    """A valid, eligible application of each matter decided by one officer's approval."""

    def dibao():
        a = person()
        return application(
            "assistance.dibao", a, household=[(a, 50000)], economicCheckConsent=consent_for(a)
        )

    def hardship():
        a = person(age=70)
        return application(
            "assistance.hardship",
            a,
            household=[(a, 0)],
            hardship={"hasLegalSupporter": False, "unableToWork": True},
            economicCheckConsent=consent_for(a),
        )

    def low_income():
        a = person()
        return application(
            "assistance.low_income", a, household=[(a, 120000)], economicCheckConsent=consent_for(a)
        )

    def marriage():
        return application(
            "registry.marriage",
            person(age=30, sex="male"),
            otherParty=party(person(age=28, sex="female")),
        )

    return {
        "assistance.dibao": ("assistance", dibao),
        "assistance.hardship": ("assistance", hardship),
        "assistance.temporary": (
            "assistance",
            lambda: application("assistance.temporary", requestedAmountFen=100000),
        ),
        "assistance.low_income": ("assistance", low_income),
        "assistance.disability_subsidy": (
            "assistance",
            lambda: application(
                "assistance.disability_subsidy", disability={"grade": 1, "certificateNumber": "D-1"}
            ),
        ),
        "elderly.senior_card": (
            "elderly",
            lambda: application("elderly.senior_card", person(age=65)),
        ),
        "elderly.age_allowance": (
            "elderly",
            lambda: application("elderly.age_allowance", person(age=85)),
        ),
        "elderly.home_care": (
            "elderly",
            lambda: application(
                "elderly.home_care", person(age=70), care={"service": "meals", "hoursPerMonth": 20}
            ),
        ),
        "elderly.renovation": (
            "elderly",
            lambda: application("elderly.renovation", person(age=72)),
        ),
        "orgs.register": (
            "orgs",
            lambda: application("orgs.register", organisation=organisation()),
        ),
        "registry.marriage": ("registry", marriage),
    }


SIMPLE = simple_matters()


@pytest.mark.parametrize("matter", list(SIMPLE))
async def test_matter_is_routed_assessed_eligible_and_approved(http, matter):
    department, build = SIMPLE[matter]
    receipt = await routed(http, build())
    shown = await get_application(http, receipt)
    assert shown["departments"] == [department]
    assert codes(message_of(shown, "ROUTED", department))[0] == "ASSESSED_ELIGIBLE", text_of(
        shown, "ROUTED"
    )
    await decide(http, department, receipt, "DECISION_APPROVE")
    shown = await wait_for_entry(http, receipt, "APPROVED")
    assert shown["status"] == "CASE_STATUS_APPROVED"
    assert [(p["department"], p["state"]) for p in shown["progress"]] == [
        (department, "PROGRESS_STATE_APPROVED")
    ]


async def test_every_catalog_matter_is_covered_by_these_tests(http):
    async with http.get("/v1/matters") as response:
        codes = {m["code"] for m in (await response.json())["matters"]}
    others = {"orgs.annual_report", "orgs.deregister", "registry.divorce", "registry.death"}
    assert codes == set(SIMPLE) | others


# --- social assistance ------------------------------------------------------------------


async def test_household_exactly_at_the_standard_is_assessed_not_eligible(http):
    a, b = person(), person()
    body = application(
        "assistance.dibao",
        a,
        household=[(a, 94500), (b, 94500)],
        economicCheckConsent=consent_for(a, b),
    )
    shown = await get_application(http, await routed(http, body))
    verdict = message_of(shown, "ROUTED", "assistance")
    assert codes(verdict)[:2] == ["ASSESSED_NOT_ELIGIBLE", "INCOME_NOT_BELOW_STANDARD"]
    assert said(verdict["details"][0]) == (
        "INCOME_NOT_BELOW_STANDARD",
        {"members": 2, "income_per_member": 94500, "standard": 94500, "division": "3205"},
    )
    assert text_of(shown, "ROUTED", "assistance").startswith(
        "初审不符合条件：家庭2人，人均月收入945.00元，不低于苏州市标准945.00元"
    )


async def test_the_economic_check_needs_consent_and_reads_the_banks(http):
    a = person()
    no_consent = application("assistance.dibao", a, household=[(a, 30000)])
    shown = await get_application(http, await routed(http, no_consent))
    assert codes(message_of(shown, "ROUTED")) == [
        "ASSESSED_NOT_ELIGIBLE",
        "INCOME_BELOW_STANDARD",
        "ECONOMIC_CHECK_NOT_RUN",
        "NO_CONSENT",
    ]

    rich = person()
    BANK_FILE.write_text(json.dumps({rich.id_number: 10_000_000_00}))
    try:
        body = application(
            "assistance.dibao",
            rich,
            household=[(rich, 30000)],
            economicCheckConsent=consent_for(rich),
        )
        shown = await get_application(http, await routed(http, body))
    finally:
        BANK_FILE.unlink()
    verdict = message_of(shown, "ROUTED")
    assert codes(verdict) == [
        "ASSESSED_NOT_ELIGIBLE",
        "INCOME_BELOW_STANDARD",
        "ASSETS_EXCEED_LIMIT",
    ]
    assert said(verdict["details"][1])[1]["assets"] == 10_000_000_00


async def test_one_household_one_file_across_matters(platform, http):
    a, b = person(), person()
    dibao = application(
        "assistance.dibao",
        a,
        household=[(a, 30000), (b, 0)],
        economicCheckConsent=consent_for(a, b),
    )
    first = await approved(http, "assistance", dibao)
    # The spouse applies for the disability subsidies later: the same household, the same file.
    subsidy = application(
        "assistance.disability_subsidy",
        b,
        household=[(b, 0), (a, 30000)],
        disability={"grade": 3, "certificateNumber": "D-3"},
    )
    second = await routed(http, subsidy)
    first_case = await department_case(platform, "assistance", first)
    second_case = await department_case(platform, "assistance", second)
    assert first_case.household_file and first_case.household_file == second_case.household_file
    # Grade 3 gets no care subsidy, but the household's dibao brings the living subsidy.
    assert second_case.assessment.eligible
    assert [said(f)[0] for f in second_case.assessment.findings] == ["LIVING_SUBSIDY"]


async def test_materials_requested_pause_the_deadline_until_they_are_supplied(http, intake_db):
    receipt = await routed(http, SIMPLE["assistance.temporary"][1]())
    before = await get_application(http, receipt)
    assert before["timeLimitUnit"] == "TIME_LIMIT_UNIT_WORKING_DAYS"
    await decide(http, "assistance", receipt, "DECISION_REQUEST_MATERIALS", "a hospital invoice")
    waiting = await wait_for_entry(http, receipt, "MATERIALS_REQUESTED")
    assert waiting["status"] == "CASE_STATUS_AWAITING_MATERIALS"
    assert waiting["daysLeft"] == 0  # the clock is paused
    # As if the materials had been asked for ten days ago.
    await intake_db.execute(
        "UPDATE cases SET paused_since = paused_since - interval '10 days' WHERE receipt = $1",
        receipt,
    )
    paused = await intake_db.fetchval("SELECT paused_since FROM cases WHERE receipt = $1", receipt)
    clock, calendar = BureauClock(), LegalCalendar.with_schedules()
    paused_on = clock.local_date(paused)
    last_day = dt.date.fromisoformat(before["deadlineDate"])
    left = calendar.working_days_between(paused_on, last_day)
    async with http.post(
        f"/v1/applications/{receipt}:supplyMaterials", json={"materials": ["hardship_statement"]}
    ) as r:
        assert r.status == 200, await r.text()
        resumed = (await r.json())["application"]
    assert resumed["status"] == "CASE_STATUS_ROUTED"
    # What was left on the day it paused runs again from today, in working days.
    expected = calendar.add_working_days(clock.today(), left)
    assert resumed["deadlineDate"] == expected.isoformat()
    assert resumed["deadlineDate"] > before["deadlineDate"]
    assert resumed["daysLeft"] == left
    # The department can decide again once the materials are in.
    await decide(http, "assistance", receipt, "DECISION_APPROVE")
    await wait_for_entry(http, receipt, "APPROVED")


# --- elderly care ------------------------------------------------------------------------


async def test_senior_card_needs_sixty_and_is_issued_once(http):
    young = await submit(http, application("elderly.senior_card", person(age=59)), expect=400)
    assert fields_refused(young) == {"applicant.id_number"}
    senior = person(age=61)
    await approved(http, "elderly", application("elderly.senior_card", senior))
    again = await submit(http, application("elderly.senior_card", senior), expect=400)
    assert again["error"]["status"] == "FAILED_PRECONDITION"
    assert fields_refused(again) == {"applicant"}


async def test_age_allowance_band_and_amount_come_from_the_jurisdiction(platform, http):
    receipt = await routed(http, application("elderly.age_allowance", person(age=92)))
    case = await department_case(platform, "elderly", receipt)
    assert [said(f) for f in case.assessment.findings] == [
        ("ALLOWANCE_BAND", {"age": 92, "band": "90-99", "amount": 20000})
    ]
    assert case.assessment.amount_fen == 20000


# --- social organisations -----------------------------------------------------------------


async def test_duplicate_organisation_name_is_refused_while_pending_and_once_registered(http):
    name = f"太仓市{uuid.uuid4().hex[:6]}慈善协会"
    first = await routed(http, application("orgs.register", organisation=organisation(name)))
    pending = await submit(
        http, application("orgs.register", organisation=organisation(name)), expect=400
    )
    assert fields_refused(pending) == {"details.organisation.name"}
    await decide(http, "orgs", first, "DECISION_APPROVE")
    await wait_for_entry(http, first, "APPROVED")
    spaced = name[:3] + " " + name[3:]
    registered = await submit(
        http, application("orgs.register", organisation=organisation(spaced)), expect=400
    )
    assert "already registered" in json.dumps(registered, ensure_ascii=False)


async def test_registered_organisation_reports_and_deregisters(platform, http):
    receipt = await approved(
        http, "orgs", application("orgs.register", organisation=organisation())
    )
    case = await department_case(platform, "orgs", receipt)
    code = next(f.value for f in case.assessment.facts if f.name == "credit_code")
    year = dt.date.today().year - 1
    report = {"creditCode": code, "reportYear": year}
    await approved(http, "orgs", application("orgs.annual_report", organisation=report))
    twice = await submit(http, application("orgs.annual_report", organisation=report), expect=400)
    assert fields_refused(twice) == {"details.organisation.report_year"}
    await approved(http, "orgs", application("orgs.deregister", organisation={"creditCode": code}))
    gone = await submit(
        http,
        application("orgs.annual_report", organisation={**report, "reportYear": year - 1}),
        expect=400,
    )
    assert fields_refused(gone) == {"details.organisation.credit_code"}
    bad_code = await submit(
        http,
        application("orgs.deregister", organisation={"creditCode": code[:-1] + "0"}),
        expect=400,
    )
    assert fields_refused(bad_code) == {"details.organisation.credit_code"}


# --- registry -----------------------------------------------------------------------------


async def test_a_21_year_old_groom_is_refused_at_the_window(http, intake_db):
    before = await intake_db.fetchval("SELECT count(*) FROM cases")
    body = application(
        "registry.marriage",
        person(age=21, sex="male"),
        otherParty=party(person(age=25, sex="female")),
    )
    answer = await submit(http, body, expect=400)
    assert answer["error"]["status"] == "FAILED_PRECONDITION"
    assert fields_refused(answer) == {"applicant.id_number"}
    assert "22" in json.dumps(answer)
    assert await intake_db.fetchval("SELECT count(*) FROM cases") == before


async def _married_couple(http) -> tuple[Any, Any]:
    husband, wife = person(age=35, sex="male"), person(age=33, sex="female")
    await approved(
        http, "registry", application("registry.marriage", husband, otherParty=party(wife))
    )
    return husband, wife


async def test_nobody_marries_twice(http):
    husband, _ = await _married_couple(http)
    body = application("registry.marriage", husband, otherParty=party(person(age=30, sex="female")))
    answer = await submit(http, body, expect=400)
    assert fields_refused(answer) == {"applicant.id_number"}
    assert "married according to the registry" in json.dumps(answer)


async def _file_divorce(platform, http) -> tuple[str, Any, Any]:
    husband, wife = await _married_couple(http)
    receipt = await routed(http, application("registry.divorce", husband, otherParty=party(wife)))
    return receipt, husband, wife


async def _age_divorce(platform, receipt: str, days: float) -> None:
    conn = await asyncpg.connect(platform.database_url("registry"))
    try:
        await conn.execute(
            "UPDATE divorces SET filed_at = now() - make_interval(secs => $2) WHERE receipt = $1",
            receipt,
            days * 86400,
        )
    finally:
        await conn.close()


async def _divorce_days(platform, receipt: str) -> dict[str, str]:
    """The divorce's periods as the bureau's local days, from its recorded filing instant."""
    conn = await asyncpg.connect(platform.database_url("registry"))
    try:
        filed_at = await conn.fetchval("SELECT filed_at FROM divorces WHERE receipt = $1", receipt)
    finally:
        await conn.close()
    filed_on = BureauClock().local_date(filed_at)
    calendar = LegalCalendar.with_schedules()
    cooling_off = calendar.period_end(filed_on, 30, Unit.CALENDAR_DAYS)
    confirmation = calendar.period_end(cooling_off.last_day, 30, Unit.CALENDAR_DAYS)
    days = {
        "cooling_off_last_day": cooling_off.last_day.isoformat(),
        "confirmation_first_day": (cooling_off.last_day + dt.timedelta(days=1)).isoformat(),
        "confirmation_last_day": confirmation.last_day.isoformat(),
    }
    # A reckoning into a year with no holiday schedule says so.
    uncovered = calendar.uncovered(filed_on, confirmation.last_day)
    if uncovered:
        days["provisional_years"] = ",".join(str(year) for year in uncovered)
    return days


async def _registry_case(http, receipt: str, language: str = "zh-CN") -> dict[str, Any]:
    """The registry's own case, as its officer reads it in the case file."""
    async with http.get(
        f"/v1/departments/registry/cases/{receipt}/file",
        headers={**bearer("officer", department="registry"), "Accept-Language": language},
    ) as r:
        answer = await r.json()
        assert r.status == 200, answer
        return dict(answer["case"])


async def _confirm(http, receipt: str, who, expect: int = 200) -> dict[str, Any]:
    async with http.post(
        f"/v1/applications/{receipt}:confirmDivorce", json={"idNumber": who.id_number}
    ) as r:
        answer = await r.json()
        assert r.status == expect, answer
        return dict(answer)


async def test_divorce_confirmed_in_its_cooling_off_is_refused_and_after_it_registered(
    platform, http
):
    receipt, husband, wife = await _file_divorce(platform, http)
    await _age_divorce(platform, receipt, 29)
    refused = await _confirm(http, receipt, husband, expect=400)
    assert refused["error"]["status"] == "FAILED_PRECONDITION"
    assert "cooling-off period runs until" in refused["error"]["message"]
    # Until when, as the bureau's local dates: in the ErrorInfo for a console to say in its
    # words, and in the sentence the gateway renders in the caller's language.
    days = await _divorce_days(platform, receipt)
    (info,) = [d for d in refused["error"]["details"] if d.get("reason")]
    assert (info["reason"], info["metadata"]) == ("COOLING_OFF", days)
    assert refused["error"]["localizedMessage"]["message"].startswith(
        f"离婚冷静期至{days['cooling_off_last_day']}（含当日）届满，届满前不能确认；"
        f"双方须在{days['confirmation_first_day']}至{days['confirmation_last_day']}期间亲自到场确认"
    )
    async with http.post(
        f"/v1/applications/{receipt}:confirmDivorce",
        json={"idNumber": husband.id_number},
        headers={"Accept-Language": "en"},
    ) as r:
        in_english = (await r.json())["error"]["localizedMessage"]["message"]
    assert in_english.startswith(
        f"the cooling-off period runs until {days['cooling_off_last_day']} (its last day)"
    )
    assert f"from {days['confirmation_first_day']} to {days['confirmation_last_day']}" in in_english

    await _age_divorce(platform, receipt, 45)
    first = await _confirm(http, receipt, husband)
    assert first["divorceState"] == "DIVORCE_STATE_AWAITING_CONFIRMATION"
    second = await _confirm(http, receipt, wife)
    assert second["divorceState"] == "DIVORCE_STATE_CONFIRMED"
    shown = await wait_for_entry(http, receipt, "APPROVED")
    assert shown["status"] == "CASE_STATUS_APPROVED"
    assert codes(message_of(shown, "APPROVED")) == ["DIVORCE_REGISTERED"]
    assert codes(message_of(shown, "CONFIRMED")) == ["DIVORCE_CONFIRMED_BY_ONE"]
    assert text_of(shown, "APPROVED") == "双方均已到场确认，离婚登记完成"
    # The registry's own case says it as a code too, in the reader's language, not English.
    decided = await _registry_case(http, receipt)
    assert decided.get("decisionReason", "") == ""
    assert said(decided["decisionMessage"]) == ("DIVORCE_REGISTERED", {})
    assert decided["decisionMessage"]["text"] == "双方均已到场确认，离婚登记完成"
    in_english = await _registry_case(http, receipt, language="en")
    assert in_english["decisionMessage"]["text"] == "both parties confirmed: divorce registered"
    # Divorced: free to marry again.
    await routed(
        http,
        application("registry.marriage", husband, otherParty=party(person(age=30, sex="female"))),
    )


async def test_an_officer_cannot_approve_a_divorce_the_parties_have_not_confirmed(http, platform):
    receipt, _, _ = await _file_divorce(platform, http)
    body = {
        "requestId": str(uuid.uuid4()),
        "decision": "DECISION_APPROVE",
    }
    async with http.post(
        f"/v1/departments/registry/cases/{receipt}:decide",
        json=body,
        headers=bearer("officer", department="registry"),
    ) as response:
        assert response.status == 400
        assert (await response.json())["error"]["details"][-1][
            "reason"
        ] == "DIVORCE_NEEDS_CONFIRMATION"


async def test_divorce_withdrawn_within_the_cooling_off_period(platform, http):
    receipt, _, wife = await _file_divorce(platform, http)
    async with http.post(
        f"/v1/applications/{receipt}:withdrawDivorce", json={"idNumber": wife.id_number}
    ) as r:
        assert r.status == 200, await r.text()
    shown = await wait_for_entry(http, receipt, "WITHDRAWN")
    assert shown["status"] == "CASE_STATUS_WITHDRAWN"
    assert text_of(shown, "WITHDRAWN") == "一方已撤回离婚申请"


async def test_unconfirmed_divorce_lapses_after_the_confirmation_period(platform, http):
    receipt, husband, _ = await _file_divorce(platform, http)
    await _age_divorce(platform, receipt, 75)
    shown = await wait_for_entry(
        http, receipt, "LAPSED"
    )  # the registry's sweep runs every second here
    assert shown["status"] == "CASE_STATUS_LAPSED"
    code, args = said(message_of(shown, "LAPSED"))
    assert code == "DIVORCE_LAPSED" and args["confirmation_last_day"] < dt.date.today().isoformat()
    lapse = (await _registry_case(http, receipt))["decisionMessage"]
    assert said(lapse) == (code, args)
    assert args["confirmation_last_day"] in lapse["text"]
    late = await _confirm(http, receipt, husband, expect=400)
    assert late["error"]["status"] == "FAILED_PRECONDITION"


async def test_a_stranger_cannot_confirm_a_divorce(platform, http):
    receipt, _, _ = await _file_divorce(platform, http)
    await _age_divorce(platform, receipt, 45)
    answer = await _confirm(http, receipt, person(), expect=403)
    assert answer["error"]["status"] == "PERMISSION_DENIED"


# --- after death, one thing ---------------------------------------------------------------


def _death(deceased, relative=None) -> dict[str, Any]:
    return application(
        "registry.death",
        relative or person(),
        death={
            "deceasedName": deceased.name,
            "deceasedIdNumber": deceased.id_number,
            "dateOfDeath": (dt.date.today() - dt.timedelta(days=2)).isoformat(),
        },
    )


async def _completed(http, body) -> dict[str, Any]:
    receipt = (await submit(http, body))["receipt"]
    return await wait_for_entry(http, receipt, "COMPLETED")


async def test_a_retried_death_registration_gets_its_receipt_though_the_death_is_now_recorded(
    http,
):
    body = _death(person(age=80))
    first = await _completed(http, body)
    # The same request id again: the registry would now refuse it (the death is registered,
    # by this very application), but a retry is answered with the first receipt.
    again = await submit(http, body)
    assert (again["receipt"], again["created"]) == (first["receipt"], False)


async def test_death_of_a_person_with_benefits_settles_every_department(http):
    elder = person(age=86)
    await approved(
        http,
        "assistance",
        application(
            "assistance.dibao",
            elder,
            household=[(elder, 20000)],
            economicCheckConsent=consent_for(elder),
        ),
    )
    await approved(http, "elderly", application("elderly.senior_card", elder))
    await approved(http, "elderly", application("elderly.age_allowance", elder))

    shown = await _completed(http, _death(elder))
    assert shown["status"] == "CASE_STATUS_COMPLETED"
    assert {p["department"]: p["state"] for p in shown["progress"]} == {
        "registry": "PROGRESS_STATE_REPORTED",
        "assistance": "PROGRESS_STATE_REPORTED",
        "elderly": "PROGRESS_STATE_REPORTED",
    }
    assert codes(message_of(shown, "REPORTED", "assistance")) == [
        "CLAUSES",
        "BENEFITS_STOPPED",
        "HOUSEHOLD_FILE_CLOSED",
    ]
    assert codes(message_of(shown, "REPORTED", "elderly")) == [
        "CLAUSES",
        "SENIOR_CARD_CANCELLED",
        "AGE_ALLOWANCE_STOPPED",
    ]
    assert codes(message_of(shown, "REPORTED", "registry")) == ["FUNERAL_SUBSIDY_GRANTED"]
    # What the officers read, in the bureau's language.
    assert text_of(shown, "REPORTED", "elderly").startswith("尊老卡已注销；高龄津贴自")
    # The stopped payments by name, in either language.
    assert text_of(shown, "REPORTED", "assistance").startswith("已停发1项待遇：最低生活保障；")
    path = f"/v1/applications/{shown['receipt']}"
    async with http.get(path, headers={"Accept-Language": "en"}) as response:
        in_english = (await response.json())["application"]
    assert text_of(in_english, "REPORTED", "assistance").startswith(
        "stopped 1 payment(s): Minimum living allowance (dibao); "
    )

    later = await submit(
        http,
        application("elderly.home_care", elder, care={"service": "meals", "hoursPerMonth": 4}),
        expect=400,
    )
    assert later["error"]["details"][-1]["reason"] == "PERSON_DECEASED"
    assert fields_refused(later) == {"applicant.id_number"}
    twice = await submit(http, _death(elder), expect=400)
    assert fields_refused(twice) == {"details.death.deceased_id_number"}


async def test_death_of_a_person_without_benefits_reports_nothing_to_do(http):
    shown = await _completed(http, _death(person(age=50)))
    assert codes(message_of(shown, "REPORTED", "assistance")) == ["NOTHING_TO_DO"]
    assert codes(message_of(shown, "REPORTED", "elderly")) == ["NOTHING_TO_DO"]
    assert codes(message_of(shown, "REPORTED", "registry")) == ["FUNERAL_SUBSIDY_GRANTED"]


async def test_death_fan_out_is_one_trace(http, trace_sink):
    answer = await submit(http, _death(person(age=77)))
    await wait_for_entry(http, answer["receipt"], "COMPLETED")

    async def settled():
        spans = trace_sink.spans(answer["traceId"])
        found = {
            s.service
            for s in spans
            if s.kind == "SERVER" and s.name.endswith("DepartmentService/SettleDeath")
        }
        return spans if found == {"registry", "assistance", "elderly"} else None

    await eventually(
        settled, what="SettleDeath spans of the three departments in the submission's trace"
    )


# --- deadlines, queues, jurisdiction -----------------------------------------------------------


async def test_overdue_is_raised_once_and_listed(platform, http, intake_db):
    receipt = await routed(http, application("elderly.renovation", person(age=66)))
    await intake_db.execute(
        "UPDATE cases SET decision_deadline = now() - interval '1 day' WHERE receipt = $1", receipt
    )
    shown = await wait_for_entry(http, receipt, "OVERDUE")
    code, args = said(message_of(shown, "OVERDUE"))
    assert (code, args["departments"]) == ("OVERDUE_ESCALATED", {"codes": ["elderly"]})
    assert text_of(shown, "OVERDUE").endswith("已报养老服务主管人员")
    assert shown["overdue"] is True
    await asyncio.sleep(2.5)  # a few more timer rounds
    kinds = [e["kind"] for e in (await get_application(http, receipt))["timeline"]]
    assert kinds.count("TIMELINE_ENTRY_KIND_OVERDUE") == 1
    async with http.get(
        "/v1/applications", params={"overdue": "true", "department": "elderly"}
    ) as response:
        listed = [a["receipt"] for a in (await response.json()).get("applications", [])]
    assert receipt in listed


async def test_officer_queue_is_paginated_oldest_first(http):
    for _ in range(3):
        await routed(http, application("elderly.renovation", person(age=70)))
    officer = bearer("officer", department="elderly")
    seen: list[str] = []
    token = ""
    for _ in range(50):
        async with http.get(
            "/v1/departments/elderly/cases",
            params={"pageSize": "2", "pageToken": token},
            headers=officer,
        ) as r:
            page = await r.json()
        seen += [c["receipt"] for c in page.get("cases", [])]
        token = page.get("nextPageToken", "")
        if not token:
            break
    assert len(seen) == len(set(seen)) >= 3
    async with http.get(
        "/v1/departments/elderly/cases", params={"pageToken": "garbage"}, headers=officer
    ) as r:
        assert r.status == 400


async def test_matters_decided_at_home_are_refused_outside_the_hukou_jurisdiction(http):
    kunshan = person(division="320583")
    body = application(
        "assistance.dibao",
        kunshan,
        household=[(kunshan, 0)],
        economicCheckConsent=consent_for(kunshan),
    )
    answer = await submit(http, body, expect=400)
    assert answer["error"]["details"][-1]["reason"] == "OUTSIDE_JURISDICTION"
    assert "昆山市" in answer["error"]["message"]
    # Temporary assistance may be asked where the person lives, and is then forwarded home
    # (tests/test_federation.py); with no peer serving Kunshan, it is refused and says why.
    elsewhere = await submit(
        http, application("assistance.temporary", kunshan, requestedAmountFen=50000), expect=400
    )
    assert elsewhere["error"]["details"][-1]["reason"] == "NO_PEER_FOR_DIVISION"
    assert "昆山市" in elsewhere["error"]["message"]
