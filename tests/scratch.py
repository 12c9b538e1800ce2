"""A scratch database of a test's own: made with the migrations it names, dropped after."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import asyncpg

from services.common import db
from services.common.config import DEFAULT_POSTGRES


@contextlib.asynccontextmanager
async def scratch_pool(
    name: str, migrations: Sequence[Path], max_size: int = 3
) -> AsyncIterator[asyncpg.Pool]:
    database = f"onedoor_{name}_test_{uuid.uuid4().hex[:8]}"
    opened = await db.open_pool(f"{DEFAULT_POSTGRES}/{database}", migrations, max_size=max_size)
    try:
        yield opened
    finally:
        await opened.close()
        admin = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")
        try:
            await admin.execute(f'DROP DATABASE "{database}" WITH (FORCE)')
        finally:
            await admin.close()
