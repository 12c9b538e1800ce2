"""Starts the social assistance service: ``python -m services.assistance``."""

from __future__ import annotations

from services.assistance import economic_check, settings, standards
from services.assistance.department import AssistanceDepartment
from services.common import event_loop
from services.common.department.serve import run

if __name__ == "__main__":
    configured = settings.from_env()
    clock = configured.department.clock
    department_standards = standards.load(configured.standards_file)
    assets = economic_check.connect(
        configured.economic_check_adapter, configured.economic_check_fake_file
    )
    event_loop.run(
        run(
            configured.department,
            lambda pool: AssistanceDepartment(clock, department_standards, assets),
        ),
        configured.department.event_loop,
    )
