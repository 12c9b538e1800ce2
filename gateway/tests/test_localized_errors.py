"""API errors as people read them (AIP-193 LocalizedMessage): the developer's English message
and descriptions stay; the gateway adds each in the caller's language, by the error's reason
or status and each violation's description, never quoting what was typed."""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2

from gateway import rendering
from services.common.errors import (
    ApiError,
    FieldViolation,
    duplicate_application,
    invalid_argument,
    not_found,
)


def _localized(error: ApiError, language: str = "zh-CN") -> ApiError:
    return rendering.localize_error(error, language)


def test_field_violations_are_described_in_each_language():
    error = invalid_argument(
        [
            FieldViolation("applicant.name", "is required"),
            FieldViolation("applicant.id_number", "check digit does not match"),
            FieldViolation("applicant.name", "must be at most 50 characters"),
        ]
    )
    zh = _localized(error).to_json()["error"]
    assert (
        zh["message"]
        == "the request has invalid fields: applicant.name, applicant.id_number, applicant.name"
    )
    assert zh["localizedMessage"] == {"locale": "zh-CN", "message": "有3项填写有误，请逐项核对"}
    (bad,) = [d for d in zh["details"] if "fieldViolations" in d]
    assert [
        (v["description"], v["localizedMessage"]["message"]) for v in bad["fieldViolations"]
    ] == [
        ("is required", "必填"),
        ("check digit does not match", "校验码不符，请核对号码"),
        ("must be at most 50 characters", "不得超过50个字符"),
    ]
    en = _localized(error, "en").to_json()["error"]
    assert en["localizedMessage"]["locale"] == "en"
    (bad,) = [d for d in en["details"] if "fieldViolations" in d]
    assert [v["localizedMessage"]["message"] for v in bad["fieldViolations"]] == [
        "is required",
        "check digit does not match",
        "must be at most 50 characters",
    ]


@pytest.mark.parametrize(
    ("error", "zh"),
    [
        (not_found("case", "320585-7K3F9-QX2MA"), "未找到所查的记录，请核对编号"),
        (
            ApiError(grpc.StatusCode.PERMISSION_DENIED, "not yours"),
            "无权执行此操作（角色或辖区不符）",
        ),
        (ApiError(grpc.StatusCode.ALREADY_EXISTS, "taken"), "与已有记录冲突，请刷新后再试"),
        (ApiError(grpc.StatusCode.ABORTED, "raced"), "与已有记录冲突，请刷新后再试"),
        (ApiError(grpc.StatusCode.FAILED_PRECONDITION, "not now"), "当前情况下不能办理此项操作"),
        (
            duplicate_application("320585-7K3F9-QX2MA"),
            "申请所涉人员已有一件该事项的申请正在办理（受理编号 320585-7K3F9-QX2MA）",
        ),
        (ApiError(grpc.StatusCode.INTERNAL, "boom"), "系统内部错误，请将追踪编号告知运维人员"),
    ],
)
def test_the_common_refusals_are_said_in_chinese(error: ApiError, zh: str):
    def said(language: str) -> Any:
        body: Any = _localized(error, language).to_json()
        return body["error"]["localizedMessage"]["message"]

    assert said("zh-CN") == zh
    assert said("en") and said("en") != zh


def test_an_unknown_description_reads_as_not_valid_never_as_the_english():
    typed = "110101199003078888"
    error = invalid_argument([FieldViolation("x", f"odd value {typed}")])
    said = rendering.localized_error(error, "zh-CN")
    assert said.violations == ("填写有误",)
    assert typed not in said.message + "".join(said.violations)


def test_the_grpc_status_carries_the_localized_message_and_each_violation_s():
    error = _localized(
        invalid_argument([FieldViolation("receipt", "must look like 320585-7K3F9-QX2MA")])
    )
    status = error.to_status_proto()
    found = {}
    for detail in status.details:
        for kind in (error_details_pb2.LocalizedMessage, error_details_pb2.BadRequest):
            if detail.Is(kind.DESCRIPTOR):
                message = kind()
                detail.Unpack(message)
                found[kind.__name__] = message
    assert (found["LocalizedMessage"].locale, found["LocalizedMessage"].message) == (
        "zh-CN",
        "有1项填写有误，请逐项核对",
    )
    (violation,) = found["BadRequest"].field_violations
    assert violation.description == "must look like 320585-7K3F9-QX2MA"
    assert violation.localized_message.message == "受理编号格式应如 320585-7K3F9-QX2MA"


def test_an_error_behind_the_window_carries_no_localized_message():
    status = not_found("case", "x").to_status_proto()
    assert not any(d.Is(error_details_pb2.LocalizedMessage.DESCRIPTOR) for d in status.details)
    assert "localizedMessage" not in not_found("case", "x").to_json()["error"]


def test_error_info_stays_the_last_detail():
    error = _localized(duplicate_application("320585-7K3F9-QX2MA"))
    body: Any = error.to_json()
    assert body["error"]["details"][-1]["reason"] == "DUPLICATE_APPLICATION"
    last = error.to_status_proto().details[-1]
    assert last.Is(error_details_pb2.ErrorInfo.DESCRIPTOR)


def _cooling_off(metadata: dict[str, str]) -> ApiError:
    return ApiError(
        grpc.StatusCode.FAILED_PRECONDITION, "cooling off", reason="COOLING_OFF", metadata=metadata
    )


DAYS = {
    "cooling_off_last_day": "2026-04-08",
    "confirmation_first_day": "2026-04-09",
    "confirmation_last_day": "2026-05-08",
}


def test_a_cooling_off_refusal_says_until_when_in_each_language():
    assert rendering.localized_error(_cooling_off(DAYS), "zh-CN").message == (
        "离婚冷静期至2026-04-08（含当日）届满，届满前不能确认；"
        "双方须在2026-04-09至2026-05-08期间亲自到场确认"
    )
    assert rendering.localized_error(_cooling_off(DAYS), "en").message == (
        "the cooling-off period runs until 2026-04-08 (its last day): no confirmation before it "
        "ends; both parties confirm in person from 2026-04-09 to 2026-05-08"
    )
    provisional = rendering.localized_error(
        _cooling_off({**DAYS, "provisional_years": "2027,2028"}), "zh-CN"
    ).message
    assert provisional.endswith("暂定：2027, 2028年的节假日安排尚未载入，以上日期仅按周末推算")


def test_a_cooling_off_refusal_without_its_dates_still_says_why():
    said = rendering.localized_error(_cooling_off({"cooling_off_last_day": "2026-04-08"}), "zh-CN")
    assert said.message == "离婚冷静期尚未届满，暂不能确认"
