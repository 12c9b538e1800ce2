"""Every identity number an application carries is stored in one form, so the keyed hashes
that find a person match however the clerk typed it."""

from __future__ import annotations

from gateway.submission import normalize_identity_numbers
from onedoor.case.v1 import case_pb2

TYPED = "320585 19800101 123x"
STORED = "32058519800101123X"


def test_numbers_in_the_details_are_normalized_like_the_applicant():
    case = case_pb2.Case()
    case.applicant.id_number = TYPED
    case.household_members.add(id_number=TYPED)
    case.details.other_party.id_number = TYPED
    case.details.death.deceased_id_number = TYPED
    case.details.economic_check_consent.consenting_id_number = TYPED
    case.details.economic_check_consent.member_id_numbers.append(TYPED)

    normalize_identity_numbers(case)

    consent = case.details.economic_check_consent
    assert {
        case.applicant.id_number,
        case.household_members[0].id_number,
        case.details.other_party.id_number,
        case.details.death.deceased_id_number,
        consent.consenting_id_number,
        *consent.member_id_numbers,
    } == {STORED}


def test_details_an_application_lacks_stay_absent():
    case = case_pb2.Case()
    case.applicant.id_number = TYPED
    normalize_identity_numbers(case)
    assert not case.details.HasField("other_party")
    assert not case.details.HasField("death")
    assert not case.details.HasField("economic_check_consent")
