"""Starts the social organisations service: ``python -m services.orgs``."""

from __future__ import annotations

import asyncio
from pathlib import Path

from services.common import config
from services.common.department.serve import run
from services.orgs.department import OrgsDepartment

MIGRATIONS = Path(__file__).parent / "migrations"

if __name__ == "__main__":
    clock = config.bureau_clock()
    asyncio.run(run("orgs", lambda pool: OrgsDepartment(clock), MIGRATIONS))
