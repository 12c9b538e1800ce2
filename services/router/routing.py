"""What the router writes on a case's timeline for each event. Pure: no nameko, no I/O, so
it is tested without eventlet."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from onedoor.case.v1 import case_pb2

_OUTCOME_KIND = {
    "approved": case_pb2.TIMELINE_ENTRY_KIND_APPROVED,
    "rejected": case_pb2.TIMELINE_ENTRY_KIND_REJECTED,
    "materials_requested": case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED,
    "confirmed": case_pb2.TIMELINE_ENTRY_KIND_CONFIRMED,
    "withdrawn": case_pb2.TIMELINE_ENTRY_KIND_WITHDRAWN,
    "lapsed": case_pb2.TIMELINE_ENTRY_KIND_LAPSED,
}


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
    """The event can never be handled (a bug upstream); retrying would not help."""


@dataclass(frozen=True)
class TimelineWrite:
    receipt: str
    # Idempotency key: the same event always yields the same key.
    entry_key: str
    entry: case_pb2.TimelineEntry


def routed(receipt: str, department: str, note: str) -> TimelineWrite:
    return TimelineWrite(
        receipt,
        f"{receipt}:routed:{department}",
        case_pb2.TimelineEntry(
            kind=case_pb2.TIMELINE_ENTRY_KIND_ROUTED, department=department, note=note
        ),
    )


def reported(receipt: str, department: str, outcome: str) -> TimelineWrite:
    return TimelineWrite(
        receipt,
        f"{receipt}:reported:{department}",
        case_pb2.TimelineEntry(
            kind=case_pb2.TIMELINE_ENTRY_KIND_REPORTED, department=department, note=outcome
        ),
    )


def overdue(receipt: str, departments: list[str], deadline: str) -> TimelineWrite:
    """Once per case: the key does not depend on when the timer noticed."""
    return TimelineWrite(
        receipt,
        f"{receipt}:overdue",
        case_pb2.TimelineEntry(
            kind=case_pb2.TIMELINE_ENTRY_KIND_OVERDUE,
            note=f"deadline {deadline} passed: escalated to the supervisors of {', '.join(departments)}",
        ),
    )


def decided(payload: Mapping[str, Any]) -> TimelineWrite:
    try:
        kind = _OUTCOME_KIND[payload["outcome"]]
        return TimelineWrite(
            payload["receipt"],
            f"event:{payload['event_id']}",
            case_pb2.TimelineEntry(
                kind=kind, department=payload["department"], note=payload.get("reason", "")
            ),
        )
    except KeyError as missing:
        raise UnroutableEvent(f"case_decided event lacks or misnames {missing}") from None


def departments_of(payload: Mapping[str, Any], known: set[str]) -> list[str]:
    departments = list(payload.get("departments", []))
    unknown = [d for d in departments if d not in known]
    if not departments or unknown:
        raise UnroutableEvent(f"case_accepted names no department or unknown ones: {unknown}")
    return departments
