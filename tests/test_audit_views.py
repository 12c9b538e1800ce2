"""The auditor's views of the audit log: by case, by actor and by day, keyset-paged, and the
hash chain's verification (intact on the platform; broken, and where, in a scratch database
whose rows were rewritten behind the service's back)."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest

from onedoor.intake.v1 import intake_service_pb2 as ipb
from services.common import auth
from services.common.clock import BureauClock
from services.common.schema import directories_for
from services.intake.audit_log import AuditLog
from tests.conftest import bearer, wait_for_entry
from tests.factories import dibao_json
from tests.scratch import scratch_pool

AUDITOR = bearer("auditor")


def _officer(subject: str) -> dict[str, str]:
    token = auth.issue("officer", "320585", department="assistance", subject=subject)
    return {"Authorization": f"Bearer {token}"}


async def _pages(
    http: aiohttp.ClientSession, params: dict[str, str], size: int
) -> list[list[dict[str, Any]]]:
    pages: list[list[dict[str, Any]]] = []
    token = ""
    while True:
        query = {**params, "pageSize": str(size), **({"pageToken": token} if token else {})}
        async with http.get("/v1/audit", params=query, headers=AUDITOR) as response:
            assert response.status == 200, await response.text()
            page = await response.json()
        pages.append(page["entries"])
        token = page.get("nextPageToken", "")
        if not token:
            return pages


async def test_by_actor_paged_shows_only_that_actors_entries_each_once(http):
    subject = f"officer-{uuid.uuid4().hex[:8]}"
    officer = _officer(subject)
    receipts = []
    for _ in range(3):
        async with http.post("/v1/applications", json=dibao_json()) as response:
            receipts.append((await response.json())["receipt"])
    for receipt in receipts:
        await wait_for_entry(http, receipt, "ROUTED")
        path = f"/v1/departments/assistance/cases/{receipt}/file"
        async with http.get(path, headers=officer) as response:
            assert response.status == 200

    pages = await _pages(http, {"actor": f"officer:{subject}"}, size=2)
    assert [len(p) for p in pages] == [2, 1]
    entries = [e for p in pages for e in p]
    assert [(e["receipt"], e["action"]) for e in entries] == [
        (r, "case_file.read") for r in receipts
    ]
    sequences = [int(e["sequence"]) for e in entries]
    assert sequences == sorted(set(sequences))

    # By case and actor together: one entry.
    one = await _pages(http, {"actor": f"officer:{subject}", "receipt": receipts[1]}, size=50)
    assert [e["receipt"] for e in one[0]] == [receipts[1]]


async def test_by_day_in_the_bureaus_local_time(http):
    subject = f"officer-{uuid.uuid4().hex[:8]}"
    async with http.post("/v1/applications", json=dibao_json()) as response:
        receipt = (await response.json())["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    path = f"/v1/departments/assistance/cases/{receipt}/file"
    async with http.get(path, headers=_officer(subject)) as response:
        assert response.status == 200
    today = BureauClock().today()
    actor = {"actor": f"officer:{subject}"}

    def days(since: dt.date, until: dt.date) -> dict[str, str]:
        return {**actor, "sinceDate": since.isoformat(), "untilDate": until.isoformat()}

    one_day = dt.timedelta(days=1)
    assert len((await _pages(http, days(today, today), 50))[0]) == 1
    assert (await _pages(http, days(today - one_day, today - one_day), 50))[0] == []
    assert (await _pages(http, days(today + one_day, today + one_day), 50))[0] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"sinceDate": "2026-13-01"}, "since_date"),
        ({"untilDate": "yesterday"}, "until_date"),
        ({"sinceDate": "2026-12-02", "untilDate": "2026-12-01"}, "until_date"),
        ({"receipt": "not-a-receipt"}, "receipt"),
        ({"actor": "officer:\x00"}, "actor"),
        ({"actr": "officer:x"}, "actr"),
    ],
)
async def test_bad_filters_are_refused_naming_the_field(http, params, field):
    async with http.get("/v1/audit", params=params, headers=AUDITOR) as response:
        assert response.status == 400
        body = await response.json()
    violations = body["error"]["details"][0]["fieldViolations"]
    assert field in [v["field"] for v in violations]


async def test_the_verification_finds_the_platforms_chain_intact(http):
    async with http.get("/v1/audit:verify", headers=AUDITOR) as response:
        assert response.status == 200, await response.text()
        verdict = await response.json()
    assert verdict["intact"] is True
    assert int(verdict["checked"]) > 0 and verdict["brokenAt"] == "0"
    async with http.get("/v1/audit:verify") as response:  # a clerk
        assert response.status == 403


@pytest.fixture
async def scratch_audit() -> AsyncIterator[tuple[AuditLog, asyncpg.Pool]]:
    # Connections enough for writers to queue on the chain's lock at once.
    async with scratch_pool("audit", directories_for("intake"), max_size=8) as pool:
        yield AuditLog(pool), pool


def _entries(count: int, named: str = "") -> list[ipb.AuditEntry]:
    return [
        ipb.AuditEntry(
            actor="officer:o-1",
            action="case_file.read",
            receipt=f"320585-AAAAA-{n:05d}",
            fields=["household_members.name"],
            trace_id="t" * 32,
            detail="assistance",
            actor_name=named,
        )
        for n in range(count)
    ]


async def test_concurrent_appends_make_one_chain(scratch_audit):
    """Writers that wait on one another for the chain each read the hash the one before them
    stored (a snapshot taken before the lock was granted would fork the chain)."""
    log, pool = scratch_audit
    sizes = [1, 3, 2, 1, 4, 1, 2, 1] * 5
    appended = await asyncio.gather(*(log.append(_entries(n)) for n in sizes))
    assert [len(a) for a in appended] == sizes
    verdict = await log.verify(batch=7)
    assert (verdict.checked, verdict.broken_at) == (sum(sizes), None)
    rows = await pool.fetch("SELECT sequence, hash FROM audit_log ORDER BY sequence")
    assert len({r["hash"] for r in rows}) == len(rows)
    # What each writer was answered is what the chain holds.
    answered = {e.sequence: e.hash for entries in appended for e in entries}
    assert answered == {r["sequence"]: r["hash"] for r in rows}


async def test_a_rewritten_row_breaks_the_chain_at_that_entry(scratch_audit):
    log, pool = scratch_audit
    await log.append(_entries(3))
    await log.append(_entries(3, named="救助科 李强"))
    intact = await log.verify(batch=2)
    assert (intact.checked, intact.broken_at) == (6, None)

    stored = [r["sequence"] for r in await pool.fetch("SELECT sequence FROM audit_log ORDER BY 1")]
    # What only someone with the database's owner rights could do: the trigger keeps the
    # service's own statements out.
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute(
            "UPDATE audit_log SET actor_name = '别人' WHERE sequence = $1", stored[4]
        )
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    broken = await log.verify(batch=2)
    assert (broken.broken_at, broken.checked) == (stored[4], 5)


async def test_a_removed_row_breaks_the_chain_at_the_next_entry(scratch_audit):
    log, pool = scratch_audit
    await log.append(_entries(4))
    stored = [r["sequence"] for r in await pool.fetch("SELECT sequence FROM audit_log ORDER BY 1")]
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute("DELETE FROM audit_log WHERE sequence = $1", stored[1])
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    assert (await log.verify()).broken_at == stored[2]
