"""The router's ``GET /healthz``: answered without a log line, a span or a worker.

nameko's ``@http`` entry point runs every request in a worker of the container and eventlet's
WSGI server logs an access line for it; at DEBUG the container adds ten lines more, and the
tracing instrumentation a span. Kubernetes probes every few seconds, so the router's log was
mostly probes (about 26,000 lines a pod a day). Here the web server's own green thread answers
the probe, which also keeps it answering while every worker is busy with events: a live router
under load is not one to restart.

The port serves nothing but the probe, so the server's access lines go entirely; its error
lines stay.
"""

from __future__ import annotations

from typing import Any

from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer
from werkzeug.wrappers import Response


class QuietWebServer(WebServer):
    """nameko's web server without eventlet's access line per request."""

    def get_wsgi_server(
        self, sock: Any, wsgi_app: Any, protocol: Any = HttpOnlyProtocol, debug: bool = False
    ) -> Any:
        server = super().get_wsgi_server(sock, wsgi_app, protocol=protocol, debug=debug)
        # Only the access line reads this flag; passing log_output=False to the constructor
        # would silence its errors too.
        server.log_output = False
        return server


class HealthProbe(HttpRequestHandler):
    """An HTTP entry point that answers at once: the decorated method is never called."""

    server = QuietWebServer()

    def handle_request(self, request: Any) -> Response:
        return Response("SERVING", status=200, mimetype="text/plain")


health_probe = HealthProbe.decorator
