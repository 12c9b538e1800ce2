"""The bearer token the command line presents, and what it claims about its holder.

The claims are read without checking the signature: the command line only uses them to choose
sensible defaults (the officer's department); the gateway verifies every call.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from services.cli.outcome import TOKEN_HINT, CliError, ExitCode


def bearer_token(option: str | None) -> str:
    """The token from --token (``main`` fills it from ONEDOOR_TOKEN); without one no call can
    succeed, so stop here rather than send it."""
    token = (option or "").strip()
    if not token:
        raise CliError("no token", code=ExitCode.UNAVAILABLE, hint=TOKEN_HINT)
    return token


def claims(token: str) -> dict[str, Any]:
    """The JWT's payload, or nothing when the token is not a readable JWT."""
    parts = token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        found = json.loads(base64.urlsafe_b64decode(payload.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return {}
    return found if isinstance(found, dict) else {}
