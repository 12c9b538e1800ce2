"""Receipt numbers: what the applicant takes home and the clerk types into a look-up.

A receipt is derived from the accepting division and the client's request id, so the gateway
knows it before the case is stored (and can mark every span of the request with it), and a
retried request always maps to the same receipt. Crockford base32 avoids the letters a clerk
misreads (I, L, O, U).
"""

from __future__ import annotations

import hashlib
import re

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RECEIPT_PATTERN = re.compile(r"^\d{6}-[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$")
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{7,63}$")


def receipt_for(accepting_division: str, request_id: str) -> str:
    digest = hashlib.sha256(f"{accepting_division}\x00{request_id}".encode()).digest()
    bits = int.from_bytes(digest[:8], "big") >> 14  # 50 bits: 10 base32 characters
    chars = "".join(_ALPHABET[(bits >> shift) & 31] for shift in range(45, -1, -5))
    return f"{accepting_division}-{chars[:5]}-{chars[5:]}"


def is_receipt(text: str) -> bool:
    return bool(RECEIPT_PATTERN.fullmatch(text))


def is_request_id(text: str) -> bool:
    return bool(REQUEST_ID_PATTERN.fullmatch(text))
