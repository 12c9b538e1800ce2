"""The registry's records: SQL for deaths, marriages and divorces.

A divorce's state is stored as its DivorceState name ("DIVORCE_STATE_COOLING_OFF"), and this
module is where the name and the enum meet: every caller reads and writes the enum.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any, TypeAlias

import asyncpg

from onedoor.registry.v1 import registry_service_pb2 as pb

DivorceState: TypeAlias = pb.DivorceState.ValueType

# A divorce still waiting for the parties; at most one per marriage.
PENDING: frozenset[DivorceState] = frozenset(
    {pb.DIVORCE_STATE_COOLING_OFF, pb.DIVORCE_STATE_AWAITING_CONFIRMATION}
)
_PENDING_NAMES = sorted(pb.DivorceState.Name(s) for s in PENDING)


@dataclasses.dataclass(frozen=True)
class Divorce:
    """A row of ``divorces``."""

    receipt: str
    marriage_id: int
    key_a: str
    key_b: str
    filed_at: dt.datetime
    state: DivorceState
    confirmed_a: bool
    confirmed_b: bool
    ended_at: dt.datetime | None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> Divorce:
        fields = {f.name: row[f.name] for f in dataclasses.fields(cls)}
        return cls(**{**fields, "state": pb.DivorceState.Value(row["state"])})

    def confirmed_by(self, side: str) -> bool:
        return self.confirmed_a if side == "a" else self.confirmed_b


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
           VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (receipt) DO NOTHING""",
        receipt,
        marriage_id,
        key_a,
        key_b,
        filed_at,
        pb.DivorceState.Name(pb.DIVORCE_STATE_COOLING_OFF),
    )


async def divorce(conn: asyncpg.Connection, receipt: str, *, lock: bool = False) -> Divorce | None:
    row = await conn.fetchrow(
        "SELECT * FROM divorces WHERE receipt = $1" + (" FOR UPDATE" if lock else ""), receipt
    )
    return Divorce.of(row) if row is not None else None


async def set_divorce(conn: asyncpg.Connection, receipt: str, **changes: Any) -> Divorce:
    """Sets the columns given; ``state`` is a DivorceState."""
    if "state" in changes:
        changes["state"] = pb.DivorceState.Name(changes["state"])
    columns = list(changes)
    assignments = ", ".join(f"{c} = ${i + 2}" for i, c in enumerate(columns))
    row = await conn.fetchrow(
        f"UPDATE divorces SET {assignments} WHERE receipt = $1 RETURNING *",
        receipt,
        *changes.values(),
    )
    return Divorce.of(row)


async def end_marriage(conn: asyncpg.Connection, marriage_id: int, by: str) -> None:
    await conn.execute(
        "UPDATE marriages SET ended_at = now(), ended_by = $2 WHERE id = $1 AND ended_at IS NULL",
        marriage_id,
        by,
    )


async def pending_divorces(conn: asyncpg.Connection) -> list[Divorce]:
    rows = await conn.fetch("SELECT * FROM divorces WHERE state = ANY($1::text[])", _PENDING_NAMES)
    return [Divorce.of(r) for r in rows]


async def divorce_pending_for(conn: asyncpg.Connection, marriage_id: int) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT 1 FROM divorces WHERE marriage_id = $1 AND state = ANY($2::text[])",
            marriage_id,
            _PENDING_NAMES,
        )
    )
