"""The send records process's probe: ``python -m services.notifier.records.health`` exits 0
if its standard gRPC health service says SERVING. It listens on loopback, which the kubelet's
own gRPC probe (to the Pod's address) cannot reach, so the probe runs inside the container."""

from __future__ import annotations

import sys

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from services.notifier.records import settings


def main() -> int:
    configured = settings.from_env()
    address = f"{configured.server.bind_host}:{configured.port}"
    with grpc.insecure_channel(address) as channel:
        try:
            answer = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(), timeout=2
            )
        except grpc.RpcError as error:
            print(f"{address}: {error.code().name}", file=sys.stderr)
            return 1
    serving = answer.status == health_pb2.HealthCheckResponse.SERVING
    return 0 if serving else 1


if __name__ == "__main__":
    sys.exit(main())
