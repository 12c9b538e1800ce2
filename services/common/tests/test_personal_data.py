import datetime as dt

import pytest
from cryptography.exceptions import InvalidTag

from onedoor.case.v1 import case_pb2
from services.common import keyed_hash, personal_data
from services.common.identity import compose

NUMBER = compose("320585", dt.date(1970, 1, 1), 11)


def test_sealed_values_do_not_show_and_open_again():
    sealed = personal_data.seal(NUMBER)
    assert NUMBER not in sealed and sealed.startswith(personal_data.SEALED_PREFIX)
    assert personal_data.seal(NUMBER) != sealed  # a fresh nonce every time
    assert personal_data.unseal(sealed) == NUMBER


def test_sealing_twice_and_unsealing_plain_values_change_nothing():
    sealed = personal_data.seal(NUMBER)
    assert personal_data.seal(sealed) == sealed
    assert personal_data.unseal(NUMBER) == NUMBER


def test_a_tampered_value_does_not_open():
    sealed = personal_data.seal(NUMBER)
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises((InvalidTag, ValueError)):
        personal_data.unseal(tampered)


def test_a_case_is_sealed_everywhere_it_holds_a_number():
    case = case_pb2.Case(
        applicant=case_pb2.Applicant(name="王明", id_number=NUMBER, phone="13912345678"),
        household_members=[case_pb2.HouseholdMember(id_number=NUMBER)],
        details=case_pb2.MatterDetails(
            other_party=case_pb2.Party(id_number=NUMBER, phone="13912345678"),
            death=case_pb2.Death(deceased_id_number=NUMBER),
            economic_check_consent=case_pb2.EconomicCheckConsent(
                consenting_id_number=NUMBER, member_id_numbers=[NUMBER]
            ),
        ),
    )
    sealed = personal_data.seal_case(case)
    text = str(sealed)
    assert NUMBER not in text and "13912345678" not in text
    assert "王明" in text  # names are not sealed
    assert personal_data.unseal_case(sealed) == case
    assert case.applicant.id_number == NUMBER  # the original is left alone


def test_person_keys_are_stable_and_do_not_reveal_the_number():
    assert keyed_hash.person_key(NUMBER) == keyed_hash.person_key(NUMBER.lower())
    assert NUMBER not in keyed_hash.person_key(NUMBER)


def test_a_case_sealed_for_transit_opens_under_its_receipt_only():
    case = case_pb2.Case(receipt="320585-AAAAA-AAAAA", matter_code="assistance.dibao")
    case.applicant.name = "张三"
    case.applicant.id_number = NUMBER
    sealed = personal_data.seal_for_transit(case)
    assert NUMBER.encode() not in sealed and "张三".encode() not in sealed
    assert personal_data.seal_for_transit(case) != sealed  # a fresh nonce every time
    assert personal_data.open_from_transit(sealed, case.receipt) == case
    altered = sealed[:-1] + bytes([sealed[-1] ^ 1])
    for given, receipt in ((sealed, "320585-BBBBB-BBBBB"), (altered, case.receipt), (b"", "")):
        with pytest.raises(personal_data.SealedCaseRefused):
            personal_data.open_from_transit(given, receipt)
