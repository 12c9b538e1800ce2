"""Personal data at rest: encryption of identity and phone numbers in every stored case
(keyed hashes to find a person are in ``keyed_hash``); and in transit, of a whole accepted case
on its way to the departments. The key (PERSONAL_DATA_KEY, a fixed
development key by default) is configured once by the process's ``__main__``
(``config.Keys.configure``); sealing or opening before that is an error."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from google.protobuf.message import Message

from onedoor.case.v1 import case_pb2

# --- encryption at rest ---------------------------------------------------------------------
# Identity numbers and phones are sealed with AES-GCM before they are stored, so a database
# dump does not reveal them; the services open them on load. Names are not sealed (a dump
# reveals names, but not who they are). PERSONAL_DATA_KEY is 32 bytes, hex-encoded.

DEVELOPMENT_DATA_KEY = "0d00" * 16
SEALED_PREFIX = "sealed:v1:"


_configured: AESGCM | None = None


def check_key(key_hex: str) -> bytes:
    """The key's 32 bytes; ValueError naming PERSONAL_DATA_KEY when it is not 64 hex digits."""
    try:
        key = bytes.fromhex(key_hex)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ValueError("PERSONAL_DATA_KEY must be 32 bytes, hex-encoded (64 characters)")
    return key


def configure(key_hex: str) -> None:
    """Sets the key, once per process, from its settings."""
    global _configured
    _configured = AESGCM(check_key(key_hex))


def _aead() -> AESGCM:
    if _configured is None:
        raise RuntimeError(
            "personal_data is not configured: the process's __main__ calls "
            "config.Keys.configure() with its settings first (tests: the root conftest)"
        )
    return _configured


def _encrypt(clear: bytes, associated: bytes | None = None) -> bytes:
    """A fresh nonce, then the ciphertext with its tag."""
    nonce = os.urandom(12)
    return nonce + _aead().encrypt(nonce, clear, associated)


def _decrypt(sealed: bytes, associated: bytes | None = None) -> bytes:
    return _aead().decrypt(sealed[:12], sealed[12:], associated)


def seal(value: str) -> str:
    if not value or value.startswith(SEALED_PREFIX):
        return value
    return SEALED_PREFIX + base64.urlsafe_b64encode(_encrypt(value.encode())).decode()


def unseal(value: str) -> str:
    if not value.startswith(SEALED_PREFIX):
        return value
    return _decrypt(base64.urlsafe_b64decode(value[len(SEALED_PREFIX) :].encode())).decode()


def _each_secret(case: case_pb2.Case) -> Iterator[tuple[Message, str]]:
    """Every (message, field) of a case that holds an identity or phone number."""
    yield case.applicant, "id_number"
    yield case.applicant, "phone"
    for member in case.household_members:
        yield member, "id_number"
    details = case.details
    yield details.other_party, "id_number"
    yield details.other_party, "phone"
    yield details.death, "deceased_id_number"
    yield details.economic_check_consent, "consenting_id_number"


def _apply(case: case_pb2.Case, change: Callable[[str], str]) -> case_pb2.Case:
    changed = case_pb2.Case()
    changed.CopyFrom(case)
    for message, field in _each_secret(changed):
        value = getattr(message, field)
        if value:
            setattr(message, field, change(value))
    consent = changed.details.economic_check_consent
    consent.member_id_numbers[:] = [change(n) for n in consent.member_id_numbers]
    return changed


def seal_case(case: case_pb2.Case) -> case_pb2.Case:
    """A copy of the case with its identity and phone numbers sealed, for storage."""
    return _apply(case, seal)


def unseal_case(case: case_pb2.Case) -> case_pb2.Case:
    return _apply(case, unseal)


# --- a whole case in transit ----------------------------------------------------------------
# case_accepted carries the accepted case to the department that opens it, through the outbox,
# the broker and the router, none of which may read it: sealed whole (names too) with the same
# key, the receipt bound in as associated data, so a sealed case handed on under another
# receipt does not open.

_TRANSIT = b"onedoor.case.v1.Case/"


class SealedCaseRefused(ValueError):
    """A sealed case that does not open with this key under the receipt it was given with."""


def seal_for_transit(case: case_pb2.Case) -> bytes:
    return _encrypt(case.SerializeToString(), _TRANSIT + case.receipt.encode())


def open_from_transit(sealed: bytes, receipt: str) -> case_pb2.Case:
    """The case :func:`seal_for_transit` sealed for ``receipt``; SealedCaseRefused if it was
    sealed for another receipt, with another key, or altered."""
    try:
        clear = _decrypt(sealed, _TRANSIT + receipt.encode())
    except (InvalidTag, ValueError):
        raise SealedCaseRefused("does not open for this receipt with this platform's key") from None
    return case_pb2.Case.FromString(clear)
