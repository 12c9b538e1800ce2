"""An OTLP/HTTP receiver that counts what it gets and discards it: ``python -m bench.sink PORT``.

It runs in a process of its own so that decoding exports never eats the load generator's CPU,
and it keeps nothing (the launcher's ``TraceSink`` keeps every span, which a benchmark's
millions of spans would turn into gigabytes). ``GET /stats`` answers what it has counted.

It also counts the SQL statements the services sent, by service and operation
(services.common.sql_tracing makes one span per statement, named by its first word: SELECT,
INSERT, BEGIN, COMMIT...): the shared PostgreSQL server does not load pg_stat_statements, and its
pg_stat_database counts transactions and rows but not statements.
"""

from __future__ import annotations

import sys
from collections import Counter, defaultdict

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource

from services.common import sql_tracing

_EMPTY = ExportTraceServiceResponse().SerializeToString()
SQL_SCOPE = sql_tracing.SCOPE


def _service(resource: Resource) -> str:
    for attribute in resource.attributes:
        if attribute.key == "service.name":
            return str(attribute.value.string_value)
    return "unknown"


def create_app() -> web.Application:
    counts = {"exports": 0, "spans": 0, "bytes": 0}
    # service -> operation -> statements
    statements: dict[str, Counter[str]] = defaultdict(Counter)

    async def receive(request: web.Request) -> web.Response:
        body = await request.read()
        export = ExportTraceServiceRequest.FromString(body)
        # Counting spans shows the batch exporter really exports (and how much) at the cost
        # of one protobuf parse per batch.
        for resource in export.resource_spans:
            for scope in resource.scope_spans:
                counts["spans"] += len(scope.spans)
                if scope.scope.name == SQL_SCOPE:
                    # "COMMIT;" and "COMMIT" are one operation.
                    statements[_service(resource.resource)].update(
                        s.name.rstrip(";").upper() for s in scope.spans
                    )
        counts["exports"] += 1
        counts["bytes"] += len(body)
        return web.Response(body=_EMPTY, content_type="application/x-protobuf")

    async def stats(request: web.Request) -> web.Response:
        return web.json_response({**counts, "statements": statements})

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_post("/v1/traces", receive)
    app.router.add_get("/stats", stats)
    return app


def main() -> None:
    web.run_app(create_app(), host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
