import grpc
import pytest

from onedoor.assistance.v1 import assistance_service_pb2 as pb
from services.assistance.decisions import check_request, state_after
from services.common.errors import ApiError


def test_open_case_can_be_approved_rejected_or_sent_back_for_materials():
    assert (
        state_after(pb.ASSISTANCE_CASE_STATE_OPEN, pb.DECISION_APPROVE)
        == pb.ASSISTANCE_CASE_STATE_APPROVED
    )
    assert (
        state_after(pb.ASSISTANCE_CASE_STATE_OPEN, pb.DECISION_REJECT)
        == pb.ASSISTANCE_CASE_STATE_REJECTED
    )
    assert (
        state_after(pb.ASSISTANCE_CASE_STATE_OPEN, pb.DECISION_REQUEST_MATERIALS)
        == pb.ASSISTANCE_CASE_STATE_AWAITING_MATERIALS
    )
    assert (
        state_after(pb.ASSISTANCE_CASE_STATE_AWAITING_MATERIALS, pb.DECISION_APPROVE)
        == pb.ASSISTANCE_CASE_STATE_APPROVED
    )


@pytest.mark.parametrize(
    "final", [pb.ASSISTANCE_CASE_STATE_APPROVED, pb.ASSISTANCE_CASE_STATE_REJECTED]
)
def test_a_decided_case_cannot_be_decided_again(final):
    with pytest.raises(ApiError) as raised:
        state_after(final, pb.DECISION_APPROVE)
    assert raised.value.code == grpc.StatusCode.FAILED_PRECONDITION


def test_reject_and_request_materials_need_a_reason():
    check_request(pb.DECISION_APPROVE, "", "officer-7")
    for decision in (pb.DECISION_REJECT, pb.DECISION_REQUEST_MATERIALS):
        with pytest.raises(ApiError) as raised:
            check_request(decision, "  ", "officer-7")
        assert [v.field for v in raised.value.violations] == ["reason"]


def test_unspecified_decision_and_missing_officer_are_named():
    with pytest.raises(ApiError) as raised:
        check_request(pb.DECISION_UNSPECIFIED, "", "")
    assert {v.field for v in raised.value.violations} == {"decision", "officer_id"}
