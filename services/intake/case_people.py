"""Who the ledger's cases name, for a search by person: the keyed hashes of case_people
(migration 0008) filled in for the cases accepted before it, which name nobody there.

The keyed hash cannot be computed in SQL (its key is a secret the database never sees), so the
backfill runs in intake, which holds the key, at every start: batch by batch in receipt order,
each batch in its own short transaction, and only over cases that have no row yet, so a start
after it has finished costs one query and a second replica running it at the same time only
inserts what is already there (``ON CONFLICT DO NOTHING``). A case accepted meanwhile writes its
own rows in the statement that creates it, so the backfill never races the window.
"""

from __future__ import annotations

import json
import logging

import asyncpg
from google.protobuf import json_format
from opentelemetry.instrumentation.utils import suppress_instrumentation

from onedoor.case.v1 import case_pb2
from services.common import personal_data
from services.common.keyed_hash import person_key

log = logging.getLogger(__name__)

BATCH_SIZE = 500

_NAMES_NOBODY = "NOT EXISTS (SELECT 1 FROM case_people p WHERE p.receipt = c.receipt)"


def people_named(case: case_pb2.Case) -> list[str]:
    """The keyed hashes of everyone the case names (applicant, household, the other party, the
    deceased), from its identity numbers in the clear."""
    numbers = [
        case.applicant.id_number,
        *(m.id_number for m in case.household_members),
        case.details.other_party.id_number,
        case.details.death.deceased_id_number,
    ]
    return sorted({person_key(n) for n in numbers if n})


def _stored_case(row: asyncpg.Record) -> case_pb2.Case:
    """The parts of a stored case that name people, opened."""
    case = case_pb2.Case()
    json_format.ParseDict(json.loads(row["applicant"]), case.applicant)
    json_format.ParseDict(json.loads(row["details"]), case.details)
    for member in json.loads(row["household_members"]):
        json_format.ParseDict(member, case.household_members.add())
    return personal_data.unseal_case(case)


async def backfill(pool: asyncpg.Pool, batch_size: int = BATCH_SIZE) -> int:
    """Writes the search keys of every case that has none; returns how many cases it gave
    keys (a case naming nobody by identity number has none to give). Says how far it has come
    after each batch (counts only: no receipt, no person)."""
    # Untraced: a start-up chore, not anybody's request.
    with suppress_instrumentation():
        waiting = await pool.fetchval(f"SELECT count(*) FROM cases c WHERE {_NAMES_NOBODY}")
        if not waiting:
            return 0
        log.info("search by person: %d cases from before case_people to fill in", waiting)
        done = filled = 0
        after = ""
        while True:
            async with pool.acquire() as conn, conn.transaction():
                rows = await conn.fetch(
                    f"""SELECT c.receipt, c.applicant, c.household_members, c.details
                          FROM cases c
                         WHERE c.receipt > $1 AND {_NAMES_NOBODY}
                         ORDER BY c.receipt
                         LIMIT $2""",
                    after,
                    batch_size,
                )
                if not rows:
                    break
                keys: list[str] = []
                receipts: list[str] = []
                for row in rows:
                    named = people_named(_stored_case(row))
                    filled += bool(named)
                    keys += named
                    receipts += [row["receipt"]] * len(named)
                await conn.execute(
                    """INSERT INTO case_people (person_key, receipt)
                       SELECT * FROM unnest($1::text[], $2::text[])
                       ON CONFLICT DO NOTHING""",
                    keys,
                    receipts,
                )
            done += len(rows)
            after = rows[-1]["receipt"]
            log.info("search by person: %d of %d cases gone through", done, waiting)
        return filled
