"""DepartmentService, served the same way by every department over its own rules.

Each operation runs one way: the servicer checks the request, opens a transaction through
the store, asks the department's rule (on that transaction's connection) and writes what
follows through the store. The use cases (:meth:`DepartmentServicer.open_case`,
:meth:`~DepartmentServicer.decide`, :meth:`~DepartmentServicer.settle_death`) take plain
arguments, so tests drive them without gRPC."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TypeVar

import grpc

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as pb
from onedoor.department.v1 import department_service_pb2_grpc
from onedoor.intake.v1 import intake_service_pb2 as intake_pb
from onedoor.intake.v1 import intake_service_pb2_grpc
from services.common import auth, identity, pagination, personal_data, telemetry
from services.common.department.decisions import OUTCOME, check_request, state_after
from services.common.department.rules import Department
from services.common.department.store import OPEN_STATE_NAMES, DepartmentCases, OpenedMeanwhile
from services.common.errors import FieldViolation, invalid_argument, not_found
from services.common.keyed_hash import person_key
from services.common.receipt import is_request_id
from services.common.timeline_writes import TimelineWrite, routed

# A case read from intake to be opened (OpenCaseRequest.receipt), and its ROUTED entry
# appended there: intake restarting is waited for within this; past it the router tries again.
INTAKE_TIMEOUT_SECONDS = 10.0

T = TypeVar("T")


async def _asked(method: Callable[..., Awaitable[T]], request: object, receipt: str) -> T:
    """One call to intake about the case ``receipt``: a case intake does not know is
    NOT_FOUND; anything else (UNAVAILABLE, DEADLINE_EXCEEDED) is passed on as it came, and the
    caller tries again."""
    try:
        return await method(
            request,
            metadata=auth.service_metadata(),
            timeout=INTAKE_TIMEOUT_SECONDS,
            wait_for_ready=True,
        )
    except grpc.aio.AioRpcError as error:
        if error.code() == grpc.StatusCode.NOT_FOUND:
            raise not_found("case", receipt) from None
        raise


class DepartmentServicer(department_service_pb2_grpc.DepartmentServiceServicer):
    def __init__(
        self,
        department: Department,
        cases: DepartmentCases,
        intake: intake_service_pb2_grpc.IntakeServiceStub | None = None,
    ) -> None:
        self.department = department
        self.cases = cases
        self.intake = intake

    def _require_mine(self, departments: list[str], field: str) -> None:
        if self.department.name not in departments:
            raise invalid_argument(
                [
                    FieldViolation(
                        field, f"does not name {self.department.name} as a deciding department"
                    )
                ]
            )

    async def CheckApplication(
        self, request: pb.CheckApplicationRequest, context: grpc.aio.ServicerContext
    ) -> pb.CheckApplicationResponse:
        async with self.cases.connection() as conn:
            problems = await self.department.check(conn, request.case)
        return pb.CheckApplicationResponse(
            problems=[pb.Problem(field=p.field, description=p.description) for p in problems]
        )

    async def OpenCase(
        self, request: pb.OpenCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.OpenCaseResponse:
        with telemetry.bound_receipt(request.receipt or request.case.receipt):
            if request.append_routed_entry and self.intake is None:
                raise invalid_argument(
                    [
                        FieldViolation(
                            "append_routed_entry", "this department reaches no intake to append to"
                        )
                    ]
                )
            case = await self._to_open(request)
            self._require_mine(list(case.departments), "case.departments")
            opened, created = await self.open_case(case)
            if request.append_routed_entry:
                # On every delivery, not only the first: the case may have been opened by an
                # earlier one whose append failed. The entry's key makes it once.
                await self._append_routed(
                    routed(case.receipt, self.department.name, opened.assessment)
                )
            return pb.OpenCaseResponse(case=opened, opened=created)

    async def _append_routed(self, write: TimelineWrite) -> None:
        assert self.intake is not None
        await _asked(
            self.intake.AppendTimelineEntry,
            intake_pb.AppendTimelineEntryRequest(
                receipt=write.receipt, entry_key=write.entry_key, entry=write.entry
            ),
            write.receipt,
        )

    async def _to_open(self, request: pb.OpenCaseRequest) -> case_pb2.Case:
        """The request's case, the sealed one it carries, or the one intake holds under its
        receipt."""
        if request.HasField("case") == bool(request.receipt):
            raise invalid_argument(
                [FieldViolation("receipt", "give either the case or its receipt, not both")]
                if request.receipt
                else [FieldViolation("case", "is required (or the case's receipt)")]
            )
        if request.HasField("case"):
            if request.sealed_case:
                raise invalid_argument(
                    [FieldViolation("sealed_case", "goes with the receipt, not with the case")]
                )
            return request.case
        if request.sealed_case:
            try:
                return personal_data.open_from_transit(request.sealed_case, request.receipt)
            except personal_data.SealedCaseRefused as refused:
                raise invalid_argument([FieldViolation("sealed_case", str(refused))]) from None
        if self.intake is None:
            raise invalid_argument(
                [FieldViolation("receipt", "this department reads no cases from intake")]
            )
        found = await _asked(
            self.intake.GetCase, intake_pb.GetCaseRequest(receipt=request.receipt), request.receipt
        )
        return found.case

    async def open_case(self, case: case_pb2.Case) -> tuple[pb.DepartmentCase, bool]:
        """Opens the case once, assessed by the department's rules; a second call returns the
        first."""
        try:
            async with self.cases.transaction() as conn:
                existing = await self.cases.locked(conn, case.receipt)
                if existing is not None:
                    return existing.record, False
                opening = await self.department.open(conn, case)
                return await self.cases.insert(conn, case, opening), True
        except OpenedMeanwhile:
            # By a delivery that committed while this one waited for the receipt's lock: what
            # this one did is rolled back, and the first opening answers.
            opened = await self.cases.get(case.receipt)
            assert opened is not None
            return opened, False

    async def GetCase(
        self, request: pb.GetCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetCaseResponse:
        with telemetry.bound_receipt(request.receipt):
            found = await self.cases.get(request.receipt)
            if found is None:
                raise not_found("case", request.receipt)
            household = (
                await self.cases.household_cases(found.household_file, found.receipt)
                if found.household_file
                else []
            )
            return pb.GetCaseResponse(case=found, household_cases=household)

    async def ListCases(
        self, request: pb.ListCasesRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListCasesResponse:
        states = (
            [pb.CaseState.Name(request.state)]
            if request.state != pb.CASE_STATE_UNSPECIFIED
            else OPEN_STATE_NAMES
        )
        found, token = await self.cases.list(
            states, pagination.page_size(request.page_size), request.page_token
        )
        return pb.ListCasesResponse(cases=found, next_page_token=token)

    async def DecideCase(
        self, request: pb.DecideCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.DecideCaseResponse:
        if not is_request_id(request.request_id):
            raise invalid_argument(
                [FieldViolation("request_id", "must be 8-64 letters, digits or ._:-")]
            )
        check_request(request.decision, request.reason, request.officer_id, request.officer_name)
        with telemetry.bound_receipt(request.receipt):
            decided = await self.decide(
                request.request_id,
                request.receipt,
                request.decision,
                request.reason,
                request.officer_id,
                officer_name=request.officer_name,
            )
            if decided is None:
                raise not_found("case", request.receipt)
            return pb.DecideCaseResponse(case=decided)

    async def decide(
        self,
        request_id: str,
        receipt: str,
        decision: pb.Decision.ValueType,
        reason: str,
        officer_id: str,
        officer_name: str = "",
    ) -> pb.DepartmentCase | None:
        """Records an officer's decision, what it does to the department's records, and its
        case_decided event in one transaction. A request id seen before changes nothing."""
        async with self.cases.transaction() as conn:
            found = await self.cases.find(conn, receipt, for_update=True)
            if found is None:
                return None
            if await self.cases.decision_seen(conn, request_id):
                return found.record
            new_state = state_after(found.record.state, decision)
            await self.cases.record_decision(
                conn, request_id, receipt, decision, reason, officer_id
            )
            established = await self.department.decided(conn, found, decision)
            if established:
                await self.cases.add_facts(conn, receipt, established)
            return await self.cases.move(
                conn, receipt, new_state, reason, OUTCOME[decision], officer_name=officer_name
            )

    async def ResumeCase(
        self, request: pb.ResumeCaseRequest, context: grpc.aio.ServicerContext
    ) -> pb.ResumeCaseResponse:
        with telemetry.bound_receipt(request.receipt):
            resumed = await self.cases.resume(request.receipt)
            if resumed is None:
                raise not_found("case", request.receipt)
            return pb.ResumeCaseResponse(case=resumed)

    async def SettleDeath(
        self, request: pb.SettleDeathRequest, context: grpc.aio.ServicerContext
    ) -> pb.SettleDeathResponse:
        problems = []
        try:
            identity.validate(request.deceased_id_number, today=self.department.clock.today())
        except identity.IdentityError as error:
            problems.append(FieldViolation("deceased_id_number", str(error)))
        try:
            died = dt.date.fromisoformat(request.date_of_death)
        except ValueError:
            problems.append(FieldViolation("date_of_death", "must be an ISO date like 2026-11-20"))
        if problems:
            raise invalid_argument(problems)
        key = person_key(request.deceased_id_number)
        with telemetry.bound_receipt(request.receipt):
            return await self.settle_death(request.receipt, key, died)

    async def settle_death(self, receipt: str, key: str, died: dt.date) -> pb.SettleDeathResponse:
        """Settles once per death registration; a repeated call returns the first outcome."""
        async with self.cases.transaction(receipt) as conn:
            settled = await self.cases.settlement(conn, receipt)
            if settled is not None:
                return settled
            held, outcome = await self.department.settle_death(conn, key, died)
            await self.cases.record_settlement(conn, receipt, key, held, outcome)
            return pb.SettleDeathResponse(held_something=held, outcome_message=outcome)
