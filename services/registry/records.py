"""The registry's records: SQL for deaths, marriages and divorces."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import asyncpg


async def deceased_among(conn: asyncpg.Connection, keys: Sequence[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT person_key FROM deaths WHERE person_key = ANY($1::text[])", list(keys)
    )
    return {r["person_key"] for r in rows}


async def current_marriage(conn: asyncpg.Connection, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM marriages WHERE (key_a = $1 OR key_b = $1) AND ended_at IS NULL", key
    )


async def record_death(conn: asyncpg.Connection, key: str, receipt: str, died: dt.date) -> bool:
    """Records the death once; ends the person's marriage. False if it was recorded before."""
    recorded = await conn.fetchval(
        """INSERT INTO deaths (person_key, receipt, date_of_death) VALUES ($1, $2, $3)
           ON CONFLICT (person_key) DO NOTHING RETURNING 1""",
        key,
        receipt,
        died,
    )
    await conn.execute(
        """UPDATE marriages SET ended_at = now(), ended_by = 'death'
            WHERE (key_a = $1 OR key_b = $1) AND ended_at IS NULL""",
        key,
    )
    return bool(recorded)


async def register_marriage(conn: asyncpg.Connection, key_a: str, key_b: str, receipt: str) -> None:
    await conn.execute(
        "INSERT INTO marriages (key_a, key_b, receipt) VALUES ($1, $2, $3)", key_a, key_b, receipt
    )


async def file_divorce(
    conn: asyncpg.Connection,
    receipt: str,
    marriage_id: int,
    key_a: str,
    key_b: str,
    filed_at: dt.datetime,
) -> None:
    await conn.execute(
        """INSERT INTO divorces (receipt, marriage_id, key_a, key_b, filed_at, state)
           VALUES ($1, $2, $3, $4, $5, 'DIVORCE_STATE_COOLING_OFF') ON CONFLICT (receipt) DO NOTHING""",
        receipt,
        marriage_id,
        key_a,
        key_b,
        filed_at,
    )


async def divorce(
    conn: asyncpg.Connection, receipt: str, *, lock: bool = False
) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM divorces WHERE receipt = $1" + (" FOR UPDATE" if lock else ""), receipt
    )


async def set_divorce(conn: asyncpg.Connection, receipt: str, **changes: object) -> asyncpg.Record:
    columns = list(changes)
    assignments = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(columns))
    return await conn.fetchrow(
        f"UPDATE divorces SET {assignments} WHERE receipt = $1 RETURNING *",
        receipt,
        *changes.values(),
    )


async def end_marriage(conn: asyncpg.Connection, marriage_id: int, by: str) -> None:
    await conn.execute(
        "UPDATE marriages SET ended_at = now(), ended_by = $2 WHERE id = $1 AND ended_at IS NULL",
        marriage_id,
        by,
    )


async def pending_divorces(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        """SELECT * FROM divorces
            WHERE state IN ('DIVORCE_STATE_COOLING_OFF', 'DIVORCE_STATE_AWAITING_CONFIRMATION')"""
    )
