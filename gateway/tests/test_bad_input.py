"""Inputs the fuzz test (tests/test_fuzz.py) found getting past the window, kept as unit tests
so they are refused without the platform running."""

import datetime as dt

import grpc
import pytest
from aiohttp.test_utils import TestClient, TestServer

from gateway.http_api import create_app
from gateway.tests.test_validation import LATE_IN_UTC, born_on, death, fields, refusal, request
from gateway.validation import check_department, check_listing
from onedoor.gateway.v1 import gateway_service_pb2 as pb
from services.common import auth
from services.common.errors import ApiError


@pytest.mark.parametrize("relation", ["本人\x00", "本\x1b人", "本人\n"])
def test_control_characters_in_a_relation(relation):
    error = refusal(request(household_members__0__relation=relation))
    assert fields(error) == {"household_members[0].relation"}


def test_free_text_no_rule_reads_is_bounded_and_clean():
    message = request(matter_code="assistance.disability_subsidy", materials=[])
    message.details.disability.grade = 2
    message.details.disability.certificate_number = "9" * 10_000
    assert "details.disability.certificate_number" in fields(refusal(message))
    message.details.disability.certificate_number = "3205\x00"
    assert "details.disability.certificate_number" in fields(refusal(message))


@pytest.mark.parametrize("phone", ["13912345678\n", "١٣٩١٢٣٤٥٦٧٨", "１３９１２３４５６７８"])
def test_phone_digits_are_ascii_and_nothing_trails(phone):
    assert fields(refusal(request(applicant__phone=phone))) == {"applicant.phone"}


def test_request_id_with_a_trailing_newline():
    assert fields(refusal(request(request_id="b7e4c1f0-1111\n"))) == {"request_id"}


def test_unknown_organisation_kind_number():
    message = request(matter_code="orgs.register", household_members=[], materials=[])
    message.details.organisation.name = "太仓市测试协会"
    message.details.organisation.kind = 99  # type: ignore[assignment]
    assert "details.organisation.kind" in fields(refusal(message))


@pytest.mark.parametrize(
    ("seconds", "nanos"),
    [
        (0, -1),
        (-1, 0),
        (int((LATE_IN_UTC.now() + dt.timedelta(days=2)).timestamp()), 0),
    ],
)
def test_consent_time_must_be_a_real_past_moment(seconds, nanos):
    message = request()
    message.details.economic_check_consent.consent_time.seconds = seconds
    message.details.economic_check_consent.consent_time.nanos = nanos
    assert "details.economic_check_consent.consent_time" in fields(refusal(message))


@pytest.mark.parametrize("written", ["20261120", "2026-W47-5", "2026W475", "2026-W47"])
def test_a_date_of_death_python_also_parses_is_not_stored_as_typed(written):
    # date.fromisoformat (3.11) reads each of these: they passed and were stored verbatim.
    assert dt.date.fromisoformat(written) <= dt.date(2026, 11, 20)
    assert fields(refusal(death(written))) == {"details.death.date_of_death"}


def test_a_birth_year_0001_is_not_a_centenarian():
    # It passed and was assessed as aged 2025 for the 100+ age allowance.
    message = request(
        matter_code="elderly.age_allowance",
        applicant__id_number=born_on("00010101"),
        household_members=[],
        materials=["id_card", "bank_card"],
    )
    assert fields(refusal(message)) == {"applicant.id_number"}


def test_unknown_department_is_refused_without_being_quoted():
    with pytest.raises(ApiError) as raised:
        check_department("\x1fnot-a-department")
    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert "\x1f" not in raised.value.message
    assert "not-a-department" not in str(raised.value.to_json())
    check_department("assistance")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"due_within_days": 2**31 - 1}, "due_within_days"),
        ({"due_within_days": -1}, "due_within_days"),
        ({"page_size": -1}, "page_size"),
        ({"department": "\x00"}, "department"),
    ],
)
def test_listing_out_of_range(changes, field):
    with pytest.raises(ApiError) as raised:
        check_listing(pb.ListApplicationsRequest(**changes))
    assert {v.field for v in raised.value.violations} == {field}


def test_a_listing_in_range_passes():
    check_listing(pb.ListApplicationsRequest(due_within_days=30, page_size=20))


class NoWindow:
    """Never reached: these requests are refused before the window is asked."""


async def test_deeply_nested_json_and_wide_numbers_are_a_400_not_a_500():
    client = TestClient(TestServer(create_app(NoWindow())))  # type: ignore[arg-type]
    await client.start_server()
    try:
        token = auth.issue("window_clerk", "320585")
        for body in (b"[" * 5000 + b"]" * 5000, b'{"a":' * 5000 + b"1" + b"}" * 5000):
            response = await client.post(
                "/v1/applications",
                data=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            assert response.status == 400
            error = await response.json()
            assert error["error"]["details"][0]["fieldViolations"][0]["field"] == "body"
        response = await client.get(
            "/v1/applications?dueWithinDays=99999999999",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status == 400
    finally:
        await client.close()
