"""Accept where the applicant lives, decide where the hukou is: three bureaus on loopback
(Taicang 320585, Kunshan 320583 and Shanghai's Pudong 310115), each with its own databases,
RabbitMQ virtual host and certificate authority, talking over mutual TLS."""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import grpc
import pytest

from onedoor.case.v1 import case_pb2
from onedoor.federation.v1 import federation_service_pb2 as fpb
from onedoor.federation.v1 import federation_service_pb2_grpc
from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from services.common import auth
from services.common.telemetry import RECEIPT_KEY
from services.launcher.certificates import Authority, authority, issue
from services.launcher.cities import City, prepare, start, tear_down
from services.launcher.platform import Ports
from services.launcher.trace_sink import TraceSink
from tests.conftest import AddMetadata, bearer, eventually
from tests.factories import Person, application, person
from tests.test_notifier import (
    _settled,
    messages,
    notices,
    redeliver_all,
    ten_in_the_morning,
    wait_messages,
)

CITIES = {"taicang": "320585", "kunshan": "320583", "pudong": "310115"}

# Three whole platforms: not for `make test-unit`.
pytestmark = pytest.mark.platform


@pytest.fixture(scope="module")
def cities(
    tmp_path_factory: pytest.TempPathFactory, trace_sink: TraceSink
) -> Iterator[dict[str, City]]:
    found = prepare(
        tmp_path_factory.mktemp("federation"),
        CITIES,
        {name: Ports.free() for name in CITIES},
        {
            "GATEWAY_FEDERATION_POLL_SECONDS": "0.5",
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": trace_sink.endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
            # The notifiers' clocks start at 10:00 bureau time: quiet hours hold nothing back,
            # whatever the hour the tests run.
            "NOTIFIER_CLOCK_START": ten_in_the_morning().isoformat(),
        },
        tag=f"fed{os.getpid()}",
    )
    try:
        start(found)
        yield found
    finally:
        tear_down(found)


def _as(city: City, role: str = "window_clerk", department: str = "") -> dict[str, str]:
    return bearer(role, city.division, department)


