"""What the router writes on a case's timeline for each event. Pure: no nameko, no I/O, so
it is tested without eventlet."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import grpc
from google.protobuf.message import Message

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.events.v1 import events_pb2
from services.common import events, texts
from services.common.timeline_writes import TimelineWrite, entry, routed_to

_OUTCOME_KIND = {
    events_pb2.OUTCOME_APPROVED: case_pb2.TIMELINE_ENTRY_KIND_APPROVED,
    events_pb2.OUTCOME_REJECTED: case_pb2.TIMELINE_ENTRY_KIND_REJECTED,
    events_pb2.OUTCOME_MATERIALS_REQUESTED: case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED,
    events_pb2.OUTCOME_CONFIRMED: case_pb2.TIMELINE_ENTRY_KIND_CONFIRMED,
    events_pb2.OUTCOME_WITHDRAWN: case_pb2.TIMELINE_ENTRY_KIND_WITHDRAWN,
    events_pb2.OUTCOME_LAPSED: case_pb2.TIMELINE_ENTRY_KIND_LAPSED,
}

E = TypeVar("E", bound=Message)
# How protobuf's JSON parser names the field it failed on (nested: one per level).
_FAILED_FIELD = re.compile(r"Failed to parse (\w+) field")


# Failures worth another try: the event is requeued. CANCELLED is among them because the
# router's own calls end CANCELLED when it is stopped (SIGTERM, a rolling update): acking
# those events would leave their cases unrouted.
TRANSIENT = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.CANCELLED,
    }
)


def is_transient(code: grpc.StatusCode) -> bool:
    return code in TRANSIENT


class UnroutableEvent(ValueError):
    """The event can never be handled (a bug upstream); retrying would not help. Its message
    names fields and departments, never values a person gave; ``cause`` is one of the
    causes below (a metric's label)."""

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


# Why an event is unroutable.
MALFORMED = "malformed"
UNKNOWN_DEPARTMENT = "unknown_department"
UNKNOWN_MATTER = "unknown_matter"
INCOMPLETE = "incomplete"


def _said(clauses: Sequence[case_pb2.Text]) -> case_pb2.Text | None:
    """Several clauses of equal weight as one text (the first does not explain the others)."""
    if not clauses:
        return None
    if len(clauses) == 1:
        return clauses[0]
    return texts.text(texts.Code.TEXT_CODE_CLAUSES, *clauses)


def recorded(receipt: str, department: str, assessment: dpb.Assessment) -> TimelineWrite:
    """The registry's recording of a death: what it found, without a verdict."""
    return routed_to(receipt, department, _said(assessment.findings), assessment.reason)


def reported(receipt: str, department: str, settled: dpb.SettleDeathResponse) -> TimelineWrite:
    return TimelineWrite(
        receipt,
        f"{receipt}:reported:{department}",
        entry(
            case_pb2.TIMELINE_ENTRY_KIND_REPORTED,
            department,
            _said(settled.outcome_message),
            settled.outcome,
        ),
    )


def overdue(receipt: str, departments: list[str], deadline: str) -> TimelineWrite:
    """Once per case: the key does not depend on when the timer noticed."""
    return TimelineWrite(
        receipt,
        f"{receipt}:overdue",
        case_pb2.TimelineEntry(
            kind=case_pb2.TIMELINE_ENTRY_KIND_OVERDUE,
            message=texts.text(
                texts.Code.TEXT_CODE_OVERDUE_ESCALATED,
                deadline=texts.date(deadline),
                departments=texts.departments(departments),
            ),
        ),
    )


# The field of an event's body the router never reads (CaseAccepted.contacts, as JSON names it).
NOT_ROUTERS = "contacts"


def parse(body: Mapping[str, Any], cls: type[E]) -> E:
    """The event in a message's body; one that cannot be parsed is unroutable."""
    if not isinstance(body, Mapping):
        raise UnroutableEvent(f"not a {cls.DESCRIPTOR.full_name}: not an object", MALFORMED)
    if NOT_ROUTERS in body:
        # case_accepted's contacts are the notifier's: parsing them is a cost with no use here.
        body = {key: value for key, value in body.items() if key != NOT_ROUTERS}
    try:
        return events.parse(body, cls)
    except events.MalformedEvent as error:
        # protobuf's message quotes the offending value; only the fields' path is kept.
        path = ".".join(_FAILED_FIELD.findall(str(error)))
        raise UnroutableEvent(
            f"not a {cls.DESCRIPTOR.full_name}" + (f": field {path}" if path else ""), MALFORMED
        ) from None


def decided(event: events_pb2.CaseDecided) -> TimelineWrite:
    kind = _OUTCOME_KIND.get(event.outcome)
    missing = [
        name
        for name, absent in (
            ("event_id", not event.event_id),
            ("receipt", not event.receipt),
            ("department", not event.department),
            ("outcome", kind is None),
        )
        if absent
    ]
    if missing or kind is None:
        raise UnroutableEvent(
            f"case_decided event lacks or misnames {', '.join(missing)}", INCOMPLETE
        )
    return TimelineWrite(
        event.receipt,
        f"event:{event.event_id}",
        # What the department said of its own decision; what an officer typed, as typed.
        entry(
            kind,
            event.department,
            event.message if event.HasField("message") else None,
            event.reason,
            actor_name=event.officer_name,
        ),
    )


def departments_of(event: events_pb2.CaseAccepted, known: set[str]) -> list[str]:
    departments = list(event.departments)
    unknown = [d for d in departments if d not in known]
    if not departments or unknown:
        raise UnroutableEvent(
            f"case_accepted names no department or unknown ones: {unknown}", UNKNOWN_DEPARTMENT
        )
    return departments
