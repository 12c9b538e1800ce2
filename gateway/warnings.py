"""Each department's warnings queue at the gateway: what other agencies' records raised
(services/ingest), for that department's officers in the gateway's jurisdiction to contact,
dismiss with a reason, or list by state. The gateway holds the caller to the department and
jurisdiction before it asks ingest (WarningsService), which audits every warning it shows or
moves under the officer's name; reasons are case.v1 Texts rendered per Accept-Language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from google.protobuf.message import Message

from gateway import permissions
from gateway.openapi import JsonSchema, Route
from gateway.window import Window
from onedoor.ingest.v1 import warnings_service_pb2 as wpb
from onedoor.ingest.v1 import warnings_service_pb2_grpc
from services.common.auth import Principal
from services.common.catalog import DEPARTMENTS
from services.common.errors import FieldViolation, invalid_argument

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


async def contact_warning(
    window: Window, caller: Principal, department: str, warning_id: str
) -> wpb.ContactWarningResponse:
    _check_department(department)
    permissions.officer_of(caller, department, window.jurisdiction)
    return await window.backends.call(
        _stub(window).ContactWarning,
        wpb.ContactWarningRequest(
            department=department,
            jurisdiction=window.jurisdiction,
            warning_id=warning_id,
            officer_id=caller.subject,
            officer_name=caller.display_name,
        ),
    )


async def dismiss_warning(
    window: Window, caller: Principal, department: str, warning_id: str, reason: str
) -> wpb.DismissWarningResponse:
    _check_department(department)
    permissions.officer_of(caller, department, window.jurisdiction)
    return await window.backends.call(
        _stub(window).DismissWarning,
        wpb.DismissWarningRequest(
            department=department,
            jurisdiction=window.jurisdiction,
            warning_id=warning_id,
            officer_id=caller.subject,
            officer_name=caller.display_name,
            reason=reason,
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
        "dismissWarning": dismissed,
    }
    return handlers
