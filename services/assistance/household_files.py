"""The household file's storage: SQL for files, members and benefits.

"One household, one file": whoever finds or creates a household's file, or settles a member's
death, first takes a transaction-scoped advisory lock on each person it names. Two
applications naming a common member therefore take turns, and the second sees the file the
first made once the first commits (READ COMMITTED: each statement reads what is committed when
it starts, so the read after the lock is fresh). The locks are held to the caller's commit.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Sequence

import asyncpg

from onedoor.case.v1 import case_pb2
from services.common.texts import Code, code, count, matters, text

# The two-key advisory lock space is apart from the one-key space of the case store's
# per-receipt locks, so a member's lock can never be a receipt's.
_MEMBER_LOCKS = 0x0D00_0F11


def _lock_id(person_key: str) -> int:
    """A signed 32-bit lock id; two people sharing one only take turns needlessly."""
    digest = hashlib.blake2b(person_key.encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


async def _lock_people(conn: asyncpg.Connection, person_keys: Iterable[str]) -> None:
    if not conn.is_in_transaction():
        # Outside a transaction each lock would be let go as soon as it was taken.
        raise RuntimeError("household files are changed only inside the caller's transaction")
    # Always in ascending order of lock id, so two households that share several members
    # cannot each hold one lock while waiting for the other's.
    # One statement for the household: unnest yields the sorted array in its order, and the
    # scan takes each row's lock before it reads the next.
    ids = sorted({_lock_id(key) for key in person_keys})
    await conn.execute(
        "SELECT pg_advisory_xact_lock($1, lock) FROM unnest($2::int[]) AS lock", _MEMBER_LOCKS, ids
    )


async def file_for(conn: asyncpg.Connection, member_keys: Sequence[str]) -> str:
    """The household's file: the oldest open one any member already belongs to, or a new one.
    Members on no file yet join it. Runs in the caller's transaction and holds each member's
    lock to its commit."""
    keys = list(dict.fromkeys(member_keys))
    if not keys:
        raise ValueError("a household has at least one member")
    await _lock_people(conn, keys)
    filed = await conn.fetch(
        """SELECT m.person_key, m.file_id, f.closed_at IS NULL AS open
             FROM household_members m JOIN household_files f ON f.id = m.file_id
            WHERE m.person_key = ANY($1::text[])
            ORDER BY f.created_at, f.id""",
        keys,
    )
    newcomers = [key for key in keys if key not in {row["person_key"] for row in filed}]
    open_files = [row["file_id"] for row in filed if row["open"]]
    # No ON CONFLICT below: under the locks a newcomer cannot have been filed meanwhile, and if
    # a writer that skips them ever did, failing loudly beats splitting the household.
    if open_files:
        file_id = str(open_files[0])
        if newcomers:
            await conn.execute(
                """INSERT INTO household_members (person_key, file_id)
                   SELECT key, $2 FROM unnest($1::text[]) AS key""",
                newcomers,
                file_id,
            )
        return file_id
    if not newcomers:
        # Everyone named is on a closed file, i.e. recorded deceased here (the window refuses
        # such applications): a new file would stay empty, so the case names their last one.
        return str(filed[-1]["file_id"])
    # The file and its members in one statement (the members' foreign key is checked at its
    # end, when the file's row is there).
    file_id = f"HF-{secrets.token_hex(5).upper()}"
    await conn.execute(
        """WITH file AS (INSERT INTO household_files (id) VALUES ($2))
           INSERT INTO household_members (person_key, file_id)
           SELECT key, $2 FROM unnest($1::text[]) AS key""",
        newcomers,
        file_id,
    )
    return file_id


async def on_dibao(conn: asyncpg.Connection, file_id: str) -> bool:
    return bool(
        await conn.fetchval(
            """SELECT 1 FROM household_benefits
                WHERE file_id = $1 AND matter_code = 'assistance.dibao' AND stopped_at IS NULL""",
            file_id,
        )
    )


async def grant(
    conn: asyncpg.Connection,
    receipt: str,
    file_id: str,
    matter_code: str,
    beneficiary_key: str,
    amount_fen: int,
    recurring: bool,
) -> None:
    """Records the benefit on the case's file; a case opened before file_for took its locks
    may name a file nobody is on, and then the benefit goes where its beneficiary is."""
    await conn.execute(
        """INSERT INTO household_benefits
               (receipt, file_id, matter_code, beneficiary_key, amount_fen, recurring)
           SELECT $1,
                  CASE WHEN EXISTS (SELECT 1 FROM household_members WHERE file_id = $2::text)
                       THEN $2::text
                       ELSE coalesce((SELECT file_id FROM household_members
                                       WHERE person_key = $4::text), $2::text)
                  END,
                  $3, $4, $5, $6
           ON CONFLICT (receipt) DO NOTHING""",
        receipt,
        file_id,
        matter_code,
        beneficiary_key,
        amount_fen,
        recurring,
    )


async def record_death(
    conn: asyncpg.Connection, person_key: str, died: dt.date
) -> tuple[bool, list[case_pb2.Text]]:
    """Stops the deceased's recurring payments on every file, wherever they are the
    beneficiary; a file with nobody living left is closed and all its payments stop. A second
    call for the same death finds nothing left to do."""
    await _lock_people(conn, [person_key])
    member_of = await conn.fetchval(
        "SELECT file_id FROM household_members WHERE person_key = $1 AND deceased_on IS NULL",
        person_key,
    )
    paying = await conn.fetch(
        """SELECT DISTINCT file_id FROM household_benefits
            WHERE beneficiary_key = $1 AND stopped_at IS NULL AND recurring""",
        person_key,
    )
    others = sorted({str(r["file_id"]) for r in paying} - {member_of})
    files = [str(member_of), *others] if member_of is not None else others
    if not files:
        return False, [text(Code.TEXT_CODE_NOTHING_TO_DO)]
    # Two deaths in one household, settled at once, must not each count the other as living
    # and leave the file open: the second waits here for the first to commit. NO KEY UPDATE
    # lets file_for's and grant's foreign-key checks on the file go on meanwhile.
    await conn.execute(
        "SELECT 1 FROM household_files WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE",
        files,
    )
    await conn.execute(
        """UPDATE household_members SET deceased_on = $2
            WHERE person_key = $1 AND deceased_on IS NULL""",
        person_key,
        died,
    )
    stopped: list[str] = []
    clauses: list[case_pb2.Text] = []
    for file_id in files:
        living = await conn.fetchval(
            "SELECT count(*) FROM household_members WHERE file_id = $1 AND deceased_on IS NULL",
            file_id,
        )
        closing = living == 0
        rows = await conn.fetch(
            """UPDATE household_benefits SET stopped_at = now(), stop_reason = 'death'
                WHERE file_id = $1 AND stopped_at IS NULL AND recurring
                  AND (beneficiary_key = $2 OR $3)
                RETURNING matter_code""",
            file_id,
            person_key,
            closing,
        )
        stopped.extend(r["matter_code"] for r in rows)
        if closing:
            await conn.execute(
                "UPDATE household_files SET closed_at = now() WHERE id = $1 AND closed_at IS NULL",
                file_id,
            )
            clauses.append(text(Code.TEXT_CODE_HOUSEHOLD_FILE_CLOSED, file=code(file_id)))
        else:
            clauses.append(
                text(Code.TEXT_CODE_HOUSEHOLD_FILE_KEPT, file=code(file_id), members=count(living))
            )
    stopped_payments = text(
        Code.TEXT_CODE_BENEFITS_STOPPED,
        payments=count(len(stopped)),
        benefits=matters(sorted(set(stopped))),
    )
    return True, [stopped_payments, *clauses]
