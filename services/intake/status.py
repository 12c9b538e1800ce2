"""Which timeline entries may be appended, and how one moves a department's progress and the
case's status. Pure rules."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import grpc

from onedoor.case.v1 import case_pb2
from services.common.errors import ApiError, FieldViolation, invalid_argument

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

Progress: TypeAlias = case_pb2.ProgressState.ValueType

# A department's progress on a case.
PENDING = case_pb2.PROGRESS_STATE_PENDING
OPEN = case_pb2.PROGRESS_STATE_OPEN
AWAITING = case_pb2.PROGRESS_STATE_AWAITING_MATERIALS
APPROVED = case_pb2.PROGRESS_STATE_APPROVED
REJECTED = case_pb2.PROGRESS_STATE_REJECTED
REPORTED = case_pb2.PROGRESS_STATE_REPORTED
DECIDED: frozenset[Progress] = frozenset(
    {
        APPROVED,
        REJECTED,
        REPORTED,
        case_pb2.PROGRESS_STATE_WITHDRAWN,
        case_pb2.PROGRESS_STATE_LAPSED,
    }
)

_DEPARTMENT_STATE_AFTER: dict[Kind, Progress] = {
    case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED: AWAITING,
    case_pb2.TIMELINE_ENTRY_KIND_APPROVED: APPROVED,
    case_pb2.TIMELINE_ENTRY_KIND_REJECTED: REJECTED,
    case_pb2.TIMELINE_ENTRY_KIND_REPORTED: REPORTED,
    case_pb2.TIMELINE_ENTRY_KIND_WITHDRAWN: case_pb2.PROGRESS_STATE_WITHDRAWN,
    case_pb2.TIMELINE_ENTRY_KIND_LAPSED: case_pb2.PROGRESS_STATE_LAPSED,
}


def check_entry(entry_key: str, entry: case_pb2.TimelineEntry) -> None:
    """An entry another service may append: keyed, of a kind, and not one of the ledger's own
    (acceptance and completion). Raises INVALID_ARGUMENT otherwise."""
    if not entry_key:
        raise invalid_argument([FieldViolation("entry_key", "is required")])
    if entry.kind == case_pb2.TIMELINE_ENTRY_KIND_UNSPECIFIED:
        raise invalid_argument([FieldViolation("entry.kind", "is required")])
    if entry.kind in (
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


def department_state_after(current: Progress, kind: Kind) -> Progress:
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


def case_status(
    current: Status, kind: Kind, progress: Mapping[str, Progress], joint: bool
) -> Status:
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
        if states == {REPORTED}:
            return case_pb2.CASE_STATUS_COMPLETED
        return case_pb2.CASE_STATUS_ROUTED if started else current
    if AWAITING in states:
        return case_pb2.CASE_STATUS_AWAITING_MATERIALS
    if states and states <= {APPROVED, REJECTED}:
        return (
            case_pb2.CASE_STATUS_REJECTED if REJECTED in states else case_pb2.CASE_STATUS_APPROVED
        )
    return case_pb2.CASE_STATUS_ROUTED if started else current
