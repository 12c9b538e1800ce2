import pytest

from onedoor.intake.v1 import case_pb2 as pb
from services.intake.status import status_after


def test_routed_moves_an_accepted_case():
    assert (
        status_after(pb.CASE_STATUS_ACCEPTED, pb.TIMELINE_ENTRY_KIND_ROUTED)
        == pb.CASE_STATUS_ROUTED
    )


def test_decisions_move_a_routed_case():
    assert (
        status_after(pb.CASE_STATUS_ROUTED, pb.TIMELINE_ENTRY_KIND_APPROVED)
        == pb.CASE_STATUS_APPROVED
    )
    assert (
        status_after(pb.CASE_STATUS_ROUTED, pb.TIMELINE_ENTRY_KIND_REJECTED)
        == pb.CASE_STATUS_REJECTED
    )
    assert (
        status_after(pb.CASE_STATUS_ROUTED, pb.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED)
        == pb.CASE_STATUS_AWAITING_MATERIALS
    )


@pytest.mark.parametrize("final", [pb.CASE_STATUS_APPROVED, pb.CASE_STATUS_REJECTED])
@pytest.mark.parametrize(
    "kind",
    [
        pb.TIMELINE_ENTRY_KIND_ROUTED,
        pb.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED,
        pb.TIMELINE_ENTRY_KIND_APPROVED,
    ],
)
def test_a_decided_case_stays_decided(final, kind):
    assert status_after(final, kind) == final


def test_a_late_routed_entry_does_not_undo_a_request_for_materials():
    assert (
        status_after(pb.CASE_STATUS_AWAITING_MATERIALS, pb.TIMELINE_ENTRY_KIND_ROUTED)
        == pb.CASE_STATUS_AWAITING_MATERIALS
    )


def test_decision_before_routed_is_kept_when_routed_arrives():
    # An officer may decide before the router has recorded "routed".
    status = status_after(pb.CASE_STATUS_ACCEPTED, pb.TIMELINE_ENTRY_KIND_APPROVED)
    assert status_after(status, pb.TIMELINE_ENTRY_KIND_ROUTED) == pb.CASE_STATUS_APPROVED
