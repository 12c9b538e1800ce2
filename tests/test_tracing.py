"""Tracing covers every request: one submission is one trace through every hop, every span
carries the receipt, and no personal data reaches a span or a log line."""

from __future__ import annotations

import uuid

from onedoor.department.v1 import department_service_pb2 as apb
from services.common.telemetry import RECEIPT_KEY
from tests.conftest import eventually, wait_for_entry
from tests.factories import dibao_json, dibao_proto

HOPS_OF_A_SUBMISSION = [
    # The window asks the registry whether anyone named is recorded as deceased.
    ("gateway", "CLIENT", "RegistryService/FindDeceased"),
    ("registry", "SERVER", "RegistryService/FindDeceased"),
    ("registry", "CLIENT", "SELECT"),
    ("gateway", "CLIENT", "IntakeService/CreateCase"),
    ("intake", "SERVER", "IntakeService/CreateCase"),
    # intake's writes are each one statement, a WITH of inserts (the case) or of an insert and
    # updates (an entry and what it moves).
    ("intake", "CLIENT", "WITH"),
    ("relay", "PRODUCER", "publish intake.events case_accepted"),
    ("router", "CONSUMER", "router.on_case_accepted"),
    ("router", "CLIENT", "DepartmentService/OpenCase"),
    ("assistance", "SERVER", "DepartmentService/OpenCase"),
    # The department opens the case the event carries sealed (nobody asks intake for it).
    ("assistance", "CLIENT", "INSERT"),
    # And appends the case's ROUTED entry there.
    ("assistance", "CLIENT", "IntakeService/AppendTimelineEntry"),
    ("intake", "SERVER", "IntakeService/AppendTimelineEntry"),
    # The notifier's send records take the same event, which carries the case's contacts.
    ("notifier_records", "CONSUMER", "notifier.on_case_accepted"),
]


def _has(spans, service, kind, name_part) -> bool:
    return any(s.service == service and s.kind == kind and name_part in s.name for s in spans)


async def _whole_trace(trace_sink, trace_id, hops):
    # Every hop, and every span's parent: a consumer's span ends, and is exported, after the
    # calls it made (the send records' handler after its SQL), so a child may come first.
    async def complete():
        spans = trace_sink.spans(trace_id)
        ids = {s.span_id for s in spans}
        parented = all(not s.parent_span_id or s.parent_span_id in ids for s in spans)
        return spans if parented and all(_has(spans, *hop) for hop in hops) else None

    return await eventually(complete, what=f"every hop of trace {trace_id} and every span's parent")


def _assert_one_connected_trace(spans, receipt):
    ids = {s.span_id for s in spans}
    roots = [s for s in spans if not s.parent_span_id]
    orphans = [s for s in spans if s.parent_span_id and s.parent_span_id not in ids]
    assert len(roots) == 1, f"expected one root, got {[(r.service, r.name) for r in roots]}"
    assert not orphans, f"spans whose parent is missing: {[(o.service, o.name) for o in orphans]}"
    unmarked = [(s.service, s.name) for s in spans if s.attributes.get(RECEIPT_KEY) != receipt]
    assert not unmarked, f"spans without {RECEIPT_KEY}={receipt}: {unmarked}"


async def test_http_submission_is_one_trace_through_every_hop(http, trace_sink):
    async with http.post("/v1/applications", json=dibao_json()) as response:
        body = await response.json()
    await wait_for_entry(http, body["receipt"], "ROUTED")
    hops = [("gateway", "SERVER", "POST /v1/applications"), *HOPS_OF_A_SUBMISSION]
    spans = await _whole_trace(trace_sink, body["traceId"], hops)
    _assert_one_connected_trace(spans, body["receipt"])
    assert not _has(spans, "intake", "SERVER", "IntakeService/GetCase"), "the case was read back"
    sql = [s for s in spans if s.attributes.get("db.system.name") == "postgresql"]
    # The registry answers whether anyone named is deceased; assistance assesses; the
    # notifier's send records keep the acceptance's message, if it is told by then.
    touched = {s.service for s in sql}
    assert {"intake", "assistance", "registry"} <= touched, touched
    assert touched <= {"intake", "assistance", "registry", "notifier_records"}, touched


async def test_grpc_submission_is_one_trace_through_every_hop(gateway, http, trace_sink):
    response = await gateway.SubmitApplication(dibao_proto())
    await wait_for_entry(http, response.receipt, "ROUTED")
    hops = [("gateway", "SERVER", "GatewayService/SubmitApplication"), *HOPS_OF_A_SUBMISSION]
    spans = await _whole_trace(trace_sink, response.trace_id, hops)
    _assert_one_connected_trace(spans, response.receipt)
    assert not _has(spans, "intake", "SERVER", "IntakeService/GetCase"), "the case was read back"


async def test_an_officer_decision_is_one_trace_back_to_the_ledger(http, assistance, trace_sink):
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    call = assistance.DecideCase(
        apb.DecideCaseRequest(
            request_id=str(uuid.uuid4()),
            receipt=receipt,
            decision=apb.DECISION_APPROVE,
            officer_id="officer-1",
        )
    )
    await call
    trace_id = dict(await call.trailing_metadata())["x-trace-id"]
    hops = [
        ("assistance", "SERVER", "DepartmentService/DecideCase"),
        ("relay", "PRODUCER", "publish assistance.events case_decided"),
        ("router", "CONSUMER", "router.on_assistance_decided"),
        ("intake", "SERVER", "IntakeService/AppendTimelineEntry"),
    ]
    spans = await _whole_trace(trace_sink, trace_id, hops)
    _assert_one_connected_trace(spans, receipt)
