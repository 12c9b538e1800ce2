"""Starts the notifier: ``python -m services.notifier``.

eventlet patches the process before anything else is imported. Its send records are kept
by the process beside it (``python -m services.notifier.records``), which owns the database.
"""

import warnings

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

from services.common import nameko_process  # noqa: E402
from services.notifier import settings  # noqa: E402


def main() -> None:
    configured = settings.from_env()
    settings.install(configured)
    # After the settings are installed: the service module takes them from there.
    from services.notifier.service import TRACING_ADAPTERS

    nameko_process.serve(configured, "services.notifier.service", TRACING_ADAPTERS)


if __name__ == "__main__":
    main()
