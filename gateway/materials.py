"""The applicant hands in the materials a department asked for: the timeline records it and
every department waiting for them resumes the case, its clock running again."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from gateway import permissions, views
from gateway.audit_trail import APPLICATION_VIEW_FIELDS, actor
from gateway.validation import check_supply
from gateway.window import Window
from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from services.common import catalog, telemetry, texts
from services.common.auth import Principal
from services.common.errors import ApiError, FieldViolation, invalid_argument


async def supply_materials(
    window: Window, caller: Principal, request: pb.SupplyMaterialsRequest
) -> pb.SupplyMaterialsResponse:
    permissions.require_role(caller, "window_clerk")
    check_supply(request)
    with telemetry.bound_receipt(request.receipt):
        case = await window.case(request.receipt)
        permissions.require_jurisdiction(caller, case.accepting_division)
        # In the order the matter lists them, each once.
        handed_in = [m for m in _check_against(case, request.materials) if m in request.materials]
        backends = window.backends
        await backends.call(
            backends.intake.AppendTimelineEntry,
            intake_service_pb2.AppendTimelineEntryRequest(
                receipt=case.receipt,
                # One supply per request round: a retried call appends nothing more.
                entry_key=f"{case.receipt}:supplied:{_requests_so_far(case)}",
                entry=case_pb2.TimelineEntry(
                    kind=case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_SUPPLIED,
                    actor_name=caller.display_name,
                    # By code: each reader sees the catalog's titles in their language.
                    message=texts.text(
                        texts.Code.TEXT_CODE_MATERIALS_HANDED_IN,
                        materials=texts.materials(handed_in),
                    ),
                ),
            ),
        )
        for progress in case.progress:
            if views.awaiting_materials(progress):
                await backends.call(
                    backends.department(progress.department).ResumeCase,
                    dpb.ResumeCaseRequest(receipt=case.receipt),
                )
        await window.audit.record(
            actor(caller),
            "materials.supplied",
            [case.receipt],
            APPLICATION_VIEW_FIELDS,
            ", ".join(handed_in),
            actor_name=caller.display_name,
        )
        return pb.SupplyMaterialsResponse(
            application=views.as_application(
                await window.case(case.receipt), window.clock, window.calendar
            )
        )


def _check_against(case: case_pb2.Case, materials: Sequence[str]) -> list[str]:
    """The materials are the matter's, and the case is waiting for some; the matter's
    materials, in its order."""
    matter = catalog.load().version(case.matter_code, case.matter_version)
    known = [m.code for m in matter.required_materials] if matter else []
    unknown = [
        FieldViolation(f"materials[{i}]", "is not a material of this matter")
        for i, m in enumerate(materials)
        if m not in known
    ]
    if unknown:
        raise invalid_argument(unknown)
    if case.status != case_pb2.CASE_STATUS_AWAITING_MATERIALS:
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the case is not waiting for materials",
            reason="NOT_AWAITING_MATERIALS",
        )
    return known


def _requests_so_far(case: case_pb2.Case) -> int:
    return sum(
        1 for e in case.timeline if e.kind == case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED
    )
