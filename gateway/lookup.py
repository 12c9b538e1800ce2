"""Looking up an application by its receipt, listing the jurisdiction's applications, and the
catalog of matters. Every application shown is a read of personal data, audited before it is
answered."""

from __future__ import annotations

from gateway import permissions, views
from gateway.audit_trail import APPLICATION_VIEW_FIELDS, actor
from gateway.validation import DEFAULT_DUE_WITHIN_DAYS, check_listing, check_receipt
from gateway.window import Window
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from services.common import auth, catalog, pagination, telemetry
from services.common.auth import Principal


async def get_application(
    window: Window, caller: Principal, request: pb.GetApplicationRequest
) -> pb.GetApplicationResponse:
    check_receipt(request.receipt)
    with telemetry.bound_receipt(request.receipt):
        case = await window.case(request.receipt)
        permissions.case_reader(caller, case.accepting_division, case.departments)
        await window.audit.record(
            actor(caller), "case.read", [case.receipt], APPLICATION_VIEW_FIELDS
        )
        return pb.GetApplicationResponse(
            application=views.as_application(case, window.clock, window.calendar),
            trace_id=telemetry.current_trace_id(),
        )


async def list_applications(
    window: Window, caller: Principal, request: pb.ListApplicationsRequest
) -> pb.ListApplicationsResponse:
    check_listing(request)
    permissions.require_role(caller, "window_clerk", "officer")
    permissions.require_jurisdiction(caller, window.jurisdiction)
    if caller.role == "officer" and request.department != caller.department:
        raise auth.deny("an officer lists its own department's cases: set department")
    found = await window.backends.call(
        window.backends.intake.ListCases,
        intake_service_pb2.ListCasesRequest(
            page_size=pagination.page_size(request.page_size),
            page_token=request.page_token,
            overdue=request.overdue,
            due_within_days=request.due_within_days or DEFAULT_DUE_WITHIN_DAYS,
            department=request.department,
            accepting_division_prefix=window.jurisdiction,
        ),
    )
    await window.audit.record(
        actor(caller), "case.listed", [c.receipt for c in found.cases], APPLICATION_VIEW_FIELDS
    )
    return pb.ListApplicationsResponse(
        applications=[views.as_application(c, window.clock, window.calendar) for c in found.cases],
        next_page_token=found.next_page_token,
    )


async def list_matters(
    window: Window, caller: Principal, request: pb.ListMattersRequest
) -> pb.ListMattersResponse:
    """Every role may read the catalog."""
    return pb.ListMattersResponse(matters=[views.as_matter(m) for m in catalog.load().current()])
