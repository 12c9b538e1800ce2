import datetime as dt

import grpc
import pytest
from stdnum.cn import ric

from gateway.validation import DATE_FORMAT, check_application
from onedoor.case.v1 import case_pb2
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from services.common import catalog
from services.common.clock import BureauClock, fixed
from services.common.errors import ApiError
from services.common.identity import compose

# The bureau's date is 2026-11-20 at both: 01:30 China time while UTC is still on the 19th,
# and 11:00 China time when both agree. The host's own date is neither.
LATE_IN_UTC = fixed(dt.datetime(2026, 11, 19, 17, 30, tzinfo=dt.UTC))
SAME_DAY = fixed(dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC))
BUREAU_TODAY = dt.date(2026, 11, 20)
CLOCKS = pytest.mark.parametrize("clock", [LATE_IN_UTC, SAME_DAY], ids=["17:30Z", "03:00Z"])

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


def passes(message: pb.SubmitApplicationRequest, clock: BureauClock = LATE_IN_UTC) -> str:
    return check_application(message, catalog.load(), "320585", clock=clock).code


def refusal(message: pb.SubmitApplicationRequest, clock: BureauClock = LATE_IN_UTC) -> ApiError:
    with pytest.raises(ApiError) as raised:
        check_application(message, catalog.load(), "320585", clock=clock)
    return raised.value


def fields(error: ApiError) -> set[str]:
    return {v.field for v in error.violations}


def test_a_complete_dibao_application_passes():
    assert passes(request()) == "assistance.dibao"


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


# --- dates, on the bureau's clock -----------------------------------------------------------


def with_child(born: dt.date) -> pb.SubmitApplicationRequest:
    message = request()
    message.household_members.add(
        name="王小宝", id_number=compose("320585", born, 33), relation="子女"
    )
    return message


@CLOCKS
def test_a_child_born_on_the_bureaus_today_is_accepted(clock):
    assert clock.today() == BUREAU_TODAY
    assert passes(with_child(BUREAU_TODAY), clock) == "assistance.dibao"


@CLOCKS
def test_a_child_born_tomorrow_is_refused(clock):
    error = refusal(with_child(BUREAU_TODAY + dt.timedelta(days=1)), clock)
    assert fields(error) == {"household_members[2].id_number"}
    assert "in the future" in error.violations[0].description


def senior_card(born: dt.date) -> pb.SubmitApplicationRequest:
    return request(
        matter_code="elderly.senior_card",
        applicant__id_number=compose("320585", born, 11),
        household_members=[],
        materials=["id_card", "photo"],
    )


@CLOCKS
def test_a_senior_card_for_someone_who_turns_60_on_the_bureaus_today(clock):
    assert passes(senior_card(dt.date(1966, 11, 20)), clock) == "elderly.senior_card"


@CLOCKS
def test_a_senior_card_for_someone_who_turns_60_tomorrow_is_refused(clock):
    error = refusal(senior_card(dt.date(1966, 11, 21)), clock)
    assert fields(error) == {"applicant.id_number"}
    assert error.violations[0].description.startswith("the applicant is 59;")


DECEASED_BORN = dt.date(1940, 3, 8)


def death(
    date_of_death: str, deceased_born: dt.date = DECEASED_BORN
) -> pb.SubmitApplicationRequest:
    message = request(
        matter_code="registry.death",
        household_members=[],
        materials=["id_card", "death_certificate", "cremation_certificate"],
    )
    message.details.death.deceased_name = "王大明"
    message.details.death.deceased_id_number = compose("320585", deceased_born, 13)
    message.details.death.date_of_death = date_of_death
    return message


@CLOCKS
def test_a_death_on_the_bureaus_today_is_accepted(clock):
    assert passes(death("2026-11-20"), clock) == "registry.death"


@CLOCKS
def test_a_death_tomorrow_is_refused(clock):
    error = refusal(death("2026-11-21"), clock)
    assert fields(error) == {"details.death.date_of_death"}
    assert error.violations[0].description == "must not be in the future"


