"""Starts the social organisations service: ``python -m services.orgs``."""

from __future__ import annotations

from services.common import event_loop
from services.common.department.serve import run
from services.orgs import settings
from services.orgs.department import OrgsDepartment

if __name__ == "__main__":
    configured = settings.from_env()
    event_loop.run(
        run(configured, lambda pool: OrgsDepartment(configured.clock)), configured.event_loop
    )
