"""What social assistance knows of persons, for matching other agencies' records: the
household file each is on (its living members, its jurisdiction, its income as last
assessed, what it has been identified as) and the benefits each receives."""

from __future__ import annotations

import asyncpg

from onedoor.department.v1 import known_persons_pb2 as pb

# The matters that identify a household (低保, 特困, 低收入) and whose cases assess its income.
IDENTIFYING = ("assistance.dibao", "assistance.hardship", "assistance.low_income")


def _day(value: object) -> str:
    return value.isoformat() if value is not None else ""  # type: ignore[attr-defined]


async def known(
    conn: asyncpg.Connection, person_keys: list[str], zone: object
) -> pb.LookupPersonsResponse:
    """``zone``: the bureau's time zone, in which a benefit's start is a local date."""
    members = await conn.fetch(
        """SELECT m.person_key, m.file_id, m.deceased_on
             FROM household_members m JOIN household_files f ON f.id = m.file_id
            WHERE m.person_key = ANY($1::text[])""",
        person_keys,
    )
    held = await conn.fetch(
        """SELECT DISTINCT beneficiary_key, matter_code FROM household_benefits
            WHERE beneficiary_key = ANY($1::text[]) AND stopped_at IS NULL""",
        person_keys,
    )
    file_ids = sorted({row["file_id"] for row in members})
    files = await conn.fetch(
        """SELECT f.id,
                  (SELECT array_agg(m.person_key ORDER BY m.person_key) FROM household_members m
                    WHERE m.file_id = f.id AND m.deceased_on IS NULL) AS living,
                  c.hukou_division,
                  c.receipt,
                  c.annual_income_fen
             FROM household_files f
             LEFT JOIN LATERAL (
                 SELECT d.hukou_division, d.receipt,
                        CASE WHEN d.matter_code = ANY($2::text[]) THEN
                            12 * (SELECT coalesce(sum((m->>'monthlyIncomeFen')::bigint), 0)
                                    FROM jsonb_array_elements(
                                        coalesce(d.application->'householdMembers', '[]'))
                                        AS m)
                        END AS annual_income_fen
                   FROM department_cases d
                  WHERE d.household_file = f.id
                  ORDER BY d.matter_code = ANY($2::text[]) DESC, d.created_at DESC
                  LIMIT 1
             ) c ON true
            WHERE f.id = ANY($1::text[])""",
        file_ids,
        list(IDENTIFYING),
    )
    identified = await conn.fetch(
        """SELECT file_id, matter_code, min(started_at) AS since FROM household_benefits
            WHERE file_id = ANY($1::text[]) AND stopped_at IS NULL
              AND matter_code = ANY($2::text[])
            GROUP BY file_id, matter_code""",
        file_ids,
        list(IDENTIFYING),
    )
    answer = pb.LookupPersonsResponse()
    division_of: dict[str, str] = {}
    for row in files:
        division = row["hukou_division"] or ""
        division_of[row["id"]] = division
        if not row["living"] or not division:
            # Nobody living left (a closed file), or no case says where it is: no household
            # the rules could judge.
            continue
        found = answer.household_files.add(
            file_id=row["id"],
            division=division,
            member_keys=row["living"],
            latest_receipt=row["receipt"] or "",
        )
        if row["annual_income_fen"] is not None:
            found.annual_income_fen = int(row["annual_income_fen"])
        for kind in identified:
            if kind["file_id"] == row["id"]:
                found.identified.add(
                    matter_code=kind["matter_code"],
                    since=kind["since"].astimezone(zone).date().isoformat(),
                )
    holding: dict[str, list[str]] = {}
    for row in held:
        holding.setdefault(row["beneficiary_key"], []).append(row["matter_code"])
    for row in members:
        answer.persons.add(
            person_key=row["person_key"],
            hukou_division=division_of.get(row["file_id"], ""),
            household_file=row["file_id"],
            held_matters=sorted(holding.get(row["person_key"], ())),
            died_on=_day(row["deceased_on"]),
        )
    return answer
