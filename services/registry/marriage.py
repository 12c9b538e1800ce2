"""Who may marry under the Civil Code (《民法典》第一千零四十七条). Pure: no I/O."""

from __future__ import annotations

import datetime as dt

from services.common import identity
from services.common.department.rules import Problem

MINIMUM_AGE = {"male": 22, "female": 20}


def sex_of(id_number: str) -> str:
    """GB 11643: the 17th character is odd for men, even for women."""
    return "male" if int(identity.normalize(id_number)[16]) % 2 else "female"


def problems(applicant_id: str, other_id: str, today: dt.date) -> list[Problem]:
    found = []
    if identity.normalize(applicant_id) == identity.normalize(other_id):
        return [
            Problem(
                "details.other_party.id_number", "names the applicant: a marriage needs two people"
            )
        ]
    sexes = {sex_of(applicant_id), sex_of(other_id)}
    if sexes != {"male", "female"}:
        found.append(
            Problem(
                "details.other_party.id_number",
                "the Civil Code registers a marriage between a man and a woman",
            )
        )
    for field, number in (
        ("applicant.id_number", applicant_id),
        ("details.other_party.id_number", other_id),
    ):
        sex = sex_of(number)
        age = identity.age_on(number, today)
        if age < MINIMUM_AGE[sex]:
            who = "a man" if sex == "male" else "a woman"
            found.append(
                Problem(
                    field,
                    f"is {age} years old: {who} marries at {MINIMUM_AGE[sex]} at the earliest",
                )
            )
    return found
