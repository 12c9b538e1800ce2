"""A database dump does not reveal identity or phone numbers: read the raw tables."""

from __future__ import annotations

import asyncpg

from tests.conftest import get_application, wait_for_entry
from tests.factories import dibao_json, person


async def test_identity_and_phone_numbers_are_sealed_in_every_stored_case(platform, http):
    applicant = person()
    body = dibao_json(applicant)
    async with http.post("/v1/applications", json=body) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    secrets = {
        applicant.id_number,
        applicant.phone,
        *(m["idNumber"] for m in body["householdMembers"]),
    }

    for service, table in (("intake", "cases"), ("assistance", "department_cases")):
        conn = await asyncpg.connect(platform.database_url(service))
        try:
            dump = str(
                [
                    dict(r)
                    for r in await conn.fetch(f"SELECT * FROM {table} WHERE receipt = $1", receipt)
                ]
            )
        finally:
            await conn.close()
        assert receipt in dump, f"{service}.{table} holds the case"
        assert "sealed:v1:" in dump
        leaked = [s for s in secrets if s in dump]
        assert not leaked, f"{service}.{table} stores {len(leaked)} numbers in the clear"

    # The services still read them: the lookup shows the number masked, the rules ran.
    shown = await get_application(http, receipt)
    assert (
        shown["applicantIdNumber"] == applicant.id_number[:4] + "*" * 10 + applicant.id_number[-4:]
    )
