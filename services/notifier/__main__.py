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

import nameko  # noqa: E402
from nameko.cli.run import run  # noqa: E402
from nameko_opentelemetry import NamekoInstrumentor  # noqa: E402

from services.common import telemetry  # noqa: E402
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
    configured.keys.configure()
    telemetry.setup(
        configured.telemetry,
        instrument_grpc_aio=False,
        instrument_asyncpg=False,
        native_stderr=False,
    )
    from services.notifier.service import TRACING_ADAPTERS

    NamekoInstrumentor().instrument(entrypoint_adapters=TRACING_ADAPTERS)
    nameko.config.update(
        {
            "AMQP_URI": configured.amqp_uri,
            "WEB_SERVER_ADDRESS": f"{configured.bind_host}:{configured.http_port}",
            "max_workers": configured.max_workers,
        }
    )
    try:
        run(["services.notifier.service"])
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    main()
