"""Officer decisions flow back to the case's timeline, once; redelivered events change nothing."""

from __future__ import annotations

import json
import secrets
import uuid

import aio_pika
import asyncpg
import grpc
import pytest

from onedoor.department.v1 import department_service_pb2 as apb
from tests.conftest import eventually, get_application, wait_for_entry
from tests.factories import dibao_json


async def _submit_and_route(http) -> str:
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    return receipt


def _decide(
    receipt: str, decision: int, reason: str = "", request_id: str | None = None
) -> apb.DecideCaseRequest:
    return apb.DecideCaseRequest(
        request_id=request_id or str(uuid.uuid4()),
        receipt=receipt,
        decision=decision,
        reason=reason,
        officer_id="officer-0042",
    )


async def test_approval_reaches_the_timeline_once(http, assistance):
    receipt = await _submit_and_route(http)
    decision = _decide(receipt, apb.DECISION_APPROVE)
    decided = await assistance.DecideCase(decision)
    assert decided.case.state == apb.CASE_STATE_APPROVED
    assert decided.case.assessment.eligible

    application = await wait_for_entry(http, receipt, "APPROVED")
    assert application["status"] == "CASE_STATUS_APPROVED"

    # The officer's client retries the same action: nothing happens twice.
    again = await assistance.DecideCase(decision)
    assert again.case.state == apb.CASE_STATE_APPROVED
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await assistance.DecideCase(_decide(receipt, apb.DECISION_REJECT, "changed my mind"))
    assert raised.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    application = await get_application(http, receipt)
    kinds = [e["kind"] for e in application["timeline"]]
    assert kinds.count("TIMELINE_ENTRY_KIND_APPROVED") == 1
    assert "TIMELINE_ENTRY_KIND_REJECTED" not in kinds


async def test_request_for_materials_then_rejection(http, assistance):
    receipt = await _submit_and_route(http)
    await assistance.DecideCase(
        _decide(receipt, apb.DECISION_REQUEST_MATERIALS, "bank statements for 6 months")
    )
    application = await wait_for_entry(http, receipt, "MATERIALS_REQUESTED")
    assert application["status"] == "CASE_STATUS_AWAITING_MATERIALS"
    entry = next(
        e for e in application["timeline"] if e["kind"] == "TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED"
    )
    assert entry["department"] == "assistance"
    assert entry["note"] == "bank statements for 6 months"

    await assistance.DecideCase(_decide(receipt, apb.DECISION_REJECT, "income above the standard"))
    application = await wait_for_entry(http, receipt, "REJECTED")
    assert application["status"] == "CASE_STATUS_REJECTED"


async def test_reject_without_reason_is_refused(http, assistance):
    receipt = await _submit_and_route(http)
    with pytest.raises(grpc.aio.AioRpcError) as raised:
        await assistance.DecideCase(_decide(receipt, apb.DECISION_REJECT))
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def _redeliver(
    platform, exchange: str, event_type: str, payload: dict, trace_id: str
) -> None:
    """Publishes a copy of an event the way the relay did, under a trace of our own so that we
    can see when the router has handled it."""
    connection = await aio_pika.connect(platform.amqp_uri)
    async with connection:
        channel = await connection.channel()
        target = await channel.declare_exchange(exchange, aio_pika.ExchangeType.TOPIC, durable=True)
        receipt = payload["receipt"]
        await target.publish(
            aio_pika.Message(
                body=json.dumps(payload).encode(),
                content_type="application/json",
                content_encoding="utf-8",
                headers={
                    "nameko.traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01",
                    "nameko.baggage": f"onedoor.receipt={receipt}",
                },
            ),
            routing_key=event_type,
        )


async def test_redelivered_events_change_nothing(platform, http, assistance, trace_sink):
    receipt = await _submit_and_route(http)
    await assistance.DecideCase(_decide(receipt, apb.DECISION_APPROVE))
    before = await wait_for_entry(http, receipt, "APPROVED")

    intake = await asyncpg.connect(platform.database_url("intake"))
    department = await asyncpg.connect(platform.database_url("assistance"))
    try:
        accepted = json.loads(
            await intake.fetchval(
                "SELECT payload FROM outbox WHERE event_type = 'case_accepted' AND payload->>'receipt' = $1",
                receipt,
            )
        )
        decided = json.loads(
            await department.fetchval(
                "SELECT payload FROM outbox WHERE event_type = 'case_decided' AND payload->>'receipt' = $1",
                receipt,
            )
        )
        for exchange, event_type, payload in (
            ("intake.events", "case_accepted", accepted),
            ("assistance.events", "case_decided", decided),
        ):
            trace_id = secrets.token_hex(16)
            await _redeliver(platform, exchange, event_type, payload, trace_id)

            async def handled(trace_id: str = trace_id) -> bool:
                # The router's last step for either event is AppendTimelineEntry on intake.
                return any(
                    s.service == "intake"
                    and s.kind == "SERVER"
                    and s.name.endswith("AppendTimelineEntry")
                    for s in trace_sink.spans(trace_id)
                )

            await eventually(handled, what=f"the router to handle the redelivered {event_type}")

        after = await get_application(http, receipt)
        assert after["timeline"] == before["timeline"]
        assert after["status"] == "CASE_STATUS_APPROVED"
        assert (
            await department.fetchval(
                "SELECT count(*) FROM department_cases WHERE receipt = $1", receipt
            )
            == 1
        )
    finally:
        await intake.close()
        await department.close()
