"""Looking up an application by its receipt, listing the jurisdiction's applications, and the
catalog of matters. Every application shown is a read of personal data, audited before it is
answered."""

from __future__ import annotations

from google.protobuf.internal.enum_type_wrapper import EnumTypeWrapper

from gateway import permissions, views
from gateway.audit_trail import APPLICATION_VIEW_FIELDS, actor
from gateway.validation import DEFAULT_DUE_WITHIN_DAYS, check_listing, check_receipt
from gateway.window import Window
from onedoor.case.v1 import case_pb2
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from services.common import auth, catalog, pagination, telemetry
from services.common.auth import Principal
from services.common.errors import FieldViolation, invalid_argument


async def get_application(
    window: Window, caller: Principal, request: pb.GetApplicationRequest
) -> pb.GetApplicationResponse:
    check_receipt(request.receipt)
    with telemetry.bound_receipt(request.receipt):
        case = await window.case(request.receipt)
        permissions.case_reader(caller, case.accepting_division, case.departments)
        await window.audit.record(
            actor(caller),
            "case.read",
            [case.receipt],
            APPLICATION_VIEW_FIELDS,
            actor_name=caller.display_name,
        )
        return pb.GetApplicationResponse(
            application=views.as_application(case, window.clock, window.calendar),
            trace_id=telemetry.current_trace_id(),
            bureau_contact=window.bureau_contact,
        )


def work_list_named(word: str) -> pb.WorkList.ValueType:
    """A work list as the HTTP API's ``workList`` parameter names it: ``due_soon`` or
    ``WORK_LIST_DUE_SOON``; empty for none."""
    return _enum_named(pb.WorkList, "WORK_LIST_", "workList", word)  # type: ignore[return-value]


def status_named(word: str) -> case_pb2.CaseStatus.ValueType:
    """A status as the HTTP API's ``status`` parameter names it: ``awaiting_materials`` or
    ``CASE_STATUS_AWAITING_MATERIALS``; empty for every status."""
    return _enum_named(case_pb2.CaseStatus, "CASE_STATUS_", "status", word)  # type: ignore[return-value]


def _enum_named(enum: EnumTypeWrapper, prefix: str, field: str, word: str) -> int:
    if not word:
        return 0
    words = {name.removeprefix(prefix).lower(): value for name, value in enum.items() if value}
    found = words.get(word.upper().removeprefix(prefix).lower())
    if found is None:
        raise invalid_argument([FieldViolation(field, f"must be one of {', '.join(words)}")])
    return found


def listing_of(request: pb.ListApplicationsRequest) -> intake_service_pb2.ListCasesRequest:
    """Intake's listing for the window's: a work list is a set of intake's filters."""
    within = request.due_within_days or DEFAULT_DUE_WITHIN_DAYS
    listing = intake_service_pb2.ListCasesRequest(
        page_size=pagination.page_size(request.page_size),
        page_token=request.page_token,
        overdue=request.overdue,
        due_within_days=within,
        department=request.department,
        matter_code=request.matter_code,
        status=request.status,
    )
    match request.work_list:
        case pb.WORK_LIST_TODAY:
            listing.accepted_today = True
        case pb.WORK_LIST_AWAITING_MATERIALS:
            listing.status = case_pb2.CASE_STATUS_AWAITING_MATERIALS
        case pb.WORK_LIST_DUE_SOON:
            listing.overdue = True
            listing.not_yet_due = True
        case pb.WORK_LIST_OVERDUE:
            listing.overdue = True
            listing.due_within_days = 0
    return listing


async def list_applications(
    window: Window, caller: Principal, request: pb.ListApplicationsRequest
) -> pb.ListApplicationsResponse:
    check_listing(request)
    permissions.require_role(caller, "window_clerk", "officer")
    permissions.require_jurisdiction(caller, window.jurisdiction)
    if caller.role == "officer" and request.department != caller.department:
        raise auth.deny("an officer lists its own department's cases: set department")
    listing = listing_of(request)
    listing.accepting_division_prefix = window.jurisdiction
    found = await window.backends.call(window.backends.intake.ListCases, listing)
    await window.audit.record(
        actor(caller),
        "case.listed",
        [c.receipt for c in found.cases],
        APPLICATION_VIEW_FIELDS,
        actor_name=caller.display_name,
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
