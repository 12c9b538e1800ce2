"""One household, one file, against real PostgreSQL: applications for one household opened at
once end on one file with every member on it and no empty file beside it; a death stops every
recurring payment of the deceased on every file, once; and the repair migration mends what the
unlocked file_for left behind.

Each test module gets a scratch database of its own, migrated as the assistance service
migrates its own (the outbox's, the department's, then assistance's migrations), and dropped
at the end. No platform processes are started, but PostgreSQL must run, so the tests are
marked ``platform`` to stay out of ``make test-unit``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
import pytest

from onedoor.case.v1 import case_pb2
from onedoor.department.v1 import department_service_pb2 as pb
from services.assistance import economic_check, household_files, standards
from services.assistance.department import AssistanceDepartment
from services.common import db
from services.common.clock import BureauClock
from services.common.config import DEFAULT_POSTGRES
from services.common.department.servicer import DepartmentServicer
from services.common.department.store import DepartmentCases
from services.common.keyed_hash import person_key
from services.common.receipt import receipt_for
from services.common.schema import COMMON_MIGRATIONS, DEPARTMENT_MIGRATIONS, directories_for
from tests.factories import dibao_proto, person
from tests.said import all_said

pytestmark = pytest.mark.platform

T = TypeVar("T")
AT_ONCE = 20
# How long each opening keeps its transaction after file_for, as the rest of a case's opening
# (assessment, the case's insert) does: long enough that unlocked openings surely overlap.
REST_OF_OPENING = 0.05
DIED = dt.date(2026, 11, 20)
NOTHING_TO_DO = (False, [("NOTHING_TO_DO", {})])
# Files the tests make by hand as the unlocked file_for left them, empty on purpose.
# Assistance's own migrations (the last of the service's directories).
MIGRATIONS = directories_for("assistance")[-1]
LEGACY = "HF-LEGACY"


async def _scratch_database(migrations: list[Path]) -> tuple[str, asyncpg.Pool]:
    url = f"{DEFAULT_POSTGRES}/onedoor_test_household_{uuid.uuid4().hex[:12]}"
    # Room for every opening at once, each on a connection of its own.
    return url, await db.open_pool(url, migrations, min_size=1, max_size=AT_ONCE + 5)


async def _drop(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="module")
async def pool() -> AsyncIterator[asyncpg.Pool]:
    url, opened = await _scratch_database(directories_for("assistance"))
    try:
        yield opened
    finally:
        await opened.close()
        await _drop(url)


async def in_transaction(
    pool: asyncpg.Pool, work: Callable[[asyncpg.Connection], Awaitable[T]]
) -> T:
    async with pool.acquire() as conn, conn.transaction():
        return await work(conn)


def keys(count: int) -> list[str]:
    return [person_key(person().id_number) for _ in range(count)]


async def files_of(pool: asyncpg.Pool, members: list[str]) -> dict[str, str]:
    rows = await pool.fetch(
        "SELECT person_key, file_id FROM household_members WHERE person_key = ANY($1::text[])",
        members,
    )
    return {r["person_key"]: r["file_id"] for r in rows}


async def empty_files(pool: asyncpg.Pool) -> list[str]:
    return [
        r["id"]
        for r in await pool.fetch(
            """SELECT f.id FROM household_files f
                WHERE NOT EXISTS (SELECT 1 FROM household_members m WHERE m.file_id = f.id)
                  AND f.id NOT LIKE $1 || '%'""",
            LEGACY,
        )
    ]


async def open_at_once(pool: asyncpg.Pool, households: list[list[str]]) -> list[str]:
    """file_for for every household at the same moment, each in its own transaction on its
    own connection, each transaction kept open a little after, as a case's opening does."""
    start = asyncio.Barrier(len(households))

    async def one(members: list[str]) -> str:
        async with pool.acquire() as conn, conn.transaction():
            await start.wait()
            file_id = await household_files.file_for(conn, members)
            await asyncio.sleep(REST_OF_OPENING)
            return file_id

    return list(await asyncio.gather(*(one(h) for h in households)))


# --- one household, one file ----------------------------------------------------------------


async def test_applications_for_one_household_at_once_end_on_one_file(pool):
    applicant, *relatives = keys(6)
    # Every application names the applicant, with a different part of the family, in a
    # different order: any order of execution ends on one file.
    households = [
        sorted([applicant, *relatives[i % 5 : i % 5 + i % 4]], reverse=i % 2 == 0)
        for i in range(AT_ONCE)
    ]
    opened = await open_at_once(pool, households)

    assert len(set(opened)) == 1, f"{len(set(opened))} files for one household"
    (file_id,) = set(opened)
    named = sorted({k for h in households for k in h})
    assert await files_of(pool, named) == {k: file_id for k in named}
    assert await empty_files(pool) == []


