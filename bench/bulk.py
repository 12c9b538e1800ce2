"""Fills the intake ledger with cases fast, straight into its tables (not through the API).

The platform's intake has run its migrations, and two real cases went through the API: one
routed and still open, one decided by an officer. They are the templates: the loader writes
copies of each one's ``cases`` row and of its rows in every table with a foreign key to
``cases`` (the timeline, and whatever the schema grows), with a fresh receipt and request id
and every time shifted together, so the rows are as wide as real ones and follow the schema as
it changes. The ledger spans two years, as a bureau's would: cases still within their time
limit are open, older ones decided (so no sweep finds a million overdue cases).

Rows go in with binary COPY, one connection per table at once. Foreign keys are not checked
(``session_replication_role = replica`` saves a trigger per row); the loader writes every row
a key points to itself.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import asyncpg

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
# Odd, so that n -> n * _SPREAD mod 2**50 is one-to-one: distinct numbers, distinct receipts.
_SPREAD = 0x9E3779B97F4A7C15 % (1 << 50) | 1
_MASK = (1 << 50) - 1
CHUNK = 50_000
HISTORY = dt.timedelta(days=730)


def bulk_receipt(division: str, n: int) -> str:
    bits = (n * _SPREAD) & _MASK
    chars = "".join(_ALPHABET[(bits >> shift) & 31] for shift in range(45, -1, -5))
    return f"{division}-{chars[:5]}-{chars[5:]}"


@dataclass
class CaseRows:
    """One real case's rows, per table, as asyncpg decodes them."""

    receipt: str
    tables: dict[str, list[dict[str, Any]]]

    @property
    def accepted(self) -> dt.datetime:
        return self.tables["cases"][0]["created_at"]

    @property
    def time_limit(self) -> dt.timedelta:
        case = self.tables["cases"][0]
        return case["decision_deadline"] - case["created_at"]


@dataclass
class Template:
    """The open and the decided case, the columns COPY writes for each table and, of those,
    the ones a unique index covers."""

    open: CaseRows
    decided: CaseRows
    columns: dict[str, list[str]]
    unique: dict[str, set[str]]

    @property
    def division(self) -> str:
        return self.open.receipt.split("-")[0]


async def _case_tables(conn: asyncpg.Connection) -> list[tuple[str, str]]:
    """``cases`` first, then every table whose rows belong to a case (a foreign key to
    ``cases``), each with the column that names the case. Tables that only mention a receipt,
    like the hash-chained audit log, are left alone: copied rows would break the chain."""
    rows = await conn.fetch(
        """SELECT c.conrelid::regclass::text AS name, a.attname AS column_name
             FROM pg_constraint c
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            WHERE c.contype = 'f' AND c.confrelid = 'cases'::regclass
              AND array_length(c.conkey, 1) = 1
            ORDER BY 1"""
    )
    return [("cases", "receipt"), *((r["name"], r["column_name"]) for r in rows)]


async def _serial_columns(conn: asyncpg.Connection, table: str) -> set[str]:
    """Columns the database numbers itself (bigserial, identity): COPY leaves them out."""
    rows = await conn.fetch(
        """SELECT column_name FROM information_schema.columns
            WHERE table_name = $1 AND table_schema = 'public'
              AND (column_default LIKE 'nextval(%' OR is_identity = 'YES')""",
        table,
    )
    return {r["column_name"] for r in rows}


async def _unique_columns(conn: asyncpg.Connection, table: str) -> set[str]:
    rows = await conn.fetch(
        """SELECT a.attname FROM pg_index i
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
            WHERE i.indrelid = $1::regclass AND i.indisunique""",
        table,
    )
    return {r["attname"] for r in rows}


async def _case_rows(
    conn: asyncpg.Connection, tables: list[tuple[str, str]], receipt: str
) -> CaseRows:
    found: dict[str, list[dict[str, Any]]] = {}
    for name, column in tables:
        rows = await conn.fetch(f"SELECT * FROM {name} WHERE {column} = $1", receipt)
        if rows:
            found[name] = [dict(r) for r in rows]
    if "cases" not in found:
        raise RuntimeError(f"the template case {receipt} is not in the ledger")
    return CaseRows(receipt, found)


