"""What elderly care knows of persons, for matching other agencies' records: the senior card,
age allowance and home-care orders each holds now, and the hukou division their cases give."""

from __future__ import annotations

import asyncpg

from onedoor.department.v1 import known_persons_pb2 as pb

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
