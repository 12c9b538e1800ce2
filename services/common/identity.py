"""Resident identity numbers (GB 11643-1999, 18 characters).

Error messages never contain the number itself; they only say what is wrong.

We use ``stdnum.cn.ric`` for the check digit (``calc_check_digit``) and the
birth date (``get_birth_date``) but deliberately not ``ric.validate``: that
also calls ``get_birth_place``, which rejects a number when its 6-digit
division code did not exist in the *birth year* according to stdnum's own
table.  Numbers are assigned at registration, not at birth, and keep their
code after divisions are renamed or retired, so that check rejects many real
numbers (e.g. anyone born before 1993 whose number starts with 320585 太仓市,
a code created in 1993).  Length, format, check digit and birth date are
checked here; the division code is not.
"""

from __future__ import annotations

import datetime

from stdnum.cn import ric
from stdnum.exceptions import ValidationError
from stdnum.util import isdigits

__all__ = [
    "IdentityError",
    "age_on",
    "birth_date",
    "compose",
    "mask",
    "mask_name",
    "mask_phone",
    "normalize",
    "validate",
]

_LENGTH = 18

# Common two-character (compound) surnames; for these the whole surname is
# kept by ``mask_name`` ("欧阳娜娜" -> "欧阳**").
_COMPOUND_SURNAMES = frozenset(
    {
        "万俟", "上官", "东方", "东郭", "令狐", "仲孙", "公孙", "公冶", "单于", "南宫",
        "司徒", "司空", "司马", "呼延", "夏侯", "太叔", "宇文", "宗政", "尉迟", "巫马",
        "慕容", "拓跋", "欧阳", "淳于", "澹台", "濮阳", "独孤", "申屠", "百里", "皇甫",
        "端木", "诸葛", "赫连", "轩辕", "钟离", "长孙", "闻人", "西门", "左丘", "第五",
    }
)  # fmt: skip


class IdentityError(ValueError):
    """An identity number is malformed; the message never includes the number."""


def normalize(number: str) -> str:
    """Remove all whitespace and upper-case a trailing ``x``."""
    compact = "".join(number.split())
    if compact.endswith("x"):
        compact = compact[:-1] + "X"
    return compact


def compose(division: str, born: datetime.date, sequence: int) -> str:
    """Builds a well-formed number (demo data, test fixtures): division, birth date, a 3-digit
    sequence (odd for men, even for women) and the check character stdnum computes."""
    body = f"{division}{born:%Y%m%d}{sequence:03d}"
    if len(body) != _LENGTH - 1 or not isdigits(body):
        raise ValueError("division must be 6 digits and sequence at most 3 digits")
    return body + ric.calc_check_digit(body + "0")


def _checked(number: str) -> tuple[str, datetime.date]:
    """The normalized number and its birth date, when the number is well-formed whatever the
    day: length, characters, check digit, a real birth date."""
    value = normalize(number)
    if len(value) == 15 and isdigits(value):
        raise IdentityError("must be 18 characters; 15-digit numbers are not accepted")
    if len(value) != _LENGTH:
        raise IdentityError("must be 18 characters")
    if not isdigits(value[:-1]) or not (isdigits(value[-1]) or value[-1] == "X"):
        raise IdentityError("must be 17 digits followed by a digit or X")
    if ric.calc_check_digit(value) != value[-1]:
        raise IdentityError("check digit does not match")
    try:
        born = ric.get_birth_date(value)
    except ValidationError:
        raise IdentityError("birth date is not a real date") from None
    return value, born


def validate(number: str, *, today: datetime.date) -> str:
    """Return the normalized 18-character number or raise :class:`IdentityError`.

    ``today`` is the bureau's local date (``BureauClock.today()``), never the host's: hosts
    run in UTC, and from 00:00 to 08:00 China time someone born today would be "in the
    future" by the host's date.
    """
    value, born = _checked(number)
    if born > today:
        raise IdentityError("birth date is in the future")
    return value


def birth_date(number: str) -> datetime.date:
    """Birth date of a well-formed number (raises :class:`IdentityError` otherwise).

    Not checked against a day: whether the number is valid on the bureau's date is
    :func:`validate`'s question, which callers ask first.
    """
    return _checked(number)[1]


def age_on(number: str, day: datetime.date) -> int:
    """Age in full years on ``day`` (the caller's reference date, e.g. the bureau's today).

    The birthday counts on the day itself; someone born on 29 February turns
    a year older on 1 March in non-leap years.
    """
    born = birth_date(number)
    if day < born:
        raise IdentityError("day is before the birth date")
    before_birthday = (day.month, day.day) < (born.month, born.day)
    return day.year - born.year - int(before_birthday)


def mask(number: str) -> str:
    """Keep the first 4 and last 4 characters: ``"3205**********1234"``.

    Inputs of 8 characters or fewer are masked completely.
    """
    value = normalize(number)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(phone: str) -> str:
    """``"138****5678"`` for 11-digit mobiles; otherwise keep only the last 4.

    Whitespace and hyphens are ignored; inputs of 4 characters or fewer are
    masked completely.
    """
    value = "".join(phone.split()).replace("-", "")
    if len(value) == 11 and isdigits(value):
        return value[:3] + "****" + value[-4:]
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


def mask_name(name: str) -> str:
    """Keep the surname, mask the rest: ``"张*"``, ``"欧阳**"``.

    The surname is the first character, or the first two for a known compound
    surname when the name is longer than two characters.  A one-character
    name is masked completely.
    """
    value = name.strip()
    if len(value) <= 1:
        return "*" * len(value)
    keep = 2 if len(value) > 2 and value[:2] in _COMPOUND_SURNAMES else 1
    return value[:keep] + "*" * (len(value) - keep)
