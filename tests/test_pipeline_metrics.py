"""The pipeline as an operator watches it, on the real platform: the outbox backlog each
service reports (rising while the relay is stopped, falling when it returns), the relay's
publishes, the router's events and receipt-to-routed latency, and health probes that leave no
line in any log."""

from __future__ import annotations

import asyncio
import json
import signal
from typing import Any

import aiohttp
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.common import metric_catalog
from services.launcher.platform import Platform
from tests.conftest import eventually, wait_for_entry
from tests.factories import dibao_json
from tests.metrics_scrape import Samples, scrape, value

WAITING = "onedoor_outbox_waiting"
OLDEST_AGE = "onedoor_outbox_oldest_age_seconds"
ROUTER_EVENTS = "onedoor_router_events_total"
ROUTED_COUNT = "onedoor_router_routed_latency_seconds_count"
HANDLED_COUNT = "onedoor_router_handler_duration_seconds_count"
PUBLISH_COUNT = "onedoor_relay_publish_duration_seconds_count"


def test_the_names_scraped_here_are_the_catalogs():
    assert metric_catalog.OUTBOX_WAITING.prometheus == WAITING
    assert metric_catalog.OUTBOX_OLDEST_AGE.prometheus == OLDEST_AGE
    assert metric_catalog.ROUTER_EVENTS.prometheus == ROUTER_EVENTS
    assert f"{metric_catalog.ROUTER_ROUTED_LATENCY.prometheus}_count" == ROUTED_COUNT
    assert f"{metric_catalog.ROUTER_HANDLER_DURATION.prometheus}_count" == HANDLED_COUNT
    assert f"{metric_catalog.RELAY_PUBLISH_DURATION.prometheus}_count" == PUBLISH_COUNT


async def _scrape(platform: Platform, process: str) -> Samples:
    return await asyncio.to_thread(scrape, platform.metrics_url(process))


async def _submit(http: aiohttp.ClientSession) -> str:
    async with http.post("/v1/applications", json=dibao_json()) as response:
        assert response.status == 200, await response.text()
        return str((await response.json())["receipt"])


async def test_the_outbox_backlog_rises_while_the_relay_is_stopped_and_falls_when_it_returns(
    platform, http
):
    platform.kill("relay", signal.SIGTERM)
    try:
        receipts = [await _submit(http) for _ in range(3)]

        async def backlog() -> Samples | None:
            samples = await _scrape(platform, "intake")
            return samples if value(samples, WAITING, service="intake") >= len(receipts) else None

        seen = await eventually(backlog, timeout=20, what="intake's outbox backlog to show")
        first_age = value(seen, OLDEST_AGE, service="intake")
        assert first_age > 0

        async def older() -> bool:
            samples = await _scrape(platform, "intake")
            return value(samples, OLDEST_AGE, service="intake") > first_age

        await eventually(older, what="the oldest waiting event to age")
        # Every department reports its own outbox, idle or not.
        assessment = await _scrape(platform, "assistance")
        assert any(
            name == WAITING and ("service", "assistance") in labels for name, labels in assessment
        )
    finally:
        # The platform is the whole session's: the relay comes back whatever happened here.
        platform.start("relay")
        await asyncio.to_thread(platform.wait_healthy, 60, False, ("relay",))

    async def drained() -> bool:
        samples = await _scrape(platform, "intake")
        return (
            value(samples, WAITING, service="intake") == 0
            and value(samples, OLDEST_AGE, service="intake") == 0
        )

    await eventually(drained, timeout=30, what="intake's outbox to drain")
    for receipt in receipts:
        await wait_for_entry(http, receipt, "ROUTED")


def _router_lines(platform: Platform, receipt: str) -> list[dict[str, Any]]:
    lines = []
    for line in platform.log_path("router").read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and record.get("receipt") == receipt:
            lines.append(record)
    return lines


async def test_a_routed_case_moves_the_routers_and_the_relays_metrics(platform, http):
    router_before = await _scrape(platform, "router")
    relay_before = await _scrape(platform, "relay")

    receipt = await _submit(http)
    await wait_for_entry(http, receipt, "ROUTED")

    async def routed() -> Samples | None:
        samples = await _scrape(platform, "router")
        moved = value(samples, ROUTED_COUNT) - value(router_before, ROUTED_COUNT)
        return samples if moved >= 1 else None

    router_after = await eventually(routed, what="the routed latency to count the case")
    assert value(router_after, ROUTED_COUNT) - value(router_before, ROUTED_COUNT) == 1
    assert (
        value(router_after, ROUTED_COUNT, matter="assistance.dibao")
        - value(router_before, ROUTED_COUNT, matter="assistance.dibao")
        == 1
    )
    assert (
        value(router_after, ROUTER_EVENTS, event="CaseAccepted")
        - value(router_before, ROUTER_EVENTS, event="CaseAccepted")
        >= 1
    )
    assert (
        value(router_after, HANDLED_COUNT, event="CaseAccepted", result="done")
        - value(router_before, HANDLED_COUNT, event="CaseAccepted", result="done")
        >= 1
    )
    relay_after = await _scrape(platform, "relay")
    assert (
        value(relay_after, PUBLISH_COUNT, service="intake")
        - value(relay_before, PUBLISH_COUNT, service="intake")
        >= 1
    )

    routed_lines = [
        r for r in _router_lines(platform, receipt) if r["message"].startswith("routed")
    ]
    assert len(routed_lines) == 1, routed_lines
    assert routed_lines[0]["level"] == "INFO"
    assert routed_lines[0]["message"] == f"routed {receipt} (assistance.dibao) to assistance"


PROBES = 20


def _log_sizes(platform: Platform, names: tuple[str, ...]) -> dict[str, int]:
    return {name: platform.log_path(name).stat().st_size for name in names}


def _added(platform: Platform, name: str, since: int) -> list[str]:
    with platform.log_path(name).open("rb") as log:
        log.seek(since)
        return log.read().decode(errors="replace").splitlines()


async def test_health_probes_leave_no_line_in_any_log(platform):
    grpc_probed = ("intake", "assistance", "relay")
    before = _log_sizes(platform, ("router", *grpc_probed))

    async with aiohttp.ClientSession() as session:
        for _ in range(PROBES):
            async with session.get(f"http://127.0.0.1:{platform.ports.router_http}/healthz") as r:
                assert r.status == 200
                assert await r.text() == "SERVING"
    for name in grpc_probed:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{platform.ports.grpc_port(name)}") as ch:
            health = health_pb2_grpc.HealthStub(ch)
            for _ in range(PROBES):
                answer = await health.Check(health_pb2.HealthCheckRequest(service=""))
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
    # eventlet writes its access line after the answer has gone: give it the time to.
    await asyncio.sleep(1.0)

    # The router logs its timer's rounds at DEBUG meanwhile: only probes must not show.
    router = [line for line in _added(platform, "router", before["router"]) if "healthz" in line]
    assert router == []
    for name in grpc_probed:
        probes = [line for line in _added(platform, name, before[name]) if "Health" in line]
        assert probes == [], name
