"""The records other agencies push, as the ingest service hands them to the rules: identities
only as keyed hashes, amounts in integer fen, dates as the bureau's local dates."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

# HMAC-SHA-256 (services/common/keyed_hash.py) of the normalized identity number: 32 bytes.
PERSON_KEY_LENGTH = 32


@dataclass(frozen=True)
class PersonKey:
    """A person as the keyed hash of their identity number; never the number itself."""

    digest: bytes

    def __post_init__(self) -> None:
        if not isinstance(self.digest, bytes) or len(self.digest) != PERSON_KEY_LENGTH:
            raise ValueError(f"person: a keyed hash of {PERSON_KEY_LENGTH} bytes")

    @classmethod
    def from_hex(cls, digest: str) -> PersonKey:
        """From the hex form the platform's tables keep (keyed_hash.person_key)."""
        return cls(bytes.fromhex(digest))

    def hex(self) -> str:
        return self.digest.hex()

    def __repr__(self) -> str:
        # Pseudonymous, but a repr in a log line needs no more than a prefix to be told apart.
        return f"PersonKey({self.digest[:4].hex()}…)"


@dataclass(frozen=True)
class RecordId:
    """The pushing agency and the agency's own id of the record: the same pair is the same
    record however often it is pushed."""

    agency: str
    record_id: str

    def __post_init__(self) -> None:
        if not self.agency:
            raise ValueError("agency: must not be empty")
        if not self.record_id:
            raise ValueError("record_id: must not be empty")


def _require_date(field: str, value: object) -> None:
    # datetime is a date subclass; an instant where a local date belongs is a caller's bug.
    if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
        raise ValueError(f"{field}: a local date, not {type(value).__name__}")


def _require_fen(field: str, value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{field}: a non-negative whole number of fen")


@dataclass(frozen=True)
class MedicalExpense:
    """A settled medical bill (the medical-insurance bureau): what it cost and what the
    patient paid themselves after insurance."""

    source: RecordId
    person: PersonKey
    settled_on: dt.date
    total_fen: int
    out_of_pocket_fen: int

    def __post_init__(self) -> None:
        _require_date("settled_on", self.settled_on)
        _require_fen("total_fen", self.total_fen)
        _require_fen("out_of_pocket_fen", self.out_of_pocket_fen)
        if self.out_of_pocket_fen > self.total_fen:
            raise ValueError("out_of_pocket_fen: more than total_fen")


@dataclass(frozen=True)
class Death:
    """A death (a hospital or public security)."""

    source: RecordId
    person: PersonKey
    died_on: dt.date

    def __post_init__(self) -> None:
        _require_date("died_on", self.died_on)


class DisabilityCategory(StrEnum):
    """The categories of GB/T 26341-2010 on the disability certificate."""

    VISUAL = "visual"  # 视力残疾
    HEARING = "hearing"  # 听力残疾
    SPEECH = "speech"  # 言语残疾
    PHYSICAL = "physical"  # 肢体残疾
    INTELLECTUAL = "intellectual"  # 智力残疾
    MENTAL = "mental"  # 精神残疾
    MULTIPLE = "multiple"  # 多重残疾


@dataclass(frozen=True)
class DisabilityGrade:
    """A disability grade assessed anew (the disabled persons' federation): 1, the most
    severe, to 4."""

    source: RecordId
    person: PersonKey
    grade: int
    category: DisabilityCategory
    changed_on: dt.date

    def __post_init__(self) -> None:
        if not isinstance(self.grade, int) or isinstance(self.grade, bool):
            raise ValueError("grade: a whole number from 1 to 4")
        if not 1 <= self.grade <= 4:
            raise ValueError("grade: from 1 (most severe) to 4")
        if not isinstance(self.category, DisabilityCategory):
            raise ValueError("category: one of " + ", ".join(c.value for c in DisabilityCategory))
        _require_date("changed_on", self.changed_on)


@dataclass(frozen=True)
class Unemployment:
    """An unemployment registration (human resources and social security)."""

    source: RecordId
    person: PersonKey
    registered_on: dt.date

    def __post_init__(self) -> None:
        _require_date("registered_on", self.registered_on)


Record = MedicalExpense | Death | DisabilityGrade | Unemployment


@dataclass(frozen=True)
class UnmatchedRecord:
    """A record that matched no person the platform knows, kept for a while in case the
    person becomes known (a household applies later), then deleted."""

    source: RecordId
    # The pushing agency's jurisdiction, whose retention period applies.
    division: str
    received_on: dt.date

    def __post_init__(self) -> None:
        _require_date("received_on", self.received_on)