async def test_applications_naming_someone_on_a_file_at_once_all_join_that_file(pool):
    applicant, spouse, child, grandchild = keys(4)
    first = await in_transaction(pool, lambda c: household_files.file_for(c, [applicant, spouse]))
    # Each names someone already on the file, so in any order each finds it.
    opened = await open_at_once(
        pool, [[child, spouse], [applicant, child], [grandchild, spouse], [grandchild, applicant]]
    )

    assert set(opened) == {first}
    everyone = [applicant, spouse, child, grandchild]
    assert await files_of(pool, everyone) == {k: first for k in everyone}
    assert await empty_files(pool) == []


async def test_ten_dibao_applications_at_once_open_on_one_file_and_grant_on_it(pool):
    """The incident, through the department's workflow (servicer, rules, store) without gRPC."""
    application = dibao_proto()
    department = AssistanceDepartment(
        BureauClock(), standards.load(), economic_check.FakeBank(None)
    )
    workflow = DepartmentServicer(department, DepartmentCases(pool, "assistance"))

    def case(number: int) -> case_pb2.Case:
        return case_pb2.Case(
            receipt=receipt_for("320585", f"household-files-{uuid.uuid4()}-{number}"),
            matter_code=application.matter_code,
            matter_version=1,
            applicant=application.applicant,
            household_members=application.household_members,
            materials=application.materials,
            accepting_division="320585",
            details=application.details,
            departments=["assistance"],
        )

    applications = [case(n) for n in range(10)]
    opened = await asyncio.gather(*(workflow.open_case(c) for c in applications))
    file_ids = {found.household_file for found, created in opened if created}
    assert len(file_ids) == 1 and len(opened) == 10

    for each in applications:
        await workflow.decide(
            f"approve-{each.receipt}", each.receipt, pb.DECISION_APPROVE, "", "officer-1"
        )
    benefit_files = {
        r["file_id"]
        for r in await pool.fetch(
            "SELECT file_id FROM household_benefits WHERE receipt = ANY($1::text[])",
            [each.receipt for each in applications],
        )
    }
    assert benefit_files == file_ids
    members = [person_key(m.id_number) for m in application.household_members]
    assert set((await files_of(pool, members)).values()) == file_ids
    assert await empty_files(pool) == []


async def test_file_for_refuses_to_run_outside_a_transaction(pool):
    async with pool.acquire() as conn:
        with pytest.raises(RuntimeError, match="transaction"):
            await household_files.file_for(conn, keys(1))


async def test_a_benefit_for_a_case_on_a_file_nobody_is_on_goes_where_its_beneficiary_is(pool):
    applicant = keys(1)[0]
    home = await in_transaction(pool, lambda c: household_files.file_for(c, [applicant]))
    stray = f"{LEGACY}{uuid.uuid4().hex[:6].upper()}"
    await pool.execute("INSERT INTO household_files (id) VALUES ($1)", stray)
    receipt = f"R-{uuid.uuid4().hex[:10]}"

    await in_transaction(
        pool,
        lambda c: household_files.grant(
            c, receipt, stray, "assistance.dibao", applicant, 70000, True
        ),
    )
    assert (
        await pool.fetchval("SELECT file_id FROM household_benefits WHERE receipt = $1", receipt)
        == home
    )


# --- a death --------------------------------------------------------------------------------


async def benefit(
    pool: asyncpg.Pool, file_id: str, matter: str, beneficiary: str, recurring: bool = True
) -> str:
    receipt = f"R-{uuid.uuid4().hex[:10]}"
    await pool.execute(
        """INSERT INTO household_benefits
               (receipt, file_id, matter_code, beneficiary_key, amount_fen, recurring)
           VALUES ($1, $2, $3, $4, 50000, $5)""",
        receipt,
        file_id,
        matter,
        beneficiary,
        recurring,
    )
    return receipt


async def snapshot(pool: asyncpg.Pool, files: list[str]) -> list[tuple[Any, ...]]:
    rows = await pool.fetch(
        """SELECT 'file', id, closed_at::text, NULL, NULL FROM household_files
            WHERE id = ANY($1::text[])
           UNION ALL
           SELECT 'member', person_key, file_id, deceased_on::text, NULL FROM household_members
            WHERE file_id = ANY($1::text[])
           UNION ALL
           SELECT 'benefit', receipt, file_id, stopped_at::text, stop_reason
             FROM household_benefits WHERE file_id = ANY($1::text[])
           ORDER BY 1, 2""",
        files,
    )
    return [tuple(r) for r in rows]


