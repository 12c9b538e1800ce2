"""A department opens a case by its receipt alone (as the router asks), reading the case from
intake itself; a request naming no case, or both ways, is refused naming the field, and a
receipt intake does not know is NOT_FOUND. Asked to, the department appends the case's ROUTED
entry to intake's timeline itself, once however often it is asked."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

import grpc
import pytest

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from services.common.department.servicer import DepartmentServicer
from services.common.errors import ApiError
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


async def _routed_entries(intake_db, receipt: str) -> int:
    return int(
        await intake_db.fetchval(
            "SELECT count(*) FROM timeline WHERE receipt = $1 AND kind = $2",
            receipt,
            case_pb2.TimelineEntryKind.Name(case_pb2.TIMELINE_ENTRY_KIND_ROUTED),
        )
    )


async def test_the_department_appends_the_routed_entry_once_however_often_asked(
    http, assistance, intake_db
):
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    application = await wait_for_entry(http, receipt, "ROUTED")
    routed = [e for e in application["timeline"] if e["kind"].endswith("ROUTED")]
    assert [e.get("department") for e in routed] == ["assistance"]
    # The router's event redelivered, and twice at once: the entry's key makes it one.
    asked = dpb.OpenCaseRequest(receipt=receipt, append_routed_entry=True)
    answers = await asyncio.gather(*(assistance.OpenCase(asked) for _ in range(3)))
    assert not any(a.opened for a in answers)
    assert await _routed_entries(intake_db, receipt) == 1


async def test_a_routed_entry_for_an_unknown_case_is_not_found_and_appends_nothing(
    assistance, intake_db
):
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await assistance.OpenCase(
            dpb.OpenCaseRequest(receipt="320585-BBBBB-BBBBB", append_routed_entry=True)
        )
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND
    assert await _routed_entries(intake_db, "320585-BBBBB-BBBBB") == 0


async def test_a_department_without_intake_refuses_to_append_naming_the_field():
    servicer = DepartmentServicer(SimpleNamespace(name="assistance"), cases=None, intake=None)  # type: ignore[arg-type]
    with pytest.raises(ApiError) as refused:
        await servicer.OpenCase(
            dpb.OpenCaseRequest(receipt="320585-AAAAA-AAAAA", append_routed_entry=True),
            None,  # type: ignore[arg-type]
        )
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in refused.value.violations] == ["append_routed_entry"]
