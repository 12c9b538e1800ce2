"""The baseline: a minimal grpc.aio server doing one asyncpg INSERT per call (pool of 10).

``python -m bench.baseline PORT DATABASE_URL`` serves ``GatewayService/SubmitApplication``, so
the very same load generator and request bytes drive it and the gateway: it is the ceiling for
one hop and one write on this machine, and every accept figure is printed as a ratio to it.
No tracing, no validation, no second hop: only what any gRPC service with a database pays.
"""

from __future__ import annotations

import asyncio
import signal
import sys

import asyncpg
import grpc

from onedoor.gateway.v1 import gateway_service_pb2 as pb
from onedoor.gateway.v1 import gateway_service_pb2_grpc
from services.common.receipt import receipt_for

POOL_SIZE = 10
SCHEMA = """CREATE TABLE IF NOT EXISTS applications (
    request_id text PRIMARY KEY,
    receipt    text NOT NULL,
    body       bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)"""


class Baseline(gateway_service_pb2_grpc.GatewayServiceServicer):
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def SubmitApplication(
        self, request: pb.SubmitApplicationRequest, context: grpc.aio.ServicerContext
    ) -> pb.SubmitApplicationResponse:
        receipt = receipt_for("320585", request.request_id)
        # The body is stored so the row is about as wide as a case; one INSERT, one commit.
        await self.pool.execute(
            "INSERT INTO applications (request_id, receipt, body) VALUES ($1, $2, $3)",
            request.request_id,
            receipt,
            request.SerializeToString(),
        )
        return pb.SubmitApplicationResponse(receipt=receipt, created=True)


async def serve(port: int, database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=POOL_SIZE, max_size=POOL_SIZE)
    assert pool is not None
    await pool.execute(SCHEMA)
    server = grpc.aio.server()
    gateway_service_pb2_grpc.add_GatewayServiceServicer_to_server(Baseline(pool), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"baseline serving on {port}", flush=True)
    await stop.wait()
    await server.stop(2)
    await pool.close()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), sys.argv[2]))
