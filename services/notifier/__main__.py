"""Starts the notifier: ``python -m services.notifier``.

eventlet patches the process before anything else is imported; the schema step (asyncpg)
runs first in a child process of its own (schema_step).
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import subprocess  # noqa: E402
import sys  # noqa: E402

from services.common import nameko_process  # noqa: E402
from services.notifier import settings  # noqa: E402


def main() -> None:
    configured = settings.from_env()
    step = subprocess.run(
        [
            sys.executable,
            "-m",
            "services.notifier.schema_step",
            configured.database_url,
            "migrate" if configured.migrate_at_start else "check",
        ],
        check=False,
    )
    if step.returncode:
        sys.exit(step.returncode)
    settings.install(configured)
    # After the settings are installed: the service module takes them from there.
    from services.notifier.service import TRACING_ADAPTERS

    nameko_process.serve(configured, "services.notifier.service", TRACING_ADAPTERS)


if __name__ == "__main__":
    main()
