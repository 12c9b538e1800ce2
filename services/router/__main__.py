"""Starts the router: ``python -m services.router``.

eventlet must patch the process before anything else is imported; keep this process free of
grpc.aio and asyncpg (the router reaches the services over gRPC through nameko-grpc).
"""

import eventlet

eventlet.monkey_patch()

import nameko  # noqa: E402
from nameko.cli.run import run  # noqa: E402
from nameko_opentelemetry import NamekoInstrumentor  # noqa: E402

from services.common import config, telemetry  # noqa: E402
from services.router.consumer import TRACING_ADAPTERS  # noqa: E402


def main() -> None:
    telemetry.setup("router", instrument_grpc_aio=False, instrument_asyncpg=False)
    NamekoInstrumentor().instrument(entrypoint_adapters=TRACING_ADAPTERS)
    host = config.env_str("BIND_HOST", "0.0.0.0")
    port = config.env_int("ROUTER_HTTP_PORT", 8090)
    nameko.config.update(
        {
            "AMQP_URI": config.amqp_uri(),
            "WEB_SERVER_ADDRESS": f"{host}:{port}",
            "max_workers": config.env_int("ROUTER_MAX_WORKERS", 10),
        }
    )
    try:
        run(["services.router.service"])
    finally:
        telemetry.shutdown()


if __name__ == "__main__":
    main()
