"""Peer trouble told apart and surfaced, between two real bureaus on loopback (Taicang 320585
and Kunshan 320583, each with its own authority): a stopped peer is a peer down, a peer whose
certificate another authority signed is a TLS refusal; either shows on the forward, in the
metrics, in the log and (once per change of cause) in the audit log, and an operator lists the
stuck ones over HTTP and with `onedoor forwards`."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from cryptography import x509

from services.common import auth, metric_catalog
from services.launcher.certificates import authority, issue
from services.launcher.cities import City, prepare, start, tear_down
from services.launcher.platform import Ports
from tests.conftest import bearer, eventually
from tests.factories import application, person
from tests.metrics_scrape import scrape, value

CITIES = {"taicang": "320585", "kunshan": "320583"}
STUCK_AFTER_SECONDS = 2
REFUSALS = metric_catalog.FORWARD_REFUSALS.prometheus
ATTEMPTS = metric_catalog.FORWARD_ATTEMPTS.prometheus
WAITING = metric_catalog.FORWARDS_WAITING.prometheus
OLDEST_AGE = metric_catalog.FORWARDS_OLDEST_AGE.prometheus
NOT_AFTER = metric_catalog.CERTIFICATE_NOT_AFTER.prometheus
ONEDOOR = Path(sys.executable).parent / "onedoor"

pytestmark = pytest.mark.platform


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, City]]:
    found = prepare(
        tmp_path_factory.mktemp("peer-trouble"),
        CITIES,
        {name: Ports.free() for name in CITIES},
        {
            "GATEWAY_FEDERATION_POLL_SECONDS": "0.5",
            "GATEWAY_FEDERATION_STUCK_AFTER_SECONDS": str(STUCK_AFTER_SECONDS),
        },
        tag=f"trouble{os.getpid()}",
    )
    try:
        start(found)
        yield found
    finally:
        tear_down(found)


def _operator(city: City) -> dict[str, str]:
    return bearer("operator", city.division)


async def _submit_for_kunshan(session: aiohttp.ClientSession, taicang: City) -> str:
    body = application("assistance.temporary", person(division="320583"), requestedAmountFen=500)
    async with session.post(
        f"{taicang.http}/v1/applications", json=body, headers=bearer("window_clerk", "320585")
    ) as response:
        answer = await response.json()
        assert response.status == 200, answer
    assert answer["status"] == "CASE_STATUS_FORWARDED"
    return str(answer["receipt"])


async def _forwards(
    session: aiohttp.ClientSession,
    city: City,
    state: str = "",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    params = {"state": state} if state else {}
    async with session.get(
        f"{city.http}/v1/forwards", params=params, headers=headers or _operator(city)
    ) as response:
        return response.status, dict(await response.json())


async def _forward(
    session: aiohttp.ClientSession, city: City, receipt: str, state: str = ""
) -> dict[str, Any] | None:
    status, body = await _forwards(session, city, state)
    assert status == 200, body
    return next((f for f in body.get("forwards", []) if f["receipt"] == receipt), None)


async def _audit(session: aiohttp.ClientSession, city: City, receipt: str) -> list[dict[str, Any]]:
    async with session.get(
        f"{city.http}/v1/audit",
        params={"receipt": receipt},
        headers=bearer("auditor", city.division),
    ) as response:
        assert response.status == 200
        return list((await response.json()).get("entries", []))


def _restart_gateway(city: City, **env: str) -> None:
    city.platform.kill("gateway", signal.SIGTERM)
    city.platform.extra_env = {**city.platform.extra_env, **env}
    city.platform.start("gateway")
    city.platform.wait_healthy(timeout=60, names=("gateway",))


async def test_a_stopped_peer_is_down_and_gets_the_case_once_back(pair, session):
    taicang, kunshan = pair["taicang"], pair["kunshan"]
    metrics = taicang.platform.metrics_url("gateway")
    before = scrape(metrics)
    kunshan.platform.kill("gateway", signal.SIGTERM)
    try:
        receipt = await _submit_for_kunshan(session, taicang)

        async def failed():
            shown = await _forward(session, taicang, receipt)
            return shown if shown and shown.get("attempts", 0) >= 1 else None

        shown = await eventually(failed, timeout=30, what="a failed delivery to a stopped peer")
        assert shown["cause"] == "FORWARD_FAILURE_CAUSE_PEER_DOWN"
        assert shown["lastError"].startswith("kunshan: UNAVAILABLE")
        assert shown["state"] in ("FORWARD_STATE_WAITING", "FORWARD_STATE_STUCK")
        after = scrape(metrics)
        assert value(after, REFUSALS, peer="kunshan", cause="peer_down") > value(
            before, REFUSALS, peer="kunshan", cause="peer_down"
        )
        assert value(after, REFUSALS, cause="tls_refused") == value(
            before, REFUSALS, cause="tls_refused"
        )
    finally:
        kunshan.platform.start("gateway")
        kunshan.platform.wait_healthy(timeout=60, names=("gateway",))

    async def delivered():
        shown = await _forward(session, taicang, receipt, "delivered")
        return shown

    shown = await eventually(
        delivered, timeout=90, what=f"{receipt} delivered once Kunshan is back"
    )
    assert shown["cause"] == "FORWARD_FAILURE_CAUSE_UNSPECIFIED"
    assert value(scrape(metrics), ATTEMPTS, peer="kunshan", result="delivered") >= 1
    actions = [e["action"] for e in await _audit(session, taicang, receipt)]
    assert actions.count("forward.failed") == 1
    assert "forward.sent" in actions


async def test_a_peer_certificate_from_another_authority_is_a_tls_refusal(pair, session, tmp_path):
    taicang, kunshan = pair["taicang"], pair["kunshan"]
    metrics = taicang.platform.metrics_url("gateway")
    # Kunshan presents a certificate in its own name that Taicang's copy of Kunshan's
    # authority did not sign.
    cert, key = issue(authority("rogue"), "kunshan", tmp_path)
    _restart_gateway(kunshan, GATEWAY_TLS_CERT_FILE=str(cert), GATEWAY_TLS_KEY_FILE=str(key))
    before = scrape(metrics)
    receipt = await _submit_for_kunshan(session, taicang)

    async def retried():
        shown = await _forward(session, taicang, receipt)
        return shown if shown and shown.get("attempts", 0) >= 2 else None

    shown = await eventually(retried, timeout=30, what="two failed deliveries")
    assert shown["cause"] == "FORWARD_FAILURE_CAUSE_TLS_REFUSED"
    assert shown["lastError"] == (
        "kunshan: TLS handshake failed: unable to get local issuer certificate"
    )
    assert shown["peer"] == "kunshan" and shown["homeDivision"] == "320583"
    assert shown["nextAttemptTime"] > shown["lastAttemptTime"] >= shown["firstAttemptTime"]

    after = scrape(metrics)
    moved = value(after, REFUSALS, peer="kunshan", cause="tls_refused") - value(
        before, REFUSALS, peer="kunshan", cause="tls_refused"
    )
    assert moved >= 2

    async def counted():
        # The backlog is read from the ledger every few seconds, not at every scrape.
        return value(scrape(metrics), WAITING, peer="kunshan") >= 1

    await eventually(counted, timeout=30, what="the forward in the waiting gauge")

    # Audited once for the change of cause, not once per retry.
    failed = [e for e in await _audit(session, taicang, receipt) if e["action"] == "forward.failed"]
    assert len(failed) == 1
    assert failed[0]["actor"] == "peer:kunshan"
    assert failed[0]["detail"].startswith("tls_refused: kunshan: TLS handshake failed")

    # Held longer than the threshold, it is stuck: listed for an operator, refused to a clerk.
    async def stuck():
        return await _forward(session, taicang, receipt, "stuck")

    listed = await eventually(stuck, timeout=30, what=f"{receipt} listed as stuck")
    assert listed["state"] == "FORWARD_STATE_STUCK"
    assert await _forward(session, taicang, receipt, "waiting") is None
    status, refused = await _forwards(
        session, taicang, "stuck", headers=bearer("window_clerk", "320585")
    )
    assert status == 403, refused
    assert refused["error"]["status"] == "PERMISSION_DENIED"
    status, bad = await _forwards(session, taicang, "lost")
    assert status == 400 and "state" in bad["error"]["message"]

    async def aged():
        samples = scrape(metrics)
        return (
            samples if value(samples, OLDEST_AGE, peer="kunshan") >= STUCK_AFTER_SECONDS else None
        )

    samples = await eventually(aged, timeout=30, what="the oldest forward's age in the gauge")
    own = x509.load_pem_x509_certificate(
        Path(taicang.platform.extra_env["GATEWAY_TLS_CERT_FILE"]).read_bytes()
    )
    assert value(samples, NOT_AFTER, peer="taicang") == own.not_valid_after_utc.timestamp()

    # The command line shows the same, times in the bureau's local time.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ONEDOOR_")}
    environment |= {
        "ONEDOOR_GATEWAY": taicang.http,
        "ONEDOOR_TOKEN": auth.issue("operator", "320585"),
        "BUREAU_TIME_ZONE": "Asia/Shanghai",
    }
    process = await asyncio.create_subprocess_exec(
        str(ONEDOOR),
        "forwards",
        "--stuck",
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 0, err.decode()
    row = next(line for line in out.decode().splitlines() if line.startswith(receipt))
    assert row.split()[1:4] == ["kunshan", "STUCK", "tls_refused"]
    assert "+08:00" in row
    assert "TLS handshake failed" in row
