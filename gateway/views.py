"""The gateway's own messages made from what the services behind it answer: an application as
the window shows it (personal data masked, its deadline on the bureau's calendar), a
department's case as its officer sees it, an audit entry, a divorce's state, the catalog.
Pure: no I/O."""

from __future__ import annotations

import datetime as dt

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from onedoor.registry.v1 import registry_service_pb2 as rpb
from services.common import catalog, identity
from services.common.clock import BureauClock
from services.common.legal_calendar import LegalCalendar, Unit

TIME_LIMIT_UNITS = {
    Unit.WORKING_DAYS: pb.TIME_LIMIT_UNIT_WORKING_DAYS,
    Unit.CALENDAR_DAYS: pb.TIME_LIMIT_UNIT_CALENDAR_DAYS,
}

_CLOSED = frozenset(
    {
        case_pb2.CASE_STATUS_APPROVED,
        case_pb2.CASE_STATUS_REJECTED,
        case_pb2.CASE_STATUS_COMPLETED,
        case_pb2.CASE_STATUS_WITHDRAWN,
        case_pb2.CASE_STATUS_LAPSED,
    }
)


def awaiting_materials(progress: case_pb2.DepartmentProgress) -> bool:
    """Whether a deciding department waits for materials: the gateway's only reading of a
    department's progress state."""
    return progress.state == case_pb2.PROGRESS_STATE_AWAITING_MATERIALS


def as_application(
    case: case_pb2.Case, clock: BureauClock, calendar: LegalCalendar
) -> pb.Application:
    """The case as the window shows it, personal data masked, its deadline on the bureau's
    calendar."""
    open_case = case.status not in _CLOSED and not case.HasField("forwarding")
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
        materials=list(case.materials),
        accepted_by=case.accepted_by if case.HasField("accepted_by") else None,
    )


def as_submitted(case: case_pb2.Case, created: bool, trace_id: str) -> pb.SubmitApplicationResponse:
    return pb.SubmitApplicationResponse(
        receipt=case.receipt,
        status=case.status,
        departments=case.departments,
        decision_deadline=case.decision_deadline,
        trace_id=trace_id,
        created=created,
    )


def as_matter(matter: catalog.Matter) -> pb.Matter:
    return pb.Matter(
        code=matter.code,
        version=matter.version,
        title_zh=matter.title_zh,
        title_en=matter.title_en,
        departments=matter.departments,
        required_materials=[
            pb.RequiredMaterial(code=r.code, title_zh=r.title_zh, title_en=r.title_en)
            for r in matter.required_materials
        ],
        time_limit_days=matter.time_limit_days,
        time_limit_unit=TIME_LIMIT_UNITS[matter.time_limit.unit],
        time_limit_source=matter.time_limit.source,
        time_limit_extendable_to=matter.time_limit.extendable_to,
        cross_jurisdiction=matter.cross_jurisdiction,
        fields=matter.fields,
        minimum_age=matter.minimum_age,
    )


_CASE_STATES = {
    dpb.CASE_STATE_OPEN: pb.CASE_STATE_OPEN,
    dpb.CASE_STATE_AWAITING_MATERIALS: pb.CASE_STATE_AWAITING_MATERIALS,
    dpb.CASE_STATE_APPROVED: pb.CASE_STATE_APPROVED,
    dpb.CASE_STATE_REJECTED: pb.CASE_STATE_REJECTED,
    dpb.CASE_STATE_WITHDRAWN: pb.CASE_STATE_WITHDRAWN,
    dpb.CASE_STATE_LAPSED: pb.CASE_STATE_LAPSED,
}

_DIVORCE_STATES = {
    rpb.DIVORCE_STATE_COOLING_OFF: pb.DIVORCE_STATE_COOLING_OFF,
    rpb.DIVORCE_STATE_AWAITING_CONFIRMATION: pb.DIVORCE_STATE_AWAITING_CONFIRMATION,
    rpb.DIVORCE_STATE_CONFIRMED: pb.DIVORCE_STATE_CONFIRMED,
    rpb.DIVORCE_STATE_WITHDRAWN: pb.DIVORCE_STATE_WITHDRAWN,
    rpb.DIVORCE_STATE_LAPSED: pb.DIVORCE_STATE_LAPSED,
}


def as_divorce_state(state: rpb.DivorceState.ValueType) -> pb.DivorceState.ValueType:
    return _DIVORCE_STATES.get(state, pb.DIVORCE_STATE_UNSPECIFIED)


def as_department_case(case: dpb.DepartmentCase) -> pb.DepartmentCase:
    """A department's case as its officer sees it at the window."""
    assessment = case.assessment
    check = assessment.economic_check
    return pb.DepartmentCase(
        receipt=case.receipt,
        department=case.department,
        matter_code=case.matter_code,
        matter_version=case.matter_version,
        state=_CASE_STATES.get(case.state, pb.CASE_STATE_UNSPECIFIED),
        assessment=pb.Assessment(
            eligible=assessment.eligible,
            reason=assessment.reason,
            findings=assessment.findings,
            facts=[
                pb.Fact(name=f.name, value=f.value, typed=f.typed if f.HasField("typed") else None)
                for f in assessment.facts
            ],
            economic_check=pb.EconomicCheck(
                performed=check.performed,
                assets_fen=check.assets_fen,
                limit_fen=check.limit_fen,
                within_limit=check.within_limit,
                source=check.source,
                check_time=check.check_time if check.HasField("check_time") else None,
                note=check.note,
                message=check.message if check.HasField("message") else None,
            )
            if assessment.HasField("economic_check")
            else None,
            amount_fen=assessment.amount_fen,
        )
        if case.HasField("assessment")
        else None,
        decision_reason=case.decision_reason,
        decision_message=case.decision_message if case.HasField("decision_message") else None,
        hukou_division=case.hukou_division,
        accepting_division=case.accepting_division,
        create_time=case.create_time if case.HasField("create_time") else None,
        update_time=case.update_time if case.HasField("update_time") else None,
        decision_deadline=case.decision_deadline if case.HasField("decision_deadline") else None,
        household_file=case.household_file,
    )


def as_audit_entry(entry: intake_service_pb2.AuditEntry) -> pb.AuditEntry:
    return pb.AuditEntry(
        sequence=entry.sequence,
        create_time=entry.create_time if entry.HasField("create_time") else None,
        actor=entry.actor,
        action=entry.action,
        receipt=entry.receipt,
        fields=entry.fields,
        trace_id=entry.trace_id,
        detail=entry.detail,
        hash=entry.hash,
    )
