"""The window over gRPC: the same operations, AIP-193 errors, reflection and health."""

from __future__ import annotations

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc
from grpc_status import rpc_status

from onedoor.case.v1 import case_pb2
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from tests.conftest import wait_for_entry
from tests.factories import dibao_proto


def _bad_request(error: grpc.aio.AioRpcError) -> set[str]:
    status = rpc_status.from_call(error)
    assert status is not None, "no google.rpc.Status in the trailers"
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad = error_details_pb2.BadRequest()
            detail.Unpack(bad)
            return {v.field for v in bad.field_violations}
    raise AssertionError("no BadRequest detail")


async def test_submit_over_grpc_is_routed(gateway, http):
    call = gateway.SubmitApplication(dibao_proto())
    response = await call
    trailers = dict(await call.trailing_metadata())
    assert trailers["x-trace-id"] == response.trace_id
    assert response.status == case_pb2.CASE_STATUS_ACCEPTED
    assert list(response.departments) == ["assistance"]
    assert response.created
    assert response.decision_deadline.seconds > 0
    await wait_for_entry(http, response.receipt, "ROUTED")

    found = await gateway.GetApplication(pb.GetApplicationRequest(receipt=response.receipt))
    assert found.application.receipt == response.receipt
    assert found.application.trace_id == response.trace_id


async def test_same_request_id_over_grpc_returns_the_first_receipt(gateway):
    request = dibao_proto()
    first = await gateway.SubmitApplication(request)
    again = await gateway.SubmitApplication(request)
    assert again.receipt == first.receipt
    assert first.created and not again.created


async def test_invalid_argument_carries_field_violations_and_the_trace_id(gateway):
    request = dibao_proto()
    request.applicant.hukou_division = "999999"
    request.household_members[1].monthly_income_fen = -5
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await gateway.SubmitApplication(request)
    error = raised.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert _bad_request(error) == {
        "applicant.hukou_division",
        "household_members[1].monthly_income_fen",
    }
    assert len(dict(error.trailing_metadata())["x-trace-id"]) == 32


async def test_missing_materials_is_failed_precondition(gateway):
    request = dibao_proto(materials=["id_card"])
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await gateway.SubmitApplication(request)
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert _bad_request(raised.value) == {"materials"}


async def test_reflection_and_health(platform):
    async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.gateway_grpc}") as channel:
        health = await health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="")
        )
        assert health.status == health_pb2.HealthCheckResponse.SERVING
        stub = reflection_pb2_grpc.ServerReflectionStub(channel)
        responses = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        async for response in responses:
            names = {s.name for s in response.list_services_response.service}
            break
    assert "onedoor.gateway.v1.GatewayService" in names
    assert "grpc.health.v1.Health" in names
