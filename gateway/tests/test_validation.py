import datetime as dt

import grpc
import pytest

from gateway.validation import check_application
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.intake.v1 import case_pb2
from services.common import catalog
from services.common.errors import ApiError
from services.common.identity import compose

APPLICANT_ID = compose("320585", dt.date(1970, 5, 6), 11)
SPOUSE_ID = compose("320585", dt.date(1972, 1, 9), 22)
ALL_MATERIALS = ["id_card", "hukou_booklet", "income_proof", "economic_check_consent"]


def request(**changes) -> pb.SubmitApplicationRequest:
    message = pb.SubmitApplicationRequest(
        request_id="b7e4c1f0-1111-4222-8333-444455556666",
        matter_code="assistance.dibao",
        applicant=case_pb2.Applicant(
            name="王小明", id_number=APPLICANT_ID, phone="13912345678", hukou_division="320585"
        ),
        household_members=[
            case_pb2.HouseholdMember(
                name="王小明", id_number=APPLICANT_ID, relation="本人", monthly_income_fen=50000
            ),
            case_pb2.HouseholdMember(
                name="李红", id_number=SPOUSE_ID, relation="配偶", monthly_income_fen=0
            ),
        ],
        materials=ALL_MATERIALS,
    )
    for path, value in changes.items():
        target = message
        *parents, leaf = path.split("__")
        for part in parents:
            target = target[int(part)] if part.isdigit() else getattr(target, part)
        if isinstance(value, list):
            del getattr(target, leaf)[:]
            getattr(target, leaf).extend(value)
        else:
            setattr(target, leaf, value)
    return message


def refusal(message: pb.SubmitApplicationRequest) -> ApiError:
    with pytest.raises(ApiError) as raised:
        check_application(message, catalog.load(), "320585")
    return raised.value


def fields(error: ApiError) -> set[str]:
    return {v.field for v in error.violations}


def test_a_complete_dibao_application_passes():
    assert check_application(request(), catalog.load(), "320585").code == "assistance.dibao"


def test_wrong_check_digit_names_the_field_without_quoting_it():
    wrong = APPLICANT_ID[:-1] + ("0" if APPLICANT_ID[-1] != "0" else "1")
    error = refusal(request(applicant__id_number=wrong))
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "applicant.id_number" in fields(error)
    assert wrong not in str(error.to_json())


def test_unknown_matter():
    error = refusal(request(matter_code="assistance.lottery"))
    assert fields(error) == {"matter_code"}


def test_missing_material_alone_is_a_failed_precondition():
    error = refusal(request(materials=["id_card", "hukou_booklet", "income_proof"]))
    assert error.code == grpc.StatusCode.FAILED_PRECONDITION
    assert error.reason == "MISSING_MATERIALS"
    assert fields(error) == {"materials"}
    assert "economic_check_consent" in error.violations[0].description


def test_negative_income():
    error = refusal(request(household_members__1__monthly_income_fen=-1))
    assert fields(error) == {"household_members[1].monthly_income_fen"}


@pytest.mark.parametrize("code", ["999999", "3205", "320500", "abcdef"])
def test_unknown_or_non_county_division(code):
    error = refusal(request(applicant__hukou_division=code))
    assert fields(error) == {"applicant.hukou_division"}


def test_every_bad_field_is_reported_at_once():
    error = refusal(
        request(
            request_id="x",
            applicant__name="",
            applicant__phone="12",
            household_members__0__relation="",
            materials=["id_card"],
        )
    )
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT
    assert {
        "request_id",
        "applicant.name",
        "applicant.phone",
        "household_members[0].relation",
        "materials",
    } <= fields(error)


def test_household_must_include_the_applicant_once():
    error = refusal(request(household_members__0__id_number=SPOUSE_ID))
    assert "household_members[1].id_number" in fields(error)  # the same person twice
    assert "household_members" in fields(error)  # and not the applicant


def test_dibao_needs_a_household():
    error = refusal(request(household_members=[]))
    assert "household_members" in fields(error)


def test_unknown_material_code():
    error = refusal(request(materials=[*ALL_MATERIALS, "bribe"]))
    assert fields(error) == {"materials[4]"}


def test_control_characters_in_names():
    error = refusal(request(applicant__name="王\x00明"))
    assert fields(error) == {"applicant.name"}
