"""What an officer's decision does to a department case. Pure rules, no I/O."""

from __future__ import annotations

from typing import TypeAlias

import grpc

from onedoor.department.v1 import department_service_pb2 as pb
from onedoor.events.v1 import events_pb2
from services.common.errors import ApiError, FieldViolation, invalid_argument

State: TypeAlias = pb.CaseState.ValueType
DecisionValue: TypeAlias = pb.Decision.ValueType

OPEN_STATES = frozenset({pb.CASE_STATE_OPEN, pb.CASE_STATE_AWAITING_MATERIALS})

_STATE_AFTER: dict[DecisionValue, State] = {
    pb.DECISION_APPROVE: pb.CASE_STATE_APPROVED,
    pb.DECISION_REJECT: pb.CASE_STATE_REJECTED,
    pb.DECISION_REQUEST_MATERIALS: pb.CASE_STATE_AWAITING_MATERIALS,
}

# How each decision is told to the rest of the platform (the case_decided event's outcome).
OUTCOME: dict[DecisionValue, events_pb2.Outcome.ValueType] = {
    pb.DECISION_APPROVE: events_pb2.OUTCOME_APPROVED,
    pb.DECISION_REJECT: events_pb2.OUTCOME_REJECTED,
    pb.DECISION_REQUEST_MATERIALS: events_pb2.OUTCOME_MATERIALS_REQUESTED,
}


def check_request(
    decision: DecisionValue, reason: str, officer_id: str, officer_name: str = ""
) -> None:
    problems = []
    if decision not in _STATE_AFTER:
        problems.append(
            FieldViolation(
                "decision",
                "must be DECISION_APPROVE, DECISION_REJECT or DECISION_REQUEST_MATERIALS",
            )
        )
    if decision in (pb.DECISION_REJECT, pb.DECISION_REQUEST_MATERIALS) and not reason.strip():
        problems.append(FieldViolation("reason", "is required to reject or to request materials"))
    if len(reason) > 1000:
        problems.append(FieldViolation("reason", "must be at most 1000 characters"))
    if not officer_id:
        problems.append(FieldViolation("officer_id", "is required"))
    if len(officer_name) > 64:
        problems.append(FieldViolation("officer_name", "must be at most 64 characters"))
    if problems:
        raise invalid_argument(problems)


def state_after(current: State, decision: DecisionValue) -> State:
    if current not in OPEN_STATES:
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the case is already decided",
            reason="CASE_ALREADY_DECIDED",
        )
    if current == pb.CASE_STATE_AWAITING_MATERIALS and decision == pb.DECISION_REQUEST_MATERIALS:
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the case already waits for materials",
            reason="ALREADY_AWAITING_MATERIALS",
        )
    return _STATE_AFTER[decision]
