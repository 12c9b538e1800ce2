"""Starts the router: ``python -m services.router``.

eventlet must patch the process before anything else is imported; keep this process free of
grpc.aio and asyncpg (the router reaches the services over gRPC through nameko-grpc).
"""

import warnings

# eventlet announces its deprecation when imported, before logging is set up, in a line that
# is not JSON; it works (see STACK notes), and the announcement says nothing to an operator.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import nameko  # noqa: E402
from nameko.cli.run import run  # noqa: E402
from nameko_opentelemetry import NamekoInstrumentor  # noqa: E402

from services.common import telemetry  # noqa: E402
from services.router import settings  # noqa: E402
from services.router.consumer import TRACING_ADAPTERS  # noqa: E402


def main() -> None:
    # Read once, before nameko imports services.router.service, which takes them from here.
    configured = settings.from_env()
    settings.install(configured)
    configured.keys.configure()
    telemetry.setup(
        configured.telemetry,
        instrument_grpc_aio=False,
        instrument_asyncpg=False,
        native_stderr=False,
    )
    NamekoInstrumentor().instrument(entrypoint_adapters=TRACING_ADAPTERS)
    nameko.config.update(
        {
            "AMQP_URI": configured.amqp_uri,
            "WEB_SERVER_ADDRESS": f"{configured.bind_host}:{configured.http_port}",
            "max_workers": configured.max_workers,
        }
    )
    try:
        run(["services.router.service"])
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    main()
