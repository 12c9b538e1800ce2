"""Each pushed record checked on its own, and the HTTP bodies read line by line: pure, no
servers."""

from __future__ import annotations

import datetime as dt

import pytest

from onedoor.ingest.v1 import ingest_service_pb2 as pb
from services.common import divisions, identity, keyed_hash
from services.common.errors import ApiError
from services.ingest import formats
from services.ingest.records import Kept, Refused, check

TODAY = dt.date(2026, 12, 2)
NUMBER = identity.compose("320585", dt.date(1958, 3, 14), 23)


def covers(division: str) -> bool:
    return divisions.within("320585", division)


def expense(total: int = 1000, paid: int = 400, settled: str = "2026-11-30") -> pb.AgencyRecord:
    return pb.AgencyRecord(
        record_id="mi-1",
        id_number=NUMBER,
        medical_expense=pb.MedicalExpense(
            settled_on=settled, total_fen=total, out_of_pocket_fen=paid
        ),
    )


def checked(record: pb.AgencyRecord, agency: str = "medical_insurance") -> Kept | Refused:
    return check(record, 7, agency, covers, TODAY)


def refusal(record: pb.AgencyRecord, agency: str = "medical_insurance") -> tuple[str, int]:
    result = checked(record, agency)
    assert isinstance(result, Refused), result
    assert result.line == 7
    assert NUMBER not in result.description
    return result.field, result.reason


def test_a_good_expense_is_kept_with_the_keyed_hash_not_the_number():
    kept = checked(expense())
    assert kept == Kept(
        "mi-1",
        keyed_hash.person_key(NUMBER),
        pb.RECORD_KIND_MEDICAL_EXPENSE,
        dt.date(2026, 11, 30),
        total_fen=1000,
        out_of_pocket_fen=400,
    )


@pytest.mark.parametrize(
    ("total", "paid", "kept"),
    [(1000, 1000, True), (1000, 1001, False), (1000, 0, True), (1000, -1, False), (0, 0, False)],
)
def test_out_of_pocket_runs_from_nothing_to_the_whole_bill(total, paid, kept):
    result = checked(expense(total, paid))
    assert isinstance(result, Kept) is kept
    if not kept:
        assert result.field.startswith("medical_expense.")


def test_a_date_is_at_most_the_bureaus_today():
    assert isinstance(checked(expense(settled="2026-12-02")), Kept)
    assert refusal(expense(settled="2026-12-03")) == (
        "medical_expense.settled_on",
        pb.REFUSAL_REASON_INVALID_FIELD,
    )
    for bad in ("", "2026-02-30", "20261130", "2026-1-3"):
        assert refusal(expense(settled=bad))[0] == "medical_expense.settled_on"


def test_the_identity_number_is_checked_and_its_division_must_lie_in_the_jurisdiction():
    broken = expense()
    broken.id_number = NUMBER[:-1] + ("1" if NUMBER[-1] != "1" else "2")
    assert refusal(broken) == ("id_number", pb.REFUSAL_REASON_INVALID_FIELD)
    kunshan = expense()
    kunshan.id_number = identity.compose("320583", dt.date(1958, 3, 14), 23)
    assert refusal(kunshan) == ("id_number", pb.REFUSAL_REASON_OUTSIDE_JURISDICTION)
    # A prefecture's agency covers its counties.
    assert isinstance(
        check(kunshan, 1, "medical_insurance", lambda d: divisions.within("320500", d), TODAY),
        Kept,
    )


def test_an_agency_pushes_only_its_own_kinds():
    death = pb.AgencyRecord(record_id="d-1", id_number=NUMBER, death=pb.Death(died_on="2026-11-01"))
    assert isinstance(checked(death, "public_security"), Kept)
    assert isinstance(checked(death, "health"), Kept)
    assert refusal(death, "medical_insurance") == (
        "death",
        pb.REFUSAL_REASON_KIND_NOT_KEPT_BY_AGENCY,
    )


def test_a_record_names_its_id_and_its_kind():
    nameless = expense()
    nameless.record_id = ""
    assert refusal(nameless)[0] == "record_id"
    long = expense()
    long.record_id = "x" * 65
    assert refusal(long)[0] == "record_id"
    kindless = pb.AgencyRecord(record_id="r", id_number=NUMBER)
    assert refusal(kindless)[0] == "details"


@pytest.mark.parametrize(("grade", "kept"), [(0, False), (1, True), (4, True), (5, False)])
def test_disability_grades_run_from_1_to_4(grade, kept):
    record = pb.AgencyRecord(
        record_id="g",
        id_number=NUMBER,
        disability_grade=pb.DisabilityGrade(
            grade=grade, category=pb.DISABILITY_CATEGORY_MENTAL, changed_on="2026-10-01"
        ),
    )
    result = checked(record, "disabled_persons_federation")
    assert isinstance(result, Kept) is kept
    if kept:
        assert (result.grade, result.category) == (grade, "MENTAL")


def test_a_csv_header_must_name_the_columns_onedoor_reads():
    reader = formats.CsvReader("\ufeffrecord_id, id_number ,kind,died_on")
    assert reader.names == ["record_id", "id_number", "kind", "died_on"]
    for header in ("record_id,id_number,colour", "record_id,kind", "record_id,id_number,kind,kind"):
        with pytest.raises(ApiError) as refused:
            formats.CsvReader(header)
        assert {v.field for v in refused.value.violations} == {"header"}


def test_csv_lines_become_records_or_refusals_of_their_line():
    reader = formats.CsvReader(
        "record_id,id_number,kind,settled_on,total_fen,out_of_pocket_fen,grade,category,changed_on"
    )
    record = reader.line(f"mi-9,{NUMBER},MEDICAL_EXPENSE,2026-11-30,1000,400,,,", 2)
    assert isinstance(record, pb.AgencyRecord)
    assert record.medical_expense.total_fen == 1000
    assert isinstance(checked(record), Kept)
    assert reader.line("mi-9,only,three", 3).reason == pb.REFUSAL_REASON_UNREADABLE_LINE
    assert reader.line(f"mi-9,{NUMBER},BIRTH,,,,,,", 4).field == "kind"
    assert reader.line(f"mi-9,{NUMBER},MEDICAL_EXPENSE,2026-11-30,12.50,400,,,", 5).field == (
        "medical_expense.total_fen"
    )
    assert reader.line(f"g-1,{NUMBER},DISABILITY_GRADE,,,,2,PURPLE,2026-10-01", 6).field == (
        "disability_grade.category"
    )
    graded = reader.line(f"g-1,{NUMBER},disability_grade,,,,2,physical,2026-10-01", 7)
    assert isinstance(graded, pb.AgencyRecord)
    assert graded.disability_grade.category == pb.DISABILITY_CATEGORY_PHYSICAL


def test_json_lines_refusals_name_the_member_never_the_value():
    assert formats.json_line("[1, 2]", 1).field == "line"
    assert formats.json_line('{"recordId": "a", "colour": "red"}', 2).field == "line"
    wrong = formats.json_line(f'{{"recordId": "a", "idNumber": ["{NUMBER}"]}}', 3)
    assert (wrong.field, wrong.record_id) == ("id_number", "a")
    assert NUMBER not in wrong.description
    record = formats.json_line(
        f'{{"record_id": "a", "id_number": "{NUMBER}", "death": {{"died_on": "2026-11-01"}}}}', 4
    )
    assert isinstance(record, pb.AgencyRecord) and record.death.died_on == "2026-11-01"
