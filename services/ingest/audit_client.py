"""The ingest service's entries in the platform's audit log, which intake keeps (AppendAudit):
every match of a record to a known person, every warning an officer reads or moves."""

from __future__ import annotations

from collections.abc import Sequence

from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from services.common import auth


class IntakeAudit:
    def __init__(self, stub: intake_service_pb2_grpc.IntakeServiceStub) -> None:
        self.stub = stub

    async def __call__(self, entries: Sequence[intake_service_pb2.AuditEntry]) -> None:
        """Appends the entries in order, together or not at all (one transaction at intake);
        a failure raises, and what was to follow the entries does not happen."""
        if entries:
            await self.stub.AppendAudit(
                intake_service_pb2.AppendAuditRequest(entries=entries),
                metadata=auth.service_metadata(),
                timeout=30,
            )
