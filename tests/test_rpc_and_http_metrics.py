"""Rate, errors and duration of every call, as an operator scrapes them: the gateway's HTTP
requests by route template, its gRPC calls served and made, the services' calls served; and
the gateway's access lines, one per request, without probes, bodies or raw paths."""

from __future__ import annotations

import json

import grpc
import pytest

from onedoor.gateway.v1 import gateway_service_pb2 as gpb
from tests import metrics_scrape
from tests.conftest import eventually, wait_for_entry
from tests.factories import dibao_json

GET_APPLICATION = "onedoor.gateway.v1.GatewayService"
HTTP_COUNT = "http_server_request_duration_seconds_count"
SERVED = "rpc_server_duration_seconds_count"
MADE = "rpc_client_duration_seconds_count"
OK, NOT_FOUND = grpc.StatusCode.OK.value[0], grpc.StatusCode.NOT_FOUND.value[0]


async def _accepted(http) -> str:
    async with http.post("/v1/applications", json=dibao_json()) as response:
        assert response.status == 200, await response.text()
        receipt = str((await response.json())["receipt"])
    await wait_for_entry(http, receipt, "ROUTED")
    return receipt


async def test_http_requests_are_counted_by_route_template_and_status(platform, http):
    receipt = await _accepted(http)
    route = "/v1/applications/{receipt}"
    before = metrics_scrape.scrape(platform.metrics_url("gateway"))
    for _ in range(3):
        async with http.get(f"/v1/applications/{receipt}") as response:
            assert response.status == 200
    async with http.get("/v1/applications/320585-AAAAA-AAAAA") as response:
        assert response.status == 404
    after = metrics_scrape.scrape(platform.metrics_url("gateway"))

    def moved(status: int) -> float:
        labels = {"http_route": route, "http_request_method": "GET"}
        return metrics_scrape.value(
            after, HTTP_COUNT, **labels, http_response_status_code=status
        ) - metrics_scrape.value(before, HTTP_COUNT, **labels, http_response_status_code=status)

    assert moved(200) == 3
    assert moved(404) == 1
    text = metrics_scrape.text_of(platform.metrics_url("gateway"))
    assert receipt not in text


async def test_grpc_calls_served_and_made_are_counted_with_their_status(platform, gateway):
    before = {
        name: metrics_scrape.scrape(platform.metrics_url(name)) for name in ("gateway", "intake")
    }
    for _ in range(2):
        try:
            await gateway.GetApplication(gpb.GetApplicationRequest(receipt="320585-AAAAA-AAAAB"))
        except grpc.aio.AioRpcError as error:
            assert error.code() is grpc.StatusCode.NOT_FOUND
    after = {
        name: metrics_scrape.scrape(platform.metrics_url(name)) for name in ("gateway", "intake")
    }

    def moved(process: str, series: str, **labels: str | int) -> float:
        return metrics_scrape.value(after[process], series, **labels) - metrics_scrape.value(
            before[process], series, **labels
        )

    gateway_method = {"rpc_service": GET_APPLICATION, "rpc_method": "GetApplication"}
    assert moved("gateway", SERVED, **gateway_method, rpc_grpc_status_code=NOT_FOUND) == 2
    assert moved("gateway", SERVED, **gateway_method, rpc_grpc_status_code=OK) == 0
    get_case = {"rpc_service": "onedoor.intake.v1.IntakeService", "rpc_method": "GetCase"}
    # The gateway asked the ledger twice; the ledger answered at least those two (the router
    # may ask it meanwhile).
    assert moved("gateway", MADE, **get_case, rpc_grpc_status_code=NOT_FOUND) == 2
    assert moved("intake", SERVED, **get_case, rpc_grpc_status_code=NOT_FOUND) >= 2
    # Health checks are not calls people make: not measured.
    assert not any("Health" in dict(labels).get("rpc_service", "") for _, labels in after["intake"])


async def test_the_gateway_writes_one_access_line_per_request_and_none_for_probes(platform, http):
    receipt = await _accepted(http)
    log = platform.log_path("gateway")
    start = len(log.read_text().splitlines())
    # A query parameter the route does not declare: refused, and its value never logged.
    async with http.get(f"/v1/applications/{receipt}?secret=CASE_VIEW_FULL") as response:
        status = response.status
    assert status == 400
    for probe in ("/livez", "/readyz"):
        async with http.get(probe) as response:
            assert response.status == 200

    async def written() -> list[dict]:
        lines = log.read_text().splitlines()[start:]
        found = [json.loads(line) for line in lines]
        access = [r for r in found if r["logger"] == "gateway.access"]
        return access if access else []

    access = await eventually(written, what="the gateway's access line")
    assert len(access) == 1, access
    line = access[0]
    assert line["route"] == "/v1/applications/{receipt}"
    assert line["http_method"] == "GET"
    assert line["status"] == status
    assert len(line["trace_id"]) == 32
    # Neither the receipt in the path nor the query's values.
    assert receipt not in json.dumps(line)
    assert "CASE_VIEW_FULL" not in json.dumps(line)


async def test_a_grpc_call_s_access_line_names_its_method_status_and_trace(platform, gateway):
    log = platform.log_path("gateway")
    start = len(log.read_text().splitlines())
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await gateway.GetApplication(gpb.GetApplicationRequest(receipt="320585-AAAAA-AAAAC"))
    assert refused.value.code() == grpc.StatusCode.NOT_FOUND
    trace_id = dict(refused.value.trailing_metadata() or ())["x-trace-id"]

    async def written() -> list[dict]:
        found = [json.loads(line) for line in log.read_text().splitlines()[start:]]
        return [r for r in found if r.get("rpc_method", "").endswith("/GetApplication")]

    [line] = await eventually(written, what="the gateway's access line for the call")
    assert line["status"] == "NOT_FOUND"
    # The line is written inside the call's span: an operator goes from it to the trace.
    assert len(trace_id) == 32 and line["trace_id"] == trace_id
    assert "320585-AAAAA-AAAAC" not in json.dumps(line)
