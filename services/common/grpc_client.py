"""Channels from the asyncio processes to the platform's services: the gateway's to every
service behind it, the departments' and the notifier's send records' to intake."""

from __future__ import annotations

import grpc

from services.common import rpc_metrics

# Reconnect within seconds when a service comes back, not after gRPC's default back-off of up to
# two minutes.
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 3000),
    # Each call to the next ready replica of the addresses a target names (an ipv4: list, a
    # headless Service's DNS name), not all of them to the first; one address: the same.
    ("grpc.lb_policy_name", "round_robin"),
]


def channel(address: str) -> grpc.aio.Channel:
    """A channel to ``address`` (host:port, or an ``ipv4:`` list), its calls counted and timed
    (rpc_metrics)."""
    return grpc.aio.insecure_channel(
        address, options=CHANNEL_OPTIONS, interceptors=rpc_metrics.client_interceptors()
    )
