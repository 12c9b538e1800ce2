"""A department officer's work at the window: the department's queue, and deciding a case.
The decision is recorded as the signed-in officer's; the request cannot name another."""

from __future__ import annotations

from gateway import permissions, views
from gateway.audit_trail import actor
from gateway.validation import check_department
from gateway.window import Window
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from services.common import telemetry
from services.common.auth import Principal

_DECISIONS = {
    pb.DECISION_APPROVE: dpb.DECISION_APPROVE,
    pb.DECISION_REJECT: dpb.DECISION_REJECT,
    pb.DECISION_REQUEST_MATERIALS: dpb.DECISION_REQUEST_MATERIALS,
}


async def list_department_cases(
    window: Window, caller: Principal, request: pb.ListDepartmentCasesRequest
) -> pb.ListDepartmentCasesResponse:
    check_department(request.department)
    permissions.officer_of(caller, request.department, window.jurisdiction)
    found = await window.backends.call(
        window.backends.department(request.department).ListCases,
        dpb.ListCasesRequest(page_size=request.page_size, page_token=request.page_token),
    )
    return pb.ListDepartmentCasesResponse(
        cases=[views.as_department_case(c) for c in found.cases],
        next_page_token=found.next_page_token,
    )


async def decide_case(
    window: Window, caller: Principal, request: pb.DecideCaseRequest
) -> pb.DecideCaseResponse:
    check_department(request.department)
    permissions.officer_of(caller, request.department, window.jurisdiction)
    with telemetry.bound_receipt(request.receipt):
        decided = await window.backends.call(
            window.backends.department(request.department).DecideCase,
            dpb.DecideCaseRequest(
                request_id=request.request_id,
                receipt=request.receipt,
                # An unknown decision goes on as unspecified: the department refuses it.
                decision=_DECISIONS.get(request.decision, dpb.DECISION_UNSPECIFIED),
                reason=request.reason,
                officer_id=caller.subject,
                officer_name=caller.display_name,
            ),
        )
        await window.audit.record(
            actor(caller),
            "case.decided",
            [request.receipt],
            detail=f"{request.department}: {dpb.CaseState.Name(decided.case.state)}",
            actor_name=caller.display_name,
        )
        return pb.DecideCaseResponse(case=views.as_department_case(decided.case))
