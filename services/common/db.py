"""PostgreSQL through asyncpg: one database per service, its schema from ordered migrations
(``schema``): applied at start-up in local runs and tests, by an operator's step
(``onedoor migrate``) in a cluster, where a service only checks it.

The outbox's own migrations (in ``services/common/migrations``) run first in every service
database, then the service's.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from services.common import schema

log = logging.getLogger(__name__)


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
    async with pool.acquire() as conn:
        applied = await schema.apply(conn, schema.plan(directories))
    if applied:
        log.info("applied migrations: %s", ", ".join(applied))
    return applied


async def _keep_session_state(conn: asyncpg.Connection) -> None:
    """Skips asyncpg's reset query (unlock all, CLOSE ALL, UNLISTEN, RESET ALL) on every
    release: a round trip per call on the hot path, for session state the services never
    leave behind (advisory locks are transaction-scoped, or released at once by
    ``migrate``; nothing runs SET or DECLARE). An open transaction is still rolled back."""


async def open_pool(
    url: str,
    directories: Sequence[Path],
    *,
    min_size: int = 1,
    max_size: int = 10,
    apply_migrations: bool = True,
    check_schema: bool = True,
    service: str = "",
) -> asyncpg.Pool:
    """A pool on a database migrated with ``directories`` (``schema.directories_for`` the
    service; the outbox's alone for the relay). With ``apply_migrations``
    (local runs and tests) the database is created and migrated here; without (a cluster,
    where migrating is an operator's step) the schema is only checked, and a database behind or
    ahead of this version is refused (schema.SchemaMismatch, naming what to run)."""
    if apply_migrations:
        await ensure_database(url)
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, reset=_keep_session_state
    )
    assert pool is not None
    if apply_migrations:
        await migrate(pool, directories)
    elif check_schema:
        try:
            async with pool.acquire() as conn:
                await schema.check(conn, schema.plan(directories), service)
        except schema.SchemaMismatch:
            await pool.close()
            raise
    return pool
