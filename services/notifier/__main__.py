"""Starts the notifier: ``python -m services.notifier``.

eventlet patches the process before anything else is imported. Its send records are kept
by the process beside it (``python -m services.notifier.records``), which owns the database
and records what the events call for; this one sends.
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
    nameko_process.serve(configured, "services.notifier.service", {})


if __name__ == "__main__":
    main()
