"""The audit log, for an auditor of this gateway's jurisdiction: by case, by actor and by day,
and whether its hash chain is intact."""

from __future__ import annotations

import datetime as dt

from google.protobuf.timestamp_pb2 import Timestamp

from gateway import permissions, views
from gateway.window import Window
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import intake_service_pb2
from services.common.auth import Principal
from services.common.clock import BureauClock
from services.common.errors import FieldViolation, invalid_argument
from services.common.receipt import is_receipt

_MAX_ACTOR = 200


def _day(value: str, field: str, problems: list[FieldViolation]) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        problems.append(FieldViolation(field, "must be a date like 2026-12-01"))
        return None


def _timestamp(instant: dt.datetime) -> Timestamp:
    stamp = Timestamp()
    stamp.FromDatetime(instant)
    return stamp


def audit_query(
    request: pb.ListAuditEntriesRequest, clock: BureauClock
) -> intake_service_pb2.ListAuditRequest:
    """The ledger's query for an auditor's filters, or INVALID_ARGUMENT naming every field
    that is wrong. Days are the bureau's local days: since its first instant, until the next
    day's first."""
    problems: list[FieldViolation] = []
    if request.receipt and not is_receipt(request.receipt):
        problems.append(FieldViolation("receipt", "must look like 320585-7K3F9-QX2MA"))
    if len(request.actor) > _MAX_ACTOR or not request.actor.isprintable():
        problems.append(
            FieldViolation("actor", f"must be at most {_MAX_ACTOR} printable characters")
        )
    since = _day(request.since_date, "since_date", problems)
    until = _day(request.until_date, "until_date", problems)
    if since and until and until < since:
        problems.append(FieldViolation("until_date", "must not be before since_date"))
    if problems:
        raise invalid_argument(problems)
    query = intake_service_pb2.ListAuditRequest(
        receipt=request.receipt,
        actor=request.actor,
        page_size=request.page_size,
        page_token=request.page_token,
    )
    if since:
        query.since_time.CopyFrom(_timestamp(_local_midnight(since, clock)))
    if until:
        query.until_time.CopyFrom(_timestamp(_local_midnight(until + dt.timedelta(days=1), clock)))
    return query


def _local_midnight(day: dt.date, clock: BureauClock) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=clock.zone).astimezone(dt.UTC)


async def list_audit_entries(
    window: Window, caller: Principal, request: pb.ListAuditEntriesRequest
) -> pb.ListAuditEntriesResponse:
    permissions.require_role(caller, "auditor")
    permissions.require_jurisdiction(caller, window.jurisdiction)
    found = await window.backends.call(
        window.backends.intake.ListAudit, audit_query(request, window.clock)
    )
    entries = []
    for each in found.entries:
        shown = views.as_audit_entry(each)
        shown.actor_name = each.actor_name
        entries.append(shown)
    return pb.ListAuditEntriesResponse(entries=entries, next_page_token=found.next_page_token)


async def verify_audit_chain(
    window: Window, caller: Principal, request: pb.VerifyAuditChainRequest
) -> pb.VerifyAuditChainResponse:
    """The ledger walks the chain where the rows are; only the verdict travels."""
    permissions.require_role(caller, "auditor")
    permissions.require_jurisdiction(caller, window.jurisdiction)
    verdict = await window.backends.call(
        window.backends.intake.VerifyAudit, intake_service_pb2.VerifyAuditRequest()
    )
    return pb.VerifyAuditChainResponse(
        intact=verdict.intact,
        checked=verdict.checked,
        broken_at=verdict.broken_at,
        last_sequence=verdict.last_sequence,
    )
