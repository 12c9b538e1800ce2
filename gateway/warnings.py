"""Each department's warnings queue at the gateway: what other agencies' records raised
(services/ingest), for that department's officers in the gateway's jurisdiction to contact,
dismiss with a reason, or list by state. The gateway holds the caller to the department and
jurisdiction before it asks ingest (WarningsService), which audits every warning it shows or
moves under the officer's name; reasons are case.v1 Texts rendered per Accept-Language."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import grpc
from aiohttp import web
from google.protobuf.message import Message
from opentelemetry import trace

from gateway import permissions
from gateway.audit_trail import APPLICATION_VIEW_FIELDS, actor
from gateway.openapi import JsonSchema, Route
from gateway.window import Window
from onedoor.gateway.v1 import gateway_service_pb2 as gpb
from onedoor.ingest.v1 import warnings_service_pb2 as wpb
from onedoor.ingest.v1 import warnings_service_pb2_grpc
from services.common import proactive_case, telemetry
from services.common.auth import Principal
from services.common.catalog import DEPARTMENTS
from services.common.errors import ApiError, FieldViolation, invalid_argument

log = logging.getLogger("gateway")

_DEPARTMENT = ("department", "assistance, elderly, orgs or registry")
_WARNING = ("warningId", "the warning's id (a UUID)")
_STATES = [s.removeprefix("WARNING_STATE_") for s in wpb.WarningState.keys()[1:]]
_INT: JsonSchema = {"type": "integer", "format": "int32"}

ROUTES: tuple[Route, ...] = (
    Route(
        "GET",
        "/v1/departments/{department}/warnings",
        "listWarnings",
        "A department's warnings from other agencies' records, newest first (its officers; "
        "each warning shown is audited)",
        response=wpb.ListWarningsResponse.DESCRIPTOR,
        path_params=(_DEPARTMENT,),
        query=(
            ("state", {"type": "string", "enum": _STATES}, "only warnings in this state"),
            ("pageSize", {**_INT, "minimum": 0, "maximum": 1000}, "how many at most (AIP-158)"),
            ("pageToken", {"type": "string"}, "nextPageToken of the page before"),
        ),
    ),
    Route(
        "POST",
        "/v1/departments/{department}/warnings/{warningId}:contact",
        "contactWarning",
        "The officer has contacted the person or household (a new warning only; repeating it "
        "changes nothing)",
        response=wpb.ContactWarningResponse.DESCRIPTOR,
        path_params=(_DEPARTMENT, _WARNING),
    ),
    Route(
        "POST",
        "/v1/departments/{department}/warnings/{warningId}:openCase",
        "openCaseFromWarning",
        "Open a proactive case from a warning: in the same ledger as a window case (timeline, "
        "deadline, routing, audit), naming the household its department knows, linked to the "
        "warning and its batch's trace; consent is still needed before any economic check. "
        "Repeating it returns the same case",
        response=wpb.MarkCaseOpenedResponse.DESCRIPTOR,
        path_params=(_DEPARTMENT, _WARNING),
    ),
    Route(
        "POST",
        "/v1/departments/{department}/warnings/{warningId}:dismiss",
        "dismissWarning",
        "Nothing is to be done, and why (a new or contacted warning)",
        response=wpb.DismissWarningResponse.DESCRIPTOR,
        body=wpb.WarningDismissal.DESCRIPTOR,
        path_params=(_DEPARTMENT, _WARNING),
    ),
)


def _stub(window: Window) -> warnings_service_pb2_grpc.WarningsServiceStub:
    return warnings_service_pb2_grpc.WarningsServiceStub(window.backends.channels["ingest"])


def _check_department(department: str) -> None:
    if department not in DEPARTMENTS:
        raise invalid_argument(
            [FieldViolation("department", "must be one of " + ", ".join(DEPARTMENTS))]
        )


def _state(name: str) -> wpb.WarningState.ValueType:
    if not name:
        return wpb.WARNING_STATE_UNSPECIFIED
    if name.upper() not in _STATES:
        raise invalid_argument([FieldViolation("state", "must be one of " + ", ".join(_STATES))])
    return wpb.WarningState.Value(f"WARNING_STATE_{name.upper()}")


async def list_warnings(
    window: Window,
    caller: Principal,
    department: str,
    state: str = "",
    page_size: int = 0,
    page_token: str = "",
) -> wpb.ListWarningsResponse:
    _check_department(department)
    permissions.officer_of(caller, department, window.jurisdiction)
    return await window.backends.call(
        _stub(window).ListWarnings,
        wpb.ListWarningsRequest(
            department=department,
            jurisdiction=window.jurisdiction,
            state=_state(state),
            page_size=page_size,
            page_token=page_token,
            officer_id=caller.subject,
            officer_name=caller.display_name,
        ),
    )


# The most warnings a case file lists about one household file (a file with more is worked in
# the warnings queue); the newest are shown.
HOUSEHOLD_WARNINGS = 50
# The case file waits this long for its warnings, then shows itself without them.
WARNINGS_TIMEOUT_SECONDS = 2.0


async def household_warnings(
    window: Window, caller: Principal, department: str, household_file: str
) -> list[gpb.HouseholdWarning] | None:
    """The department's warnings about a household file, for its case file (the caller is
    already held to an officer of the department), newest first; none without a file, and
    None when the outreach service does not answer in time: the officer deciding a case is
    not kept from its file by the warnings beside it. The warnings queue audits each one it
    answers with under the officer's name."""
    if not household_file:
        return []
    try:
        found = await window.backends.call(
            _stub(window).ListWarnings,
            wpb.ListWarningsRequest(
                department=department,
                jurisdiction=window.jurisdiction,
                household_file=household_file,
                page_size=HOUSEHOLD_WARNINGS,
                officer_id=caller.subject,
                officer_name=caller.display_name,
            ),
            timeout=WARNINGS_TIMEOUT_SECONDS,
            wait_for_ready=False,
        )
    except ApiError as error:
        if error.code not in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
            raise
        log.warning("case file shown without its warnings: ingest %s", error.code.name)
        return None
    return [as_household_warning(w) for w in found.warnings]


