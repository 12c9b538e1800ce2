"""case_accepted carries the accepted case sealed whole, and the department opens that rather
than asking intake for it: the sealed case opens, under its receipt only, to the case intake
stored; a department given one opens the case without intake knowing the receipt; a sealed
case for another receipt, altered, or given beside a clear case is refused naming the field,
and opens nothing. Deliveries of one new case at once open it once."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

import grpc
import pytest
from google.protobuf import json_format

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from onedoor.events.v1 import events_pb2
from onedoor.intake.v1 import intake_service_pb2 as ipb
from services.common import personal_data
from services.common.timestamps import to_timestamp
from tests.conftest import wait_for_entry
from tests.factories import dibao_json, dibao_proto
from tests.test_notifier_records import violations


def _case(receipt: str) -> case_pb2.Case:
    """A dibao case as intake would have accepted it, never given to intake."""
    asked = dibao_proto()
    return case_pb2.Case(
        receipt=receipt,
        name=f"cases/{receipt}",
        matter_code=asked.matter_code,
        matter_version=1,
        status=case_pb2.CASE_STATUS_ACCEPTED,
        departments=["assistance"],
        accepting_division="320585",
        applicant=asked.applicant,
        household_members=asked.household_members,
        details=asked.details,
        materials=asked.materials,
        decision_deadline=to_timestamp(dt.datetime.now(dt.UTC) + dt.timedelta(days=30)),
    )


async def test_the_accepted_event_carries_the_stored_case_sealed(http, intake_db, intake):
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    payload = await intake_db.fetchval(
        "SELECT payload FROM outbox WHERE event_type = 'case_accepted' AND payload->>'receipt' = $1",
        receipt,
    )
    event = json_format.ParseDict(json.loads(payload), events_pb2.CaseAccepted())
    assert event.sealed_case
    opened = personal_data.open_from_transit(event.sealed_case, receipt)
    stored = (await intake.GetCase(ipb.GetCaseRequest(receipt=receipt))).case
    for field in ("applicant", "household_members", "details", "materials", "departments"):
        assert getattr(opened, field) == getattr(stored, field), field
    assert opened.decision_deadline == stored.decision_deadline
    assert opened.create_time == stored.create_time
    # Nobody reads it on the way: the name and the identity number are not in it in the clear.
    applicant = stored.applicant
    assert applicant.name.encode() not in event.sealed_case
    assert applicant.id_number.encode() not in event.sealed_case
    assert applicant.name not in payload and applicant.id_number not in payload


async def test_a_department_opens_the_sealed_case_without_asking_intake(assistance, intake):
    receipt = "320585-SEAL1-AAAAA"
    # Intake has never heard of it: a department reading the case from intake would fail.
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await intake.GetCase(ipb.GetCaseRequest(receipt=receipt))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND

    sealed = personal_data.seal_for_transit(_case(receipt))
    answer = await assistance.OpenCase(dpb.OpenCaseRequest(receipt=receipt, sealed_case=sealed))
    assert answer.opened
    assert answer.case.receipt == receipt
    assert answer.case.assessment.findings, "assessed from the sealed case"
    again = await assistance.OpenCase(dpb.OpenCaseRequest(receipt=receipt, sealed_case=sealed))
    assert not again.opened and again.case == answer.case


async def test_a_sealed_case_that_does_not_open_is_refused_naming_it_and_opens_nothing(
    assistance,
):
    receipt = "320585-SEAL2-AAAAA"
    other = personal_data.seal_for_transit(_case("320585-SEAL3-AAAAA"))
    mine = personal_data.seal_for_transit(_case(receipt))
    altered = mine[:-1] + bytes([mine[-1] ^ 1])
    for sealed in (other, altered, b"short"):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await assistance.OpenCase(dpb.OpenCaseRequest(receipt=receipt, sealed_case=sealed))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violations(refused.value) == ["sealed_case"]
    with pytest.raises(grpc.aio.AioRpcError) as beside:
        await assistance.OpenCase(dpb.OpenCaseRequest(case=_case(receipt), sealed_case=mine))
    assert beside.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(beside.value) == ["sealed_case"]
    with pytest.raises(grpc.aio.AioRpcError) as nothing:
        await assistance.GetCase(dpb.GetCaseRequest(receipt=receipt))
    assert nothing.value.code() == grpc.StatusCode.NOT_FOUND


async def test_deliveries_of_a_new_case_at_once_open_it_once(assistance):
    receipt = "320585-SEAL4-AAAAA"
    sealed = personal_data.seal_for_transit(_case(receipt))
    asked = dpb.OpenCaseRequest(receipt=receipt, sealed_case=sealed)
    answers = await asyncio.gather(*(assistance.OpenCase(asked) for _ in range(4)))
    assert sorted(a.opened for a in answers) == [False, False, False, True]
    assert all(a.case == answers[0].case for a in answers)
    assert answers[0].case.household_file