async def test_a_death_stops_every_recurring_payment_of_the_person_on_every_file(pool):
    deceased, neighbour = keys(2)
    own = await in_transaction(pool, lambda c: household_files.file_for(c, [deceased]))
    other = await in_transaction(pool, lambda c: household_files.file_for(c, [neighbour]))
    # What the unlocked file_for left: a file nobody is on, paying the deceased.
    empty = f"{LEGACY}{uuid.uuid4().hex[:6].upper()}"
    await pool.execute("INSERT INTO household_files (id) VALUES ($1)", empty)
    own_dibao = await benefit(pool, own, "assistance.dibao", deceased)
    one_off = await benefit(pool, own, "assistance.temporary", deceased, recurring=False)
    stray_dibao = await benefit(pool, empty, "assistance.dibao", deceased)
    # A payment to the deceased on a file with someone living on it, and that person's own.
    elsewhere = await benefit(pool, other, "assistance.hardship", deceased)
    neighbours = await benefit(pool, other, "assistance.dibao", neighbour)
    files = [own, empty, other]
    department = AssistanceDepartment(
        BureauClock(), standards.load(), economic_check.FakeBank(None)
    )
    workflow = DepartmentServicer(department, DepartmentCases(pool, "assistance"))

    async def settle(receipt: str) -> tuple[bool, list[tuple[str, dict[str, Any]]]]:
        settled = await workflow.settle_death(receipt, deceased, DIED)
        return settled.held_something, all_said(settled.outcome_message)

    held, outcome = await settle(f"D-{uuid.uuid4().hex[:10]}")

    clauses = {
        own: ("HOUSEHOLD_FILE_CLOSED", {"file": own}),
        empty: ("HOUSEHOLD_FILE_CLOSED", {"file": empty}),
        other: ("HOUSEHOLD_FILE_KEPT", {"file": other, "members": 1}),
    }
    # Named by benefit (each once), not only counted.
    stopped = {"payments": 3, "benefits": {"codes": ["assistance.dibao", "assistance.hardship"]}}
    expected = [("BENEFITS_STOPPED", stopped), clauses[own]] + [
        clauses[f] for f in sorted([empty, other])
    ]
    assert (held, outcome) == (True, expected)
    assert deceased not in str(outcome) and neighbour not in str(outcome)
    rows = {
        r["receipt"]: (r["stopped_at"] is not None, r["stop_reason"])
        for r in await pool.fetch("SELECT * FROM household_benefits WHERE file_id = ANY($1)", files)
    }
    assert rows == {
        own_dibao: (True, "death"),
        one_off: (False, None),
        stray_dibao: (True, "death"),
        elsewhere: (True, "death"),
        neighbours: (False, None),
    }
    closed = {
        r["id"]: r["closed_at"] is not None
        for r in await pool.fetch("SELECT * FROM household_files WHERE id = ANY($1)", files)
    }
    assert closed == {own: True, empty: True, other: False}
    assert (
        await pool.fetchval(
            "SELECT deceased_on FROM household_members WHERE person_key = $1", deceased
        )
        == DIED
    )

    # A second registration of the same death, and a redelivery of the first, change nothing.
    before = await snapshot(pool, files)
    assert await settle(f"D-{uuid.uuid4().hex[:10]}") == NOTHING_TO_DO
    held, outcome = await in_transaction(
        pool, lambda c: household_files.record_death(c, deceased, DIED)
    )
    assert (held, all_said(outcome)) == NOTHING_TO_DO
    assert await snapshot(pool, files) == before


async def test_a_death_in_a_household_with_someone_living_stops_only_their_payment(pool):
    deceased, widow = keys(2)
    file_id = await in_transaction(pool, lambda c: household_files.file_for(c, [deceased, widow]))
    theirs = await benefit(pool, file_id, "assistance.disability_subsidy", deceased)
    household = await benefit(pool, file_id, "assistance.dibao", widow)

    held, outcome = await in_transaction(
        pool, lambda c: household_files.record_death(c, deceased, DIED)
    )

    assert (held, all_said(outcome)) == (
        True,
        [
            (
                "BENEFITS_STOPPED",
                {"payments": 1, "benefits": {"codes": ["assistance.disability_subsidy"]}},
            ),
            ("HOUSEHOLD_FILE_KEPT", {"file": file_id, "members": 1}),
        ],
    )
    running = {
        r["receipt"]
        for r in await pool.fetch(
            "SELECT receipt FROM household_benefits WHERE file_id = $1 AND stopped_at IS NULL",
            file_id,
        )
    }
    assert running == {household} and theirs not in running


