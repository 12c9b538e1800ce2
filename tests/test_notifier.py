"""The notifier on the real platform: every step of a case gives its people one message,
whatever the deliveries; the HTTP provider's trouble is retried; quiet hours hold; an opt-out
sends nothing. Messages are read where the development provider writes them (the run's
directory), and from a local HTTP provider (services/notifier/tests/local_provider.py)."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aio_pika
import asyncpg
import pytest

from onedoor.department.v1 import department_service_pb2 as apb
from services.launcher.platform import ROOT, Platform, free_port
from services.notifier.tests.local_provider import ACCOUNT, SECRET, LocalProvider
from tests.conftest import bearer, eventually, wait_for_entry
from tests.factories import application, dibao_json, party, person
from tests.test_matters import approved
from tests.test_outreach import approved_dibao_household, bill, ingest, push

__all__ = ["ingest"]  # a fixture, used by name


def messages(path: Path, receipt: str) -> list[dict[str, Any]]:
    """What the file provider wrote about ``receipt`` (its masked form is in the text)."""
    division, _, rest = receipt.partition("-")
    masked = f"{division}-*****-{rest.partition('-')[2]}"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [m for m in map(json.loads, lines) if masked in m["text"]]


async def wait_messages(
    path: Path, receipt: str, count: int, timeout: float = 20.0
) -> list[dict[str, Any]]:
    async def check() -> list[dict[str, Any]] | None:
        found = messages(path, receipt)
        return found if len(found) >= count else None

    return await eventually(check, timeout=timeout, what=f"{count} message(s) for {receipt}")


async def submit(http, body: dict[str, Any]) -> str:
    async with http.post("/v1/applications", json=body) as response:
        answer = await response.json()
        assert response.status == 200, answer
        return str(answer["receipt"])


def decide(receipt: str, decision: int, reason: str = "") -> apb.DecideCaseRequest:
    return apb.DecideCaseRequest(
        request_id=str(uuid.uuid4()),
        receipt=receipt,
        decision=decision,
        reason=reason,
        officer_id="officer-0042",
    )


async def notices(platform: Platform, receipt: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(platform.database_url("notifier"))
    try:
        return await conn.fetch(
            "SELECT notice_key, recipient, event, state, due_at, attempts, last_cause"
            "  FROM notices WHERE receipt = $1 ORDER BY id",
            receipt,
        )
    finally:
        await conn.close()


BUREAU = ZoneInfo("Asia/Shanghai")


def bureau_instant(day: dt.date, at: dt.time) -> dt.datetime:
    return dt.datetime.combine(day, at, tzinfo=BUREAU).astimezone(dt.UTC)


def _started(module: str, environ: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env=environ,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stopped(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)


def _until(check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while not check():
        assert process.poll() is None, log.read_text()[-3000:]
        assert time.monotonic() < deadline, f"{log.name}: the test's process did not start"
        time.sleep(0.2)


@contextmanager
def notifier(
    platform: Platform,
    fake_start: dt.datetime,
    speed: float = 1.0,
    name: str = "notifier-test",
    **env: str,
) -> Iterator[subprocess.Popen[bytes]]:
    """The platform's notifier and its send records (which record what the events call for)
    replaced by two whose clock starts at ``fake_start`` (NOTIFIER_CLOCK_START; timers still
    run in real seconds), with ``env`` over the platform's settings. Quiet hours make the
    time of day part of every test: a test run at 23:00 in China must not find its messages
    held. Yields the notifier."""
    for own in ("notifier", "notifier_records"):
        if own in platform.processes:
            platform.kill(own, signal.SIGTERM)
    port, metrics_port = free_port(), free_port()
    environ = {
        **platform.env(),
        "NOTIFIER_HTTP_PORT": str(port),
        "NOTIFIER_METRICS_PORT": str(metrics_port),
        "NOTIFIER_CLOCK_START": fake_start.astimezone(dt.UTC).isoformat(),
        "NOTIFIER_CLOCK_RATE": str(speed),
        **env,
    }
    records_log = platform.log_dir / f"{name}-records.log"
    records = _started("services.notifier.records", environ, records_log)
    spec = next(s for s in platform.specs if s.name == "notifier_records")
    log = platform.log_dir / f"{name}.log"
    process: subprocess.Popen[bytes] | None = None
    try:
        _until(lambda: platform.is_healthy(spec), records, records_log)
        process = _started("services.notifier", environ, log)
        process.metrics_url = f"http://127.0.0.1:{metrics_port}/metrics"  # type: ignore[attr-defined]
        _until(lambda: _healthy(port), process, log)
        yield process
    finally:
        if process is not None:
            _stopped(process)
        _stopped(records)
        # Both before the wait, which refuses to go on while a process lies dead.
        platform.start("notifier_records")
        platform.start("notifier")
        platform.wait_healthy(names=("notifier_records", "notifier"))


def _healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as answer:
            return bool(answer.status == 200)
    except OSError:
        return False


def ten_in_the_morning() -> dt.datetime:
    """Today, 10:00 bureau time: outside quiet hours, whenever the tests run."""
    return bureau_instant(dt.datetime.now(BUREAU).date(), dt.time(10, 0))


@pytest.fixture
def daytime(platform: Platform) -> Iterator[None]:
    with notifier(platform, ten_in_the_morning(), name="notifier-daytime"):
        yield


async def sent_rows(platform: Platform, receipt: str, count: int) -> list[asyncpg.Record]:
    """The send records of ``receipt`` once ``count`` of them are sent."""

    async def check() -> list[asyncpg.Record] | None:
        rows = await notices(platform, receipt)
        return rows if sum(r["state"] == "sent" for r in rows) >= count else None

    return await eventually(check, timeout=20, what=f"{count} sent record(s) of {receipt}")


async def test_acceptance_sends_one_message_to_the_applicant(platform, http, daytime):
    applicant = person()
    receipt = await submit(http, dibao_json(applicant))
    (sent,) = await wait_messages(platform.notifier_messages, receipt, 1)
    assert sent["to"] == applicant.phone
    assert "已受理" in sent["text"] and "最低生活保障" in sent["text"]
    assert receipt not in sent["text"], "the receipt's middle group is masked"
    assert applicant.name not in sent["text"] and applicant.id_number not in sent["text"]
    rows = await sent_rows(platform, receipt, 1)
    assert [(r["notice_key"], r["recipient"], r["state"]) for r in rows] == [
        ("accepted", "applicant", "sent")
    ]


async def test_decisions_each_send_one_message_and_a_redelivery_none(
    platform, http, assistance, daytime
):
    applicant = person()
    receipt = await submit(http, dibao_json(applicant))
    await wait_for_entry(http, receipt, "ROUTED")
    await assistance.DecideCase(decide(receipt, apb.DECISION_REQUEST_MATERIALS, "近六个月银行流水"))
    await wait_for_entry(http, receipt, "MATERIALS_REQUESTED")
    found = await wait_messages(platform.notifier_messages, receipt, 2)
    # The acceptance and the request come moments apart: a sender may take them in either order.
    assert [m for m in found if "近六个月银行流水" in m["text"] and "补正材料" in m["text"]]
    async with http.post(
        f"/v1/applications/{receipt}:supplyMaterials", json={"materials": ["income_proof"]}
    ) as response:
        assert response.status == 200, await response.text()
    found = await wait_messages(platform.notifier_messages, receipt, 3)
    assert "补正材料已收到" in found[2]["text"]
    await assistance.DecideCase(decide(receipt, apb.DECISION_REJECT, "家庭收入超过标准"))
    await wait_for_entry(http, receipt, "REJECTED")
    found = await wait_messages(platform.notifier_messages, receipt, 4)
    rejected = found[3]["text"]
    assert "家庭收入超过标准" in rejected and "行政复议" in rejected

    # Every event the case produced, delivered again: nothing more is sent.
    await redeliver_all(platform, receipt)
    await _settled(platform, receipt)
    assert len(messages(platform.notifier_messages, receipt)) == 4
    rows = await sent_rows(platform, receipt, 4)
    assert len(rows) == 4 and all(r["state"] == "sent" for r in rows)


async def redeliver_all(platform: Platform, receipt: str, at_least: int = 4) -> None:
    """Publishes a copy of every event about ``receipt`` the outboxes hold, as the relay did."""
    published = []
    for service, exchange in (("intake", "intake.events"), ("assistance", "assistance.events")):
        conn = await asyncpg.connect(platform.database_url(service))
        try:
            rows = await conn.fetch(
                "SELECT event_type, payload FROM outbox WHERE payload->>'receipt' = $1", receipt
            )
        finally:
            await conn.close()
        published += [(exchange, r["event_type"], json.loads(r["payload"])) for r in rows]
    assert len(published) >= at_least
    connection = await aio_pika.connect(platform.amqp_uri)
    async with connection:
        channel = await connection.channel()
        for exchange, event_type, payload in published:
            target = await channel.declare_exchange(
                exchange, aio_pika.ExchangeType.TOPIC, durable=True
            )
            await target.publish(
                aio_pika.Message(
                    body=json.dumps(payload).encode(),
                    content_type="application/json",
                    content_encoding="utf-8",
                    headers={
                        "nameko.traceparent": f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01",
                    },
                ),
                routing_key=event_type,
            )


async def _settled(platform: Platform, receipt: str) -> None:
    """Waits until the notifier's queues are empty (the redelivered events handled)."""
    vhost = platform.amqp_uri.rsplit("/", 1)[1]

    async def drained() -> bool:
        listed = subprocess.run(
            [
                "rabbitmqctl",
                "-q",
                "list_queues",
                "-p",
                vhost,
                "name",
                "messages",
                "messages_unacknowledged",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        mine = [line.split() for line in listed if "notifier" in line]
        return bool(mine) and all(parts[1:] == ["0", "0"] for parts in mine)

    await eventually(drained, timeout=20, what="the notifier's queues drained")
    time.sleep(1.5)  # a send round after the last event


async def test_a_divorce_tells_both_parties_each_in_their_language_and_dates_its_calendar(
    platform, http, daytime
):
    husband, wife = person(age=35, sex="male"), person(age=33, sex="female")
    other = {**party(wife), "notices": {"language": "en"}}
    # Married first, which tells both of them too: accepted and approved.
    marriage = await approved(
        http, "registry", application("registry.marriage", husband, otherParty=other)
    )
    wed = await wait_messages(platform.notifier_messages, marriage, 4)
    assert sorted(m["to"] for m in wed) == sorted(
        [husband.phone, husband.phone, wife.phone, wife.phone]
    )
    receipt = await submit(http, application("registry.divorce", husband, otherParty=other))
    found = await wait_messages(platform.notifier_messages, receipt, 2)
    by_phone = {m["to"]: m["text"] for m in found}
    assert set(by_phone) == {husband.phone, wife.phone}
    assert "离婚冷静期" in by_phone[husband.phone]
    assert "cooling-off period" in by_phone[wife.phone]
    rows = await notices(platform, receipt)
    calendar = [r for r in rows if r["notice_key"].startswith("divorce.")]
    # Three dated notices for each party, waiting for their mornings.
    assert len(calendar) == 6 and {r["state"] for r in calendar} == {"pending"}
    for row in calendar:
        local = row["due_at"].astimezone(BUREAU)
        assert local.time() == dt.time(9, 0) and local.date() > dt.datetime.now(BUREAU).date()


async def test_an_opt_out_sends_nothing(platform, http, assistance, daytime):
    applicant = person()
    body = dibao_json(applicant)
    body["applicant"]["notices"] = {"optedOut": True}
    receipt = await submit(http, body)
    await wait_for_entry(http, receipt, "ROUTED")
    await assistance.DecideCase(decide(receipt, apb.DECISION_APPROVE))
    await wait_for_entry(http, receipt, "APPROVED")

    async def recorded() -> list[asyncpg.Record] | None:
        rows = await notices(platform, receipt)
        return rows if len(rows) == 2 else None

    rows = await eventually(recorded, what="both notices recorded")
    assert {r["state"] for r in rows} == {"opted_out"}
    # A later message of another case has gone out: this case's would have too by now.
    control = await submit(http, dibao_json())
    await wait_messages(platform.notifier_messages, control, 1)
    assert messages(platform.notifier_messages, receipt) == []


async def test_quiet_hours_hold_at_23_and_release_at_8(platform, http):
    day = dt.datetime.now(BUREAU).date()
    with notifier(platform, bureau_instant(day, dt.time(23, 0)), name="notifier-night"):
        receipt = await submit(http, dibao_json())

        async def recorded() -> list[asyncpg.Record] | None:
            return await notices(platform, receipt) or None

        (row,) = await eventually(recorded, what="the acceptance recorded")
        assert row["state"] == "pending"
        assert row["due_at"] == bureau_instant(day + dt.timedelta(days=1), dt.time(8, 0))
        time.sleep(3)
        assert messages(platform.notifier_messages, receipt) == []
        assert (await notices(platform, receipt))[0]["state"] == "pending"
    # The next morning, 07:58 with the clock running ten times fast: it goes at 08:00.
    morning = bureau_instant(day + dt.timedelta(days=1), dt.time(7, 58))
    with notifier(platform, morning, speed=10, name="notifier-morning"):
        (sent,) = await wait_messages(platform.notifier_messages, receipt, 1, timeout=40)
    at = dt.datetime.fromisoformat(sent["at"]).astimezone(BUREAU)
    assert at >= bureau_instant(day + dt.timedelta(days=1), dt.time(8, 0))


@pytest.fixture
def local_provider() -> Iterator[LocalProvider]:
    provider = LocalProvider()
    provider.start()
    yield provider
    provider.stop()


def http_provider_env(provider: LocalProvider) -> dict[str, str]:
    return {
        "NOTIFIER_PROVIDER": "http",
        "NOTIFIER_PROVIDER_URL": provider.url,
        "NOTIFIER_PROVIDER_ACCOUNT": ACCOUNT,
        "NOTIFIER_PROVIDER_SECRET": SECRET,
        "NOTIFIER_PROVIDER_TIMEOUT_SECONDS": "1",
        "NOTIFIER_LEASE_SECONDS": "3",
    }


async def test_a_provider_answering_429_then_200_delivers_once(platform, http, local_provider):
    local_provider.script.extend([429, 503])
    env = http_provider_env(local_provider)
    with notifier(platform, ten_in_the_morning(), name="notifier-http", **env):
        applicant = person()
        receipt = await submit(http, dibao_json(applicant))
        (row,) = await sent_rows(platform, receipt, 1)
    assert row["attempts"] == 3
    delivered = [d for d in local_provider.delivered.values() if d.key.startswith(receipt)]
    assert len(delivered) == 1 and delivered[0].to == applicant.phone
    assert local_provider.bad_signatures == 0


async def test_a_notifier_killed_mid_send_still_sends_once(platform, http, local_provider):
    # The provider takes the message, then hangs: the notifier is SIGKILLed before it hears
    # back, so its record still says "sending". The next notifier sends it again after the
    # lease, with the same idempotency key, and the provider keeps one.
    local_provider.script.append("accept-then-hang")
    local_provider.hang_seconds = 30
    env = http_provider_env(local_provider) | {
        "NOTIFIER_PROVIDER_TIMEOUT_SECONDS": "20",
        "NOTIFIER_LEASE_SECONDS": "25",
    }
    receipt = ""
    with notifier(platform, ten_in_the_morning(), name="notifier-killed", **env) as first:
        receipt = await submit(http, dibao_json())

        async def in_flight() -> bool:
            return any(k.startswith(receipt) for k in local_provider.delivered)

        await eventually(in_flight, what="the message at the provider")
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        (row,) = await notices(platform, receipt)
        assert row["state"] == "sending"
    env["NOTIFIER_PROVIDER_TIMEOUT_SECONDS"] = "1"
    env["NOTIFIER_LEASE_SECONDS"] = "3"
    # 30 s later on the clock: the dead sender's lease has run out.
    later = ten_in_the_morning() + dt.timedelta(seconds=30)
    with notifier(platform, later, name="notifier-after-kill", **env):
        (row,) = await sent_rows(platform, receipt, 1)
    assert row["attempts"] == 2
    assert sum(k.startswith(receipt) for k in local_provider.delivered) == 1


async def test_a_message_given_up_is_on_the_timeline_and_counted(platform, http, local_provider):
    # The provider refuses our signature: no retry mends that.
    env = http_provider_env(local_provider) | {"NOTIFIER_PROVIDER_SECRET": "not-the-secret"}
    with notifier(platform, ten_in_the_morning(), name="notifier-refused", **env) as process:
        receipt = await submit(http, dibao_json())
        application = await wait_for_entry(http, receipt, "NOTICE_UNDELIVERED")
        with urllib.request.urlopen(process.metrics_url, timeout=5) as answer:
            scraped = answer.read().decode()
    (row,) = await notices(platform, receipt)
    assert (row["state"], row["last_cause"]) == ("failed", "credentials_refused")
    (entry,) = [
        e for e in application["timeline"] if e["kind"] == "TIMELINE_ENTRY_KIND_NOTICE_UNDELIVERED"
    ]
    assert "短信" in entry["message"]["text"]
    assert re.search(
        r'onedoor_notifier_messages_total\{[^}]*event="accepted"[^}]*outcome="failed"[^}]*\} 1',
        scraped,
    ), scraped[-2000:]
    assert not local_provider.delivered and local_provider.bad_signatures == 1


async def test_a_proactive_case_asks_the_person_to_confirm_once(
    platform, http, assistance, ingest, daytime
):
    """A case an officer opens from a warning tells its person it waits for their
    confirmation (by the case's deadline, as a local date), not that it was accepted; once,
    however often its case_accepted comes."""
    members, dibao_receipt = await approved_dibao_household(http, assistance)
    await push(ingest, [bill(members[1], 600_000)])
    officer = bearer("officer", department="assistance", name="王科员")

    async def warning() -> dict[str, Any] | None:
        listed = await http.get(
            "/v1/departments/assistance/warnings",
            params={"state": "new", "pageSize": "200"},
            headers=officer,
        )
        found = [
            w
            for w in (await listed.json())["warnings"]
            if w["sourceReceipt"] == dibao_receipt
            and w["kind"] == "WARNING_KIND_ILLNESS_POVERTY_RISK"
        ]
        return found[0] if found else None

    raised = await eventually(warning, timeout=20, what="the risk warning")
    opened = await http.post(
        f"/v1/departments/assistance/warnings/{raised['warningId']}:openCase", headers=officer
    )
    assert opened.status == 200, await opened.text()
    receipt = (await opened.json())["warning"]["receipt"]
    case = await wait_for_entry(http, receipt, "ROUTED")

    (sent,) = await wait_messages(platform.notifier_messages, receipt, 1)
    deadline = dt.datetime.fromisoformat(case["decisionDeadline"]).astimezone(BUREAU).date()
    local = f"{deadline.year}年{deadline.month}月{deadline.day}日"
    assert f"请于{local}前到受理窗口确认" in sent["text"], sent["text"]
    assert "已受理" not in sent["text"]
    source = (await wait_messages(platform.notifier_messages, dibao_receipt, 1))[0]
    assert sent["to"] == source["to"], "the household's applicant, as the source case has them"

    await redeliver_all(platform, receipt, at_least=1)
    await _settled(platform, receipt)
    assert len(messages(platform.notifier_messages, receipt)) == 1
    rows = await sent_rows(platform, receipt, 1)
    assert [(r["notice_key"], r["recipient"], r["event"]) for r in rows] == [
        ("proactive.awaiting_confirmation", "applicant", "proactive_awaiting_confirmation")
    ]
