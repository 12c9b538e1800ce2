"""IntakeService: the case ledger's gRPC face."""

from __future__ import annotations

import datetime as dt
from typing import Any

import grpc

from onedoor.case.v1 import case_pb2
from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from services.common import pagination, telemetry
from services.common.deadlines import due_cutoff
from services.common.errors import (
    FieldViolation,
    duplicate_application,
    invalid_argument,
    not_found,
    request_id_reused,
)
from services.common.timestamps import to_timestamp
from services.intake import acceptance, forwards, status
from services.intake.audit_log import Among, AuditLog
from services.intake.store import CaseLedger, DuplicateApplication, Listing, RequestIdReused


class IntakeServicer(intake_service_pb2_grpc.IntakeServiceServicer):
    """Translates each call into the ledger's terms and delegates: the rules of a new case are
    acceptance's, those of a timeline entry status's, the SQL the stores' (store, forwards,
    audit_log)."""

    def __init__(self, ledger: CaseLedger, audit: AuditLog) -> None:
        self.ledger = ledger
        self.audit = audit

    async def CreateCase(
        self, request: intake_service_pb2.CreateCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.CreateCaseResponse:
        matter = acceptance.check_request(request.request_id, request.case)
        if request.HasField("proactive"):
            acceptance.check_proactive(request.proactive)
        case = acceptance.new_case(
            request.request_id, request.case, matter, self.ledger.clock, self.ledger.calendar
        )
        with telemetry.bound_receipt(case.receipt):
            try:
                stored, created = await self.ledger.create(
                    case,
                    acceptance.open_case_claims(case, matter),
                    request.proactive if request.HasField("proactive") else None,
                )
            except DuplicateApplication as duplicate:
                raise duplicate_application(duplicate.open_receipt) from None
            except RequestIdReused:
                raise request_id_reused() from None
            return intake_service_pb2.CreateCaseResponse(case=stored, created=created)

    async def GetCase(
        self, request: intake_service_pb2.GetCaseRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.GetCaseResponse:
        with telemetry.bound_receipt(request.receipt):
            if request.view == intake_service_pb2.CASE_VIEW_BASIC:
                case = await self.ledger.get_basic(request.receipt)
            elif request.view == intake_service_pb2.CASE_VIEW_CONTACTS:
                case = await self.ledger.get_contacts(request.receipt)
            else:
                case = await self.ledger.get(request.receipt)
            if case is None:
                raise not_found("case", request.receipt)
            return intake_service_pb2.GetCaseResponse(case=case)

    async def AppendTimelineEntry(
        self,
        request: intake_service_pb2.AppendTimelineEntryRequest,
        context: grpc.aio.ServicerContext,
    ) -> intake_service_pb2.AppendTimelineEntryResponse:
        status.check_entry(request.entry_key, request.entry)
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
        clock, calendar = self.ledger.clock, self.ledger.calendar
        listing = Listing(
            division_prefix=request.accepting_division_prefix,
            department=request.department,
            matter_code=request.matter_code,
            status=case_pb2.CaseStatus.Name(request.status) if request.status else "",
            accepted_since=(
                dt.datetime.combine(clock.today(), dt.time(0), tzinfo=clock.zone)
                if request.accepted_today
                else None
            ),
            due_before=(
                due_cutoff(request.due_within_days, clock, calendar) if request.overdue else None
            ),
            due_from=clock.now() if request.overdue and request.not_yet_due else None,
            person_key=request.person_key,
        )
        cases, token = await self.ledger.page(
            listing, pagination.page_size(request.page_size), request.page_token
        )
        return intake_service_pb2.ListCasesResponse(cases=cases, next_page_token=token)

    async def ClaimForwards(
        self, request: intake_service_pb2.ClaimForwardsRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.ClaimForwardsResponse:
        claimed = await self.ledger.claim_forwards(
            request.delivered,
            min(request.limit or 20, 200),
            dt.timedelta(seconds=request.lease_seconds or 30),
        )
        return intake_service_pb2.ClaimForwardsResponse(
            forwards=[
                intake_service_pb2.ClaimedForward(case=c, trace_context=ctx, cause=cause)
                for c, ctx, cause in claimed
            ]
        )

    async def RecordForward(
        self, request: intake_service_pb2.RecordForwardRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.RecordForwardResponse:
        if request.cause not in ("", *forwards.CAUSES):
            raise invalid_argument(
                [FieldViolation("cause", f"must be one of {', '.join(sorted(forwards.CAUSES))}")]
            )
        with telemetry.bound_receipt(request.receipt):
            case = await self.ledger.record_forward(
                request.receipt,
                request.remote_receipt,
                request.remote_status,
                list(request.remote_timeline),
                request.error,
                request.cause,
            )
            if case is None:
                raise not_found("forwarded case", request.receipt)
            return intake_service_pb2.RecordForwardResponse(case=case)

    async def ListForwards(
        self, request: intake_service_pb2.ListForwardsRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.ListForwardsResponse:
        violations = []
        if request.state not in ("", *forwards.LISTED_STATES):
            violations.append(
                FieldViolation("state", f"must be one of {', '.join(forwards.LISTED_STATES)}")
            )
        if request.stuck_after_seconds < 0:
            violations.append(FieldViolation("stuck_after_seconds", "must not be negative"))
        if violations:
            raise invalid_argument(violations)
        found, token = await self.ledger.list_forwards(
            request.state,
            dt.timedelta(seconds=request.stuck_after_seconds),
            pagination.page_size(request.page_size),
            request.page_token,
        )
        return intake_service_pb2.ListForwardsResponse(
            forwards=[_forward(row, state) for row, state in found], next_page_token=token
        )

    async def SummarizeForwards(
        self,
        request: intake_service_pb2.SummarizeForwardsRequest,
        context: grpc.aio.ServicerContext,
    ) -> intake_service_pb2.SummarizeForwardsResponse:
        return intake_service_pb2.SummarizeForwardsResponse(
            peers=[
                intake_service_pb2.PeerBacklog(
                    peer=r["peer"],
                    waiting=r["waiting"],
                    oldest_create_time=to_timestamp(r["oldest"]),
                )
                for r in await self.ledger.forward_backlog()
            ]
        )

    async def ListUnreportedOrigins(
        self,
        request: intake_service_pb2.ListUnreportedOriginsRequest,
        context: grpc.aio.ServicerContext,
    ) -> intake_service_pb2.ListUnreportedOriginsResponse:
        cases = await self.ledger.unreported_origins(min(request.limit or 20, 200))
        return intake_service_pb2.ListUnreportedOriginsResponse(cases=cases)

    async def MarkOriginReported(
        self,
        request: intake_service_pb2.MarkOriginReportedRequest,
        context: grpc.aio.ServicerContext,
    ) -> intake_service_pb2.MarkOriginReportedResponse:
        await self.ledger.mark_origin_reported(request.receipt, request.timeline_length)
        return intake_service_pb2.MarkOriginReportedResponse()

    async def FindByOrigin(
        self, request: intake_service_pb2.FindByOriginRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.FindByOriginResponse:
        case = await self.ledger.find_by_origin(request.peer, request.accepting_receipt)
        if case is None:
            raise not_found("case for", request.accepting_receipt)
        return intake_service_pb2.FindByOriginResponse(case=case)

    async def AppendAudit(
        self, request: intake_service_pb2.AppendAuditRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.AppendAuditResponse:
        incomplete = [
            FieldViolation(f"entries[{i}]", "needs an actor and an action")
            for i, entry in enumerate(request.entries)
            if not entry.actor or not entry.action
        ]
        if incomplete or not request.entries:
            raise invalid_argument(incomplete or [FieldViolation("entries", "must not be empty")])
        appended = await self.audit.append(request.entries)
        return intake_service_pb2.AppendAuditResponse(entries=appended)

    async def ListAudit(
        self, request: intake_service_pb2.ListAuditRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.ListAuditResponse:
        among = Among(
            receipt=request.receipt,
            actor=request.actor,
            since=request.since_time.ToDatetime(dt.UTC) if request.HasField("since_time") else None,
            until=request.until_time.ToDatetime(dt.UTC) if request.HasField("until_time") else None,
        )
        entries, token = await self.audit.page(
            pagination.page_size(request.page_size), request.page_token, among
        )
        return intake_service_pb2.ListAuditResponse(entries=entries, next_page_token=token)

    async def VerifyAudit(
        self, request: intake_service_pb2.VerifyAuditRequest, context: grpc.aio.ServicerContext
    ) -> intake_service_pb2.VerifyAuditResponse:
        verdict = await self.audit.verify()
        return intake_service_pb2.VerifyAuditResponse(
            intact=verdict.broken_at is None,
            checked=verdict.checked,
            broken_at=verdict.broken_at or 0,
            last_sequence=verdict.last_sequence or 0,
        )


def _forward(row: Any, state: str) -> intake_service_pb2.Forward:
    forward = intake_service_pb2.Forward(
        receipt=row["receipt"],
        peer=row["peer"],
        home_division=row["home_division"],
        state=state,
        cause=row["cause"],
        attempts=row["attempts"],
        create_time=to_timestamp(row["created_at"]),
        next_attempt_time=to_timestamp(row["due_at"]),
        last_error=row["last_error"],
    )
    if row["first_attempt_at"] is not None:
        forward.first_attempt_time.CopyFrom(to_timestamp(row["first_attempt_at"]))
    if row["last_attempt_at"] is not None:
        forward.last_attempt_time.CopyFrom(to_timestamp(row["last_attempt_at"]))
    return forward