async def test_two_deaths_in_one_household_settled_at_once_close_its_file(pool):
    first, second = keys(2)
    file_id = await in_transaction(pool, lambda c: household_files.file_for(c, [first, second]))
    await benefit(pool, file_id, "assistance.dibao", first)
    start = asyncio.Barrier(2)

    async def die(who: str) -> list[str]:
        async with pool.acquire() as conn, conn.transaction():
            await start.wait()
            _, outcome = await household_files.record_death(conn, who, DIED)
            await asyncio.sleep(REST_OF_OPENING)
            return [code for code, _ in all_said(outcome)]

    outcomes = await asyncio.gather(die(first), die(second))

    assert sum("HOUSEHOLD_FILE_CLOSED" in outcome for outcome in outcomes) == 1
    assert await pool.fetchval(
        "SELECT closed_at IS NOT NULL FROM household_files WHERE id = $1", file_id
    )
    assert not await pool.fetchval(
        "SELECT count(*) FROM household_benefits WHERE file_id = $1 AND stopped_at IS NULL",
        file_id,
    )


# --- the repair of what the unlocked file_for left ------------------------------------------


async def test_the_repair_migration_mends_split_households(tmp_path):
    # Only assistance's first migration, under the name the service records it by.
    first_only = tmp_path / "assistance" / "migrations"
    first_only.mkdir(parents=True)
    shutil.copy(MIGRATIONS / "0001_household_files.sql", first_only)
    url, legacy = await _scratch_database([COMMON_MIGRATIONS, DEPARTMENT_MIGRATIONS, first_only])
    try:
        applicant, spouse, widower, late_wife = keys(4)
        for file_id in ("HF-HOME", "HF-EMPTY", "HF-UNUSED", "HF-UNDECIDED", "HF-WIDOWER"):
            await legacy.execute("INSERT INTO household_files (id) VALUES ($1)", file_id)
        await legacy.executemany(
            "INSERT INTO household_members (person_key, file_id, deceased_on) VALUES ($1, $2, $3)",
            [
                (applicant, "HF-HOME", None),
                (spouse, "HF-HOME", None),
                (widower, "HF-WIDOWER", None),
                (late_wife, "HF-WIDOWER", DIED),
            ],
        )
        home_dibao = await benefit(legacy, "HF-HOME", "assistance.dibao", applicant)
        stray_dibao = await benefit(legacy, "HF-EMPTY", "assistance.dibao", applicant)
        stray_one_off = await benefit(legacy, "HF-EMPTY", "assistance.temporary", applicant, False)
        missed = await benefit(legacy, "HF-WIDOWER", "assistance.disability_subsidy", late_wife)
        widowers = await benefit(legacy, "HF-WIDOWER", "assistance.dibao", widower)
        for receipt, file_id in [
            (home_dibao, "HF-HOME"),
            (stray_dibao, "HF-EMPTY"),
            (stray_one_off, "HF-EMPTY"),
            ("R-UNDECIDED", "HF-UNDECIDED"),
        ]:
            await legacy.execute(
                """INSERT INTO department_cases (receipt, matter_code, matter_version, state,
                       hukou_division, accepting_division, decision_deadline, application,
                       assessment, household_file)
                   VALUES ($1, 'assistance.dibao', 1, 'CASE_STATE_APPROVED', '320585',
                           '320585', now(), '{}', '{}', $2)""",
                receipt,
                file_id,
            )

        assert await db.migrate(legacy, [MIGRATIONS]) == [
            "assistance/0002_one_file_per_household.sql"
        ]

        benefits = {
            r["receipt"]: (r["file_id"], r["stopped_at"] is not None)
            for r in await legacy.fetch("SELECT * FROM household_benefits")
        }
        assert benefits == {
            home_dibao: ("HF-HOME", False),
            stray_dibao: ("HF-HOME", False),
            stray_one_off: ("HF-HOME", False),
            missed: ("HF-WIDOWER", True),
            widowers: ("HF-WIDOWER", False),
        }
        cases = {
            r["receipt"]: r["household_file"]
            for r in await legacy.fetch("SELECT receipt, household_file FROM department_cases")
        }
        assert cases == {
            home_dibao: "HF-HOME",
            stray_dibao: "HF-HOME",
            stray_one_off: "HF-HOME",
            "R-UNDECIDED": "HF-UNDECIDED",
        }
        files = {
            r["id"]: r["closed_at"] is not None
            for r in await legacy.fetch("SELECT * FROM household_files")
        }
        # HF-EMPTY and HF-UNUSED are gone; the one a case still names is closed.
        assert files == {"HF-HOME": False, "HF-UNDECIDED": True, "HF-WIDOWER": False}
    finally:
        await legacy.close()
        await _drop(url)