async def load_template(conn: asyncpg.Connection, open_receipt: str, decided: str) -> Template:
    tables = await _case_tables(conn)
    open_case = await _case_rows(conn, tables, open_receipt)
    decided_case = await _case_rows(conn, tables, decided)
    columns: dict[str, list[str]] = {}
    unique: dict[str, set[str]] = {}
    for name, _ in tables:
        rows = open_case.tables.get(name) or decided_case.tables.get(name)
        if rows:
            serial = await _serial_columns(conn, name)
            columns[name] = [c for c in rows[0] if c not in serial]
            unique[name] = await _unique_columns(conn, name)
    return Template(open_case, decided_case, columns, unique)


# How a template value changes from copy to copy.
_RECEIPT, _SUFFIX, _SHIFT = range(3)


@dataclass
class _RowPlan:
    """A template row as a tuple, and the few positions each copy changes."""

    table: str
    values: list[Any]
    changes: list[tuple[int, int, Any]]


def _plan(source: CaseRows, template: Template) -> list[_RowPlan]:
    plans = []
    for name, rows in source.tables.items():
        columns = template.columns[name]
        for row in rows:
            changes: list[tuple[int, int, Any]] = []
            for i, column in enumerate(columns):
                value = row[column]
                if isinstance(value, str) and source.receipt in value:
                    changes.append((i, _RECEIPT, value))  # the receipt, keys made from it
                elif isinstance(value, str) and column in template.unique[name]:
                    changes.append((i, _SUFFIX, value))  # a key made of an event id, say
                elif isinstance(value, dt.datetime):
                    changes.append((i, _SHIFT, value))  # times move with the acceptance
            plans.append(_RowPlan(name, [row[c] for c in columns], changes))
    return plans


def _rows(
    template: Template, first: int, count: int, total: int, now: dt.datetime
) -> dict[str, list[tuple[Any, ...]]]:
    """Each table's rows for case numbers ``first`` .. ``first + count - 1`` of ``total``,
    accepted evenly over the two years before ``now``."""
    origin = now - HISTORY
    step = HISTORY / max(total, 1)
    plans = {id(s): (s, _plan(s, template)) for s in (template.open, template.decided)}
    request_id = template.columns["cases"].index("request_id")
    out: dict[str, list[tuple[Any, ...]]] = {name: [] for name in template.columns}
    for n in range(first, first + count):
        accepted = origin + step * n
        source = template.open if accepted + template.open.time_limit > now else template.decided
        old = source.receipt
        new = bulk_receipt(template.division, n)
        shift = accepted - source.accepted
        for plan in plans[id(source)][1]:
            values = plan.values.copy()
            for i, change, value in plan.changes:
                if change == _RECEIPT:
                    values[i] = value.replace(old, new)
                elif change == _SUFFIX:
                    values[i] = f"{value}@{new}"
                else:
                    values[i] = value + shift
            if plan.table == "cases":
                values[request_id] = f"bulk-{n:010d}"
            out[plan.table].append(tuple(values))
    return out


async def fill(
    database_url: str,
    template: Template,
    count: int,
    progress: Callable[[int], None] | None = None,
) -> float:
    """Writes ``count`` cases; returns the seconds it took, ANALYZE and CHECKPOINT included."""
    started = time.monotonic()
    now = dt.datetime.now(dt.UTC)
    names = list(template.columns)
    conns = [await asyncpg.connect(database_url) for _ in names]
    try:
        for conn in conns:
            await conn.execute("SET session_replication_role = replica")
        done = 0
        while done < count:
            size = min(CHUNK, count - done)
            rows = _rows(template, done, size, count, now)
            await asyncio.gather(
                *(
                    conn.copy_records_to_table(
                        name, records=rows[name], columns=template.columns[name]
                    )
                    for conn, name in zip(conns, names, strict=True)
                    if rows[name]
                )
            )
            done += size
            if progress is not None:
                progress(done)
        # Fresh statistics, as autovacuum would have them for a ledger this size, and the
        # load's dirty pages written out now rather than during the next measurement.
        for name in names:
            await conns[0].execute(f"ANALYZE {name}")
        await conns[0].execute("CHECKPOINT")
    finally:
        for conn in conns:
            await conn.close()
    return time.monotonic() - started
