"""Starts the elderly care service: ``python -m services.elderly``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.common import config
from services.common.department.serve import run
from services.elderly import allowance
from services.elderly.department import ElderlyDepartment

MIGRATIONS = Path(__file__).parent / "migrations"

if __name__ == "__main__":
    clock = config.bureau_clock()
    table = allowance.load()
    asyncio.run(run("elderly", lambda pool: ElderlyDepartment(clock, table), MIGRATIONS))
