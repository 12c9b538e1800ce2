"""Starts the registry service: ``python -m services.registry``."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from services.common import config
from services.common.department.serve import run
from services.registry.department import RegistryDepartment

MIGRATIONS = Path(__file__).parent / "migrations"


def clock() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


if __name__ == "__main__":
    sweep_every = config.env_float("REGISTRY_SWEEP_SECONDS", 60.0)
    asyncio.run(
        run(
            "registry",
            lambda pool: RegistryDepartment(pool, clock),
            MIGRATIONS,
            background=lambda department: department.divorces.sweep_forever(sweep_every),
        )
    )
