"""Starts the social assistance service: ``python -m services.assistance``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.assistance import economic_check, standards
from services.assistance.department import AssistanceDepartment
from services.common import config
from services.common.department.serve import run

MIGRATIONS = Path(__file__).parent / "migrations"

if __name__ == "__main__":
    clock = config.bureau_clock()
    department_standards = standards.load()
    assets = economic_check.from_env()
    asyncio.run(
        run(
            "assistance",
            lambda pool: AssistanceDepartment(clock, department_standards, assets),
            MIGRATIONS,
        )
    )
