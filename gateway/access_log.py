"""One line per HTTP request the gateway answers: the method, the route's template (never the
raw path, which can name a receipt), the status and the time taken; the log formatter adds
the trace id. Bodies and query values are never logged. Health probes are not logged: a load
balancer's checks every few seconds would bury the requests people make."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

log = logging.getLogger("gateway.access")

PROBES = frozenset({"/livez", "/readyz", "/healthz"})

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def route_template(request: web.Request) -> str:
    """``/v1/applications/{receipt}`` for a matched route; a fixed word for an unmatched one,
    whose path is the caller's to choose."""
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "(no route)"


@web.middleware
async def access_log(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path in PROBES:
        return await handler(request)
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as error:
        status = error.status
        raise
    finally:
        milliseconds = (time.perf_counter() - start) * 1000
        route = route_template(request)
        log.info(
            "%s %s %d %.1f ms",
            request.method,
            route,
            status,
            milliseconds,
            extra={
                "http_method": request.method,
                "route": route,
                "status": status,
                "duration_ms": round(milliseconds, 1),
            },
        )
