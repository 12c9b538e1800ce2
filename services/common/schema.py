"""A service's database schema: its ordered migrations, applied as an operator's step and
checked by the service before it serves.

Migrations are ordered ``NNNN_name.sql`` files in the directories a service names (the
outbox's, then the shared department tables' for a department, then its own). Each applied
file is recorded in ``schema_migrations`` with the SHA-256 of its text, so a file edited after
it ran is found (a checksum mismatch), not silently skipped. ``apply`` runs under an advisory
lock, so two runs at once take turns; ``check`` is what a service calls at start-up instead
of migrating: it refuses to serve a schema it does not expect and says what to run.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import asyncpg

_MIGRATION_LOCK = 0x0D00_0001

_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
                name text PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now())"""
# Recorded since checksums were introduced; rows applied before have none until adopted.
_CHECKSUM = "ALTER TABLE schema_migrations ADD COLUMN IF NOT EXISTS checksum text"


SERVICES_DIR = Path(__file__).resolve().parents[1]
COMMON_MIGRATIONS = SERVICES_DIR / "common" / "migrations"
DEPARTMENT_MIGRATIONS = SERVICES_DIR / "common" / "department" / "migrations"


def directories_for(service: str) -> list[Path]:
    """A service database's migration directories, in the order they run: the outbox's, the
    shared department tables' for a department, then the service's own. The one list the
    services (at start-up) and ``onedoor migrate`` both use."""
    from services.common.catalog import DEPARTMENTS

    if service == "intake":
        return [COMMON_MIGRATIONS, SERVICES_DIR / "intake" / "migrations"]
    if service in DEPARTMENTS:
        return [COMMON_MIGRATIONS, DEPARTMENT_MIGRATIONS, SERVICES_DIR / service / "migrations"]
    if service == "ingest":
        # No outbox yet: nothing it keeps is an event for another service (the relay would
        # have to drain it).
        return [SERVICES_DIR / "ingest" / "migrations"]
    if service == "notifier":
        # Its send records only: it publishes nothing, so it has no outbox.
        return [SERVICES_DIR / "notifier" / "migrations"]
    raise ValueError(
        f"{service} has no database of its own: intake, a department, ingest or the notifier"
    )


@dataclass(frozen=True)
class Migration:
    name: str
    path: Path
    checksum: str


def plan(directories: Sequence[Path]) -> list[Migration]:
    """Every migration of the directories, in the order they run."""
    found = []
    for directory in directories:
        for path in sorted(directory.glob("*.sql")):
            text = path.read_bytes()
            found.append(
                Migration(
                    f"{directory.parent.name}/{path.name}", path, hashlib.sha256(text).hexdigest()
                )
            )
    return found


class State(enum.Enum):
    APPLIED = "applied"
    PENDING = "pending"
    # Applied, but the file has changed since.
    CHANGED = "changed"
    # Applied before checksums were recorded; ``apply`` records the current one.
    UNCHECKED = "unchecked"
    # Recorded in the database, but no file of this version has it (a newer version ran).
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Status:
    name: str
    state: State
    applied_at: str = ""


class SchemaMismatch(RuntimeError):
    """The database's schema is not the one this version expects; the message says what to
    run."""


async def _recorded(conn: asyncpg.Connection) -> dict[str, asyncpg.Record]:
    exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
    if not exists:
        return {}
    has_checksum = await conn.fetchval(
        """SELECT EXISTS (SELECT 1 FROM information_schema.columns
                           WHERE table_name = 'schema_migrations' AND column_name = 'checksum')"""
    )
    columns = "name, applied_at" + (", checksum" if has_checksum else ", NULL AS checksum")
    return {r["name"]: r for r in await conn.fetch(f"SELECT {columns} FROM schema_migrations")}


async def status(conn: asyncpg.Connection, migrations: Sequence[Migration]) -> list[Status]:
    """Where each migration stands, in order; then any the database has that no file has."""
    recorded = await _recorded(conn)
    found = []
    for migration in migrations:
        row = recorded.pop(migration.name, None)
        if row is None:
            found.append(Status(migration.name, State.PENDING))
            continue
        when = row["applied_at"].isoformat()
        if row["checksum"] is None:
            found.append(Status(migration.name, State.UNCHECKED, when))
        elif row["checksum"] != migration.checksum:
            found.append(Status(migration.name, State.CHANGED, when))
        else:
            found.append(Status(migration.name, State.APPLIED, when))
    found += [
        Status(name, State.UNKNOWN, r["applied_at"].isoformat()) for name, r in recorded.items()
    ]
    return found


async def apply(conn: asyncpg.Connection, migrations: Sequence[Migration]) -> list[str]:
    """Applies the pending migrations in order, each in its own transaction with its record;
    returns their names. Refuses (SchemaMismatch) if an applied file has changed."""
    applied: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await conn.execute(_TABLE)
        await conn.execute(_CHECKSUM)
        found = await status(conn, migrations)
        for entry in found:
            if entry.state is State.CHANGED:
                raise SchemaMismatch(
                    f"migration {entry.name} was changed after it was applied: restore the "
                    "file as it was and add a new migration for the change"
                )
        by_name = {m.name: m for m in migrations}
        for entry in found:
            migration = by_name.get(entry.name)
            if migration is None:
                continue
            if entry.state is State.UNCHECKED:
                await conn.execute(
                    "UPDATE schema_migrations SET checksum = $2 WHERE name = $1",
                    migration.name,
                    migration.checksum,
                )
            elif entry.state is State.PENDING:
                async with conn.transaction():
                    await conn.execute(migration.path.read_text(encoding="utf-8"))
                    await conn.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                        migration.name,
                        migration.checksum,
                    )
                applied.append(migration.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied


async def check(conn: asyncpg.Connection, migrations: Sequence[Migration], service: str) -> None:
    """A service's start-up check: every migration of this version applied, none changed.
    A database a newer version has migrated further is refused too (UNKNOWN): this version's
    code would meet tables it does not know."""
    problems = [s for s in await status(conn, migrations) if s.state is not State.APPLIED]
    if not problems:
        return
    pending = [s.name for s in problems if s.state in (State.PENDING, State.UNCHECKED)]
    changed = [s.name for s in problems if s.state is State.CHANGED]
    unknown = [s.name for s in problems if s.state is State.UNKNOWN]
    said = []
    if pending:
        said.append(f"not applied (or not checksummed): {', '.join(pending)}")
    if changed:
        said.append(f"changed since applied: {', '.join(changed)}")
    if unknown:
        said.append(f"applied by a newer version: {', '.join(unknown)}")
    raise SchemaMismatch(
        f"the {service} database is not at this version's schema ({'; '.join(said)}); "
        f"run `onedoor migrate {service}` (in a cluster: the onedoor-migrate-{service} Job) "
        "with this version's image, then start the service again"
    )
