"""A department opens a case by its receipt alone (as the router asks), reading the case from
intake itself; a request naming no case, or both ways, is refused naming the field, and a
receipt intake does not know is NOT_FOUND."""

from __future__ import annotations

import grpc
import pytest

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from tests.conftest import wait_for_entry
from tests.factories import dibao_json
from tests.test_notifier_records import violations


async def test_the_router_s_open_case_by_receipt_is_the_case_intake_holds(http, assistance):
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    # The router opened it by receipt; asked again, the department answers the same case.
    again = await assistance.OpenCase(dpb.OpenCaseRequest(receipt=receipt))
    assert not again.opened
    found = await assistance.GetCase(dpb.GetCaseRequest(receipt=receipt))
    assert again.case == found.case
    assert found.case.department == "assistance"
    assert found.case.matter_code.endswith("dibao")
    assert found.case.assessment.findings, "assessed from the case as intake holds it"


async def test_open_case_names_what_is_wrong(assistance):
    with pytest.raises(grpc.aio.AioRpcError) as neither:
        await assistance.OpenCase(dpb.OpenCaseRequest())
    assert neither.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(neither.value) == ["case"]

    case = case_pb2.Case(receipt="320585-AAAAA-AAAAA", departments=["assistance"])
    with pytest.raises(grpc.aio.AioRpcError) as both:
        await assistance.OpenCase(dpb.OpenCaseRequest(receipt="320585-AAAAA-AAAAA", case=case))
    assert both.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations(both.value) == ["receipt"]

    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await assistance.OpenCase(dpb.OpenCaseRequest(receipt="320585-AAAAA-AAAAA"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