async def _post(
    session: aiohttp.ClientSession,
    url: str,
    body: dict[str, Any],
    expect: int = 200,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    async with session.post(url, json=body, headers=headers) as response:
        answer = dict(await response.json())
        assert response.status == expect, answer
        return answer


async def _application(session: aiohttp.ClientSession, city: City, receipt: str) -> dict[str, Any]:
    async with session.get(f"{city.http}/v1/applications/{receipt}", headers=_as(city)) as response:
        assert response.status == 200, await response.text()
        return dict((await response.json())["application"])


async def _delivered(session: aiohttp.ClientSession, city: City, receipt: str) -> dict[str, Any]:
    async def check():
        shown = await _application(session, city, receipt)
        return shown if shown.get("forwarding", {}).get("state") == "delivered" else None

    return await eventually(check, timeout=30, what=f"{receipt} delivered to the home jurisdiction")


async def _status(
    session: aiohttp.ClientSession, city: City, receipt: str, status: str
) -> dict[str, Any]:
    async def check():
        shown = await _application(session, city, receipt)
        return shown if shown["status"] == status else None

    return await eventually(check, timeout=30, what=f"{receipt} to be {status} in {city.name}")


async def _approve_at_home(session: aiohttp.ClientSession, home: City, receipt: str) -> None:
    await _status(session, home, receipt, "CASE_STATUS_ROUTED")
    body = {
        "requestId": str(uuid.uuid4()),
        "decision": "DECISION_APPROVE",
    }
    officer = _as(home, "officer", "assistance")
    await _post(
        session,
        f"{home.http}/v1/departments/assistance/cases/{receipt}:decide",
        body,
        headers=officer,
    )


async def _audit(session: aiohttp.ClientSession, city: City, receipt: str) -> list[dict[str, Any]]:
    async with session.get(
        f"{city.http}/v1/audit", params={"receipt": receipt}, headers=_as(city, "auditor")
    ) as response:
        return list((await response.json()).get("entries", []))


async def test_kunshan_resident_in_taicang_is_decided_in_kunshan_and_seen_done_in_taicang(
    cities, session, trace_sink
):
    taicang, kunshan = cities["taicang"], cities["kunshan"]
    body = application("assistance.temporary", person(division="320583"), requestedAmountFen=80000)
    accepted = await _post(session, f"{taicang.http}/v1/applications", body, headers=_as(taicang))
    assert accepted["status"] == "CASE_STATUS_FORWARDED"
    receipt = accepted["receipt"]
    assert receipt.startswith("320585-")

    shown = await _delivered(session, taicang, receipt)
    remote = shown["forwarding"]["remoteReceipt"]
    assert remote.startswith("320583-")
    await _approve_at_home(session, kunshan, remote)

    done = await _status(session, taicang, receipt, "CASE_STATUS_APPROVED")
    kinds = [e["kind"] for e in done["timeline"]]
    assert kinds[:2] == ["TIMELINE_ENTRY_KIND_ACCEPTED", "TIMELINE_ENTRY_KIND_FORWARDED"]
    assert "TIMELINE_ENTRY_KIND_APPROVED" in kinds
    assert done["forwarding"]["remoteStatus"] == "CASE_STATUS_APPROVED"
    assert any(
        e["kind"] == "TIMELINE_ENTRY_KIND_APPROVED" for e in done["forwarding"]["remoteTimeline"]
    )

    # The same trace, from the window in Taicang to the department in Kunshan.
    async def both_cities():
        spans = trace_sink.spans(accepted["traceId"])
        receipts = {s.attributes.get(RECEIPT_KEY) for s in spans}
        return (
            spans
            if {receipt, remote} <= receipts
            and any(s.name.endswith("DepartmentService/OpenCase") for s in spans)
            else None
        )

    await eventually(both_cities, timeout=30, what="one trace across Taicang and Kunshan")

    # Both sides audited the exchange: who, which case, which fields (names only).
    sent = await _audit(session, taicang, receipt)
    assert any(e["action"] == "forward.sent" and e["actor"] == "peer:kunshan" for e in sent)
    received = await _audit(session, kunshan, remote)
    entry = next(e for e in received if e["action"] == "forward.received")
    assert entry["actor"] == "peer:taicang"
    assert "applicant.id_number" in entry["fields"]
    assert "clerk jurisdiction 320585" in entry["detail"] and receipt in entry["detail"]
    assert body["applicant"]["idNumber"] not in str(received)


async def test_shanghai_hukou_disability_subsidy_crosses_provinces(cities, session):
    taicang, pudong = cities["taicang"], cities["pudong"]
    body = application(
        "assistance.disability_subsidy",
        person(division="310115"),
        disability={"grade": 1, "certificateNumber": "31011519700101"},
    )
    receipt = (await _post(session, f"{taicang.http}/v1/applications", body, headers=_as(taicang)))[
        "receipt"
    ]
    remote = (await _delivered(session, taicang, receipt))["forwarding"]["remoteReceipt"]
    assert remote.startswith("310115-")
    await _approve_at_home(session, pudong, remote)
    await _status(session, taicang, receipt, "CASE_STATUS_APPROVED")


async def test_a_division_no_peer_serves_is_refused(cities, session):
    body = application("assistance.temporary", person(division="110101"), requestedAmountFen=1000)
    taicang = cities["taicang"]
    answer = await _post(
        session, f"{taicang.http}/v1/applications", body, expect=400, headers=_as(taicang)
    )
    assert answer["error"]["details"][-1]["reason"] == "NO_PEER_FOR_DIVISION"
    assert "东城区" in answer["error"]["message"]


def _rogue_stub(
    target: City, ca: Authority, name: str, directory: Path
) -> tuple[grpc.aio.Channel, Any]:
    cert, key = issue(ca, name, directory)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=target.authority.pem,
        private_key=key.read_bytes(),
        certificate_chain=cert.read_bytes(),
    )
    channel = grpc.aio.secure_channel(
        f"127.0.0.1:{target.platform.ports.gateway_peer}",
        credentials,
        options=[("grpc.ssl_target_name_override", target.name)],
    )
    return channel, federation_service_pb2_grpc.FederationServiceStub(channel)


