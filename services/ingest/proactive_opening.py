"""免申即享: the outcomes whose rule says a case is opened at once (Action.PROACTIVE_CASE, an
age milestone) become proactive cases in the ledger without an officer, each waiting for the
person to confirm, and their warnings are marked with the case. The same request as an
officer's open from the queue (services.common.proactive_case), so the two never open a case
twice; a failure midway leaves the warning new, and the next run finishes the same case."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

import grpc

from onedoor.ingest.v1 import warnings_service_pb2 as wpb
from onedoor.intake.v1 import intake_service_pb2, intake_service_pb2_grpc
from services.common import auth, proactive_case, telemetry
from services.common.errors import ApiError
from services.ingest.warnings_store import WarningsStore

log = logging.getLogger("services.ingest")

ACTOR = "service:ingest"
OPENED = "case.opened_from_warning"
# What opening reads of the source case: its applicant (as an officer's open does).
OPEN_FIELDS = ("applicant.id_number", "applicant.name")
# Warnings opened per run; the rest wait for the next (a minute later).
PER_RUN = 200

Audit = Callable[[Sequence[intake_service_pb2.AuditEntry]], Awaitable[None]]

# Failures that pass (a restart, a deadline): tried again at the next run.
_PASSING = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        grpc.StatusCode.ABORTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNKNOWN,
    }
)


class ProactiveOpening:
    def __init__(
        self,
        warnings: WarningsStore,
        intake: intake_service_pb2_grpc.IntakeServiceStub,
        audit: Audit,
    ) -> None:
        self.warnings = warnings
        self.intake = intake
        self.audit = audit

    async def open_due(self) -> int:
        """Opens the due warnings' cases; returns how many warnings this run marked."""
        opened = 0
        for warning in await self.warnings.to_open_at_once(PER_RUN):
            try:
                opened += await self._open(warning)
            except grpc.aio.AioRpcError as error:
                if error.code() in _PASSING:
                    # Left new: the next run tries it again (the request id keeps it one case).
                    log.warning(
                        "proactive case for warning %s not opened (%s); trying again later",
                        warning.warning_id,
                        error.code().name,
                    )
                    continue
                await self._refused(warning, error.code().name)
            except ApiError as error:
                await self._refused(warning, error.reason or error.code.name)
        if opened:
            log.info("%d proactive cases opened", opened)
        return opened

    async def _refused(self, warning: wpb.Warning, why: str) -> None:
        # Not for the bureau to settle alone (the source case is gone, or does not name the
        # person): an officer sees the warning new in the queue and opens the case at the window.
        log.warning(
            "warning %s left for an officer: its case cannot open by itself (%s)",
            warning.warning_id,
            why,
        )
        await self.warnings.refuse_opening(warning.warning_id, why)

    async def _open(self, warning: wpb.Warning) -> int:
        metadata = auth.service_metadata()
        source = await self.intake.GetCase(
            intake_service_pb2.GetCaseRequest(receipt=warning.source_receipt), metadata=metadata
        )
        created = await self.intake.CreateCase(
            # The person's own county's bureau accepts it, as its window would.
            proactive_case.creation(warning, source.case, warning.division),
            metadata=metadata,
        )
        receipt = created.case.receipt
        with telemetry.bound_receipt(receipt):
            # Every run that read the source case says so, a retry's too.
            await self.audit(
                [
                    intake_service_pb2.AuditEntry(
                        actor=ACTOR,
                        action=OPENED,
                        receipt=receipt,
                        fields=OPEN_FIELDS,
                        trace_id=telemetry.current_trace_id(),
                        # In codes (key=value), which the console names in its language.
                        detail=f"department={warning.department} "
                        f"warning={warning.warning_id} "
                        f"source_receipt={warning.source_receipt}",
                    )
                ]
            )
            moved = await self.warnings.move(
                warning.department,
                warning.division,
                warning.warning_id,
                "CASE_OPENED",
                ("NEW", "CONTACTED"),
                ACTOR,
                receipt=receipt,
            )
        return int(moved.moved)
