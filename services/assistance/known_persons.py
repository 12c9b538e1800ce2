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
    answer = pb.LookupPersonsResponse()
    division_of: dict[str, str] = {}
    for found, division in await household_files(conn, file_ids, zone):
        division_of[found.file_id] = division
        if found.member_keys and found.division:
            answer.household_files.append(found)
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


async def household_files(
    conn: asyncpg.Connection, file_ids: list[str], zone: object
) -> list[tuple[pb.HouseholdFile, str]]:
    """Each file with its division; a file with nobody living left (closed), or that no case
    places, has no members or no division: no household the rules could judge."""
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
            WHERE f.id = ANY($1::text[])
            ORDER BY f.id""",
        file_ids,
        list(IDENTIFYING),
    )
    identified = await conn.fetch(
        """SELECT file_id, matter_code, min(started_at) AS since FROM household_benefits
            WHERE file_id = ANY($1::text[]) AND stopped_at IS NULL
              AND matter_code = ANY($2::text[])
            GROUP BY file_id, matter_code
            ORDER BY file_id, matter_code""",
        file_ids,
        list(IDENTIFYING),
    )
    found: list[tuple[pb.HouseholdFile, str]] = []
    for row in files:
        division = row["hukou_division"] or ""
        file = pb.HouseholdFile(file_id=row["id"], latest_receipt=row["receipt"] or "")
        if row["living"] and division:
            file.division = division
            file.member_keys.extend(row["living"])
            if row["annual_income_fen"] is not None:
                file.annual_income_fen = int(row["annual_income_fen"])
            for kind in identified:
                if kind["file_id"] == row["id"]:
                    file.identified.add(
                        matter_code=kind["matter_code"],
                        since=kind["since"].astimezone(zone).date().isoformat(),
                    )
        found.append((file, division))
    return found


async def identified_households(
    conn: asyncpg.Connection, size: int, after: str, zone: object
) -> tuple[list[pb.HouseholdFile], str]:
    """A page of the open files identified as something, by file id after ``after``; and the
    last file id shown when there may be more."""
    ids = [
        r["file_id"]
        for r in await conn.fetch(
            """SELECT DISTINCT b.file_id FROM household_benefits b
                 JOIN household_files f ON f.id = b.file_id
                WHERE b.stopped_at IS NULL AND b.matter_code = ANY($1::text[])
                  AND f.closed_at IS NULL AND b.file_id > $2
                ORDER BY b.file_id LIMIT $3""",
            list(IDENTIFYING),
            after,
            size + 1,
        )
    ]
    more = len(ids) > size
    ids = ids[:size]
    files = [f for f, _ in await household_files(conn, ids, zone) if f.member_keys]
    return files, (ids[-1] if more else "")
