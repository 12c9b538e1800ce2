import datetime as dt

import pytest

from services.ingest.judging.household import Household, Identification, Identified
from services.ingest.judging.records import (
    DisabilityCategory,
    DisabilityGrade,
    MedicalExpense,
    PersonKey,
    RecordId,
)

from .people import key, source

D = dt.date


def test_a_person_is_a_32_byte_keyed_hash_shown_only_by_a_prefix():
    with pytest.raises(ValueError, match="person"):
        PersonKey(b"320585194712021234")
    with pytest.raises(ValueError, match="person"):
        PersonKey("ab" * 32)  # type: ignore[arg-type]
    k = key(1)
    assert PersonKey.from_hex(k.hex()) == k
    assert k.hex() not in repr(k)


def test_an_agency_record_id_names_both_parts():
    with pytest.raises(ValueError, match="agency"):
        RecordId("", "R1")
    with pytest.raises(ValueError, match="record_id"):
        RecordId("medical_insurance", "")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"out_of_pocket_fen": 101}, "out_of_pocket_fen: more than total_fen"),
        ({"total_fen": -1}, "total_fen"),
        ({"out_of_pocket_fen": 1.5}, "out_of_pocket_fen"),
        ({"out_of_pocket_fen": True}, "out_of_pocket_fen"),
        ({"settled_on": dt.datetime(2027, 1, 1, tzinfo=dt.UTC)}, "settled_on: a local date"),
        ({"settled_on": "2027-01-01"}, "settled_on"),
    ],
)
def test_a_bad_medical_expense_names_its_field(fields, message):
    values = {"total_fen": 100, "out_of_pocket_fen": 40, "settled_on": D(2027, 1, 1)} | fields
    with pytest.raises(ValueError, match=message):
        MedicalExpense(source=source(), person=key(1), **values)


@pytest.mark.parametrize("grade", [0, 5, "2"])
def test_a_disability_grade_is_one_to_four(grade):
    with pytest.raises(ValueError, match="grade"):
        DisabilityGrade(source(), key(1), grade, DisabilityCategory.MENTAL, D(2027, 1, 1))


def test_a_disability_category_is_one_of_gbt_26341():
    with pytest.raises(ValueError, match="category"):
        DisabilityGrade(source(), key(1), 2, "mental", D(2027, 1, 1))  # type: ignore[arg-type]


def test_a_household_file_is_checked_field_by_field():
    members = frozenset({key(1)})
    with pytest.raises(ValueError, match="division"):
        Household("HF-1", "3205", members)
    with pytest.raises(ValueError, match="members"):
        Household("HF-1", "320585", frozenset())
    with pytest.raises(ValueError, match="annual_income_fen"):
        Household("HF-1", "320585", members, annual_income_fen=-1)
    twice = Identified(Identification.DIBAO, since=D(2026, 1, 1))
    with pytest.raises(ValueError, match="identified"):
        Household("HF-1", "320585", members, identified=(twice, twice))
