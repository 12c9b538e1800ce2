"""The nameko processes' gRPC proxy against a real gRPC server on loopback: calls are answered,
concurrent ones too, a deadline still ends a call, an idle connection sleeps rather than
polling, and a pool stopped while it waits to reconnect leaves no thread behind. The proxy
runs where it runs in the router, in a process eventlet has patched."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent import futures
from typing import Any

import grpc
import pytest
from grpc_health.v1 import health_pb2

from services.common import nameko_grpc

SLOW = "slow"

CLIENT = """
import json, sys, time
import eventlet
eventlet.monkey_patch()
from grpc_health.v1 import health_pb2, health_pb2_grpc
from nameko_grpc.client import Method
from nameko_grpc.errors import GrpcError
from services.common import nameko_grpc
from services.common.nameko_grpc import ReconnectingGrpcProxy

# Out of the way: only the calls' own rings may drive them (a call that rings nothing hangs).
nameko_grpc.IDLE_WAKE_SECONDS = 30.0

class Proxy(ReconnectingGrpcProxy):
    def spawn_thread(self, target, args=(), kwargs=None, name=None):
        self.__dict__.setdefault("threads", []).append(
            eventlet.spawn(target, *args, **(kwargs or {}))
        )

proxy = Proxy("//127.0.0.1:" + sys.argv[1], health_pb2_grpc.HealthStub)
proxy.start()
check = Method(proxy, "Check")
said = {}
said["one"] = check(health_pb2.HealthCheckRequest(service="one"), timeout=5).status
pool = eventlet.GreenPool()
said["many"] = sorted(set(pool.imap(
    lambda n: check(health_pb2.HealthCheckRequest(service=str(n)), timeout=5).status, range(40)
)))
try:
    check(health_pb2.HealthCheckRequest(service="slow"), timeout=0.3)
    said["slow"] = "answered"
except GrpcError as error:
    said["slow"] = error.code.name
silent = Proxy("//127.0.0.1:" + sys.argv[2], health_pb2_grpc.HealthStub)
silent.start()
try:
    Method(silent, "Check")(health_pb2.HealthCheckRequest(service="one"), timeout=0.3)
    said["silent"] = "answered"
except GrpcError as error:
    said["silent"] = error.code.name
silent.stop()
# Nothing listens there: the pool pauses before trying again, and its stop ends the pause.
closed = Proxy("//127.0.0.1:" + sys.argv[3], health_pb2_grpc.HealthStub)
closed.start()
eventlet.sleep(0)
closed.stop()
eventlet.sleep(0)
said["paused_after_stop"] = sum(1 for t in closed.threads if not t.dead)
connection = proxy.channel.conn_pool.get()
before = connection.iterations
time.sleep(1.0)
said["idle_iterations"] = connection.iterations - before
proxy.stop()
print(json.dumps(said))
"""


class _Health(grpc.GenericRpcHandler):
    def service(self, details: grpc.HandlerCallDetails) -> Any:
        if details.method != "/grpc.health.v1.Health/Check":
            return None

        def check(request: health_pb2.HealthCheckRequest, context: Any) -> Any:
            if request.service == SLOW:
                time.sleep(2.0)
            return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)

        return grpc.unary_unary_rpc_method_handler(
            check,
            request_deserializer=health_pb2.HealthCheckRequest.FromString,
            response_serializer=health_pb2.HealthCheckResponse.SerializeToString,
        )


@pytest.fixture
def port() -> Iterator[int]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    server.add_generic_rpc_handlers([_Health()])
    bound = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield bound
    server.stop(grace=None)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A peer that takes the connection and never says a word: only the caller's own timer
    ends a call to it (a gRPC server would end it at the deadline the call sends)."""
    listener = socket.create_server(("127.0.0.1", 0))
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: connecting is refused."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        return int(listener.getsockname()[1])


def test_calls_are_answered_deadlines_kept_and_an_idle_connection_sleeps(
    port: int, silent_port: int, closed_port: int
) -> None:
    ran = subprocess.run(
        [sys.executable, "-c", CLIENT, str(port), str(silent_port), str(closed_port)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert ran.returncode == 0, ran.stderr[-2000:]
    said = json.loads(ran.stdout.strip().splitlines()[-1])
    serving = health_pb2.HealthCheckResponse.SERVING
    assert said["one"] == serving
    assert said["many"] == [serving]
    assert said["slow"] == "DEADLINE_EXCEEDED"
    assert said["silent"] == "DEADLINE_EXCEEDED"
    # A pool stopped while it waits to reconnect leaves no thread behind for nameko to kill.
    assert said["paused_after_stop"] == 0
    # nameko-grpc's own loop wakes every 10 ms (about 100 times in this second); this one
    # wakes for work and otherwise every IDLE_WAKE_SECONDS.
    assert said["idle_iterations"] <= 2 * (1.0 / nameko_grpc.IDLE_WAKE_SECONDS) + 2
