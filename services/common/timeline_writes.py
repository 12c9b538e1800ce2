"""What is written on a case's timeline when a department opens it, and the shape of every
timeline write (its idempotency key with it). Pure: shared by the router, which writes most
entries, and the departments, which write the ROUTED entry of a case they open for the
router (OpenCaseRequest.append_routed_entry)."""

from __future__ import annotations

from dataclasses import dataclass

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as dpb
from services.common import texts


@dataclass(frozen=True)
class TimelineWrite:
    receipt: str
    # Idempotency key: the same event always yields the same key.
    entry_key: str
    entry: case_pb2.TimelineEntry


def entry(
    kind: case_pb2.TimelineEntryKind.ValueType,
    department: str,
    message: case_pb2.Text | None,
    prose: str,
    actor_name: str = "",
) -> case_pb2.TimelineEntry:
    # A department that predates texts still answers prose: it is kept as its note.
    if message is None:
        return case_pb2.TimelineEntry(
            kind=kind, department=department, note=prose, actor_name=actor_name
        )
    return case_pb2.TimelineEntry(
        kind=kind, department=department, message=message, actor_name=actor_name
    )


def assessed(assessment: dpb.Assessment) -> case_pb2.Text | None:
    """The department's recommendation, its findings explaining it."""
    if not assessment.findings:
        return None
    verdict = (
        texts.Code.TEXT_CODE_ASSESSED_ELIGIBLE
        if assessment.eligible
        else texts.Code.TEXT_CODE_ASSESSED_NOT_ELIGIBLE
    )
    return texts.text(verdict, *assessment.findings)


def routed_to(
    receipt: str, department: str, message: case_pb2.Text | None, prose: str
) -> TimelineWrite:
    """The case's one ROUTED entry for ``department``, however often it is written."""
    return TimelineWrite(
        receipt,
        f"{receipt}:routed:{department}",
        entry(case_pb2.TIMELINE_ENTRY_KIND_ROUTED, department, message, prose),
    )


def routed(receipt: str, department: str, assessment: dpb.Assessment) -> TimelineWrite:
    """A case the department opened: its assessment, the verdict with the findings."""
    verdict = "eligible" if assessment.eligible else "not eligible"
    return routed_to(
        receipt,
        department,
        assessed(assessment),
        f"assessment: {verdict}: {assessment.reason}",
    )
