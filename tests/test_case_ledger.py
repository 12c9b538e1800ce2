"""The case ledger answers a creation with exactly what a later full read returns, and its
basic view carries no personal data."""

from __future__ import annotations

import uuid

from onedoor.case.v1 import case_pb2
from onedoor.intake.v1 import intake_service_pb2
from tests.factories import dibao_proto


def _case(request_id: str) -> case_pb2.Case:
    application = dibao_proto()
    return case_pb2.Case(
        matter_code=application.matter_code,
        applicant=application.applicant,
        household_members=application.household_members,
        materials=application.materials,
        accepting_division="320585",
        details=application.details,
        departments=["assistance"],
    )


async def test_a_created_case_reads_back_as_it_was_answered(intake):
    request_id = str(uuid.uuid4())
    case = _case(request_id)
    created = await intake.CreateCase(
        intake_service_pb2.CreateCaseRequest(request_id=request_id, case=case)
    )
    assert created.created
    stored = await intake.GetCase(intake_service_pb2.GetCaseRequest(receipt=created.case.receipt))
    # The router may already have appended "routed"; the creation answer is the state before.
    del stored.case.timeline[1:]
    stored.case.status = created.case.status
    for progress in stored.case.progress:
        progress.state, progress.note = case_pb2.PROGRESS_STATE_PENDING, ""
    assert created.case == stored.case

    again = await intake.CreateCase(
        intake_service_pb2.CreateCaseRequest(request_id=request_id, case=case)
    )
    assert not again.created
    assert again.case.receipt == created.case.receipt


async def test_the_basic_view_has_no_personal_data_or_timeline(intake):
    request_id = str(uuid.uuid4())
    created = await intake.CreateCase(
        intake_service_pb2.CreateCaseRequest(request_id=request_id, case=_case(request_id))
    )
    basic = await intake.GetCase(
        intake_service_pb2.GetCaseRequest(
            receipt=created.case.receipt, view=intake_service_pb2.CASE_VIEW_BASIC
        )
    )
    assert basic.case.receipt == created.case.receipt
    assert basic.case.decision_deadline == created.case.decision_deadline
    assert list(basic.case.departments) == ["assistance"]
    assert not basic.case.applicant.id_number and not basic.case.household_members
    assert not basic.case.timeline
