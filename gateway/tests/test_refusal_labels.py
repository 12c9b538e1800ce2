"""The labels a refusal at the window is counted under: closed sets, never the clerk's input."""

from __future__ import annotations

import grpc

from gateway.submission import REFUSAL_REASONS, UNKNOWN_MATTER, matter_label, refusal_reason
from services.common.errors import (
    ApiError,
    FieldViolation,
    duplicate_application,
    invalid_argument,
    request_id_reused,
)


def test_a_matter_outside_the_catalog_is_counted_as_unknown():
    assert matter_label("assistance.dibao") == "assistance.dibao"
    assert matter_label("assistance.dibao ") == UNKNOWN_MATTER
    assert matter_label("not a matter at all") == UNKNOWN_MATTER
    assert matter_label("") == UNKNOWN_MATTER


def test_the_windows_own_refusals_keep_their_reason():
    assert refusal_reason(duplicate_application("320585-AAAAA-BBBBB")) == "DUPLICATE_APPLICATION"
    assert refusal_reason(request_id_reused()) == "REQUEST_ID_REUSED"
    invalid = invalid_argument(
        [FieldViolation("applicant.name", "is required")], "INVALID_APPLICATION"
    )
    assert refusal_reason(invalid) == "INVALID_APPLICATION"


def test_a_reason_outside_the_closed_set_is_counted_by_its_status_code():
    odd = ApiError(grpc.StatusCode.FAILED_PRECONDITION, "x", reason="SOMETHING_A_BACKEND_SAID")
    assert refusal_reason(odd) == "FAILED_PRECONDITION"
    assert refusal_reason(ApiError(grpc.StatusCode.NOT_FOUND, "x", reason="")) == "NOT_FOUND"
    assert "SOMETHING_A_BACKEND_SAID" not in REFUSAL_REASONS


def test_an_outage_or_a_caller_without_the_right_is_no_refusal():
    for code in (
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.PERMISSION_DENIED,
        grpc.StatusCode.UNAUTHENTICATED,
        grpc.StatusCode.INTERNAL,
    ):
        assert refusal_reason(ApiError(code, "x", reason="BACKEND_UNAVAILABLE")) is None
