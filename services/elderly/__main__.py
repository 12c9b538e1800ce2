"""Starts the elderly care service: ``python -m services.elderly``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.common.department.serve import run
from services.elderly import allowance, settings
from services.elderly.department import ElderlyDepartment

MIGRATIONS = Path(__file__).parent / "migrations"

if __name__ == "__main__":
    configured = settings.from_env()
    clock = configured.department.clock
    table = allowance.load(configured.allowance_file)
    asyncio.run(
        run(configured.department, lambda pool: ElderlyDepartment(clock, table), MIGRATIONS)
    )
