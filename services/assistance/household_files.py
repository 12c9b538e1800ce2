"""The household file's storage: SQL for files, members and benefits."""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence

import asyncpg


async def file_for(conn: asyncpg.Connection, member_keys: Sequence[str]) -> str:
    """The household's file: the one any member already belongs to, or a new one. Members not
    yet on it join it."""
    file_id = await conn.fetchval(
        """SELECT m.file_id FROM household_members m JOIN household_files f ON f.id = m.file_id
            WHERE m.person_key = ANY($1::text[]) AND f.closed_at IS NULL
            ORDER BY f.created_at LIMIT 1""",
        list(member_keys),
    )
    if file_id is None:
        file_id = f"HF-{secrets.token_hex(5).upper()}"
        await conn.execute("INSERT INTO household_files (id) VALUES ($1)", file_id)
    await conn.executemany(
        """INSERT INTO household_members (person_key, file_id) VALUES ($1, $2)
           ON CONFLICT (person_key) DO NOTHING""",
        [(key, file_id) for key in member_keys],
    )
    return str(file_id)


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
    await conn.execute(
        """INSERT INTO household_benefits
               (receipt, file_id, matter_code, beneficiary_key, amount_fen, recurring)
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (receipt) DO NOTHING""",
        receipt,
        file_id,
        matter_code,
        beneficiary_key,
        amount_fen,
        recurring,
    )


async def record_death(
    conn: asyncpg.Connection, person_key: str, died: dt.date
) -> tuple[bool, str]:
    """Stops the deceased's payments, and the household's and its file when nobody is left."""
    file_id = await conn.fetchval(
        """UPDATE household_members SET deceased_on = $2
            WHERE person_key = $1 AND deceased_on IS NULL RETURNING file_id""",
        person_key,
        died,
    )
    if file_id is None:
        return False, "nothing to do: no household file holds the person"
    living = await conn.fetchval(
        "SELECT count(*) FROM household_members WHERE file_id = $1 AND deceased_on IS NULL", file_id
    )
    closing = living == 0
    stopped = await conn.fetch(
        """UPDATE household_benefits SET stopped_at = now(), stop_reason = 'death'
            WHERE file_id = $1 AND stopped_at IS NULL AND recurring
              AND (beneficiary_key = $2 OR $3)
            RETURNING matter_code""",
        file_id,
        person_key,
        closing,
    )
    kinds = ", ".join(sorted({r["matter_code"].split(".")[1] for r in stopped})) or "none"
    if closing:
        await conn.execute("UPDATE household_files SET closed_at = now() WHERE id = $1", file_id)
        return (
            True,
            f"stopped {len(stopped)} payment(s) ({kinds}); household file {file_id} closed: nobody is left",
        )
    return True, (
        f"stopped {len(stopped)} payment(s) ({kinds}); household file {file_id} keeps "
        f"{living} member(s), whose entitlement is to be re-assessed"
    )
