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
    assert department_state_after(pb.PROGRESS_STATE_PENDING, ROUTED) == pb.PROGRESS_STATE_OPEN
    assert (
        department_state_after(pb.PROGRESS_STATE_OPEN, REQUESTED)
        == pb.PROGRESS_STATE_AWAITING_MATERIALS
    )
    assert (
        department_state_after(pb.PROGRESS_STATE_AWAITING_MATERIALS, SUPPLIED)
        == pb.PROGRESS_STATE_OPEN
    )
    assert department_state_after(pb.PROGRESS_STATE_OPEN, APPROVED) == pb.PROGRESS_STATE_APPROVED


@pytest.mark.parametrize(
    "decided",
    [
        pb.PROGRESS_STATE_APPROVED,
        pb.PROGRESS_STATE_REJECTED,
        pb.PROGRESS_STATE_REPORTED,
        pb.PROGRESS_STATE_WITHDRAWN,
        pb.PROGRESS_STATE_LAPSED,
    ],
)
@pytest.mark.parametrize("kind", [ROUTED, REQUESTED, SUPPLIED, APPROVED])
def test_nothing_moves_a_department_back_from_a_decision(decided, kind):
    assert department_state_after(decided, kind) == decided


def test_a_late_routed_entry_does_not_undo_a_request_for_materials():
    assert (
        department_state_after(pb.PROGRESS_STATE_AWAITING_MATERIALS, ROUTED)
        == pb.PROGRESS_STATE_AWAITING_MATERIALS
    )


def test_single_department_case_follows_its_department():
    accepted = pb.CASE_STATUS_ACCEPTED
    assert (
        case_status(accepted, ROUTED, {"assistance": pb.PROGRESS_STATE_OPEN}, joint=False)
        == pb.CASE_STATUS_ROUTED
    )
    assert (
        case_status(
            pb.CASE_STATUS_ROUTED,
            REQUESTED,
            {"assistance": pb.PROGRESS_STATE_AWAITING_MATERIALS},
            joint=False,
        )
        == pb.CASE_STATUS_AWAITING_MATERIALS
    )
    assert (
        case_status(
            pb.CASE_STATUS_AWAITING_MATERIALS,
            SUPPLIED,
            {"assistance": pb.PROGRESS_STATE_OPEN},
            joint=False,
        )
        == pb.CASE_STATUS_ROUTED
    )
    assert (
        case_status(
            pb.CASE_STATUS_ROUTED, APPROVED, {"assistance": pb.PROGRESS_STATE_APPROVED}, joint=False
        )
        == pb.CASE_STATUS_APPROVED
    )
    assert (
        case_status(
            pb.CASE_STATUS_ROUTED, REJECTED, {"assistance": pb.PROGRESS_STATE_REJECTED}, joint=False
        )
        == pb.CASE_STATUS_REJECTED
    )


def test_a_decision_before_routed_is_kept():
    status = case_status(
        pb.CASE_STATUS_ACCEPTED, APPROVED, {"assistance": pb.PROGRESS_STATE_APPROVED}, joint=False
    )
    assert status == pb.CASE_STATUS_APPROVED
    assert (
        case_status(status, ROUTED, {"assistance": pb.PROGRESS_STATE_APPROVED}, joint=False)
        == pb.CASE_STATUS_APPROVED
    )


def test_a_joint_case_completes_only_when_every_department_has_reported():
    progress = {
        "registry": pb.PROGRESS_STATE_REPORTED,
        "assistance": pb.PROGRESS_STATE_REPORTED,
        "elderly": pb.PROGRESS_STATE_PENDING,
    }
    assert (
        case_status(pb.CASE_STATUS_ROUTED, REPORTED, progress, joint=True) == pb.CASE_STATUS_ROUTED
    )
    progress["elderly"] = pb.PROGRESS_STATE_REPORTED
    assert (
        case_status(pb.CASE_STATUS_ROUTED, REPORTED, progress, joint=True)
        == pb.CASE_STATUS_COMPLETED
    )


def test_withdrawal_and_lapse_end_a_case():
    assert (
        case_status(
            pb.CASE_STATUS_ROUTED,
            pb.TIMELINE_ENTRY_KIND_WITHDRAWN,
            {"registry": pb.PROGRESS_STATE_WITHDRAWN},
            joint=False,
        )
        == pb.CASE_STATUS_WITHDRAWN
    )
    assert (
        case_status(
            pb.CASE_STATUS_ROUTED,
            pb.TIMELINE_ENTRY_KIND_LAPSED,
            {"registry": pb.PROGRESS_STATE_LAPSED},
            joint=False,
        )
        == pb.CASE_STATUS_LAPSED
    )


@pytest.mark.parametrize(
    "final", [pb.CASE_STATUS_APPROVED, pb.CASE_STATUS_COMPLETED, pb.CASE_STATUS_LAPSED]
)
def test_a_final_case_stays_final(final):
    assert (
        case_status(
            final, REQUESTED, {"assistance": pb.PROGRESS_STATE_AWAITING_MATERIALS}, joint=False
        )
        == final
    )
