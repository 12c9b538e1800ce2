"""The notifier's schema step, in a process of its own: asyncpg (services.common.schema) runs
on asyncio, which the nameko process, patched by eventlet, must not. ``__main__`` runs it
before nameko starts: migrating (local runs and tests) or only checking (a cluster, where the
``migrate-notifier`` Job migrates)."""

from __future__ import annotations

import asyncio
import sys

from services.common import db, schema


async def _step(url: str, migrate: bool) -> None:
    pool = await db.open_pool(
        url,
        schema.directories_for("notifier"),
        min_size=1,
        max_size=1,
        apply_migrations=migrate,
        service="notifier",
    )
    await pool.close()


def main(argv: list[str]) -> int:
    url, mode = argv
    try:
        asyncio.run(_step(url, mode == "migrate"))
    except schema.SchemaMismatch as error:
        print(str(error), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
