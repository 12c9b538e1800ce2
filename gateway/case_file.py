"""The case file an officer reads before deciding: the application and its timeline, the
household's members (masked, their incomes in full: the assessment rests on them), the
materials against what the matter asks, the department's assessment, the household file's
other cases and the department's warnings about the file (from ingest's WarningsService, which
audits each warning shown under the officer's name), and the reason templates the decision
dialog offers. Reading it is a read of personal data, audited before it is answered."""

from __future__ import annotations

import asyncio

from gateway import permissions, views
from gateway.audit_trail import actor
from gateway.validation import check_department, check_receipt
from gateway.warnings import household_warnings
from gateway.window import Window
from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from services.common import catalog, identity, telemetry
from services.common.auth import Principal
from services.common.catalog import reasons

# What the case file shows of a person, masked or not: the names of the fields read.
CASE_FILE_FIELDS = (
    "applicant.id_number",
    "applicant.name",
    "household_members.name",
    "household_members.id_number",
    "household_members.relation",
    "household_members.monthly_income_fen",
    "materials",
)

_DECISION_KINDS = {
    "approve": pb.DECISION_APPROVE,
    "reject": pb.DECISION_REJECT,
    "request_materials": pb.DECISION_REQUEST_MATERIALS,
}


def members(case: case_pb2.Case) -> list[pb.CaseFileMember]:
    return [
        pb.CaseFileMember(
            name=identity.mask_name(m.name),
            id_number=identity.mask(m.id_number),
            relation=m.relation,
            monthly_income_fen=m.monthly_income_fen,
        )
        for m in case.household_members
    ]


def materials(case: case_pb2.Case) -> list[pb.CaseFileMaterial]:
    """The matter's materials in its order, whether each was handed in, then anything handed
    in that it does not ask for (by code: the catalog may no longer name it)."""
    matter = catalog.load().version(case.matter_code, case.matter_version)
    required = matter.required_materials if matter else ()
    handed_in = set(case.materials)
    shown = [
        pb.CaseFileMaterial(
            code=m.code, title_zh=m.title_zh, title_en=m.title_en, handed_in=m.code in handed_in
        )
        for m in required
    ]
    asked = {m.code for m in required}
    titles = {
        m.code: m for each in catalog.load().versions.values() for m in each.required_materials
    }
    for code in case.materials:
        if code not in asked:
            known = titles.get(code)
            shown.append(
                pb.CaseFileMaterial(
                    code=code,
                    title_zh=known.title_zh if known else "",
                    title_en=known.title_en if known else "",
                    handed_in=True,
                    extra=True,
                )
            )
    return shown


def reason_templates(matter_code: str) -> list[pb.ReasonTemplate]:
    return [
        pb.ReasonTemplate(code=t.code, decision=_DECISION_KINDS[t.decision], text=t.text)
        for t in reasons.for_matter(matter_code)
    ]


def household_case(found: dpb.HouseholdCase) -> pb.HouseholdCase:
    return pb.HouseholdCase(
        receipt=found.receipt,
        matter_code=found.matter_code,
        # The gateway's states are the department's, by name.
        state=pb.CaseState.Value(dpb.CaseState.Name(found.state)),
        create_time=found.create_time if found.HasField("create_time") else None,
    )


async def get_case_file(
    window: Window, caller: Principal, request: pb.GetCaseFileRequest
) -> pb.GetCaseFileResponse:
    check_department(request.department)
    check_receipt(request.receipt)
    permissions.officer_of(caller, request.department, window.jurisdiction)
    with telemetry.bound_receipt(request.receipt):
        case, decided = await asyncio.gather(
            window.case(request.receipt, intake_service_pb2.CASE_VIEW_FULL),
            window.backends.call(
                window.backends.department(request.department).GetCase,
                dpb.GetCaseRequest(receipt=request.receipt),
            ),
        )
        permissions.case_reader(caller, case.accepting_division, case.departments)
        await window.audit.record(
            actor(caller),
            "case_file.read",
            [case.receipt],
            CASE_FILE_FIELDS,
            detail=request.department,
            actor_name=caller.display_name,
        )
        warnings = await household_warnings(
            window, caller, request.department, decided.case.household_file
        )
        return pb.GetCaseFileResponse(
            application=views.as_application(case, window.clock, window.calendar),
            case=views.as_department_case(decided.case),
            members=members(case),
            materials=materials(case),
            household_cases=[household_case(h) for h in decided.household_cases],
            reason_templates=reason_templates(case.matter_code),
            household_warnings=warnings or [],
            household_warnings_unavailable=warnings is None,
        )
