"""Keyed hashes: find a person in the records (is this person married, deceased, holding a
senior card, already applying) without comparing numbers in the clear, and fingerprint a
request (AIP-155) without keeping it. The key (IDENTITY_HASH_KEY, a fixed development key by
default) is configured once by the process's ``__main__`` (``config.Keys.configure``); hashing
before that is an error, never a silent default. Apart from ``personal_data`` so that a process
that only hashes (the gateway) never holds the key that opens stored data."""

from __future__ import annotations

import hashlib
import hmac

from onedoor.case.v1 import case_pb2
from services.common.identity import normalize

DEVELOPMENT_KEY = "onedoor-development-only-identity-key"

_configured: bytes | None = None


def configure(key: str) -> None:
    """Sets the key, once per process, from its settings."""
    global _configured
    if not key:
        raise ValueError("the identity hash key is empty")
    _configured = key.encode()


def _key() -> bytes:
    if _configured is None:
        raise RuntimeError(
            "keyed_hash is not configured: the process's __main__ calls "
            "config.Keys.configure() with its settings first (tests: the root conftest)"
        )
    return _configured


def person_key(id_number: str) -> str:
    """The same person always gives the same key; the key does not give the number back."""
    return hmac.new(_key(), normalize(id_number).encode(), hashlib.sha256).hexdigest()


def request_fingerprint(case: case_pb2.Case) -> str:
    """A keyed hash of what the client asked for (AIP-155): the same request resent gives the
    same fingerprint; a request id reused for another request does not. Only the client's
    fields count, never what the platform assigned."""
    asked = case_pb2.Case(
        matter_code=case.matter_code,
        applicant=case.applicant,
        household_members=case.household_members,
        materials=case.materials,
        details=case.details,
        accepting_division=case.accepting_division,
    )
    if case.HasField("origin"):
        asked.origin.accepting_receipt = case.origin.accepting_receipt
        asked.origin.accepting_division = case.origin.accepting_division
    return hmac.new(
        _key(), b"request\x00" + asked.SerializeToString(deterministic=True), hashlib.sha256
    ).hexdigest()


def batch_fingerprint() -> hmac.HMAC:
    """A keyed hash fed record by record (a batch of pushed records, which may be larger than
    memory): the same batch gives the same digest, and the digest does not give the records
    back."""
    return hmac.new(_key(), b"batch\x00", hashlib.sha256)
