"""One pushed record checked on its own: a row to keep, or a refusal naming its line, field
and reason. Pure: no database, no clock but the bureau's date passed in.

The identity number is checked (services.common.identity, python-stdnum's check digit) and
turned into its keyed hash here, on arrival; nothing after this module sees it, and no
refusal quotes it (nor any other value).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from onedoor.ingest.v1 import ingest_service_pb2 as pb
from services.common import identity, keyed_hash

# Which kinds of record each agency keeps (services.common.auth.AGENCIES): an agency pushing
# another's kind is refused per record.
KINDS_OF_AGENCY: dict[str, frozenset[int]] = {
    "medical_insurance": frozenset({pb.RECORD_KIND_MEDICAL_EXPENSE}),
    "health": frozenset({pb.RECORD_KIND_DEATH}),
    "public_security": frozenset({pb.RECORD_KIND_DEATH}),
    "disabled_persons_federation": frozenset({pb.RECORD_KIND_DISABILITY_GRADE}),
    "human_resources": frozenset({pb.RECORD_KIND_UNEMPLOYMENT}),
}

# The oneof's case names each kind.
KIND_OF_DETAILS = {
    "medical_expense": pb.RECORD_KIND_MEDICAL_EXPENSE,
    "death": pb.RECORD_KIND_DEATH,
    "disability_grade": pb.RECORD_KIND_DISABILITY_GRADE,
    "unemployment": pb.RECORD_KIND_UNEMPLOYMENT,
}
DETAILS_OF_KIND = {kind: name for name, kind in KIND_OF_DETAILS.items()}


def kind_name(kind: int) -> str:
    """``MEDICAL_EXPENSE`` for RECORD_KIND_MEDICAL_EXPENSE: the stored and labelled name."""
    return pb.RecordKind.Name(kind).removeprefix("RECORD_KIND_")


MAX_RECORD_ID = 64
# Nothing the agencies hold about living persons goes back further.
EARLIEST = dt.date(1900, 1, 1)
# A year of one person's medical bills stays far below this; larger is a unit mistake (yuan
# sent as fen of fen, or an export error).
MAX_AMOUNT_FEN = 100_000_000_00


@dataclass(frozen=True)
class Kept:
    """A record to store: what the database keeps of it, the identity number hashed."""

    record_id: str
    person_key: str
    kind: int
    occurred_on: dt.date
    total_fen: int | None = None
    out_of_pocket_fen: int | None = None
    grade: int | None = None
    category: str | None = None


@dataclass(frozen=True)
class Refused:
    line: int
    record_id: str
    kind: int
    field: str
    reason: int
    description: str

    def to_proto(self) -> pb.Refusal:
        return pb.Refusal(
            line=self.line,
            record_id=self.record_id,
            field=self.field,
            reason=self.reason,  # type: ignore[arg-type]
            description=self.description,
        )


class _Refusal(Exception):
    def __init__(self, field: str, description: str, reason: int) -> None:
        super().__init__(description)
        self.field = field
        self.description = description
        self.reason = reason


def _invalid(field: str, description: str) -> _Refusal:
    return _Refusal(field, description, pb.REFUSAL_REASON_INVALID_FIELD)


def _date(field: str, text: str, today: dt.date) -> dt.date:
    if not text:
        raise _invalid(field, "is required (an ISO date, YYYY-MM-DD)")
    try:
        day = dt.date.fromisoformat(text)
    except ValueError:
        raise _invalid(field, "is not an ISO date (YYYY-MM-DD)") from None
    if len(text) != 10:
        raise _invalid(field, "is not an ISO date (YYYY-MM-DD)")
    if day > today:
        raise _invalid(field, "is after the bureau's today")
    if day < EARLIEST:
        raise _invalid(field, "is before 1900")
    return day


def unreadable(line: int, description: str, record_id: str = "", field: str = "") -> Refused:
    """A line that is no record at all (bad JSON, a CSV row of the wrong width)."""
    return Refused(
        line,
        record_id,
        pb.RECORD_KIND_UNSPECIFIED,
        field or "line",
        pb.REFUSAL_REASON_UNREADABLE_LINE,
        description,
    )


def check(
    record: pb.AgencyRecord,
    line: int,
    agency: str,
    covers: Callable[[str], bool],
    today: dt.date,
) -> Kept | Refused:
    """The record as kept, or why it is refused. ``covers`` says whether a division lies in
    the pushing agency's jurisdiction; ``today`` is the bureau's local date."""
    details = record.WhichOneof("details")
    kind = KIND_OF_DETAILS[details] if details else pb.RECORD_KIND_UNSPECIFIED
    record_id = record.record_id
    try:
        if not record_id:
            raise _invalid("record_id", "is required: the agency's own id of the record")
        if (
            len(record_id) > MAX_RECORD_ID
            or not record_id.isprintable()
            or record_id != record_id.strip()
        ):
            record_id = ""
            raise _invalid(
                "record_id",
                f"must be at most {MAX_RECORD_ID} printable characters, no spaces around",
            )
        try:
            number = identity.validate(record.id_number, today=today)
        except identity.IdentityError as error:
            raise _invalid("id_number", str(error)) from None
        if not covers(number[:6]):
            raise _Refusal(
                "id_number",
                "the person's division lies outside the agency's jurisdiction",
                pb.REFUSAL_REASON_OUTSIDE_JURISDICTION,
            )
        if details is None:
            raise _invalid(
                "details",
                "names no kind: one of medical_expense, death, disability_grade, unemployment",
            )
        if kind not in KINDS_OF_AGENCY.get(agency, frozenset()):
            raise _Refusal(
                details,
                f"the {agency} agency does not keep {kind_name(kind)} records",
                pb.REFUSAL_REASON_KIND_NOT_KEPT_BY_AGENCY,
            )
        person = keyed_hash.person_key(number)
        return _kept(record, record_id, person, kind, today)
    except _Refusal as refusal:
        return Refused(line, record_id, kind, refusal.field, refusal.reason, refusal.description)


def _kept(record: pb.AgencyRecord, record_id: str, person: str, kind: int, today: dt.date) -> Kept:
    if kind == pb.RECORD_KIND_MEDICAL_EXPENSE:
        expense = record.medical_expense
        settled = _date("medical_expense.settled_on", expense.settled_on, today)
        if not 0 < expense.total_fen <= MAX_AMOUNT_FEN:
            raise _invalid(
                "medical_expense.total_fen",
                "must be a positive whole number of fen, at most 100 million yuan",
            )
        if not 0 <= expense.out_of_pocket_fen <= expense.total_fen:
            raise _invalid(
                "medical_expense.out_of_pocket_fen",
                "must be a whole number of fen from 0 to the total",
            )
        return Kept(
            record_id,
            person,
            kind,
            settled,
            total_fen=expense.total_fen,
            out_of_pocket_fen=expense.out_of_pocket_fen,
        )
    if kind == pb.RECORD_KIND_DEATH:
        return Kept(record_id, person, kind, _date("death.died_on", record.death.died_on, today))
    if kind == pb.RECORD_KIND_DISABILITY_GRADE:
        change = record.disability_grade
        if not 1 <= change.grade <= 4:
            raise _invalid("disability_grade.grade", "must be a grade from 1 to 4")
        if change.category == pb.DISABILITY_CATEGORY_UNSPECIFIED:
            raise _invalid("disability_grade.category", "is required")
        if change.category not in pb.DisabilityCategory.values():
            raise _invalid("disability_grade.category", "is not a category of GB/T 26341")
        changed = _date("disability_grade.changed_on", change.changed_on, today)
        category = pb.DisabilityCategory.Name(change.category).removeprefix("DISABILITY_CATEGORY_")
        return Kept(record_id, person, kind, changed, grade=change.grade, category=category)
    registered = _date("unemployment.registered_on", record.unemployment.registered_on, today)
    return Kept(record_id, person, kind, registered)
