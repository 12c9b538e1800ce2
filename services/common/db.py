"""PostgreSQL through asyncpg: one database per service, migrations applied at start-up.

Migrations are ordered ``NNNN_name.sql`` files. The outbox's own migrations (in
``services/common/migrations``) run first in every service database, then the service's.
An advisory lock lets several replicas start at once without racing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

log = logging.getLogger(__name__)

COMMON_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 0x0D00_0001


async def ensure_database(url: str) -> None:
    """Creates the database named in ``url`` if it does not exist (local runs and tests; in a
    cluster the PostgreSQL operator creates it and this finds it there)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            try:
                await conn.execute(f'CREATE DATABASE "{name}"')
                log.info("created database %s", name)
            except (asyncpg.DuplicateDatabaseError, asyncpg.UniqueViolationError):
                # another process created it between our check and our CREATE
                pass
    finally:
        await conn.close()


async def migrate(pool: asyncpg.Pool, directories: Sequence[Path]) -> list[str]:
    """Applies the migrations not applied yet, in order; returns the names it applied."""
    applied: list[str] = []
    async with pool.acquire() as conn:
        await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await conn.execute(
                """CREATE TABLE IF NOT EXISTS schema_migrations (
                       name text PRIMARY KEY,
                       applied_at timestamptz NOT NULL DEFAULT now())"""
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for directory in directories:
                for path in sorted(directory.glob("*.sql")):
                    name = f"{directory.parent.name}/{path.name}"
                    if name in done:
                        continue
                    async with conn.transaction():
                        await conn.execute(path.read_text(encoding="utf-8"))
                        await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                    applied.append(name)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    if applied:
        log.info("applied migrations: %s", ", ".join(applied))
    return applied


async def _keep_session_state(conn: asyncpg.Connection) -> None:
    """Skips asyncpg's reset query (unlock all, CLOSE ALL, UNLISTEN, RESET ALL) on every
    release: a round trip per call on the hot path, for session state the services never
    leave behind (advisory locks are transaction-scoped, or released at once by
    ``migrate``; nothing runs SET or DECLARE). An open transaction is still rolled back."""


async def open_pool(
    url: str, migrations: Sequence[Path] = (), *, min_size: int = 1, max_size: int = 10
) -> asyncpg.Pool:
    """A pool on a database that exists and is migrated: the outbox's migrations, then the
    service's own in order (none for a process, like the relay, that only uses the outbox)."""
    await ensure_database(url)
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, reset=_keep_session_state
    )
    assert pool is not None
    await migrate(pool, [COMMON_MIGRATIONS, *migrations])
    return pool
