"""API errors as Google's AIP-193 describes them: a ``google.rpc.Status`` with details.

Every layer raises :class:`ApiError`; the gRPC servers turn it into a status with
``BadRequest`` / ``PreconditionFailure`` / ``ErrorInfo`` details (one interceptor, see
``grpc_server``), and the gateway's HTTP API into Google's JSON error shape. Messages and
field descriptions never quote the offending value: it may be personal data.

The message and the descriptions are the developer's, in English. What people read is the
gateway's: it renders the error in the caller's language (``localized``, gateway/rendering.py)
and answers it as a ``LocalizedMessage`` detail and each violation's ``localized_message``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

ERROR_DOMAIN = "onedoor.civil-affairs"

# Google's mapping of canonical codes to HTTP statuses (google/rpc/code.proto).
_HTTP_STATUS = {
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNAUTHENTICATED: 401,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
}


@dataclass(frozen=True)
class FieldViolation:
    """One bad field: its path in the request (proto field names) and what is wrong."""

    field: str
    description: str


@dataclass(frozen=True)
class Localized:
    """An error as people read it in one language (BCP 47 ``locale``): its message, and each
    field violation's description in the violations' order."""

    locale: str
    message: str
    violations: tuple[str, ...] = ()

    def violation(self, index: int) -> str:
        return self.violations[index] if index < len(self.violations) else ""


@dataclass
class ApiError(Exception):
    code: grpc.StatusCode
    message: str
    reason: str = ""
    violations: tuple[FieldViolation, ...] = ()
    # Reported as PreconditionFailure (with the same fields) besides BadRequest.
    precondition_type: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    http_status_override: int | None = None
    # Set by the gateway on what it answers; the services behind it leave it unset.
    localized: Localized | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        return self.http_status_override or _HTTP_STATUS.get(self.code, 500)

    def to_status_proto(self) -> status_pb2.Status:
        details: list[any_pb2.Any] = []
        if self.violations:
            bad = error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field,
                        description=v.description,
                        localized_message=self._localized_message(self.localized.violation(i))
                        if self.localized
                        else None,
                    )
                    for i, v in enumerate(self.violations)
                ]
            )
            details.append(_pack(bad))
        if self.precondition_type:
            failure = error_details_pb2.PreconditionFailure(
                violations=[
                    error_details_pb2.PreconditionFailure.Violation(
                        type=self.precondition_type, subject=v.field, description=v.description
                    )
                    for v in self.violations
                ]
            )
            details.append(_pack(failure))
        if self.localized:
            details.append(_pack(self._localized_message(self.localized.message)))
        # ErrorInfo last, where callers have always found it.
        if self.reason:
            info = error_details_pb2.ErrorInfo(
                reason=self.reason, domain=ERROR_DOMAIN, metadata=dict(self.metadata)
            )
            details.append(_pack(info))
        return status_pb2.Status(code=self.code.value[0], message=self.message, details=details)

    def _localized_message(self, message: str) -> error_details_pb2.LocalizedMessage | None:
        if self.localized is None or not message:
            return None
        return error_details_pb2.LocalizedMessage(locale=self.localized.locale, message=message)

    def to_grpc_status(self) -> grpc.Status:
        return rpc_status.to_status(self.to_status_proto())

    def to_json(self, trace_id: str = "") -> dict[str, object]:
        """Google's HTTP/JSON error shape, plus the trace id a clerk can quote, and where the
        gateway rendered it, ``localizedMessage`` beside the message and each violation's."""
        localized = self.localized
        details: list[dict[str, object]] = []
        if self.violations:
            violations: list[dict[str, object]] = []
            for i, v in enumerate(self.violations):
                shown: dict[str, object] = {"field": v.field, "description": v.description}
                if localized and localized.violation(i):
                    shown["localizedMessage"] = {
                        "locale": localized.locale,
                        "message": localized.violation(i),
                    }
                violations.append(shown)
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.BadRequest",
                    "fieldViolations": violations,
                }
            )
        if localized:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                    "locale": localized.locale,
                    "message": localized.message,
                }
            )
        # ErrorInfo last, where callers have always found it.
        if self.reason:
            details.append(
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": self.reason,
                    "domain": ERROR_DOMAIN,
                    "metadata": dict(self.metadata),
                }
            )
        error: dict[str, object] = {
            "code": self.http_status,
            "status": self.code.name,
            "message": self.message,
            "details": details,
        }
        if localized:
            error["localizedMessage"] = {"locale": localized.locale, "message": localized.message}
        body: dict[str, object] = {"error": error}
        if trace_id:
            body["traceId"] = trace_id
        return body


def _pack(message: object) -> any_pb2.Any:
    packed = any_pb2.Any()
    packed.Pack(message)  # type: ignore[arg-type]
    return packed


def invalid_argument(
    violations: Iterable[FieldViolation], reason: str = "INVALID_REQUEST"
) -> ApiError:
    found = tuple(violations)
    fields = ", ".join(v.field for v in found)
    return ApiError(
        grpc.StatusCode.INVALID_ARGUMENT,
        f"the request has invalid fields: {fields}",
        reason=reason,
        violations=found,
    )


def not_found(kind: str, name: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.NOT_FOUND,
        f"{kind} {name} does not exist",
        reason=f"{kind.upper()}_NOT_FOUND",
    )


def from_rpc_error(error: grpc.aio.AioRpcError) -> ApiError:
    """Rebuilds the ApiError a backend raised, so the gateway passes it on unchanged."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    violations: list[FieldViolation] = []
    reason = ""
    precondition_type = ""
    metadata: dict[str, str] = {}
    if status is not None:
        for detail in status.details:
            if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad = error_details_pb2.BadRequest()
                detail.Unpack(bad)
                violations.extend(
                    FieldViolation(v.field, v.description) for v in bad.field_violations
                )
            elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
                reason, metadata = info.reason, dict(info.metadata)
            elif detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
                failure = error_details_pb2.PreconditionFailure()
                detail.Unpack(failure)
                precondition_type = failure.violations[0].type if failure.violations else ""
    code = error.code()
    if code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return ApiError(
            code,
            "a service behind the window is not answering; try again in a moment",
            reason="BACKEND_UNAVAILABLE",
        )
    return ApiError(
        code,
        error.details() or code.name,
        reason=reason,
        violations=tuple(violations),
        precondition_type=precondition_type,
        metadata=metadata,
    )


def duplicate_application(open_receipt: str) -> ApiError:
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION,
        f"an application for this matter is already open for someone it names: {open_receipt}",
        reason="DUPLICATE_APPLICATION",
        metadata={"open_receipt": open_receipt},
    )


def request_id_reused() -> ApiError:
    return ApiError(
        grpc.StatusCode.ALREADY_EXISTS,
        "the request id was used before for a different application: "
        "give this application a new request id",
        reason="REQUEST_ID_REUSED",
        violations=(FieldViolation("request_id", "was used before for another request"),),
    )
