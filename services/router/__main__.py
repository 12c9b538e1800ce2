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

from services.common import nameko_process  # noqa: E402
from services.router import settings  # noqa: E402
from services.router.consumer import TRACING_ADAPTERS  # noqa: E402


def main() -> None:
    # Read once, before nameko imports services.router.service, which takes them from here.
    configured = settings.from_env()
    settings.install(configured)
    nameko_process.serve(configured, "services.router.service", TRACING_ADAPTERS)


if __name__ == "__main__":
    main()
