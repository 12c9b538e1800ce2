"""A proactive case as the ledger takes it, built from a warning and the case whose applicant
and household it names: the same request whether an officer opens it from the queue (the
gateway) or the bureau opens it at once (ingest, for 免申即享), so the two converge on one
case through the request id (AIP-155) and never open it twice."""

from __future__ import annotations

import grpc

from onedoor.case.v1 import case_pb2
from onedoor.ingest.v1 import warnings_service_pb2 as wpb
from onedoor.intake.v1 import intake_service_pb2
from services.common import catalog
from services.common.errors import ApiError


def request_id(warning_id: str) -> str:
    return f"proactive-{warning_id}"


def creation(
    warning: wpb.Warning, source: case_pb2.Case, jurisdiction: str
) -> intake_service_pb2.CreateCaseRequest:
    """The CreateCase request of the warning's matter, accepted in ``jurisdiction``, naming
    ``source``'s applicant and household members."""
    matter = catalog.load().latest(warning.matter_code)
    if matter is None:
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            f"matter {warning.matter_code} is not in the catalog",
            reason="UNKNOWN_MATTER",
        )
    return intake_service_pb2.CreateCaseRequest(
        request_id=request_id(warning.warning_id),
        case=case_pb2.Case(
            matter_code=matter.code,
            applicant=source.applicant,
            household_members=source.household_members,
            accepting_division=jurisdiction,
            departments=matter.departments,
        ),
        proactive=intake_service_pb2.ProactiveOrigin(
            warning_id=warning.warning_id,
            department=warning.department,
            batch_trace_id=warning.trace_id,
            reason=warning.reason,
        ),
    )
