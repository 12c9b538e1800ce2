"""What the gateway writes to the audit log: every read of a case's personal data, every
officer and clerk action, every exchange with a peer bureau. Written before the answer leaves
the gateway, so a read that could not be recorded is not served."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from gateway.backends import Backends
from onedoor.intake.v1 import intake_service_pb2
from services.common import telemetry
from services.common.auth import Principal

# The personal data an application view carries (masked, but still the person's).
APPLICATION_VIEW_FIELDS = ("applicant.id_number", "applicant.name")


def actor(caller: Principal) -> str:
    """Who acted, as the audit log names them: the role and the token's subject."""
    return f"{caller.role}:{caller.subject}"


class AuditTrail:
    def __init__(self, backends: Backends) -> None:
        self.backends = backends

    async def record(
        self,
        actor: str,
        action: str,
        receipts: Iterable[str],
        fields: Sequence[str] = (),
        detail: str = "",
    ) -> None:
        """One entry per case, appended together or not at all."""
        trace_id = telemetry.current_trace_id()
        entries = [
            intake_service_pb2.AuditEntry(
                actor=actor,
                action=action,
                receipt=receipt,
                fields=fields,
                trace_id=trace_id,
                detail=detail,
            )
            for receipt in receipts
        ]
        if entries:
            await self.backends.call(
                self.backends.intake.AppendAudit,
                intake_service_pb2.AppendAuditRequest(entries=entries),
            )
