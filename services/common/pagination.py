"""AIP-158 page tokens: opaque to clients, a keyset position to the server (the last row's
sort key), so pages stay stable while cases are added and cost the same at any depth."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from typing import TypeVar

import grpc

from services.common.errors import ApiError, FieldViolation
from services.common.receipt import is_receipt

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
Row = TypeVar("Row")


def page_size(requested: int) -> int:
    if requested < 0:
        raise ApiError(
            grpc.StatusCode.INVALID_ARGUMENT,
            "page_size must not be negative",
            violations=(FieldViolation("page_size", "must not be negative"),),
        )
    return min(requested or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)


def _bad_token() -> ApiError:
    return ApiError(
        grpc.StatusCode.INVALID_ARGUMENT,
        "page_token is not one this service issued",
        violations=(FieldViolation("page_token", "must come from a previous response"),),
    )


def _encode(position: list[str]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode()


def _decode(token: str, length: int) -> list[str]:
    try:
        position = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, UnicodeDecodeError):
        raise _bad_token() from None
    if (
        isinstance(position, list)
        and len(position) == length
        and all(isinstance(p, str) and p.isprintable() for p in position)
    ):
        return position
    raise _bad_token()


def split_page(
    rows: Sequence[Row], size: int, position: Callable[[Row], str]
) -> tuple[list[Row], str]:
    """The page out of ``size + 1`` rows fetched, and the next page's token (``position`` of
    its last row), empty when the extra row shows there is no next page."""
    page = list(rows[:size])
    return page, position(page[-1]) if len(rows) > size else ""


def encode_time_key(time: dt.datetime, receipt: str) -> str:
    """A position in an order by (time, receipt)."""
    return _encode([time.isoformat(), receipt])


def decode_time_key(token: str) -> tuple[dt.datetime, str] | None:
    """The position ``encode_time_key`` wrote, or None for the first page. Tokens are opaque,
    not signed: a forged one must be refused here rather than fail in the database."""
    if not token:
        return None
    time, receipt = _decode(token, 2)
    try:
        parsed = dt.datetime.fromisoformat(time)
    except ValueError:
        raise _bad_token() from None
    if parsed.tzinfo is None or not is_receipt(receipt):
        raise _bad_token()
    return parsed, receipt


def encode_sequence(sequence: int) -> str:
    return _encode([str(sequence)])


def decode_sequence(token: str) -> int | None:
    if not token:
        return None
    (sequence,) = _decode(token, 1)
    if not (sequence.isascii() and sequence.isdigit() and len(sequence) <= 18):
        raise _bad_token()
    return int(sequence)


def encode_time_uuid(time: dt.datetime, row_id: str) -> str:
    """A position in an order by (time, uuid): a row named by a generated id, not a receipt."""
    return _encode([time.isoformat(), row_id])


def decode_time_uuid(token: str) -> tuple[dt.datetime, str] | None:
    """The position ``encode_time_uuid`` wrote, or None for the first page."""
    if not token:
        return None
    time, row_id = _decode(token, 2)
    try:
        parsed = dt.datetime.fromisoformat(time)
        uuid.UUID(row_id)
    except ValueError:
        raise _bad_token() from None
    if parsed.tzinfo is None:
        raise _bad_token()
    return parsed, row_id
