"""A party confirms a divorce at the window, or withdraws it: checked here, done by the
registry, audited; answered with the application and the divorce's state."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from gateway import permissions, views
from gateway.audit_trail import APPLICATION_VIEW_FIELDS, actor
from gateway.validation import check_divorce_party
from gateway.window import Window
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.registry.v1 import registry_service_pb2 as rpb
from services.common import telemetry
from services.common.auth import Principal
from services.common.errors import FieldViolation, invalid_argument

DIVORCE = "registry.divorce"


async def confirm_divorce(
    window: Window, caller: Principal, request: pb.ConfirmDivorceRequest
) -> pb.ConfirmDivorceResponse:
    application, state = await _step(
        window,
        caller,
        request,
        window.backends.registry.ConfirmDivorce,
        rpb.ConfirmDivorceRequest(
            receipt=request.receipt, id_number=request.id_number, staff_name=caller.display_name
        ),
        "divorce.confirmed",
    )
    return pb.ConfirmDivorceResponse(application=application, divorce_state=state)


async def withdraw_divorce(
    window: Window, caller: Principal, request: pb.WithdrawDivorceRequest
) -> pb.WithdrawDivorceResponse:
    application, state = await _step(
        window,
        caller,
        request,
        window.backends.registry.WithdrawDivorce,
        rpb.WithdrawDivorceRequest(
            receipt=request.receipt, id_number=request.id_number, staff_name=caller.display_name
        ),
        "divorce.withdrawn",
    )
    return pb.WithdrawDivorceResponse(application=application, divorce_state=state)


async def _step(
    window: Window,
    caller: Principal,
    request: pb.ConfirmDivorceRequest | pb.WithdrawDivorceRequest,
    registry_call: Callable[..., Awaitable[Any]],
    registry_request: rpb.ConfirmDivorceRequest | rpb.WithdrawDivorceRequest,
    action: str,
) -> tuple[pb.Application, pb.DivorceState.ValueType]:
    permissions.require_role(caller, "window_clerk")
    check_divorce_party(request.receipt, request.id_number, window.clock.today())
    with telemetry.bound_receipt(request.receipt):
        case = await window.case(request.receipt)
        if case.matter_code != DIVORCE:
            raise invalid_argument([FieldViolation("receipt", "is not a divorce application")])
        permissions.require_jurisdiction(caller, case.accepting_division)
        answer = await window.backends.call(registry_call, registry_request)
        state = views.as_divorce_state(answer.divorce.state)
        await window.audit.record(
            actor(caller),
            action,
            [request.receipt],
            ("id_number", *APPLICATION_VIEW_FIELDS),
            pb.DivorceState.Name(state),
            actor_name=caller.display_name,
        )
        shown = views.as_application(
            await window.case(request.receipt), window.clock, window.calendar
        )
        return shown, state
