"""Cases accepted before case_people (migration 0008) are found by a search by person once
intake's backfill has given them their keyed hashes; the backfill is batched and idempotent."""

from __future__ import annotations

import asyncpg

from services.intake import case_people
from tests.factories import dibao_json, person
from tests.test_clerk_day_api import _search, _submit


async def _found(http, id_number: str) -> list[str]:
    response = await _search(http, id_number)
    assert response.status == 200, await response.text()
    return [a["receipt"] for a in (await response.json())["applications"]]


async def test_old_cases_become_searchable_after_the_backfill(
    platform, http, intake_db: asyncpg.Connection
):
    applicants = [person() for _ in range(3)]
    receipts = [await _submit(http, dibao_json(a)) for a in applicants]
    keys_before = await intake_db.fetchval(
        "SELECT count(*) FROM case_people WHERE receipt = ANY($1::text[])", receipts
    )
    # As a ledger from before migration 0008 has them: nobody named.
    await intake_db.execute("DELETE FROM case_people WHERE receipt = ANY($1::text[])", receipts)
    for applicant in applicants:
        assert await _found(http, applicant.id_number) == []

    pool = await asyncpg.create_pool(platform.database_url("intake"), min_size=1, max_size=2)
    try:
        # Batches of two: three cases (and any others a test left keyless) take two or more.
        filled = await case_people.backfill(pool, batch_size=2)
        assert filled >= 3
        for applicant, receipt in zip(applicants, receipts, strict=True):
            assert await _found(http, applicant.id_number) == [receipt]
        assert (
            await intake_db.fetchval(
                "SELECT count(*) FROM case_people WHERE receipt = ANY($1::text[])", receipts
            )
            == keys_before
        )
        # Once done, a start finds nothing to do and writes nothing.
        assert await case_people.backfill(pool, batch_size=2) == 0
    finally:
        await pool.close()
