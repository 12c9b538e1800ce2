"""AIP-158 page tokens: opaque to clients, a keyset position to the server (the last row's
sort key), so pages stay stable while cases are added and cost the same at any depth."""

from __future__ import annotations

import base64
import json

import grpc

from services.common.errors import ApiError, FieldViolation

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


def page_size(requested: int) -> int:
    if requested < 0:
        raise ApiError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "page_size must not be negative",
            violations=(FieldViolation("page_size", "must not be negative"),),
        )
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def encode(position: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def decode(token: str) -> list[str] | None:
    if not token:
        return None
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode()))
        if isinstance(position, list) and all(isinstance(p, str) for p in position):
            return position
    except (ValueError, UnicodeDecodeError):
        pass
    raise ApiError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_token is not one this service issued",
        violations=(FieldViolation("page_token", "must come from a previous response"),),
    )