@pytest.mark.parametrize(
    "written",
    [
        "20261120",
        "2026-W47-5",
        "2026-1-5",
        " 2026-11-20",
        "2026-11-20 ",
        "2026-11-20\n",
        "2026-11-20T00:00",
        "２０２６-11-20",
        "2026-324",
        "26-11-20",
        "2026/11/20",
    ],
)
def test_a_date_of_death_is_written_yyyy_mm_dd_exactly(written):
    error = refusal(death(written))
    assert fields(error) == {"details.death.date_of_death"}
    assert error.violations[0].description == DATE_FORMAT
    assert DATE_FORMAT == "must be a date written YYYY-MM-DD, like 2026-11-20"


@pytest.mark.parametrize(("written", "problem"), [("", "is required"), ("2026-02-30", "real")])
def test_a_date_of_death_is_present_and_real(written, problem):
    error = refusal(death(written))
    assert fields(error) == {"details.death.date_of_death"}
    assert problem in error.violations[0].description


def test_a_death_before_the_deceaseds_birth_is_refused():
    error = refusal(death("1940-03-07"))
    assert fields(error) == {"details.death.date_of_death"}
    assert error.violations[0].description == "is before the person's birth"
    assert passes(death("1940-03-08")) == "registry.death"


def test_a_death_before_1900_is_refused():
    error = refusal(death("1899-12-31"))
    assert fields(error) == {"details.death.date_of_death"}


def born_on(yyyymmdd: str) -> str:
    """A well-formed number born on ``yyyymmdd``; compose() cannot write year 0001 (strftime
    drops its zeros)."""
    body = f"320585{yyyymmdd}011"
    return body + ric.calc_check_digit(body + "0")


@pytest.mark.parametrize("born", ["18991231", "00010101"])
def test_an_identity_number_born_before_1900_is_refused(born):
    number = born_on(born)
    error = refusal(request(applicant__id_number=number, household_members__0__id_number=number))
    assert fields(error) == {"applicant.id_number", "household_members[0].id_number"}
    assert {v.description for v in error.violations} == {"birth date is before 1900-01-01"}
    assert number not in str(error.to_json())
    assert passes(
        request(
            applicant__id_number=compose("320585", dt.date(1900, 1, 1), 11),
            household_members__0__id_number=compose("320585", dt.date(1900, 1, 1), 11),
        )
    )


def test_a_deceased_born_before_1900_is_refused():
    error = refusal(death("1950-01-01", deceased_born=dt.date(1899, 6, 1)))
    assert fields(error) == {"details.death.deceased_id_number"}


def with_consent(at: dt.datetime) -> pb.SubmitApplicationRequest:
    message = request()
    consent = message.details.economic_check_consent
    consent.consenting_id_number = APPLICANT_ID
    consent.member_id_numbers.extend([APPLICANT_ID, SPOUSE_ID])
    consent.consent_time.FromDatetime(at)
    return message


@CLOCKS
def test_a_consent_in_the_future_of_the_bureaus_clock_is_refused(clock):
    # Still in the host's past: only the bureau's clock says it has not happened yet.
    at = clock.now() + dt.timedelta(hours=1)
    assert at < dt.datetime.now(dt.UTC)
    error = refusal(with_consent(at), clock)
    assert fields(error) == {"details.economic_check_consent.consent_time"}
    assert error.violations[0].description == "must not be in the future"


@CLOCKS
def test_a_consent_a_few_minutes_ahead_is_clock_skew(clock):
    assert passes(with_consent(clock.now() + dt.timedelta(minutes=5)), clock)
    assert passes(with_consent(clock.now() - dt.timedelta(days=3)), clock)


def test_a_notice_language_the_notifier_has_no_messages_in_is_refused():
    assert passes(request(applicant__notices__language="en")) == "assistance.dibao"
    error = refusal(request(applicant__notices__language="fr"))
    assert fields(error) == {"applicant.notices.language"}
