"""What elderly care knows of persons, for matching other agencies' records: the senior card,
age allowance and home-care orders each holds now, and the hukou division their cases give;
and, for the daily sweep's age milestones, who of its applicants turns an age in a range."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from onedoor.department.v1 import known_persons_pb2 as pb
from services.common import identity, personal_data
from services.common.keyed_hash import person_key

_HELD = """
SELECT h.person_key, h.matter_code, d.hukou_division, h.since
  FROM (SELECT person_key, 'elderly.senior_card' AS matter_code, receipt, issued_at AS since
          FROM senior_cards WHERE cancelled_at IS NULL
        UNION ALL
        SELECT person_key, 'elderly.age_allowance', receipt, started_at
          FROM age_allowances WHERE stopped_at IS NULL
        UNION ALL
        SELECT person_key, 'elderly.home_care', receipt, created_at
          FROM care_orders WHERE cancelled_at IS NULL) h
  LEFT JOIN department_cases d ON d.receipt = h.receipt
 WHERE h.person_key = ANY($1::text[])
 ORDER BY h.person_key, h.since DESC
"""


async def known(conn: asyncpg.Connection, person_keys: list[str]) -> pb.LookupPersonsResponse:
    persons: dict[str, pb.KnownPerson] = {}
    for row in await conn.fetch(_HELD, person_keys):
        person = persons.get(row["person_key"])
        if person is None:
            # The latest case's division (rows come newest first per person).
            person = persons[row["person_key"]] = pb.KnownPerson(
                person_key=row["person_key"], hukou_division=row["hukou_division"] or ""
            )
        if row["matter_code"] not in person.held_matters:
            person.held_matters.append(row["matter_code"])
    answer = pb.LookupPersonsResponse()
    for person in persons.values():
        person.held_matters.sort()
        answer.persons.append(person)
    return answer


# Every case's applicant, newest case first: the birth date is in the sealed identity number,
# read here and nowhere else. Nothing derived is stored: the scan is the daily sweep's, once a
# day over elderly care's cases.
_APPLICANTS = """
SELECT receipt, hukou_division, application->'applicant'->>'idNumber' AS sealed
  FROM department_cases
 ORDER BY created_at DESC, receipt DESC
"""


def birthday(born: dt.date, years: int) -> dt.date:
    """The day someone born on ``born`` turns ``years``, as ``identity.age_on`` counts ages
    (a 29 February birthday: 1 March in a common year), so that the case opened agrees."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return dt.date(born.year + years, 3, 1)


async def turning(
    conn: asyncpg.Connection,
    ages: Sequence[int],
    first: dt.date,
    last: dt.date,
    size: int,
    after: str,
) -> tuple[list[pb.PersonTurning], str]:
    """The applicants reaching one of ``ages`` from ``first`` to ``last``, each once with
    their latest case, by person key after ``after``; and the last key shown when more may
    follow."""
    found: dict[str, pb.PersonTurning] = {}
    seen: set[str] = set()
    for row in await conn.fetch(_APPLICANTS):
        number = personal_data.unseal(row["sealed"] or "")
        if not number:
            continue
        key = person_key(number)
        if key in seen:
            continue
        seen.add(key)
        if key <= after:
            continue
        try:
            born = identity.birth_date(number)
        except identity.IdentityError:
            continue
        for age in ages:
            day = birthday(born, age)
            if first <= day <= last:
                found[key] = pb.PersonTurning(
                    person=pb.KnownPerson(
                        person_key=key, hukou_division=row["hukou_division"] or ""
                    ),
                    born_on=born.isoformat(),
                    age=age,
                    birthday=day.isoformat(),
                    latest_receipt=row["receipt"],
                )
                break
    keys = sorted(found)
    shown = keys[:size]
    return [found[k] for k in shown], shown[-1] if len(keys) > size else ""