async def test_a_peer_with_a_certificate_from_an_unknown_authority_is_refused(cities, tmp_path):
    kunshan = cities["kunshan"]
    request = fpb.ForwardApplicationRequest(
        accepting_receipt="320585-AAAAA-BBBBB", accepting_division="320585"
    )
    channel, stub = _rogue_stub(kunshan, authority("rogue"), "taicang", tmp_path)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.ForwardApplication(request, timeout=5)
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE  # the TLS handshake fails

    # Signed by an authority Kunshan knows (Pudong's), but claiming to be Taicang.
    channel, stub = _rogue_stub(kunshan, cities["pudong"].authority, "taicang", tmp_path)
    async with channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await stub.ForwardApplication(request, timeout=5)
    assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_peer_down_at_submission_gets_the_case_once_it_is_back(cities, session):
    taicang, kunshan = cities["taicang"], cities["kunshan"]
    kunshan.platform.kill("gateway", signal.SIGTERM)
    try:
        body = application(
            "assistance.temporary", person(division="320583"), requestedAmountFen=30000
        )
        receipt = (
            await _post(session, f"{taicang.http}/v1/applications", body, headers=_as(taicang))
        )["receipt"]

        async def tried():
            shown = await _application(session, taicang, receipt)
            forwarding = shown.get("forwarding", {})
            return (
                shown
                if forwarding.get("state") == "awaiting_home" and forwarding.get("attempts", 0) >= 1
                else None
            )

        waiting = await eventually(tried, timeout=30, what="a failed delivery attempt")
        assert waiting["status"] == "CASE_STATUS_FORWARDED"
    finally:
        kunshan.platform.start("gateway")
        kunshan.platform.wait_healthy(timeout=60)

    remote = (await _delivered(session, taicang, receipt))["forwarding"]["remoteReceipt"]
    conn = await asyncpg.connect(kunshan.platform.database_url("intake"))
    try:
        held = await conn.fetchval(
            "SELECT count(*) FROM origins WHERE accepting_receipt = $1", receipt
        )
        assert held == 1
        assert (
            await conn.fetchval("SELECT receipt FROM origins WHERE accepting_receipt = $1", receipt)
            == remote
        )
    finally:
        await conn.close()


async def test_the_applicant_is_told_here_when_home_accepts_and_decides_a_forwarded_case(
    cities, session
):
    """Taicang forwarded the case: its notifier tells the applicant, once each, that home has
    it and that home decided it (published by intake with the entries, in their transaction),
    however often Taicang pulls the same status from home."""
    taicang, kunshan = cities["taicang"], cities["kunshan"]
    applicant = person(division="320583")
    body = application("assistance.temporary", applicant, requestedAmountFen=80000)
    accepted = await _post(session, f"{taicang.http}/v1/applications", body, headers=_as(taicang))
    receipt = accepted["receipt"]
    outbox = taicang.platform.notifier_messages

    shown = await _delivered(session, taicang, receipt)
    (forwarded,) = await wait_messages(outbox, receipt, 1, timeout=30)
    assert forwarded["to"] == applicant.phone
    assert "已转至户籍地民政部门办理" in forwarded["text"], forwarded["text"]
    assert applicant.id_number not in forwarded["text"]

    await _approve_at_home(session, kunshan, shown["forwarding"]["remoteReceipt"])
    await _status(session, taicang, receipt, "CASE_STATUS_APPROVED")
    found = await wait_messages(outbox, receipt, 2, timeout=30)
    assert "户籍地民政部门已作出决定" in found[1]["text"], found[1]["text"]

    # Home's status reported again, as a pull or home's report does: nothing more is
    # published or sent.
    async with grpc.aio.insecure_channel(
        f"127.0.0.1:{taicang.platform.ports.intake}",
        interceptors=[AddMetadata(auth.service_metadata())],
    ) as channel:
        intake = intake_service_pb2_grpc.IntakeServiceStub(channel)
        for _ in range(2):
            await intake.RecordForward(
                intake_service_pb2.RecordForwardRequest(
                    receipt=receipt,
                    remote_receipt=shown["forwarding"]["remoteReceipt"],
                    remote_status=case_pb2.CASE_STATUS_APPROVED,
                )
            )
    conn = await asyncpg.connect(taicang.platform.database_url("intake"))
    try:
        published = await conn.fetch(
            "SELECT payload FROM outbox WHERE event_type = 'case_progressed'"
            "  AND payload->>'receipt' = $1",
            receipt,
        )
    finally:
        await conn.close()
    assert len(published) == 2
    await redeliver_all(taicang.platform, receipt, at_least=2)
    await _settled(taicang.platform, receipt)
    rows = await notices(taicang.platform, receipt)
    assert [(r["notice_key"], r["recipient"], r["state"]) for r in rows] == [
        ("forwarded.accepted_at_home", "applicant", "sent"),
        ("forwarded.decided_at_home", "applicant", "sent"),
    ]
    assert len(messages(outbox, receipt)) == 2


