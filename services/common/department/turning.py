"""Who of the persons a department's cases name reaches an age in a range of days, for the
daily sweep's age milestones (KnownPersonsService.ListPersonsTurning): every applicant and
every household member, each once with the latest case that names them. The birth date is in
the sealed identity number, read here and nowhere else; nothing derived is stored: the scan is
the daily sweep's, once a day over the department's cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg

from onedoor.department.v1 import known_persons_pb2 as pb
from services.common import identity, personal_data
from services.common.keyed_hash import person_key

# Newest case first, so that each person's first row is their latest case. A household
# member's division is the case's (the household's registration).
_NAMED = """
SELECT receipt, hukou_division, sealed
  FROM (SELECT receipt, hukou_division, created_at, 0 AS position,
               application->'applicant'->>'idNumber' AS sealed
          FROM department_cases
        UNION ALL
        SELECT c.receipt, c.hukou_division, c.created_at, m.position,
               m.member->>'idNumber'
          FROM department_cases c,
               jsonb_array_elements(c.application->'householdMembers')
                 WITH ORDINALITY AS m(member, position)) named
 ORDER BY created_at DESC, receipt DESC, position
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
    """The persons reaching one of ``ages`` from ``first`` to ``last``, each once with their
    latest case, by person key after ``after``; and the last key shown when more may
    follow."""
    found: dict[str, pb.PersonTurning] = {}
    seen: set[str] = set()
    for row in await conn.fetch(_NAMED):
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
