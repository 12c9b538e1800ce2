"""The notifier on the real platform: every step of a case gives its people one message,
whatever the deliveries; the HTTP provider's trouble is retried; quiet hours hold; an opt-out
sends nothing. Messages are read where the development provider writes them (the run's
directory), and from a local HTTP provider (services/notifier/tests/local_provider.py)."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aio_pika
import asyncpg
import pytest

from onedoor.department.v1 import department_service_pb2 as apb
from services.launcher.platform import ROOT, Platform, free_port
from services.notifier.tests.local_provider import ACCOUNT, SECRET, LocalProvider
from tests.conftest import eventually, wait_for_entry
from tests.factories import application, dibao_json, party, person


def messages(path: Path, receipt: str) -> list[dict[str, Any]]:
    """What the file provider wrote about ``receipt`` (its masked form is in the text)."""
    division, _, rest = receipt.partition("-")
    masked = f"{division}-*****-{rest.partition('-')[2]}"
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [m for m in map(json.loads, lines) if masked in m["text"]]


async def wait_messages(path: Path, receipt: str, count: int, timeout: float = 20.0) -> list[dict[str, Any]]:
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


async def sent_rows(platform: Platform, receipt: str, count: int) -> list[asyncpg.Record]:
    """The send records of ``receipt`` once ``count`` of them are sent."""

    async def check() -> list[asyncpg.Record] | None:
        rows = await notices(platform, receipt)
        return rows if sum(r["state"] == "sent" for r in rows) >= count else None

    return await eventually(check, timeout=20, what=f"{count} sent record(s) of {receipt}")


async def test_acceptance_sends_one_message_to_the_applicant(platform, http):
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


async def test_decisions_each_send_one_message_and_a_redelivery_none(platform, http, assistance):
    applicant = person()
    receipt = await submit(http, dibao_json(applicant))
    await wait_for_entry(http, receipt, "ROUTED")
    await assistance.DecideCase(decide(receipt, apb.DECISION_REQUEST_MATERIALS, "近六个月银行流水"))
    await wait_for_entry(http, receipt, "MATERIALS_REQUESTED")
    found = await wait_messages(platform.notifier_messages, receipt, 2)
    assert "近六个月银行流水" in found[1]["text"] and "补正材料" in found[1]["text"]
    await assistance.DecideCase(decide(receipt, apb.DECISION_REJECT, "家庭收入超过标准"))
    await wait_for_entry(http, receipt, "REJECTED")
    found = await wait_messages(platform.notifier_messages, receipt, 3)
    rejected = found[2]["text"]
    assert "家庭收入超过标准" in rejected and "行政复议" in rejected

    # Every event the case produced, delivered again: nothing more is sent.
    await redeliver_all(platform, receipt)
    await _settled(platform, receipt)
    assert len(messages(platform.notifier_messages, receipt)) == 3
    rows = await sent_rows(platform, receipt, 3)
    assert len(rows) == 3 and all(r["state"] == "sent" for r in rows)


async def redeliver_all(platform: Platform, receipt: str) -> None:
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
    assert len(published) >= 3
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
            ["rabbitmqctl", "-q", "list_queues", "-p", vhost, "name", "messages", "messages_unacknowledged"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        mine = [line.split() for line in listed if "notifier" in line]
        return bool(mine) and all(parts[1:] == ["0", "0"] for parts in mine)

    await eventually(drained, timeout=20, what="the notifier's queues drained")
    time.sleep(1.5)  # a send round after the last event
