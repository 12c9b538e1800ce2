"""``onedoor.ingest.v1.WarningsService``: a department's warnings queue. Only the gateway
calls it (the internal service credential, checked here: agencies reach this port too), and
the gateway has already held the caller to an officer of the department in its jurisdiction;
the queue is still filtered by both, and every warning shown or moved is audited."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import grpc

from onedoor.ingest.v1 import warnings_service_pb2 as pb
from onedoor.ingest.v1 import warnings_service_pb2_grpc
from onedoor.intake.v1 import intake_service_pb2
from services.common import auth, pagination, telemetry
from services.common.catalog import DEPARTMENTS
from services.common.errors import ApiError, FieldViolation, invalid_argument, not_found
from services.ingest.warnings_store import WarningsStore

T = TypeVar("T")
Audit = Callable[[Sequence[intake_service_pb2.AuditEntry]], Awaitable[None]]

READ = "warning.read"
# The fields a warning shows: who it is about, by keyed hash and file, and why.
SHOWN = ("household_file", "person_key", "reason", "caused_by")
MAX_REASON = 500
MAX_FILE_ID = 64
_OPEN = ("NEW", "CONTACTED")


def _unauthenticated() -> ApiError:
    return ApiError(
        grpc.StatusCode.UNAUTHENTICATED,
        "the warnings queue answers only the gateway",
        reason="UNAUTHENTICATED",
    )


def _check_scope(department: str, jurisdiction: str, officer_id: str | None) -> None:
    """``officer_id`` None: no officer acts (a read for the gateway itself)."""
    problems = []
    if department not in DEPARTMENTS:
        problems.append(FieldViolation("department", "must be one of " + ", ".join(DEPARTMENTS)))
    if not (len(jurisdiction) == 6 and jurisdiction.isdigit()):
        problems.append(FieldViolation("jurisdiction", "must be a 6-digit GB/T 2260 code"))
    if officer_id is not None and not officer_id:
        problems.append(FieldViolation("officer_id", "is required: who acts, for the audit log"))
    if problems:
        raise invalid_argument(problems)


def _check_id(warning_id: str) -> None:
    try:
        uuid.UUID(warning_id)
    except ValueError:
        raise invalid_argument(
            [FieldViolation("warning_id", "must be a warning's id (a UUID)")]
        ) from None


def _state_filter(state: int) -> str:
    if state == pb.WARNING_STATE_UNSPECIFIED:
        return ""
    if state not in pb.WarningState.values():
        raise invalid_argument([FieldViolation("state", "is not a warning state")])
    return pb.WarningState.Name(state).removeprefix("WARNING_STATE_")


def _entry(
    action: str, officer_id: str, officer_name: str, warning: pb.Warning
) -> intake_service_pb2.AuditEntry:
    # In codes (key=value), which the console names in its language.
    about = f" household_file={warning.household_file}" if warning.household_file else ""
    return intake_service_pb2.AuditEntry(
        actor=f"officer:{officer_id}",
        actor_name=officer_name,
        action=action,
        receipt=warning.receipt,
        fields=SHOWN,
        trace_id=telemetry.current_trace_id(),
        detail=f"department={warning.department} warning={warning.warning_id}{about}",
    )


class WarningsServicer(warnings_service_pb2_grpc.WarningsServiceServicer):
    def __init__(self, store: WarningsStore, audit: Audit) -> None:
        self.store = store
        self.audit = audit

    async def _run(self, context: grpc.aio.ServicerContext, work: Callable[[], Awaitable[T]]) -> T:
        try:
            presented = dict(context.invocation_metadata() or ()).get(
                auth.SERVICE_TOKEN_METADATA, ""
            )
            if not auth.is_service_token(str(presented)):
                raise _unauthenticated()
            return await work()
        except ApiError as error:
            status = error.to_grpc_status()
            await context.abort(status.code, status.details, status.trailing_metadata)
        raise AssertionError("abort raises")

    async def ListWarnings(
        self, request: pb.ListWarningsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ListWarningsResponse:
        return await self._run(context, lambda: self.list(request))

    async def ContactWarning(
        self, request: pb.ContactWarningRequest, context: grpc.aio.ServicerContext
    ) -> pb.ContactWarningResponse:
        return await self._run(context, lambda: self.contact(request))

    async def DismissWarning(
        self, request: pb.DismissWarningRequest, context: grpc.aio.ServicerContext
    ) -> pb.DismissWarningResponse:
        return await self._run(context, lambda: self.dismiss(request))

    async def GetWarning(
        self, request: pb.GetWarningRequest, context: grpc.aio.ServicerContext
    ) -> pb.GetWarningResponse:
        return await self._run(context, lambda: self.get(request))

    async def MarkCaseOpened(
        self, request: pb.MarkCaseOpenedRequest, context: grpc.aio.ServicerContext
    ) -> pb.MarkCaseOpenedResponse:
        return await self._run(context, lambda: self.mark_case_opened(request))

    async def get(self, request: pb.GetWarningRequest) -> pb.GetWarningResponse:
        _check_scope(request.department, request.jurisdiction, None)
        _check_id(request.warning_id)
        found = await self.store.get(request.department, request.jurisdiction, request.warning_id)
        if found is None:
            raise not_found("warning", request.warning_id)
        return pb.GetWarningResponse(warning=found)

    async def mark_case_opened(
        self, request: pb.MarkCaseOpenedRequest
    ) -> pb.MarkCaseOpenedResponse:
        if not request.receipt:
            raise invalid_argument([FieldViolation("receipt", "is required: the case opened")])
        warning = await self._move(
            request.department,
            request.jurisdiction,
            request.warning_id,
            (request.officer_id, request.officer_name),
            "CASE_OPENED",
            _OPEN,
            receipt=request.receipt,
        )
        return pb.MarkCaseOpenedResponse(warning=warning)

    async def list(self, request: pb.ListWarningsRequest) -> pb.ListWarningsResponse:
        _check_scope(request.department, request.jurisdiction, request.officer_id)
        state = _state_filter(request.state)
        size = pagination.page_size(request.page_size)
        if len(request.household_file) > MAX_FILE_ID or not request.household_file.isprintable():
            raise invalid_argument(
                [FieldViolation("household_file", "must be a household file's id")]
            )
        shown, token = await self.store.page(
            request.department,
            request.jurisdiction,
            state,
            size,
            request.page_token,
            request.household_file,
        )
        # Recorded before the answer leaves: a read that could not be audited is not served.
        if shown:
            await self.audit(
                [_entry(READ, request.officer_id, request.officer_name, w) for w in shown]
            )
        return pb.ListWarningsResponse(warnings=shown, next_page_token=token)

    async def _move(
        self,
        department: str,
        jurisdiction: str,
        warning_id: str,
        officer: tuple[str, str],
        to: str,
        leaving: tuple[str, ...],
        reason: str = "",
        receipt: str = "",
    ) -> pb.Warning:
        _check_scope(department, jurisdiction, officer[0])
        _check_id(warning_id)
        moved = await self.store.move(
            department,
            jurisdiction,
            warning_id,
            to,
            leaving,
            officer[0],
            dismiss_reason=reason,
            receipt=receipt,
        )
        if moved.warning is None:
            raise not_found("warning", warning_id)
        current = pb.WarningState.Name(moved.warning.state).removeprefix("WARNING_STATE_")
        # A repeat of the move that was made (the same case recorded again) changes nothing.
        done = current == to and (not receipt or moved.warning.receipt == receipt)
        if not moved.moved and not done:
            raise ApiError(
                grpc.StatusCode.FAILED_PRECONDITION,
                f"the warning is {current.lower().replace('_', ' ')}, no longer open",
                reason="WARNING_NOT_OPEN",
            )
        if moved.moved:
            await self.audit(
                [_entry(f"warning.{to.lower()}", officer[0], officer[1], moved.warning)]
            )
        return moved.warning

    async def contact(self, request: pb.ContactWarningRequest) -> pb.ContactWarningResponse:
        warning = await self._move(
            request.department,
            request.jurisdiction,
            request.warning_id,
            (request.officer_id, request.officer_name),
            "CONTACTED",
            ("NEW",),
        )
        return pb.ContactWarningResponse(warning=warning)

    async def dismiss(self, request: pb.DismissWarningRequest) -> pb.DismissWarningResponse:
        reason = request.reason.strip()
        if not reason or len(reason) > MAX_REASON or not reason.isprintable():
            raise invalid_argument(
                [
                    FieldViolation(
                        "reason",
                        f"is required: why nothing is to be done, at most {MAX_REASON} "
                        "printable characters",
                    )
                ]
            )
        warning = await self._move(
            request.department,
            request.jurisdiction,
            request.warning_id,
            (request.officer_id, request.officer_name),
            "DISMISSED",
            _OPEN,
            reason,
        )
        return pb.DismissWarningResponse(warning=warning)
