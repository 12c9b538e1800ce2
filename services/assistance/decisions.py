"""What an officer's decision does to a department case. Pure rules, no I/O."""

from __future__ import annotations

import grpc

from onedoor.assistance.v1 import assistance_service_pb2 as pb
from services.common.errors import ApiError, FieldViolation, invalid_argument

State = pb.AssistanceCaseState.ValueType
DecisionValue = pb.Decision.ValueType

_OPEN = frozenset({pb.ASSISTANCE_CASE_STATE_OPEN, pb.ASSISTANCE_CASE_STATE_AWAITING_MATERIALS})

_STATE_AFTER: dict[DecisionValue, State] = {
    pb.DECISION_APPROVE: pb.ASSISTANCE_CASE_STATE_APPROVED,
    pb.DECISION_REJECT: pb.ASSISTANCE_CASE_STATE_REJECTED,
    pb.DECISION_REQUEST_MATERIALS: pb.ASSISTANCE_CASE_STATE_AWAITING_MATERIALS,
}


def check_request(decision: DecisionValue, reason: str, officer_id: str) -> None:
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
    if problems:
        raise invalid_argument(problems)


def state_after(current: State, decision: DecisionValue) -> State:
    if current not in _OPEN:
        raise ApiError(
            grpc.StatusCode.FAILED_PRECONDITION,
            "the case is already decided",
            reason="CASE_ALREADY_DECIDED",
        )
    return _STATE_AFTER[decision]
