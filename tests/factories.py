"""Test applications with personal data made up per call, and the register of every piece of
personal data the tests send, which the privacy test looks for in logs and spans."""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass
from typing import Any

from onedoor.case.v1 import case_pb2
from onedoor.gateway.v1 import gateway_service_pb2 as gateway_pb
from services.common.clock import BureauClock
from services.common.identity import compose

PERSONAL_DATA: set[str] = set()

_SURNAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张"
_GIVEN = "秀英建国丽娟志强海燕桂兰明华春梅永福玉珍德胜淑芬"
ALL_MATERIALS = ["id_card", "hukou_booklet", "income_proof", "economic_check_consent"]

_rng = random.Random()


@dataclass(frozen=True)
class Person:
    name: str
    id_number: str
    phone: str


def person(division: str = "320585", age: int | None = None, sex: str | None = None) -> Person:
    """A made-up person; ``age`` in full years today (born a random day of that year of
    life), ``sex`` "male" or "female" (the identity number's 17th digit is odd for men)."""
    today = BureauClock().today()  # the bureau's date, whatever the host's TZ
    if age is None:
        born = dt.date(1940, 1, 1) + dt.timedelta(days=_rng.randrange(0, 365 * 60))
    else:
        latest = (
            today.replace(year=today.year - age)
            if not (today.month == 2 and today.day == 29)
            else today.replace(year=today.year - age, day=28)
        )
        born = latest - dt.timedelta(days=_rng.randrange(1, 360))
    sequence = _rng.randrange(1, 998)
    if sex is not None and (sequence % 2 == 1) != (sex == "male"):
        sequence += 1
    found = Person(
        name=_rng.choice(_SURNAMES) + "".join(_rng.choices(_GIVEN, k=2)),
        id_number=compose(division, born, sequence),
        phone="139" + "".join(_rng.choices("0123456789", k=8)),
    )
    PERSONAL_DATA.update({found.name, found.id_number, found.phone})
    return found


def request_id() -> str:
    return str(uuid.uuid4())


def dibao_json(
    applicant: Person | None = None,
    incomes_fen: tuple[int, ...] = (50000, 30000),
    hukou: str = "320585",
    materials: list[str] | None = None,
) -> dict[str, Any]:
    """A dibao application in the proto JSON mapping; the applicant is the first member."""
    applicant = applicant or person()
    others = [person() for _ in incomes_fen[1:]]
    members = [applicant, *others]
    return {
        "requestId": request_id(),
        "matterCode": "assistance.dibao",
        "applicant": {
            "name": applicant.name,
            "idNumber": applicant.id_number,
            "phone": applicant.phone,
            "hukouDivision": hukou,
        },
        "householdMembers": [
            {
                "name": m.name,
                "idNumber": m.id_number,
                "relation": "本人" if i == 0 else "家庭成员",
                "monthlyIncomeFen": income,
            }
            for i, (m, income) in enumerate(zip(members, incomes_fen, strict=True))
        ],
        "materials": ALL_MATERIALS if materials is None else materials,
        "details": {"economicCheckConsent": consent(applicant, members)},
    }


def consent(by: Person, members: list[Person]) -> dict[str, Any]:
    """The household's consent to the economic-status check, given yesterday."""
    return {
        "consentingIdNumber": by.id_number,
        "consentTime": (dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
        .isoformat()
        .replace("+00:00", "Z"),
        "memberIdNumbers": [m.id_number for m in members],
    }


def application(
    matter: str,
    applicant: Person | None = None,
    materials: list[str] | None = None,
    household: list[tuple[Person, int]] | None = None,
    **details: Any,
) -> dict[str, Any]:
    """Any matter's application in the proto JSON mapping: the catalog's materials, the
    applicant (and household) given or made up, and ``details`` as MatterDetails fields."""
    from services.common import catalog

    found = catalog.load().latest(matter)
    assert found is not None, matter
    applicant = applicant or person()
    body: dict[str, Any] = {
        "requestId": request_id(),
        "matterCode": matter,
        "applicant": {
            "name": applicant.name,
            "idNumber": applicant.id_number,
            "phone": applicant.phone,
            "hukouDivision": applicant.id_number[:6],
        },
        "materials": [m.code for m in found.required_materials] if materials is None else materials,
        "details": details,
    }
    if found.needs_household:
        members = household or [(applicant, 0)]
        body["householdMembers"] = [
            {
                "name": p.name,
                "idNumber": p.id_number,
                "relation": "本人" if p == applicant else "家庭成员",
                "monthlyIncomeFen": income,
            }
            for p, income in members
        ]
    return body


def party(someone: Person) -> dict[str, str]:
    return {"name": someone.name, "idNumber": someone.id_number, "phone": someone.phone}


def dibao_proto(**kwargs: Any) -> gateway_pb.SubmitApplicationRequest:
    from google.protobuf import json_format

    return json_format.ParseDict(dibao_json(**kwargs), gateway_pb.SubmitApplicationRequest())


__all__ = [
    "ALL_MATERIALS",
    "PERSONAL_DATA",
    "Person",
    "case_pb2",
    "dibao_json",
    "dibao_proto",
    "person",
]
