import pytest

from onedoor.case.v1 import case_pb2 as pb
from services.intake.status import case_status, department_state_after

ROUTED = pb.TIMELINE_ENTRY_KIND_ROUTED
APPROVED = pb.TIMELINE_ENTRY_KIND_APPROVED
REJECTED = pb.TIMELINE_ENTRY_KIND_REJECTED
REQUESTED = pb.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED
SUPPLIED = pb.TIMELINE_ENTRY_KIND_MATERIALS_SUPPLIED
REPORTED = pb.TIMELINE_ENTRY_KIND_REPORTED


def test_a_department_moves_from_pending_to_open_to_decided():
    assert department_state_after("pending", ROUTED) == "open"
    assert department_state_after("open", REQUESTED) == "awaiting_materials"
    assert department_state_after("awaiting_materials", SUPPLIED) == "open"
    assert department_state_after("open", APPROVED) == "approved"


@pytest.mark.parametrize("decided", ["approved", "rejected", "reported", "withdrawn", "lapsed"])
@pytest.mark.parametrize("kind", [ROUTED, REQUESTED, SUPPLIED, APPROVED])
def test_nothing_moves_a_department_back_from_a_decision(decided, kind):
    assert department_state_after(decided, kind) == decided


def test_a_late_routed_entry_does_not_undo_a_request_for_materials():
    assert department_state_after("awaiting_materials", ROUTED) == "awaiting_materials"


def test_single_department_case_follows_its_department():
    accepted = pb.CASE_STATUS_ACCEPTED
    assert (
        case_status(accepted, ROUTED, {"assistance": "open"}, joint=False) == pb.CASE_STATUS_ROUTED
    )
    assert (
        case_status(
            pb.CASE_STATUS_ROUTED, REQUESTED, {"assistance": "awaiting_materials"}, joint=False
        )
        == pb.CASE_STATUS_AWAITING_MATERIALS
    )
    assert (
        case_status(
            pb.CASE_STATUS_AWAITING_MATERIALS, SUPPLIED, {"assistance": "open"}, joint=False
        )
        == pb.CASE_STATUS_ROUTED
    )
    assert (
        case_status(pb.CASE_STATUS_ROUTED, APPROVED, {"assistance": "approved"}, joint=False)
        == pb.CASE_STATUS_APPROVED
    )
    assert (
        case_status(pb.CASE_STATUS_ROUTED, REJECTED, {"assistance": "rejected"}, joint=False)
        == pb.CASE_STATUS_REJECTED
    )


def test_a_decision_before_routed_is_kept():
    status = case_status(pb.CASE_STATUS_ACCEPTED, APPROVED, {"assistance": "approved"}, joint=False)
    assert status == pb.CASE_STATUS_APPROVED
    assert (
        case_status(status, ROUTED, {"assistance": "approved"}, joint=False)
        == pb.CASE_STATUS_APPROVED
    )


def test_a_joint_case_completes_only_when_every_department_has_reported():
    progress = {"registry": "reported", "assistance": "reported", "elderly": "pending"}
    assert (
        case_status(pb.CASE_STATUS_ROUTED, REPORTED, progress, joint=True) == pb.CASE_STATUS_ROUTED
    )
    progress["elderly"] = "reported"
    assert (
        case_status(pb.CASE_STATUS_ROUTED, REPORTED, progress, joint=True)
        == pb.CASE_STATUS_COMPLETED
    )


def test_withdrawal_and_lapse_end_a_case():
    assert (
        case_status(
            pb.CASE_STATUS_ROUTED,
            pb.TIMELINE_ENTRY_KIND_WITHDRAWN,
            {"registry": "withdrawn"},
            joint=False,
        )
        == pb.CASE_STATUS_WITHDRAWN
    )
    assert (
        case_status(
            pb.CASE_STATUS_ROUTED,
            pb.TIMELINE_ENTRY_KIND_LAPSED,
            {"registry": "lapsed"},
            joint=False,
        )
        == pb.CASE_STATUS_LAPSED
    )


@pytest.mark.parametrize(
    "final", [pb.CASE_STATUS_APPROVED, pb.CASE_STATUS_COMPLETED, pb.CASE_STATUS_LAPSED]
)
def test_a_final_case_stays_final(final):
    assert case_status(final, REQUESTED, {"assistance": "awaiting_materials"}, joint=False) == final
