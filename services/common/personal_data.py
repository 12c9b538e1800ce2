"""Keyed hashes of personal identifiers: how services find a person in their records (is this
person married, deceased, holding a senior card) without storing or comparing the number in
the clear. The key comes from configuration; without it, a fixed development key is used."""

from __future__ import annotations

import functools
import hashlib
import hmac

from services.common.config import env_str
from services.common.identity import normalize

DEVELOPMENT_KEY = "onedoor-development-only-identity-key"


@functools.cache
def _key() -> bytes:
    return env_str("IDENTITY_HASH_KEY", DEVELOPMENT_KEY).encode()


def person_key(id_number: str) -> str:
    """The same person always gives the same key; the key does not give the number back."""
    return hmac.new(_key(), normalize(id_number).encode(), hashlib.sha256).hexdigest()
