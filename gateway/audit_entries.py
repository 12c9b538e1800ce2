"""The audit log, for an auditor of this gateway's jurisdiction."""

from __future__ import annotations

from gateway import permissions, views
from gateway.window import Window
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from services.common.auth import Principal


async def list_audit_entries(
    window: Window, caller: Principal, request: pb.ListAuditEntriesRequest
) -> pb.ListAuditEntriesResponse:
    permissions.require_role(caller, "auditor")
    permissions.require_jurisdiction(caller, window.jurisdiction)
    found = await window.backends.call(
        window.backends.intake.ListAudit,
        intake_service_pb2.ListAuditRequest(
            receipt=request.receipt, page_size=request.page_size, page_token=request.page_token
        ),
    )
    return pb.ListAuditEntriesResponse(
        entries=[views.as_audit_entry(e) for e in found.entries],
        next_page_token=found.next_page_token,
    )
