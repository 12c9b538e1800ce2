"""The rules of a new case: what the ledger assigns when it accepts an application. Pure:
"now" comes from the bureau's clock, the limits from the catalog and the legal calendar."""

from __future__ import annotations

import uuid

from onedoor.case.v1 import case_pb2
from onedoor.intake.v1 import intake_service_pb2
from services.common import catalog, telemetry
from services.common.catalog import DEPARTMENTS, Exclusive, Matter
from services.common.clock import BureauClock
from services.common.deadlines import decision_deadline
from services.common.errors import FieldViolation, invalid_argument
from services.common.keyed_hash import person_key, request_fingerprint
from services.common.legal_calendar import LegalCalendar
from services.common.receipt import is_request_id, receipt_for


def check_request(request_id: str, asked: case_pb2.Case) -> Matter:
    """The matter of an application the ledger may accept, or INVALID_ARGUMENT naming what is
    wrong. The gateway validated the application for the window; this guards the ledger's own
    invariants against any other caller."""
    problems = []
    if not is_request_id(request_id):
        problems.append(FieldViolation("request_id", "must be 8-64 letters, digits or ._:-"))
    matter = catalog.load().latest(asked.matter_code)
    if matter is None:
        problems.append(FieldViolation("case.matter_code", "is not a matter of the catalog"))
    if len(asked.accepting_division) != 6:
        problems.append(FieldViolation("case.accepting_division", "must be a 6-digit code"))
    if problems or matter is None:
        raise invalid_argument(problems)
    return matter


def check_proactive(origin: intake_service_pb2.ProactiveOrigin) -> None:
    problems = []
    try:
        uuid.UUID(origin.warning_id)
    except ValueError:
        problems.append(FieldViolation("proactive.warning_id", "must be a warning's id (a UUID)"))
    if origin.department not in DEPARTMENTS:
        problems.append(FieldViolation("proactive.department", "must be a department"))
    if problems:
        raise invalid_argument(problems)


def new_case(
    request_id: str,
    asked: case_pb2.Case,
    matter: Matter,
    clock: BureauClock,
    calendar: LegalCalendar,
) -> case_pb2.Case:
    """The case the ledger stores for an application: receipt, status, departments, deadline
    and fingerprint assigned; whatever else the caller set is kept as asked."""
    case = case_pb2.Case()
    case.CopyFrom(asked)
    del case.timeline[:]
    del case.progress[:]
    case.ClearField("paused_since")
    case.receipt = receipt_for(asked.accepting_division, request_id)
    case.name = f"cases/{case.receipt}"
    case.request_id = request_id
    case.matter_version = matter.version
    if case.HasField("forwarding"):
        # Decided at home: nothing is routed here.
        case.status = case_pb2.CASE_STATUS_FORWARDED
        del case.departments[:]
    else:
        case.status = case_pb2.CASE_STATUS_ACCEPTED
        case.departments[:] = matter.departments
    now = clock.now()
    case.create_time.FromDatetime(now)
    deadline = decision_deadline(now, matter.time_limit, clock, calendar)
    case.decision_deadline.FromDatetime(deadline.at)
    case.deadline_provisional = deadline.provisional
    case.trace_id = telemetry.current_trace_id()
    case.request_fingerprint = request_fingerprint(case)
    return case


def open_case_claims(case: case_pb2.Case, matter: Matter) -> list[str]:
    """Who the case holds the matter open for, as keys no two open cases may share (the ledger
    keeps them unique until the case is final). Keyed hashes: no personal data."""
    people: list[str] = []
    match matter.exclusive:
        case Exclusive.NONE:
            return []
        case Exclusive.APPLICANT:
            people = [case.applicant.id_number]
        case Exclusive.HOUSEHOLD:
            people = [case.applicant.id_number, *(m.id_number for m in case.household_members)]
        case Exclusive.PARTIES:
            people = [case.applicant.id_number, case.details.other_party.id_number]
        case Exclusive.DECEASED:
            people = [case.details.death.deceased_id_number]
        case Exclusive.ORGANISATION:
            code = case.details.organisation.credit_code.strip().upper()
            return [f"{matter.code}:organisation:{code}"] if code else []
    return sorted({f"{matter.code}:person:{person_key(n)}" for n in people if n})
