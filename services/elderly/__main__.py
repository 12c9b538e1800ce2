"""Starts the elderly care service: ``python -m services.elderly``."""

from __future__ import annotations

from services.common import event_loop
from services.common.department.serve import run
from services.elderly import allowance, settings
from services.elderly.department import ElderlyDepartment

if __name__ == "__main__":
    configured = settings.from_env()
    clock = configured.department.clock
    table = allowance.load(configured.allowance_file)
    event_loop.run(
        run(configured.department, lambda pool: ElderlyDepartment(clock, table)),
        configured.department.event_loop,
    )
