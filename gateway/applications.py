"""The window's operations, shared by the gRPC and the HTTP API."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf.message import Message

from gateway import permissions
from gateway.audit_trail import APPLICATION_VIEW_FIELDS, AuditTrail, actor
from gateway.backends import Backends
from gateway.peers import PeerDirectory
from gateway.validation import check_application, serves

if TYPE_CHECKING:
    from gateway.federation import Federation
from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from onedoor.registry.v1 import registry_service_pb2 as rpb
from services.common import auth, catalog, divisions, identity, pagination, telemetry
from services.common.auth import Principal
from services.common.catalog import DEPARTMENTS
from services.common.clock import BureauClock
from services.common.errors import (
    ApiError,
    FieldViolation,
    invalid_argument,
    not_found,
    request_id_reused,
)
from services.common.keyed_hash import request_fingerprint
from services.common.legal_calendar import LegalCalendar, Unit
from services.common.receipt import is_receipt, receipt_for

# "Near" a deadline, for the overdue list, unless the caller says otherwise.
DEFAULT_DUE_WITHIN_DAYS = 3


def _refused_by_records(violations: list[FieldViolation], reason: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        "the application conflicts with the bureau's records: "
        + ", ".join(v.field for v in violations),
        reason=reason,
        violations=tuple(violations),
        precondition_type="RECORDS",
    )


def _people(case: case_pb2.Case) -> list[tuple[str, str]]:
    """(field path, identity number) of everyone the application names who must be alive."""
    people = [("applicant.id_number", case.applicant.id_number)]
    people += [
        (f"household_members[{i}].id_number", m.id_number)
        for i, m in enumerate(case.household_members)
    ]
    if case.details.other_party.id_number:
        people.append(("details.other_party.id_number", case.details.other_party.id_number))
    return people


def _normalize_identity_numbers(case: case_pb2.Case) -> None:
    """Stored as the registers write them (no spaces, upper-case X), so the keyed hashes that
    find a person match whichever way the clerk typed the number."""
    case.applicant.id_number = identity.normalize(case.applicant.id_number)
    for member in case.household_members:
        member.id_number = identity.normalize(member.id_number)
    details = case.details
    # Guarded: assigning into an unset sub-message would make it present.
    if details.other_party.id_number:
        details.other_party.id_number = identity.normalize(details.other_party.id_number)
    if details.death.deceased_id_number:
        details.death.deceased_id_number = identity.normalize(details.death.deceased_id_number)
    consent = details.economic_check_consent
    if consent.consenting_id_number:
        consent.consenting_id_number = identity.normalize(consent.consenting_id_number)
    if consent.member_id_numbers:
        consent.member_id_numbers[:] = [identity.normalize(n) for n in consent.member_id_numbers]


class Window:
    def __init__(
        self,
        backends: Backends,
        jurisdiction: str,
        peers: PeerDirectory | None = None,
        federation: Federation | None = None,
        trail: AuditTrail | None = None,
        clock: BureauClock | None = None,
        calendar: LegalCalendar | None = None,
    ) -> None:
        self.backends = backends
        # The bureau's clock and calendar: ages, "not in the future", deadlines shown.
        self.clock = clock or BureauClock()
        self.calendar = calendar or LegalCalendar.with_schedules()
        # Division code of the bureau this gateway serves; cases record it as accepting.
        self.jurisdiction = jurisdiction
        self.peers = peers
        self.federation = federation
        # One trail per gateway, shared with the federation, so that all its entries batch.
        self.audit = trail or AuditTrail(backends)

    async def _existing(self, receipt: str) -> case_pb2.Case | None:
        try:
            found = await self.backends.call(
                self.backends.intake.GetCase,
                intake_service_pb2.GetCaseRequest(
                    receipt=receipt, view=intake_service_pb2.CASE_VIEW_BASIC
                ),
            )
        except ApiError as error:
            if error.code == grpc.StatusCode.NOT_FOUND:
                return None
            raise
        return found.case

    async def _check_records(self, case: case_pb2.Case) -> None:
        """Nobody the application names may be recorded as deceased, and each deciding
        department checks the application against its own records."""
        people = _people(case)
        deceased, *checks = await asyncio.gather(
            self.backends.call(
                self.backends.registry.FindDeceased,
                rpb.FindDeceasedRequest(id_numbers=[n for _, n in people]),
            ),
            *(
                self.backends.call(
                    self.backends.departments[d].CheckApplication,
                    dpb.CheckApplicationRequest(case=case),
                )
                for d in case.departments
            ),
        )
        dead = [
            FieldViolation(people[i][0], "is recorded as deceased in the registry")
            for i in deceased.deceased_indexes
        ]
        if dead:
            raise _refused_by_records(dead, "PERSON_DECEASED")
        problems = [
            FieldViolation(p.field, p.description) for check in checks for p in check.problems
        ]
        if problems:
            raise _refused_by_records(problems, "REFUSED_BY_RECORDS")

    async def submit(
        self, caller: Principal, request: pb.SubmitApplicationRequest
    ) -> pb.SubmitApplicationResponse:
        permissions.clerk_at(caller, self.jurisdiction)
        matter = check_application(request, catalog.load(), self.jurisdiction, clock=self.clock)
        hukou = request.applicant.hukou_division
        if serves(self.jurisdiction, hukou):
            return await self._accept(request, request.request_id, matter.departments)
        # check_application let it through: the matter may be accepted here and decided at home.
        peer = self.peers.route(hukou) if self.peers else None
        if peer is None:
            home = f"{divisions.full_name(hukou)} ({hukou})"
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"no peer bureau serves {home}: the application cannot be forwarded there",
                reason="NO_PEER_FOR_DIVISION",
                violations=(
                    FieldViolation(
                        "applicant.hukou_division", f"{home} is served by no known peer"
                    ),
                ),
                precondition_type="JURISDICTION",
                metadata={"responsible_division": hukou},
            )
        forwarding = case_pb2.Forwarding(home_division=hukou, peer=peer.name)
        accepted = await self._accept(request, request.request_id, (), forwarding=forwarding)
        if self.federation is not None:
            self.federation.wake()
        return accepted

    async def accept_forwarded(
        self, request: pb.SubmitApplicationRequest, origin: case_pb2.Origin
    ) -> pb.SubmitApplicationResponse:
        """An application another jurisdiction accepted, to be decided here: checked as at this
        window, and idempotent by the accepting side's receipt."""
        matter = check_application(request, catalog.load(), self.jurisdiction, clock=self.clock)
        return await self._accept(
            request, origin.accepting_receipt, matter.departments, origin=origin
        )

    async def _accept(
        self,
        request: pb.SubmitApplicationRequest,
        request_id: str,
        departments: tuple[str, ...] | list[str],
        forwarding: case_pb2.Forwarding | None = None,
        origin: case_pb2.Origin | None = None,
    ) -> pb.SubmitApplicationResponse:
        receipt = receipt_for(self.jurisdiction, request_id)
        with telemetry.bound_receipt(receipt):
            case = case_pb2.Case(
                receipt=receipt,
                matter_code=request.matter_code,
                applicant=request.applicant,
                household_members=request.household_members,
                materials=request.materials,
                accepting_division=self.jurisdiction,
                details=request.details,
                departments=departments,
            )
            if forwarding is not None:
                case.forwarding.CopyFrom(forwarding)
            if origin is not None:
                case.origin.CopyFrom(origin)
            _normalize_identity_numbers(case)
            if forwarding is None:
                # The home jurisdiction checks its own records when it receives the case.
                try:
                    await self._check_records(case)
                except ApiError as refusal:
                    # A retried submission is answered with its receipt even where the records
                    # would now refuse it (its own pending name counts as taken). Only refusals
                    # look for one: a new application, or a retry the records let through
                    # (CreateCase is idempotent by request id), costs no look-up.
                    existing = (
                        await self._existing(receipt)
                        if refusal.code == grpc.StatusCode.FAILED_PRECONDITION
                        else None
                    )
                    if existing is None:
                        raise
                    if (
                        existing.request_fingerprint
                        and existing.request_fingerprint != request_fingerprint(case)
                    ):
                        raise request_id_reused() from None
                    return self._accepted(existing, created=False)
            created = await self.backends.call(
                self.backends.intake.CreateCase,
                intake_service_pb2.CreateCaseRequest(request_id=request_id, case=case),
            )
            return self._accepted(created.case, created=created.created)

    def _accepted(self, case: case_pb2.Case, created: bool) -> pb.SubmitApplicationResponse:
        return pb.SubmitApplicationResponse(
            receipt=case.receipt,
            status=case.status,
            departments=case.departments,
            decision_deadline=case.decision_deadline,
            trace_id=telemetry.current_trace_id(),
            created=created,
        )

    async def _case(self, receipt: str) -> case_pb2.Case:
        if not is_receipt(receipt):
            raise invalid_argument(
                [FieldViolation("receipt", "must look like 320585-7K3F9-QX2MA")],
                reason="INVALID_RECEIPT",
            )
        found = await self.backends.call(
            self.backends.intake.GetCase, intake_service_pb2.GetCaseRequest(receipt=receipt)
        )
        return found.case

    async def get(
        self, caller: Principal, request: pb.GetApplicationRequest
    ) -> pb.GetApplicationResponse:
        with telemetry.bound_receipt(request.receipt):
            case = await self._case(request.receipt)
            permissions.case_reader(caller, case.accepting_division, case.departments)
            await self.audit.record(
                actor(caller), "case.read", [case.receipt], APPLICATION_VIEW_FIELDS
            )
            return pb.GetApplicationResponse(
                application=as_application(case, self.clock, self.calendar),
                trace_id=telemetry.current_trace_id(),
            )

    async def list(
        self, caller: Principal, request: pb.ListApplicationsRequest
    ) -> pb.ListApplicationsResponse:
        permissions.require_role(caller, "window_clerk", "officer")
        permissions.require_jurisdiction(caller, self.jurisdiction)
        if caller.role == "officer" and request.department != caller.department:
            raise auth.deny("an officer lists its own department's cases: set department")
        if request.department and request.department not in DEPARTMENTS:
            raise invalid_argument(
                [FieldViolation("department", f"must be one of {', '.join(DEPARTMENTS)}")]
            )
        found = await self.backends.call(
            self.backends.intake.ListCases,
            intake_service_pb2.ListCasesRequest(
                page_size=pagination.page_size(request.page_size),
                page_token=request.page_token,
                overdue=request.overdue,
                due_within_days=request.due_within_days or DEFAULT_DUE_WITHIN_DAYS,
                department=request.department,
                accepting_division_prefix=self.jurisdiction,
            ),
        )
        await self.audit.record(
            actor(caller), "case.listed", [c.receipt for c in found.cases], APPLICATION_VIEW_FIELDS
        )
        return pb.ListApplicationsResponse(
            applications=[as_application(c, self.clock, self.calendar) for c in found.cases],
            next_page_token=found.next_page_token,
        )

    async def matters(
        self, caller: Principal, request: pb.ListMattersRequest
    ) -> pb.ListMattersResponse:
        return pb.ListMattersResponse(
            matters=[
                pb.Matter(
                    code=m.code,
                    version=m.version,
                    title_zh=m.title_zh,
                    title_en=m.title_en,
                    departments=m.departments,
                    required_materials=[
                        pb.RequiredMaterial(code=r.code, title_zh=r.title_zh, title_en=r.title_en)
                        for r in m.required_materials
                    ],
                    time_limit_days=m.time_limit_days,
                    time_limit_unit=TIME_LIMIT_UNITS[m.time_limit.unit],
                    time_limit_source=m.time_limit.source,
                    time_limit_extendable_to=m.time_limit.extendable_to,
                    cross_jurisdiction=m.cross_jurisdiction,
                    fields=m.fields,
                    minimum_age=m.minimum_age,
                )
                for m in catalog.load().current()
            ]
        )

    async def supply_materials(
        self, caller: Principal, request: pb.SupplyMaterialsRequest
    ) -> pb.SupplyMaterialsResponse:
        permissions.require_role(caller, "window_clerk")
        with telemetry.bound_receipt(request.receipt):
            case = await self._case(request.receipt)
            permissions.require_jurisdiction(caller, case.accepting_division)
            matter = catalog.load().version(case.matter_code, case.matter_version)
            known = {m.code for m in matter.required_materials} if matter else set()
            unknown = [
                FieldViolation(f"materials[{i}]", "is not a material of this matter")
                for i, m in enumerate(request.materials)
                if m not in known
            ]
            if unknown or not request.materials:
                raise invalid_argument(
                    unknown or [FieldViolation("materials", "must name what was handed in")]
                )
            if case.status != case_pb2.CASE_STATUS_AWAITING_MATERIALS:
                raise ApiError(
                    grpc.StatusCode.FAILED_PRECONDITION,
                    "the case is not waiting for materials",
                    reason="NOT_AWAITING_MATERIALS",
                )
            waiting = [
                p.department
                for p in case.progress
                if p.state == case_pb2.PROGRESS_STATE_AWAITING_MATERIALS
            ]
            rounds = sum(
                1
                for e in case.timeline
                if e.kind == case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED
            )
            await self.backends.call(
                self.backends.intake.AppendTimelineEntry,
                intake_service_pb2.AppendTimelineEntryRequest(
                    receipt=case.receipt,
                    # One supply per request round: a retried call appends nothing more.
                    entry_key=f"{case.receipt}:supplied:{rounds}",
                    entry=case_pb2.TimelineEntry(
                        kind=case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_SUPPLIED,
                        note="handed in: " + ", ".join(sorted(set(request.materials))),
                    ),
                ),
            )
            for department in waiting:
                await self.backends.call(
                    self.backends.departments[department].ResumeCase,
                    dpb.ResumeCaseRequest(receipt=case.receipt),
                )
            await self.audit.record(
                actor(caller),
                "materials.supplied",
                [case.receipt],
                APPLICATION_VIEW_FIELDS,
                ", ".join(sorted(set(request.materials))),
            )
            return pb.SupplyMaterialsResponse(
                application=as_application(
                    await self._case(case.receipt), self.clock, self.calendar
                )
            )

    async def _divorce_step(
        self,
        caller: Principal,
        receipt: str,
        id_number: str,
        registry_call: Any,
        request: Message,
        action: str,
    ) -> tuple[pb.Application, str]:
        """A party confirms or withdraws a divorce at the window: checked here, done by the
        registry (``registry_call``), audited; returns the case and the divorce's state."""
        permissions.require_role(caller, "window_clerk")
        try:
            identity.validate(id_number, today=self.clock.today())
        except identity.IdentityError as error:
            raise invalid_argument([FieldViolation("id_number", str(error))]) from None
        with telemetry.bound_receipt(receipt):
            case = await self._case(receipt)
            if case.matter_code != "registry.divorce":
                raise invalid_argument([FieldViolation("receipt", "is not a divorce application")])
            permissions.require_jurisdiction(caller, case.accepting_division)
            answer = await self.backends.call(registry_call, request)
            state = rpb.DivorceState.Name(answer.divorce.state)
            await self.audit.record(
                actor(caller), action, [receipt], ("id_number", *APPLICATION_VIEW_FIELDS), state
            )
            return as_application(await self._case(receipt), self.clock, self.calendar), state

    async def confirm_divorce(
        self, caller: Principal, request: pb.ConfirmDivorceRequest
    ) -> pb.ConfirmDivorceResponse:
        application, state = await self._divorce_step(
            caller,
            request.receipt,
            request.id_number,
            self.backends.registry.ConfirmDivorce,
            rpb.ConfirmDivorceRequest(receipt=request.receipt, id_number=request.id_number),
            "divorce.confirmed",
        )
        return pb.ConfirmDivorceResponse(application=application, divorce_state=state)

    async def withdraw_divorce(
        self, caller: Principal, request: pb.WithdrawDivorceRequest
    ) -> pb.WithdrawDivorceResponse:
        application, state = await self._divorce_step(
            caller,
            request.receipt,
            request.id_number,
            self.backends.registry.WithdrawDivorce,
            rpb.WithdrawDivorceRequest(receipt=request.receipt, id_number=request.id_number),
            "divorce.withdrawn",
        )
        return pb.WithdrawDivorceResponse(application=application, divorce_state=state)

    async def audit_entries(
        self, caller: Principal, request: pb.ListAuditEntriesRequest
    ) -> pb.ListAuditEntriesResponse:
        permissions.require_role(caller, "auditor")
        permissions.require_jurisdiction(caller, self.jurisdiction)
        found = await self.backends.call(
            self.backends.intake.ListAudit,
            intake_service_pb2.ListAuditRequest(
                receipt=request.receipt, page_size=request.page_size, page_token=request.page_token
            ),
        )
        return pb.ListAuditEntriesResponse(
            entries=found.entries, next_page_token=found.next_page_token
        )

    def _department(self, name: str) -> object:
        if name not in self.backends.departments:
            raise not_found("department", name)
        return self.backends.departments[name]

    async def department_cases(
        self, caller: Principal, request: pb.ListDepartmentCasesRequest
    ) -> pb.ListDepartmentCasesResponse:
        permissions.officer_of(caller, request.department, self.jurisdiction)
        stub = self._department(request.department)
        found = await self.backends.call(
            stub.ListCases,  # type: ignore[attr-defined]
            dpb.ListCasesRequest(page_size=request.page_size, page_token=request.page_token),
        )
        return pb.ListDepartmentCasesResponse(
            cases=found.cases, next_page_token=found.next_page_token
        )

    async def decide(
        self, caller: Principal, request: pb.DecideCaseRequest
    ) -> pb.DecideCaseResponse:
        permissions.officer_of(caller, request.department, self.jurisdiction)
        stub = self._department(request.department)
        # The decision is recorded as the signed-in officer's, whatever the body claims.
        request.decision.officer_id = caller.subject
        with telemetry.bound_receipt(request.decision.receipt):
            decided = await self.backends.call(stub.DecideCase, request.decision)  # type: ignore[attr-defined]
            await self.audit.record(
                actor(caller),
                "case.decided",
                [request.decision.receipt],
                detail=f"{request.department}: {dpb.CaseState.Name(decided.case.state)}",
            )
            return pb.DecideCaseResponse(case=decided.case)


