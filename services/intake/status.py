"""How a timeline entry moves a department's progress and the case's status. Pure rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

from onedoor.case.v1 import case_pb2

Status: TypeAlias = case_pb2.CaseStatus.ValueType
Kind: TypeAlias = case_pb2.TimelineEntryKind.ValueType

FINAL: frozenset[Status] = frozenset(
    {
        case_pb2.CASE_STATUS_APPROVED,
        case_pb2.CASE_STATUS_REJECTED,
        case_pb2.CASE_STATUS_COMPLETED,
        case_pb2.CASE_STATUS_WITHDRAWN,
        case_pb2.CASE_STATUS_LAPSED,
    }
)

FINAL_NAMES = [case_pb2.CaseStatus.Name(s) for s in sorted(FINAL)]

# A department's progress on a case.
PENDING, OPEN, AWAITING = "pending", "open", "awaiting_materials"
DECIDED = frozenset({"approved", "rejected", "reported", "withdrawn", "lapsed"})

_DEPARTMENT_STATE_AFTER: dict[Kind, str] = {
    case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED: AWAITING,
    case_pb2.TIMELINE_ENTRY_KIND_APPROVED: "approved",
    case_pb2.TIMELINE_ENTRY_KIND_REJECTED: "rejected",
    case_pb2.TIMELINE_ENTRY_KIND_REPORTED: "reported",
    case_pb2.TIMELINE_ENTRY_KIND_WITHDRAWN: "withdrawn",
    case_pb2.TIMELINE_ENTRY_KIND_LAPSED: "lapsed",
}


def department_state_after(current: str, kind: Kind) -> str:
    """Events can arrive out of order (an officer may decide before the router records
    "routed"), so nothing moves a department back from a decision, and a late "routed" never
    undoes a request for materials."""
    if current in DECIDED:
        return current
    if kind == case_pb2.TIMELINE_ENTRY_KIND_ROUTED:
        return OPEN if current == PENDING else current
    if kind == case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_SUPPLIED:
        return OPEN if current == AWAITING else current
    return _DEPARTMENT_STATE_AFTER.get(kind, current)


def case_status(current: Status, kind: Kind, progress: Mapping[str, str], joint: bool) -> Status:
    """The case's status once ``progress`` (department -> state) reflects the new entry."""
    if current in FINAL:
        return current
    if kind == case_pb2.TIMELINE_ENTRY_KIND_WITHDRAWN:
        return case_pb2.CASE_STATUS_WITHDRAWN
    if kind == case_pb2.TIMELINE_ENTRY_KIND_LAPSED:
        return case_pb2.CASE_STATUS_LAPSED
    states = set(progress.values())
    started = bool(states - {PENDING})
    if joint:
        if states == {"reported"}:
            return case_pb2.CASE_STATUS_COMPLETED
        return case_pb2.CASE_STATUS_ROUTED if started else current
    if AWAITING in states:
        return case_pb2.CASE_STATUS_AWAITING_MATERIALS
    if states and states <= {"approved", "rejected"}:
        return (
            case_pb2.CASE_STATUS_REJECTED if "rejected" in states else case_pb2.CASE_STATUS_APPROVED
        )
    return case_pb2.CASE_STATUS_ROUTED if started else current
