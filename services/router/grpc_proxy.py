"""nameko-grpc's GrpcProxy with a connection pool that survives services restarting.

nameko-grpc 1.3's client pool connects once at start (the router crashes if a service is not
up yet) and reconnects once when a connection drops; if that reconnect fails, no connection is
left and every later call blocks forever on an empty queue. Here connecting never raises: it
retries in the background, and a call that finds no live connection within a few seconds fails
with UNAVAILABLE, which the router treats as transient (the event is requeued).
"""

from __future__ import annotations

import logging
import queue
import time
from typing import Any

import eventlet
import grpc
from nameko_grpc.channel import ClientChannel, ClientConnectionPool
from nameko_grpc.dependency_provider import GrpcProxy
from nameko_grpc.errors import GrpcError

log = logging.getLogger(__name__)

RECONNECT_PAUSE_SECONDS = 1.0
WAIT_FOR_CONNECTION_SECONDS = 3.0


class ReconnectingPool(ClientConnectionPool):
    # Whether the last try failed: a service that is down is said once, not every second.
    _unreachable = False

    def connect(self, target: Any) -> None:
        try:
            super().connect(target)
        except OSError as error:
            log.log(
                logging.DEBUG if self._unreachable else logging.WARNING,
                "cannot reach %s:%s (%s); retrying every %.0f s",
                target.hostname,
                target.port,
                type(error).__name__,
                RECONNECT_PAUSE_SECONDS,
            )
            self._unreachable = True
            self.spawn_thread(
                target=self._reconnect_later, args=(target,), name=f"reconnect {target}"
            )
            return
        if self._unreachable:
            log.info("reached %s:%s again", target.hostname, target.port)
            self._unreachable = False

    def _reconnect_later(self, target: Any) -> None:
        eventlet.sleep(RECONNECT_PAUSE_SECONDS)
        if self.run:
            self.connect(target)

    def get(self) -> Any:
        deadline = time.monotonic() + WAIT_FOR_CONNECTION_SECONDS
        while time.monotonic() < deadline:
            try:
                ref = self.connections.get(timeout=0.1)
            except queue.Empty:
                continue
            connection = ref()
            if connection is not None and connection.alive:
                self.connections.put(ref)
                return connection
        raise GrpcError(grpc.StatusCode.UNAVAILABLE, "no connection to the service")


class ReconnectingGrpcProxy(GrpcProxy):
    def start(self) -> None:
        channel = ClientChannel.__new__(ClientChannel)
        channel.conn_pool = ReconnectingPool([self.target], self.ssl, self.spawn_thread)
        self.channel = channel
        channel.start()