def _sent_to(city: City, phone: str) -> list[dict[str, Any]]:
    """Every message ``city``'s notifier sent to ``phone``, whatever the case."""
    try:
        lines = city.platform.notifier_messages.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [m for m in map(json.loads, lines) if m["to"] == phone]


async def _applied_at_home(session: aiohttp.ClientSession, home: City, body: dict[str, Any]) -> str:
    """A case applied for at ``home``'s own window, told there: proof its notifier is up and
    has taken the events published before."""
    receipt = str(
        (await _post(session, f"{home.http}/v1/applications", body, headers=_as(home)))["receipt"]
    )
    await wait_messages(home.platform.notifier_messages, receipt, 1, timeout=30)
    return receipt


def _disability_subsidy(applicant: Person) -> dict[str, Any]:
    return application(
        "assistance.disability_subsidy",
        applicant,
        disability={"grade": 2, "certificateNumber": "32058319800101"},
    )


async def test_the_home_city_tells_nothing_of_a_case_forwarded_to_it(cities, session):
    """Taicang, the window, tells the applicant of a case it forwarded (home's acceptance and
    decision, relayed: the test above). Kunshan accepts and decides that case but sends
    nothing of its own, or the applicant would hear each step twice, from two bureaus."""
    taicang, kunshan = cities["taicang"], cities["kunshan"]
    applicant = person(division="320583")
    body = application("assistance.temporary", applicant, requestedAmountFen=50000)
    receipt = (await _post(session, f"{taicang.http}/v1/applications", body, headers=_as(taicang)))[
        "receipt"
    ]
    remote = (await _delivered(session, taicang, receipt))["forwarding"]["remoteReceipt"]
    await _approve_at_home(session, kunshan, remote)
    await _status(session, kunshan, remote, "CASE_STATUS_APPROVED")
    await _status(session, taicang, receipt, "CASE_STATUS_APPROVED")
    told = await wait_messages(taicang.platform.notifier_messages, receipt, 2, timeout=30)
    assert [m["to"] for m in told] == [applicant.phone, applicant.phone]

    # Kunshan's notifier is up and telling (its own window's case), and has handled every
    # event of the forwarded case: none gave a message, nor a send record.
    control = await _applied_at_home(
        session, kunshan, application("assistance.temporary", applicant, requestedAmountFen=20000)
    )
    await _settled(kunshan.platform, remote)
    assert await notices(kunshan.platform, remote) == []
    assert messages(kunshan.platform.notifier_messages, remote) == []
    assert _sent_to(kunshan, applicant.phone) == messages(
        kunshan.platform.notifier_messages, control
    )


async def test_a_forward_home_refuses_is_told_once_by_the_window_city(cities, session):
    """Home refuses a forward (here: the applicant's application for the matter is already
    open there): Taicang settles it as rejected at home and tells the applicant once; Kunshan,
    which opened no case for it, tells nothing of it."""
    taicang, kunshan = cities["taicang"], cities["kunshan"]
    applicant = person(division="320583")
    body = _disability_subsidy(applicant)
    at_home = await _applied_at_home(session, kunshan, body)
    receipt = (await _post(session, f"{taicang.http}/v1/applications", body, headers=_as(taicang)))[
        "receipt"
    ]
    refused = await _status(session, taicang, receipt, "CASE_STATUS_REJECTED")
    assert not refused["forwarding"].get("remoteReceipt"), "home opened no case"

    (told,) = await wait_messages(taicang.platform.notifier_messages, receipt, 1, timeout=30)
    assert told["to"] == applicant.phone
    assert "户籍地民政部门已作出决定" in told["text"], told["text"]
    await redeliver_all(taicang.platform, receipt, at_least=1)
    await _settled(taicang.platform, receipt)
    rows = await notices(taicang.platform, receipt)
    assert [(r["notice_key"], r["recipient"], r["state"]) for r in rows] == [
        ("forwarded.decided_at_home", "applicant", "sent")
    ]
    assert _sent_to(taicang, applicant.phone) == [told]
    await _settled(kunshan.platform, at_home)
    assert _sent_to(kunshan, applicant.phone) == messages(
        kunshan.platform.notifier_messages, at_home
    )
