"""The bodies agencies send over HTTP, read line by line into records: JSON Lines (one
``onedoor.ingest.v1.AgencyRecord`` per line, in the proto JSON mapping) and CSV with a header
(the format agencies export). A line that is no record becomes a refusal of that line; the
other lines go on. Nothing here quotes a value: parser messages can, so they are dropped.

CSV columns (header names, any order; only ``record_id``, ``id_number``, ``kind`` and the
kind's own columns are needed): ``record_id, id_number, kind, settled_on, total_fen,
out_of_pocket_fen, died_on, grade, category, changed_on, registered_on``. ``kind`` is
MEDICAL_EXPENSE, DEATH, DISABILITY_GRADE or UNEMPLOYMENT; ``category`` a DisabilityCategory
without its prefix (PHYSICAL, ...); amounts whole fen. A quoted field may not span lines:
agencies' exports keep one record a line, and a line read alone keeps memory flat.
"""

from __future__ import annotations

import csv
import json
from typing import Any

from google.protobuf import json_format

from onedoor.ingest.v1 import ingest_service_pb2 as pb
from services.common.errors import FieldViolation, invalid_argument
from services.ingest.records import Refused, unreadable

JSON_LINES_TYPES = ("application/jsonl", "application/x-ndjson", "application/json-lines")
CSV_TYPES = ("text/csv",)

CSV_COLUMNS = (
    "record_id",
    "id_number",
    "kind",
    "settled_on",
    "total_fen",
    "out_of_pocket_fen",
    "died_on",
    "grade",
    "category",
    "changed_on",
    "registered_on",
)
_REQUIRED_COLUMNS = ("record_id", "id_number", "kind")
_KINDS = {
    "MEDICAL_EXPENSE": "medical_expense",
    "DEATH": "death",
    "DISABILITY_GRADE": "disability_grade",
    "UNEMPLOYMENT": "unemployment",
}
# Which columns fill which field of each kind's message, and how.
_KIND_COLUMNS = {
    "medical_expense": (("settled_on", str), ("total_fen", int), ("out_of_pocket_fen", int)),
    "death": (("died_on", str),),
    "disability_grade": (("grade", int), ("category", "category"), ("changed_on", str)),
    "unemployment": (("registered_on", str),),
}

_FIELDS = pb.AgencyRecord.DESCRIPTOR.fields_by_name
_JSON_NAMES = {f.json_name: f.name for f in pb.AgencyRecord.DESCRIPTOR.fields}


def json_line(text: str, line: int) -> pb.AgencyRecord | Refused:
    try:
        value = json.loads(text)
    except ValueError:
        return unreadable(line, "is not a JSON object")
    if not isinstance(value, dict):
        return unreadable(line, "is not a JSON object")
    try:
        return json_format.ParseDict(value, pb.AgencyRecord())
    except (json_format.ParseError, TypeError, ValueError):
        return _json_refusal(value, line)


def _json_refusal(value: dict[str, Any], line: int) -> Refused:
    """Names the first member that does not parse, by parsing them one at a time."""
    record_id = value.get("recordId", value.get("record_id", ""))
    record_id = record_id if isinstance(record_id, str) and len(record_id) <= 64 else ""
    for key, member in value.items():
        try:
            json_format.ParseDict({key: member}, pb.AgencyRecord())
        except (json_format.ParseError, TypeError, ValueError):
            name = _JSON_NAMES.get(key, key if key in _FIELDS else "")
            if not name:
                return unreadable(line, "names a field AgencyRecord does not have", record_id)
            return Refused(
                line,
                record_id,
                pb.RECORD_KIND_UNSPECIFIED,
                name,
                pb.REFUSAL_REASON_INVALID_FIELD,
                "does not have the type AgencyRecord gives it",
            )
    return unreadable(line, "is not an AgencyRecord (more than one kind given?)", record_id)


class CsvReader:
    """Reads a CSV body's lines: the header first, then one record a line."""

    def __init__(self, header: str) -> None:
        columns = next(csv.reader([header.lstrip("\ufeff")]), [])
        names = [c.strip() for c in columns]
        unknown = [n for n in names if n not in CSV_COLUMNS]
        missing = [n for n in _REQUIRED_COLUMNS if n not in names]
        if unknown or missing or len(set(names)) != len(names):
            violations = [
                *(
                    FieldViolation("header", f"names no column onedoor reads: {n}")
                    for n in unknown[:5]
                ),
                *(FieldViolation("header", f"lacks the column {n}") for n in missing),
            ]
            if len(set(names)) != len(names):
                violations.append(FieldViolation("header", "names a column twice"))
            raise invalid_argument(
                violations or [FieldViolation("header", "is not a CSV header of agency records")],
                reason="INVALID_CSV_HEADER",
            )
        self.names = names
        self.at = {name: i for i, name in enumerate(names)}

    def line(self, text: str, line: int) -> pb.AgencyRecord | Refused:
        # Most exports quote nothing: a plain split is several times quicker than a reader.
        values = text.split(",") if '"' not in text else next(csv.reader([text]), [])
        if len(values) != len(self.names):
            return unreadable(
                line, f"has {len(values)} columns; the header names {len(self.names)}"
            )
        at = self.at

        def value(column: str) -> str:
            index = at.get(column)
            return values[index].strip() if index is not None else ""

        record_id = value("record_id")
        kind = _KINDS.get(value("kind").upper())
        if kind is None:
            return Refused(
                line,
                record_id if len(record_id) <= 64 else "",
                pb.RECORD_KIND_UNSPECIFIED,
                "kind",
                pb.REFUSAL_REASON_INVALID_FIELD,
                "must be MEDICAL_EXPENSE, DEATH, DISABILITY_GRADE or UNEMPLOYMENT",
            )
        fields: dict[str, object] = {}
        for column, convert in _KIND_COLUMNS[kind]:
            raw = value(column)
            if convert is str:
                fields[column] = raw
            elif convert is int:
                if raw and not (raw.isascii() and raw.lstrip("-").isdigit()):
                    return _bad_column(line, record_id, f"{kind}.{column}", "is not a whole number")
                fields[column] = int(raw) if raw else 0
            else:
                category = raw.upper()
                if raw and category not in _CATEGORIES:
                    return _bad_column(
                        line, record_id, f"{kind}.{column}", "is not a category of GB/T 26341"
                    )
                fields[column] = (
                    pb.DisabilityCategory.Value(f"DISABILITY_CATEGORY_{category}")
                    if raw
                    else pb.DISABILITY_CATEGORY_UNSPECIFIED
                )
        return pb.AgencyRecord(
            record_id=record_id,
            id_number=value("id_number"),
            **{kind: _DETAILS[kind](**fields)},  # type: ignore[arg-type]
        )


_DETAILS = {
    "medical_expense": pb.MedicalExpense,
    "death": pb.Death,
    "disability_grade": pb.DisabilityGrade,
    "unemployment": pb.Unemployment,
}

_CATEGORIES = frozenset(
    name.removeprefix("DISABILITY_CATEGORY_")
    for name in pb.DisabilityCategory.keys()  # noqa: SIM118 (an enum wrapper, not a dict)
    if name != "DISABILITY_CATEGORY_UNSPECIFIED"
)


def _bad_column(line: int, record_id: str, field: str, description: str) -> Refused:
    return Refused(
        line,
        record_id if len(record_id) <= 64 else "",
        pb.RECORD_KIND_UNSPECIFIED,
        field,
        pb.REFUSAL_REASON_INVALID_FIELD,
        description,
    )
