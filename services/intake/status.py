"""How a timeline entry moves a case's status. Pure rules, no I/O."""

from __future__ import annotations

from onedoor.intake.v1 import case_pb2

Status = case_pb2.CaseStatus.ValueType
Kind = case_pb2.TimelineEntryKind.ValueType

FINAL: frozenset[Status] = frozenset({case_pb2.CASE_STATUS_APPROVED, case_pb2.CASE_STATUS_REJECTED})

_STATUS_AFTER: dict[Kind, Status] = {
    case_pb2.TIMELINE_ENTRY_KIND_ACCEPTED: case_pb2.CASE_STATUS_ACCEPTED,
    case_pb2.TIMELINE_ENTRY_KIND_ROUTED: case_pb2.CASE_STATUS_ROUTED,
    case_pb2.TIMELINE_ENTRY_KIND_MATERIALS_REQUESTED: case_pb2.CASE_STATUS_AWAITING_MATERIALS,
    case_pb2.TIMELINE_ENTRY_KIND_APPROVED: case_pb2.CASE_STATUS_APPROVED,
    case_pb2.TIMELINE_ENTRY_KIND_REJECTED: case_pb2.CASE_STATUS_REJECTED,
}


def status_after(current: Status, kind: Kind) -> Status:
    """The case's status once an entry of ``kind`` is appended.

    Events can arrive out of order (an officer may decide before the router has recorded
    ``routed``), so a late ``routed`` never undoes a decision or a request for materials.
    """
    if current in FINAL:
        return current
    target = _STATUS_AFTER.get(kind, current)
    if kind == case_pb2.TIMELINE_ENTRY_KIND_ROUTED and current != case_pb2.CASE_STATUS_ACCEPTED:
        return current
    return target
