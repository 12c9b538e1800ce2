"""IntakeService: the case ledger's gRPC face."""

from __future__ import annotations

import datetime as dt

import grpc

from onedoor.intake.v1 import case_pb2, intake_service_pb2, intake_service_pb2_grpc
from services.common import catalog, pagination, telemetry
from services.common.deadlines import decision_deadline
from services.common.errors import ApiError, FieldViolation, invalid_argument, not_found
from services.common.receipt import is_request_id, receipt_for
from services.intake.store import CaseLedger


class IntakeServicer(intake_service_pb2_grpc.IntakeServiceServicer):
    def __init__(self, ledger: CaseLedger) -> None:
        self.ledger = ledger

    async def CreateCase(
        self, request: intake_service_pb2.CreateCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.CreateCaseResponse:
        # The gateway validated the application for the window; this guards the ledger's
        # own invariants against any other caller.
        problems = []
        if not is_request_id(request.request_id):
            problems.append(FieldViolation("request_id", "must be 8-64 letters, digits or ._:-"))
        matter = catalog.load().latest(request.case.matter_code)
        if matter is None:
            problems.append(FieldViolation("case.matter_code", "is not a matter of the catalog"))
        if len(request.case.accepting_division) != 6:
            problems.append(FieldViolation("case.accepting_division", "must be a 6-digit code"))
        if problems or matter is None:
            raise invalid_argument(problems)

        receipt = receipt_for(request.case.accepting_division, request.request_id)
        with telemetry.bound_receipt(receipt):
            now = dt.datetime.now(dt.UTC)
            case = case_pb2.Case()
            case.CopyFrom(request.case)
            del case.timeline[:]
            del case.progress[:]
            case.ClearField("paused_since")
            case.receipt = receipt
            case.name = f"cases/{receipt}"
            case.request_id = request.request_id
            case.matter_version = matter.version
            case.status = case_pb2.CASE_STATUS_ACCEPTED
            case.departments[:] = matter.departments
            case.create_time.FromDatetime(now)
            case.decision_deadline.FromDatetime(decision_deadline(now, matter.time_limit_days))
            case.trace_id = telemetry.current_trace_id()
            stored, created = await self.ledger.create(case)
            return intake_service_pb2.CreateCaseResponse(case=stored, created=created)

    async def GetCase(
        self, request: intake_service_pb2.GetCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.GetCaseResponse:
        with telemetry.bound_receipt(request.receipt):
            case = await self.ledger.get(request.receipt)
            if case is None:
                raise not_found("case", request.receipt)
            return intake_service_pb2.GetCaseResponse(case=case)

    async def AppendTimelineEntry(
        self,
        request: intake_service_pb2.AppendTimelineEntryRequest,
        context: grpc.aio.ServicerContext,
    ) -> intake_service_pb2.AppendTimelineEntryResponse:
        if not request.entry_key:
            raise invalid_argument([FieldViolation("entry_key", "is required")])
        if request.entry.kind == case_pb2.TIMELINE_ENTRY_KIND_UNSPECIFIED:
            raise invalid_argument([FieldViolation("entry.kind", "is required")])
        if request.entry.kind in (
            case_pb2.TIMELINE_ENTRY_KIND_ACCEPTED,
            case_pb2.TIMELINE_ENTRY_KIND_COMPLETED,
        ):
            raise ApiError(
                grpc.StatusCode.INVALID_ARGUMENT,
                "only the ledger records acceptance",
                violations=(
                    FieldViolation("entry.kind", "ACCEPTED and COMPLETED are the ledger's own"),
                ),
            )
        with telemetry.bound_receipt(request.receipt):
            entry = case_pb2.TimelineEntry()
            entry.CopyFrom(request.entry)
            entry.trace_id = entry.trace_id or telemetry.current_trace_id()
            case, appended = await self.ledger.append(request.receipt, request.entry_key, entry)
            if case is None:
                raise not_found("case", request.receipt)
            return intake_service_pb2.AppendTimelineEntryResponse(case=case, appended=appended)

    async def ListCases(
        self, request: intake_service_pb2.ListCasesRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.ListCasesResponse:
        if request.due_within_days < 0:
            raise invalid_argument([FieldViolation("due_within_days", "must not be negative")])
        cases, token = await self.ledger.list(
            size=pagination.page_size(request.page_size),
            token=request.page_token,
            overdue=request.overdue,
            due_within=dt.timedelta(days=request.due_within_days),
            department=request.department,
            division_prefix=request.accepting_division_prefix,
        )
        return intake_service_pb2.ListCasesResponse(cases=cases, next_page_token=token)