def as_household_warning(warning: wpb.Warning) -> gpb.HouseholdWarning:
    """What the case file shows of a warning (the enums share ingest's numbers)."""
    return gpb.HouseholdWarning(
        warning_id=warning.warning_id,
        matter_code=warning.matter_code,
        kind=gpb.WarningKind.ValueType(warning.kind),
        state=gpb.WarningState.ValueType(warning.state),
        reason=warning.reason,
        create_time=warning.create_time,
        receipt=warning.receipt,
        household_file=warning.household_file,
    )


def _officers_move(window: Window, caller: Principal, department: str) -> dict[str, str]:
    """The fields every move of a warning carries, once the caller is held to an officer of
    the department: its queue, this jurisdiction, and who moves it (for the audit log)."""
    _check_department(department)
    permissions.officer_of(caller, department, window.jurisdiction)
    return {
        "department": department,
        "jurisdiction": window.jurisdiction,
        "officer_id": caller.subject,
        "officer_name": caller.display_name,
    }


async def contact_warning(
    window: Window, caller: Principal, department: str, warning_id: str
) -> wpb.ContactWarningResponse:
    return await window.backends.call(
        _stub(window).ContactWarning,
        wpb.ContactWarningRequest(
            warning_id=warning_id, **_officers_move(window, caller, department)
        ),
    )


async def dismiss_warning(
    window: Window, caller: Principal, department: str, warning_id: str, reason: str
) -> wpb.DismissWarningResponse:
    return await window.backends.call(
        _stub(window).DismissWarning,
        wpb.DismissWarningRequest(
            warning_id=warning_id, reason=reason, **_officers_move(window, caller, department)
        ),
    )


async def open_case(
    window: Window, caller: Principal, department: str, warning_id: str
) -> wpb.MarkCaseOpenedResponse:
    """The case in the ledger first (idempotent: its request id is the warning's), then the
    warning marked with it, so a retry after a failure in between finishes the same case."""
    _check_department(department)
    permissions.officer_of(caller, department, window.jurisdiction)
    stub = _stub(window)
    scope = {"department": department, "jurisdiction": window.jurisdiction}
    warning = (
        await window.backends.call(
            stub.GetWarning, wpb.GetWarningRequest(warning_id=warning_id, **scope)
        )
    ).warning
    if warning.state == wpb.WARNING_STATE_DISMISSED:
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the warning was dismissed: no case is opened from it",
            reason="WARNING_NOT_OPEN",
        )
    if not warning.source_receipt:
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the department knows no case of this household to take its members from: "
            "open the case at the window",
            reason="NO_SOURCE_CASE",
        )
    trace.get_current_span().set_attribute("onedoor.outreach.batch_trace_id", warning.trace_id)
    source = await window.case(warning.source_receipt)
    created = await window.backends.call(
        window.backends.intake.CreateCase,
        proactive_case.creation(warning, source, window.jurisdiction),
    )
    receipt = created.case.receipt
    with telemetry.bound_receipt(receipt):
        await window.audit.record(
            actor(caller),
            "case.opened_from_warning",
            [receipt],
            APPLICATION_VIEW_FIELDS,
            # In codes (key=value), which the audit screen names in the console's language.
            f"department={department} warning={warning.warning_id} "
            f"source_receipt={warning.source_receipt}",
            caller.display_name,
        )
        return await window.backends.call(
            stub.MarkCaseOpened,
            wpb.MarkCaseOpenedRequest(
                warning_id=warning.warning_id,
                officer_id=caller.subject,
                officer_name=caller.display_name,
                receipt=receipt,
                **scope,
            ),
        )


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def http_handlers(
    window: Window,
    caller: Callable[[web.Request], Principal],
    parse_body: Callable[[web.Request, Message], Awaitable[None]],
    query_int: Callable[[web.Request, str], int],
    answer: Callable[[Message], web.Response],
) -> dict[str, Handler]:
    """The handlers of ROUTES, on the HTTP adapter's own helpers (its caller, body parsing,
    query numbers, and rendered JSON answers)."""

    def path(request: web.Request) -> tuple[str, str]:
        return request.match_info["department"], request.match_info.get("warningId", "")

    async def listed(request: web.Request) -> web.Response:
        department, _ = path(request)
        return answer(
            await list_warnings(
                window,
                caller(request),
                department,
                request.query.get("state", ""),
                query_int(request, "pageSize"),
                request.query.get("pageToken", ""),
            )
        )

    async def contacted(request: web.Request) -> web.Response:
        department, warning_id = path(request)
        return answer(await contact_warning(window, caller(request), department, warning_id))

    async def opened(request: web.Request) -> web.Response:
        department, warning_id = path(request)
        return answer(await open_case(window, caller(request), department, warning_id))

    async def dismissed(request: web.Request) -> web.Response:
        department, warning_id = path(request)
        body = wpb.WarningDismissal()
        await parse_body(request, body)
        return answer(
            await dismiss_warning(window, caller(request), department, warning_id, body.reason)
        )

    handlers: dict[str, Any] = {
        "listWarnings": listed,
        "contactWarning": contacted,
        "openCaseFromWarning": opened,
        "dismissWarning": dismissed,
    }
    return handlers
