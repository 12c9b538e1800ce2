"""The window's and the departments' metrics, scraped from the real processes' /metrics:
applications accepted and refused, decisions, the audit log's appends, and the cases open,
overdue and due soon that intake counts from the ledger. The platform is shared by the whole
session, so every check is a delta over what the test itself did.

The ledger's count is also checked on its own, in a scratch database: what it counts, and
that the planner serves it from the partial indexes of migration 0006."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import asyncpg
import pytest

from services.common import legal_calendar, metric_catalog, schema
from services.common.clock import BureauClock, fixed
from services.intake import store
from services.intake.store import CaseLedger
from services.intake.workload import Workload, horizon
from services.launcher.platform import Platform
from tests.conftest import bearer, eventually, wait_for_entry
from tests.factories import application, dibao_json, person
from tests.metrics_scrape import Samples, scrape, value
from tests.scratch import scratch_pool

ACCEPTED = metric_catalog.APPLICATIONS_ACCEPTED.prometheus
REFUSED = metric_catalog.APPLICATIONS_REFUSED.prometheus
DECISIONS = metric_catalog.DECISIONS.prometheus
OPEN = metric_catalog.CASES_OPEN.prometheus
OVERDUE = metric_catalog.CASES_OVERDUE.prometheus
DUE_SOON = metric_catalog.CASES_DUE_SOON.prometheus
BATCH_SIZE = metric_catalog.AUDIT_APPEND_BATCH_SIZE.prometheus
APPEND_DURATION = metric_catalog.AUDIT_APPEND_DURATION.prometheus
DAY = dt.timedelta(days=1)


def _scrape(platform: Platform, process: str) -> Samples:
    return scrape(platform.metrics_url(process))


async def _submit(http: aiohttp.ClientSession, body: dict[str, Any]) -> tuple[int, Any]:
    async with http.post("/v1/applications", json=body) as response:
        return response.status, await response.json()


async def _decide(
    http: aiohttp.ClientSession,
    department: str,
    receipt: str,
    decision: str,
    request_id: str = "",
    reason: str = "",
) -> int:
    body = {"requestId": request_id or str(uuid.uuid4()), "decision": decision, "reason": reason}
    async with http.post(
        f"/v1/departments/{department}/cases/{receipt}:decide",
        json=body,
        headers=bearer("officer", department=department),
    ) as response:
        return response.status


async def test_the_window_counts_each_application_it_accepts_or_refuses_once(platform, http):
    before = _scrape(platform, "gateway")

    dibao = dibao_json()
    status, accepted = await _submit(http, dibao)
    assert status == 200, accepted
    # The same request resent is answered with its receipt: no second acceptance.
    status, resent = await _submit(http, dibao)
    assert (status, resent["receipt"], resent.get("created", False)) == (
        200,
        accepted["receipt"],
        False,
    )

    # Bad input: a matter the catalog does not have, typed as the clerk typed it.
    typed = "assistance.dibao-by-mistake"
    status, refused = await _submit(http, {**dibao_json(), "matterCode": typed})
    assert status == 400, refused

    someone = person(age=70)
    status, first = await _submit(http, application("elderly.senior_card", someone))
    assert status == 200, first
    status, duplicate = await _submit(http, application("elderly.senior_card", someone))
    assert status == 400, duplicate

    after = _scrape(platform, "gateway")

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved(ACCEPTED) == 2
    assert moved(ACCEPTED, matter="assistance.dibao") == 1
    assert moved(ACCEPTED, matter="elderly.senior_card") == 1
    assert moved(REFUSED) == 2
    assert moved(REFUSED, matter="unknown", reason="INVALID_APPLICATION") == 1
    assert moved(REFUSED, matter="elderly.senior_card", reason="DUPLICATE_APPLICATION") == 1
    # The clerk's input is no label.
    assert not any(typed in v for _, labels in after for _, v in labels)


async def test_a_department_counts_a_decision_once_it_is_recorded(platform, http):
    status, submitted = await _submit(http, dibao_json())
    assert status == 200, submitted
    receipt = submitted["receipt"]
    await wait_for_entry(http, receipt, "ROUTED")
    before = _scrape(platform, "assistance")

    request_id = str(uuid.uuid4())
    assert await _decide(http, "assistance", receipt, "DECISION_APPROVE", request_id) == 200
    # The officer's client retries, then someone tries to decide it again: neither is recorded.
    assert await _decide(http, "assistance", receipt, "DECISION_APPROVE", request_id) == 200
    refused = await _decide(http, "assistance", receipt, "DECISION_REJECT", reason="changed")
    assert refused == 400

    after = _scrape(platform, "assistance")
    approved = {"department": "assistance", "outcome": "approved"}
    assert value(after, DECISIONS, **approved) - value(before, DECISIONS, **approved) == 1
    assert value(after, DECISIONS) - value(before, DECISIONS) == 1


async def test_every_audit_entry_appended_is_counted_in_a_batch(platform, http, intake_db):
    before = _scrape(platform, "intake")
    rows_before = await intake_db.fetchval("SELECT count(*) FROM audit_log")
    status, submitted = await _submit(http, dibao_json())
    assert status == 200, submitted
    # Each look-up of a case's personal data is audited (the gateway batches its entries).
    for _ in range(3):
        async with http.get(f"/v1/applications/{submitted['receipt']}") as response:
            assert response.status == 200

    async def counted() -> tuple[float, float, int] | None:
        after = _scrape(platform, "intake")
        rows = await intake_db.fetchval("SELECT count(*) FROM audit_log") - rows_before
        entries = value(after, f"{BATCH_SIZE}_sum") - value(before, f"{BATCH_SIZE}_sum")
        batches = value(after, f"{BATCH_SIZE}_count") - value(before, f"{BATCH_SIZE}_count")
        timed = value(after, f"{APPEND_DURATION}_count") - value(before, f"{APPEND_DURATION}_count")
        return (
            (entries, batches, rows) if rows >= 3 and entries == rows and timed == batches else None
        )

    entries, batches, rows = await eventually(counted, what="the appended entries counted")
    assert 1 <= batches <= entries == rows


async def _gauges(platform: Platform, department: str) -> Workload:
    after = _scrape(platform, "intake")
    return Workload(
        open=int(value(after, OPEN, department=department)),
        overdue=int(value(after, OVERDUE, department=department)),
        due_soon=int(value(after, DUE_SOON, department=department)),
    )


async def _until(platform: Platform, department: str, expected: Workload, what: str) -> None:
    async def check() -> bool:
        return await _gauges(platform, department) == expected

    await eventually(check, what=f"{department}'s gauges at {expected} ({what})")


async def test_the_gauges_follow_a_case_through_its_deadline(platform, http, intake_db):
    clock = BureauClock()
    # Counted at least once already (INTAKE_CASE_GAUGES_SECONDS is 1 in the tests).
    await eventually(
        lambda: _gauges_if_counted(platform, "elderly"), what="the first count of the ledger"
    )
    base = await _settled(platform, "elderly")
    status, submitted = await _submit(http, application("elderly.senior_card", person(age=75)))
    assert status == 200, submitted
    receipt = submitted["receipt"]
    await _until(
        platform, "elderly", Workload(base.open + 1, base.overdue, base.due_soon), "opened"
    )
    await wait_for_entry(http, receipt, "ROUTED")

    async def last_day(day: dt.date) -> None:
        await intake_db.execute(
            "UPDATE cases SET decision_deadline = $2 WHERE receipt = $1",
            receipt,
            clock.end_of_day(day),
        )

    today = clock.today()
    await last_day(today - DAY)
    await _until(
        platform, "elderly", Workload(base.open + 1, base.overdue + 1, base.due_soon), "yesterday"
    )
    await last_day(today)
    await _until(
        platform, "elderly", Workload(base.open + 1, base.overdue, base.due_soon + 1), "today"
    )
    await last_day(today + 3 * DAY)
    await _until(
        platform, "elderly", Workload(base.open + 1, base.overdue, base.due_soon), "in 3 days"
    )

    # Waiting for materials, its clock stops: open, but neither overdue nor due soon.
    await last_day(today - DAY)
    await _until(
        platform, "elderly", Workload(base.open + 1, base.overdue + 1, base.due_soon), "late again"
    )
    assert (
        await _decide(
            http, "elderly", receipt, "DECISION_REQUEST_MATERIALS", reason="a recent photograph"
        )
        == 200
    )
    await wait_for_entry(http, receipt, "MATERIALS_REQUESTED")
    await _until(
        platform, "elderly", Workload(base.open + 1, base.overdue, base.due_soon), "paused"
    )

    assert await _decide(http, "elderly", receipt, "DECISION_APPROVE") == 200
    await wait_for_entry(http, receipt, "APPROVED")
    await _until(platform, "elderly", base, "decided")


async def _settled(platform: Platform, department: str, seconds: float = 2.5) -> Workload:
    """The gauges once they have read the same for a few counts: a change an earlier test made
    to the shared ledger may not have been counted yet."""
    reading = await _gauges(platform, department)
    since = time.monotonic()
    while time.monotonic() - since < seconds:
        await asyncio.sleep(0.2)
        now = await _gauges(platform, department)
        if now != reading:
            reading, since = now, time.monotonic()
    return reading


async def _gauges_if_counted(platform: Platform, department: str) -> Workload | None:
    samples = _scrape(platform, "intake")
    counted = any(name == OPEN for name, _ in samples)
    return await _gauges(platform, department) if counted else None


# --- the ledger's count, in a scratch database -------------------------------------------------

# 01:30 on 2 December in China (the host's UTC date is still 1 December).
NOW = dt.datetime(2026, 12, 1, 17, 30, tzinfo=dt.UTC)
TODAY = dt.date(2026, 12, 2)


@pytest.fixture
async def ledger_pool() -> AsyncIterator[asyncpg.Pool]:
    async with scratch_pool("workload", schema.directories_for("intake"), max_size=10) as pool:
        yield pool


async def _case(
    conn: asyncpg.Connection,
    progress: dict[str, str],
    last_day: dt.date,
    status: str = "CASE_STATUS_ROUTED",
    paused: bool = False,
) -> None:
    clock = fixed(NOW)
    receipt = f"320585-{uuid.uuid4().hex[:5].upper()}-{uuid.uuid4().hex[:5].upper()}"
    await conn.execute(
        """INSERT INTO cases (receipt, request_id, matter_code, matter_version, status,
               accepting_division, hukou_division, departments, applicant, household_members,
               materials, trace_id, created_at, decision_deadline, paused_since)
           VALUES ($1, $1, 'elderly.senior_card', 1, $2, '320585', '320585', $3, '{}', '[]',
                   '{}', '', $4, $5, $6)""",
        receipt,
        status,
        list(progress),
        NOW - 10 * DAY,
        clock.end_of_day(last_day),
        NOW - DAY if paused else None,
    )
    await conn.executemany(
        "INSERT INTO case_departments (receipt, department, state) VALUES ($1, $2, $3)",
        [(receipt, department, state) for department, state in progress.items()],
    )


@pytest.mark.platform
async def test_the_ledger_counts_undecided_cases_by_department_on_the_bureaus_date(ledger_pool):
    async with ledger_pool.acquire() as conn:
        await _case(conn, {"assistance": "open"}, TODAY - DAY)  # overdue
        await _case(conn, {"assistance": "pending"}, TODAY)  # due soon
        await _case(conn, {"assistance": "awaiting_materials"}, TODAY - 5 * DAY, paused=True)
        await _case(conn, {"elderly": "open"}, TODAY + 3 * DAY)  # open only
        await _case(conn, {"elderly": "approved"}, TODAY - DAY, "CASE_STATUS_APPROVED")
        # A joint matter: one department has reported, the other has not.
        await _case(conn, {"assistance": "reported", "elderly": "open"}, TODAY + 2 * DAY)
        # Withdrawn: nothing open, whatever a department's row still says.
        await _case(conn, {"orgs": "pending"}, TODAY - DAY, "CASE_STATUS_WITHDRAWN")
    ledger = CaseLedger(ledger_pool, fixed(NOW), legal_calendar.load())
    counted = await ledger.workload(horizon(fixed(NOW)))
    assert counted == {
        "assistance": Workload(open=3, overdue=1, due_soon=1),
        "elderly": Workload(open=2, overdue=0, due_soon=1),
    }


@pytest.mark.platform
async def test_the_count_is_served_by_the_partial_indexes_even_as_a_generic_plan(ledger_pool):
    """A prepared statement's generic plan knows no parameter's value: the predicates the
    indexes need must be in the statement itself."""
    seen = horizon(fixed(NOW))
    async with ledger_pool.acquire() as conn, conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        # The tables are nearly empty: without this the planner would rightly scan them.
        await conn.execute("SET LOCAL enable_seqscan = off")
        await conn.execute(f"PREPARE workload AS {store._WORKLOAD}")
        plan = "\n".join(
            r[0]
            for r in await conn.fetch(
                f"EXPLAIN EXECUTE workload('{seen.overdue_before.isoformat()}', "
                f"'{seen.due_before.isoformat()}')"
            )
        )
        await conn.execute("DEALLOCATE workload")
    assert "case_departments_undecided" in plan, plan
    assert "cases_undecided" in plan, plan