TIME_LIMIT_UNITS = {
    Unit.WORKING_DAYS: pb.TIME_LIMIT_UNIT_WORKING_DAYS,
    Unit.CALENDAR_DAYS: pb.TIME_LIMIT_UNIT_CALENDAR_DAYS,
}


def as_application(
    case: case_pb2.Case, clock: BureauClock, calendar: LegalCalendar
) -> pb.Application:
    """The case as the window shows it, personal data masked, its deadline on the bureau's
    calendar."""
    open_case = case.status not in (
        case_pb2.CASE_STATUS_APPROVED,
        case_pb2.CASE_STATUS_REJECTED,
        case_pb2.CASE_STATUS_COMPLETED,
        case_pb2.CASE_STATUS_WITHDRAWN,
        case_pb2.CASE_STATUS_LAPSED,
    ) and not case.HasField("forwarding")
    deadline = case.decision_deadline.ToDatetime(dt.UTC)
    last_day = clock.local_date(deadline)
    matter = catalog.load().version(case.matter_code, case.matter_version)
    unit = matter.time_limit.unit if matter else Unit.CALENDAR_DAYS
    paused = case.HasField("paused_since")
    return pb.Application(
        receipt=case.receipt,
        matter_code=case.matter_code,
        matter_version=case.matter_version,
        status=case.status,
        departments=case.departments,
        applicant_id_number=identity.mask(case.applicant.id_number),
        applicant_name=identity.mask_name(case.applicant.name),
        hukou_division=case.applicant.hukou_division,
        accepting_division=case.accepting_division,
        create_time=case.create_time,
        decision_deadline=case.decision_deadline,
        timeline=case.timeline,
        progress=case.progress,
        trace_id=case.trace_id,
        forwarding=case.forwarding if case.HasField("forwarding") else None,
        overdue=open_case and not paused and deadline < clock.now(),
        deadline_date=last_day.isoformat(),
        days_left=calendar.days_left(clock.today(), last_day, unit)
        if open_case and not paused
        else 0,
        time_limit_unit=TIME_LIMIT_UNITS[unit],
        deadline_provisional=case.deadline_provisional,
    )
