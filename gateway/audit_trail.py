"""What the gateway writes to the audit log: every read of a case's personal data, every
officer and clerk action, every exchange with a peer bureau. Written before the answer leaves
the gateway, so a read that could not be recorded is not served."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import grpc

from gateway.backends import Backends
from onedoor.intake.v1 import intake_service_pb2
from services.common import telemetry
from services.common.auth import Principal
from services.common.errors import ApiError

# The personal data an application view carries (masked, but still the person's).
APPLICATION_VIEW_FIELDS = ("applicant.id_number", "applicant.name")


def actor(caller: Principal) -> str:
    """Who acted, as the audit log names them: the role and the token's subject."""
    return f"{caller.role}:{caller.subject}"


class AuditTrail:
    """Entries recorded while an append is on its way wait and go together in the next one
    (group commit): the chain is one writer at a time, and its commit, not the entry, is what
    costs. Nothing waits when the trail is idle, and every caller still returns only after its
    own entries are stored."""

    def __init__(self, backends: Backends) -> None:
        self.backends = backends
        self._waiting: list[tuple[list[intake_service_pb2.AuditEntry], asyncio.Future[None]]] = []
        self._appender: asyncio.Task[None] | None = None

    async def record(
        self,
        actor: str,
        action: str,
        receipts: Iterable[str],
        fields: Sequence[str] = (),
        detail: str = "",
        actor_name: str = "",
    ) -> None:
        """One entry per case, appended together or not at all. ``actor_name`` is the staff
        member's display name, where the sign-in gave one."""
        trace_id = telemetry.current_trace_id()
        entries = [
            intake_service_pb2.AuditEntry(
                actor=actor,
                action=action,
                receipt=receipt,
                fields=fields,
                trace_id=trace_id,
                detail=detail,
                actor_name=actor_name,
            )
            for receipt in receipts
        ]
        if not entries:
            return
        stored: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((entries, stored))
        if self._appender is None:
            # A task of its own, so a caller that goes away does not strand the others; it
            # starts in the first caller's trace, where its append shows.
            self._appender = asyncio.create_task(self._append_waiting())
        await stored

    async def _append_waiting(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                await self._append(batch)
        finally:
            self._appender = None

    async def _append(
        self, batch: list[tuple[list[intake_service_pb2.AuditEntry], asyncio.Future[None]]]
    ) -> None:
        try:
            await self.backends.call(
                self.backends.intake.AppendAudit,
                intake_service_pb2.AppendAuditRequest(
                    entries=[entry for entries, _ in batch for entry in entries]
                ),
            )
        except BaseException as error:
            # Every waiter answers with the append's error; none is served unrecorded.
            failed = (
                error
                if isinstance(error, Exception)
                else ApiError(
                    grpc.StatusCode.UNAVAILABLE, "the audit log could not be written; try again"
                )
            )
            for _, stored in batch:
                if not stored.done():
                    stored.set_exception(failed)
            raise
        for _, stored in batch:
            if not stored.done():
                stored.set_result(None)
