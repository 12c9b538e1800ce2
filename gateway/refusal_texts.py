"""What an API error says to people, as codes with typed parameters (onedoor.case.v1.Text) that
the gateway renders in the caller's language (AIP-193's LocalizedMessage).

An error reaches the gateway as the developer wrote it: a status, an ErrorInfo reason with its
metadata, and field violations in English, from the gateway itself or from any service behind
it. The error's sentence is chosen by its reason (the common refusals: a duplicate, the
records, a divorce's periods...) or, failing one, by its status (not found, permission denied,
conflict, failed precondition...); each violation's by its description, which every layer
writes from a fixed vocabulary ("is required", "check digit does not match"), the few with a
number in them read back by pattern. A description not known here reads as "is not valid": a
Chinese screen never shows the English. Parameters come only from what the error already
carries (a receipt, a division code, a limit), never from what was typed: no personal data.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

import grpc

from onedoor.case.v1 import case_pb2
from services.common import texts
from services.common.errors import ApiError, FieldViolation
from services.common.texts import Code, text

# The days a cooling-off refusal names (the registry's metadata, ISO local dates).
_COOLING_OFF_DAYS = ("cooling_off_last_day", "confirmation_first_day", "confirmation_last_day")


def _cooling_off(metadata: Mapping[str, str]) -> case_pb2.Text:
    """Until when the cooling-off runs and when the parties may confirm, where the registry
    said; the bare refusal from one that did not."""
    if not all(metadata.get(day) for day in _COOLING_OFF_DAYS):
        return text(Code.TEXT_CODE_ERROR_COOLING_OFF)
    said = text(
        Code.TEXT_CODE_ERROR_COOLING_OFF_UNTIL,
        **{day: texts.date(metadata[day]) for day in _COOLING_OFF_DAYS},
    )
    if metadata.get("provisional_years"):
        said.details.append(
            text(
                Code.TEXT_CODE_SCHEDULE_PROVISIONAL,
                years=texts.code(", ".join(metadata["provisional_years"].split(","))),
            )
        )
    return said


# By ErrorInfo reason: the sentence, from the error's metadata.
_BY_REASON: dict[str, Callable[[Mapping[str, str]], case_pb2.Text]] = {
    "DUPLICATE_APPLICATION": lambda m: text(
        Code.TEXT_CODE_ERROR_DUPLICATE_APPLICATION, receipt=texts.code(m.get("open_receipt", ""))
    ),
    "REQUEST_ID_REUSED": lambda m: text(Code.TEXT_CODE_ERROR_REQUEST_ID_REUSED),
    "REFUSED_BY_RECORDS": lambda m: text(Code.TEXT_CODE_ERROR_REFUSED_BY_RECORDS),
    "PERSON_DECEASED": lambda m: text(Code.TEXT_CODE_ERROR_PERSON_DECEASED),
    "MISSING_MATERIALS": lambda m: text(Code.TEXT_CODE_ERROR_MISSING_MATERIALS),
    "OUTSIDE_JURISDICTION": lambda m: text(Code.TEXT_CODE_ERROR_OUTSIDE_JURISDICTION),
    "NOT_SERVED_HERE": lambda m: text(Code.TEXT_CODE_ERROR_OUTSIDE_JURISDICTION),
    "NO_PEER_FOR_DIVISION": lambda m: text(
        Code.TEXT_CODE_ERROR_NO_PEER_FOR_DIVISION,
        division=texts.division(m.get("responsible_division", "")),
    ),
    "CASE_ALREADY_DECIDED": lambda m: text(Code.TEXT_CODE_ERROR_CASE_ALREADY_DECIDED),
    "ALREADY_AWAITING_MATERIALS": lambda m: text(Code.TEXT_CODE_ERROR_ALREADY_AWAITING_MATERIALS),
    "NOT_AWAITING_MATERIALS": lambda m: text(Code.TEXT_CODE_ERROR_NOT_AWAITING_MATERIALS),
    "DIVORCE_NEEDS_CONFIRMATION": lambda m: text(Code.TEXT_CODE_ERROR_DIVORCE_NEEDS_CONFIRMATION),
    "COOLING_OFF": lambda m: _cooling_off(m),
    "NOT_COOLING_OFF": lambda m: text(Code.TEXT_CODE_ERROR_NOT_COOLING_OFF),
    "DIVORCE_LAPSED": lambda m: text(Code.TEXT_CODE_ERROR_DIVORCE_LAPSED),
    "DIVORCE_CLOSED": lambda m: text(Code.TEXT_CODE_ERROR_DIVORCE_CLOSED),
    "NOT_A_PARTY": lambda m: text(Code.TEXT_CODE_ERROR_NOT_A_PARTY),
    "ALREADY_MARRIED": lambda m: text(Code.TEXT_CODE_ERROR_ALREADY_MARRIED),
    "NOT_YOUR_CASE": lambda m: text(Code.TEXT_CODE_ERROR_NOT_YOUR_CASE),
    "BODY_TOO_LARGE": lambda m: text(Code.TEXT_CODE_ERROR_REQUEST_TOO_LARGE),
    "BACKEND_UNAVAILABLE": lambda m: text(Code.TEXT_CODE_ERROR_UNAVAILABLE),
}

# Failing a reason, by status.
_BY_STATUS = {
    grpc.StatusCode.NOT_FOUND: Code.TEXT_CODE_ERROR_NOT_FOUND,
    grpc.StatusCode.PERMISSION_DENIED: Code.TEXT_CODE_ERROR_PERMISSION_DENIED,
    grpc.StatusCode.ALREADY_EXISTS: Code.TEXT_CODE_ERROR_CONFLICT,
    grpc.StatusCode.ABORTED: Code.TEXT_CODE_ERROR_CONFLICT,
    grpc.StatusCode.FAILED_PRECONDITION: Code.TEXT_CODE_ERROR_FAILED_PRECONDITION,
    grpc.StatusCode.UNAUTHENTICATED: Code.TEXT_CODE_ERROR_UNAUTHENTICATED,
    grpc.StatusCode.UNAVAILABLE: Code.TEXT_CODE_ERROR_UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED: Code.TEXT_CODE_ERROR_UNAVAILABLE,
    grpc.StatusCode.CANCELLED: Code.TEXT_CODE_ERROR_UNAVAILABLE,
    grpc.StatusCode.RESOURCE_EXHAUSTED: Code.TEXT_CODE_ERROR_UNAVAILABLE,
}

# A violation's description as written (its English) and its code.
_BY_DESCRIPTION = {
    "is required": Code.TEXT_CODE_FIELD_REQUIRED,
    "is recorded as deceased in the registry": Code.TEXT_CODE_FIELD_RECORDED_DECEASED,
    "check digit does not match": Code.TEXT_CODE_FIELD_CHECK_DIGIT,
    "must be a 6-digit GB/T 2260 division code": Code.TEXT_CODE_FIELD_DIVISION_FORMAT,
    "must be a 6-digit code": Code.TEXT_CODE_FIELD_DIVISION_FORMAT,
    "is not a GB/T 2260 division code": Code.TEXT_CODE_FIELD_NOT_A_DIVISION,
    "must be a county-level division (the hukou's county or district)": (
        Code.TEXT_CODE_FIELD_COUNTY_DIVISION
    ),
    "must look like 320585-7K3F9-QX2MA": Code.TEXT_CODE_FIELD_RECEIPT_FORMAT,
    "is not a matter of the catalog": Code.TEXT_CODE_FIELD_NOT_IN_CATALOG,
    "is not a matter of the catalog (GET /v1/matters lists them)": (
        Code.TEXT_CODE_FIELD_NOT_IN_CATALOG
    ),
    "is not a material of this matter": Code.TEXT_CODE_FIELD_NOT_A_MATERIAL,
    "must include the applicant": Code.TEXT_CODE_FIELD_MUST_INCLUDE_APPLICANT,
    "already holds a senior card": Code.TEXT_CODE_FIELD_HOLDS_SENIOR_CARD,
    "already receives the age allowance": Code.TEXT_CODE_FIELD_RECEIVES_AGE_ALLOWANCE,
    "is married according to the registry's records": Code.TEXT_CODE_FIELD_MARRIED,
    "the death is already registered": Code.TEXT_CODE_FIELD_DEATH_REGISTERED,
    "is already registered or applied for in this jurisdiction": (
        Code.TEXT_CODE_FIELD_ORG_NAME_TAKEN
    ),
    "is not a registered organisation of this bureau": Code.TEXT_CODE_FIELD_NOT_REGISTERED_ORG,
    "is not married to the applicant in the registry's records": (
        Code.TEXT_CODE_FIELD_NOT_MARRIED_TO_APPLICANT
    ),
    "a divorce application for this marriage is pending": Code.TEXT_CODE_FIELD_DIVORCE_PENDING,
    "must be 18 characters": Code.TEXT_CODE_FIELD_ID_LENGTH,
    "must be 18 characters; 15-digit numbers are not accepted": Code.TEXT_CODE_FIELD_ID_LENGTH,
    "must be 17 digits followed by a digit or X": Code.TEXT_CODE_FIELD_ID_FORMAT,
    "birth date is not a real date": Code.TEXT_CODE_FIELD_BIRTH_DATE_INVALID,
    "birth date is in the future": Code.TEXT_CODE_FIELD_BIRTH_DATE_IN_FUTURE,
    "must be a date written YYYY-MM-DD, like 2026-11-20": Code.TEXT_CODE_FIELD_DATE_FORMAT,
    "is not a real date (YYYY-MM-DD, like 2026-11-20)": Code.TEXT_CODE_FIELD_DATE_FORMAT,
    "must not be in the future": Code.TEXT_CODE_FIELD_IN_FUTURE,
    "must be 8-64 letters, digits or ._:-": Code.TEXT_CODE_FIELD_REQUEST_ID_FORMAT,
    "must be 8-64 letters, digits or ._:- (a UUID is best)": (
        Code.TEXT_CODE_FIELD_REQUEST_ID_FORMAT
    ),
    "was used before for another request": Code.TEXT_CODE_FIELD_USED_BEFORE,
    "must not contain control characters": Code.TEXT_CODE_FIELD_CONTROL_CHARACTERS,
    "must name what was handed in": Code.TEXT_CODE_FIELD_NAME_MATERIALS,
    "must not be negative": Code.TEXT_CODE_FIELD_NOT_NEGATIVE,
}

# Descriptions with a number or a code in them: the pattern, and the text from its groups.
_BY_PATTERN: list[tuple[re.Pattern[str], Callable[[re.Match[str]], case_pb2.Text]]] = [
    (
        re.compile(r"must be at most (\d+) characters"),
        lambda m: text(Code.TEXT_CODE_FIELD_TOO_LONG, max=texts.count(int(m[1]))),
    ),
    (
        re.compile(r"missing required material ([a-z0-9_]+)\b.*"),
        lambda m: text(Code.TEXT_CODE_FIELD_MISSING_MATERIAL, material=texts.materials([m[1]])),
    ),
    (
        re.compile(r"the applicant is (\d+); the matter is for people aged (\d+) and over"),
        lambda m: text(
            Code.TEXT_CODE_FIELD_UNDER_AGE,
            age=texts.count(int(m[1])),
            minimum=texts.count(int(m[2])),
        ),
    ),
    (
        re.compile(r"must be one of [a-z, ]+"),
        lambda m: text(Code.TEXT_CODE_FIELD_NOT_A_DEPARTMENT),
    ),
]


def message_text(error: ApiError) -> case_pb2.Text:
    """The error's sentence for people."""
    by_reason = _BY_REASON.get(error.reason)
    if by_reason is not None:
        return by_reason(error.metadata)
    if error.code in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.OUT_OF_RANGE):
        return text(
            Code.TEXT_CODE_ERROR_INVALID_REQUEST, fields=texts.count(len(error.violations) or 1)
        )
    if error.code in _BY_STATUS:
        return text(_BY_STATUS[error.code])
    if error.violations:
        return text(Code.TEXT_CODE_ERROR_FAILED_PRECONDITION)
    return text(Code.TEXT_CODE_ERROR_INTERNAL)


def violation_text(violation: FieldViolation) -> case_pb2.Text:
    """What is wrong with the field, for people."""
    description = violation.description.strip()
    known = _BY_DESCRIPTION.get(description)
    if known is not None:
        return text(known)
    for pattern, made in _BY_PATTERN:
        found = pattern.fullmatch(description)
        if found:
            return made(found)
    return text(Code.TEXT_CODE_FIELD_INVALID)
