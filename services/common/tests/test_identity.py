"""Tests for services.common.identity."""

from __future__ import annotations

import datetime

import pytest
from stdnum.cn import ric

from services.common import identity
from services.common.clock import BureauClock
from services.common.identity import IdentityError

KNOWN_VALID = "11010519491231002X"  # published sample (stdnum / GB 11643 examples)


def make(first17: str) -> str:
    """Append the correct GB 11643 check digit to 17 digits."""
    assert len(first17) == 17
    return first17 + ric.calc_check_digit(first17 + "0")


def wrong_check_digit(number: str) -> str:
    replacement = "0" if number[-1] != "0" else "1"
    return number[:-1] + replacement


TAICANG_1980 = make("32058519800101001")  # 320585 created in 1993; stdnum.validate rejects it
BIRTHDAY_22 = make("32058520000615123")  # born 2000-06-15
LEAP_BABY = make("31011520000229004")  # born 2000-02-29
# The bureau's date the checks are judged on (BureauClock.today() in the services).
TODAY = datetime.date(2026, 11, 20)


def test_known_sample_is_valid() -> None:
    assert identity.validate(KNOWN_VALID, today=TODAY) == KNOWN_VALID


def test_generated_number_is_valid() -> None:
    assert identity.validate(BIRTHDAY_22, today=TODAY) == BIRTHDAY_22


def test_normalize_strips_spaces_and_uppercases_x() -> None:
    assert identity.normalize(" 110105 19491231 002x ") == KNOWN_VALID
    assert identity.validate("11010519491231002x", today=TODAY) == KNOWN_VALID


def test_code_that_stdnum_birth_place_check_rejects_is_accepted() -> None:
    # Guard for the design choice: ric.validate() fails on the birth-place
    # year check, our validate() must accept the number.
    assert not ric.is_valid(TAICANG_1980)
    assert identity.validate(TAICANG_1980, today=TODAY) == TAICANG_1980


def test_wrong_check_digit() -> None:
    bad = wrong_check_digit(BIRTHDAY_22)
    with pytest.raises(IdentityError, match="check digit does not match") as info:
        identity.validate(bad, today=TODAY)
    assert bad not in str(info.value)


def test_wrong_check_digit_on_known_sample() -> None:
    with pytest.raises(IdentityError, match="check digit"):
        identity.validate("110105194912310021", today=TODAY)


def test_fifteen_digit_number_is_rejected() -> None:
    old = "110105491231002"
    with pytest.raises(IdentityError, match="must be 18 characters") as info:
        identity.validate(old, today=TODAY)
    assert old not in str(info.value)


@pytest.mark.parametrize("number", ["", "1101051949123100", "11010519491231002X1"])
def test_wrong_length(number: str) -> None:
    with pytest.raises(IdentityError, match="must be 18 characters"):
        identity.validate(number, today=TODAY)


@pytest.mark.parametrize(
    "number", ["1101051949123100AX", "X10105194912310021", "11010519491231002Y"]
)
def test_bad_characters(number: str) -> None:
    with pytest.raises(IdentityError, match="17 digits"):
        identity.validate(number, today=TODAY)


def test_february_30_is_not_a_real_date() -> None:
    bad = make("32058520010230001")
    with pytest.raises(IdentityError, match="birth date is not a real date") as info:
        identity.validate(bad, today=TODAY)
    assert bad not in str(info.value)


def test_future_birth_date() -> None:
    future = make("32058520300101001")
    with pytest.raises(IdentityError, match="birth date is in the future"):
        identity.validate(future, today=datetime.date(2025, 1, 1))
    # Same number is fine once that day has come.
    assert identity.validate(future, today=datetime.date(2030, 1, 1)) == future


def test_born_on_the_day_itself_is_not_in_the_future() -> None:
    born_today = make(f"320585{TODAY:%Y%m%d}001")
    assert identity.validate(born_today, today=TODAY) == born_today
    with pytest.raises(IdentityError, match="in the future"):
        identity.validate(born_today, today=TODAY - datetime.timedelta(days=1))


def test_validate_has_no_default_day() -> None:
    # The host's date was the default, and it is UTC's: yesterday until 08:00 China time.
    with pytest.raises(TypeError):
        identity.validate(KNOWN_VALID)  # type: ignore[call-arg]


def test_birth_date_and_age_do_not_read_the_host_date() -> None:
    # Born tomorrow: neither reads any clock, so neither calls the number "in the future";
    # age_on judges on the day it is given, nothing else.
    tomorrow = BureauClock().today() + datetime.timedelta(days=1)
    number = make(f"320585{tomorrow:%Y%m%d}001")
    assert identity.birth_date(number) == tomorrow
    assert identity.age_on(number, tomorrow) == 0


def test_birth_date() -> None:
    assert identity.birth_date(KNOWN_VALID) == datetime.date(1949, 12, 31)
    assert identity.birth_date(LEAP_BABY) == datetime.date(2000, 2, 29)


def test_birth_date_of_invalid_number_raises() -> None:
    with pytest.raises(IdentityError):
        identity.birth_date(wrong_check_digit(KNOWN_VALID))


def test_age_day_before_22nd_birthday() -> None:
    assert identity.age_on(BIRTHDAY_22, datetime.date(2022, 6, 14)) == 21


def test_age_on_22nd_birthday() -> None:
    assert identity.age_on(BIRTHDAY_22, datetime.date(2022, 6, 15)) == 22


def test_age_day_after_22nd_birthday() -> None:
    assert identity.age_on(BIRTHDAY_22, datetime.date(2022, 6, 16)) == 22


def test_age_on_birth_day_is_zero() -> None:
    assert identity.age_on(BIRTHDAY_22, datetime.date(2000, 6, 15)) == 0


def test_age_before_birth_raises() -> None:
    with pytest.raises(IdentityError):
        identity.age_on(BIRTHDAY_22, datetime.date(2000, 6, 14))


def test_feb_29_birthday_in_non_leap_year() -> None:
    assert identity.age_on(LEAP_BABY, datetime.date(2021, 2, 28)) == 20
    assert identity.age_on(LEAP_BABY, datetime.date(2021, 3, 1)) == 21


def test_feb_29_birthday_in_leap_year() -> None:
    assert identity.age_on(LEAP_BABY, datetime.date(2024, 2, 28)) == 23
    assert identity.age_on(LEAP_BABY, datetime.date(2024, 2, 29)) == 24


def test_mask() -> None:
    assert identity.mask("320585200006151234") == "3205**********1234"
    assert identity.mask("11010519491231002x") == "1101**********002X"
    assert identity.mask("1234") == "****"


def test_mask_phone() -> None:
    assert identity.mask_phone("13812345678") == "138****5678"
    assert identity.mask_phone("138 1234 5678") == "138****5678"
    assert identity.mask_phone("051253512345") == "********2345"
    assert identity.mask_phone("5678") == "****"


def test_mask_name() -> None:
    assert identity.mask_name("张三") == "张*"
    assert identity.mask_name("张三丰") == "张**"
    assert identity.mask_name("欧阳娜娜") == "欧阳**"
    assert identity.mask_name("欧阳") == "欧*"
    assert identity.mask_name("张") == "*"
