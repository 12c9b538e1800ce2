"""The nameko processes' gRPC calls (the router's, the notifier's): nameko-grpc's GrpcProxy with
a connection pool that survives services restarting and connections that wait for work instead
of polling for it, and :func:`call`, each call traced and timed (nameko-grpc has no
interceptors).

Imported only by processes eventlet has patched.

nameko-grpc 1.3's client pool connects once at start (the router crashes if a service is not
up yet) and reconnects once when a connection drops; if that reconnect fails, no connection is
left and every later call blocks forever on an empty queue. Here connecting never raises: it
retries in the background, and a call that finds no live connection within a few seconds fails
with UNAVAILABLE, which the router treats as transient (the event is requeued).

nameko-grpc 1.3 also polls. Each connection's loop wakes every 10 ms to look for requests
queued since (so a new call waits up to 10 ms before it is sent, and an idle router wakes 100
times a second per service it reaches), and each call with a timeout gets a green thread that
wakes every millisecond until the call ends. Here a connection's loop sleeps until its socket
has data or a caller rings its doorbell (a request's messages queued), and a call's deadline is
one timer.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import select
import socket
import time
import weakref
from collections.abc import Iterable
from typing import Any

import eventlet
import eventlet.event
import grpc
from eventlet import hubs
from h2 import events as h2_events
from nameko_grpc.channel import CONNECT_TIMEOUT, ClientChannel, ClientConnectionPool
from nameko_grpc.connection import ClientConnectionManager
from nameko_grpc.dependency_provider import GrpcProxy
from nameko_grpc.errors import GrpcError
from opentelemetry import trace

from services.common import auth, rpc_metrics, telemetry

log = logging.getLogger(__name__)
_tracer = telemetry.tracer(__name__)

RECONNECT_PAUSE_SECONDS = 1.0
WAIT_FOR_CONNECTION_SECONDS = 3.0
# How long a connection's loop sleeps with no data and no ring. Only what rings nothing waits
# this long: a stopping connection noticing its last stream consumed.
IDLE_WAKE_SECONDS = 0.25


class WakingConnection(ClientConnectionManager):
    """One HTTP/2 connection to a service; its loop runs when the socket has data or a caller
    rings."""

    def __init__(self, sock: Any) -> None:
        super().__init__(sock)
        self._bell, self._bell_ear = socket.socketpair()
        self._bell.setblocking(False)
        self._bell_ear.setblocking(False)
        self._handlers = {
            h2_events.ResponseReceived: self.response_received,
            h2_events.DataReceived: self.data_received,
            h2_events.StreamEnded: self.stream_ended,
            h2_events.StreamReset: self.stream_reset,
            h2_events.WindowUpdated: self.window_updated,
            h2_events.RemoteSettingsChanged: self.settings_changed,
            h2_events.SettingsAcknowledged: self.settings_acknowledged,
            h2_events.TrailersReceived: self.trailers_received,
            h2_events.ConnectionTerminated: self.connection_terminated,
        }
        self.iterations = 0

    def ring(self) -> None:
        # A full doorbell has rung already: the loop will run.
        with contextlib.suppress(BlockingIOError, OSError):
            self._bell.send(b"\0")

    def stop(self) -> None:
        # Rung first: nameko-grpc's stop waits (up to 5 s) for the loop to see it.
        self.ring()
        super().stop()

    def run_forever(self) -> None:
        """nameko-grpc's loop (send what is queued, wait, read, hand each HTTP/2 event to its
        handler), waiting on the doorbell as well as the socket instead of every 10 ms."""
        self.conn.initiate_connection()
        try:
            with self.cleanup_on_exit():
                while self.run:
                    self.iterations += 1
                    self.on_iteration()
                    if not self.run:
                        break
                    outgoing = self.conn.data_to_send()
                    if outgoing:  # most wakes have nothing to send: no empty write
                        self.sock.sendall(outgoing)
                    ready, _, _ = select.select(
                        [self.sock, self._bell_ear], [], [], IDLE_WAKE_SECONDS
                    )
                    if self._bell_ear in ready:
                        with contextlib.suppress(BlockingIOError):
                            self._bell_ear.recv(4096)
                    if self.sock not in ready:
                        continue
                    data = self.sock.recv(65535)
                    if not data:
                        break
                    for event in self.conn.receive_data(data):
                        handler = self._handlers.get(type(event))
                        if handler is not None:
                            handler(event)
        finally:
            self._bell.close()
            self._bell_ear.close()


def _populate(stream: Any, messages: Iterable[Any], connection: WakingConnection) -> None:
    """SendStream.populate, ringing as each message is queued (the loop sends a new request's
    headers whenever it next runs, so the first message's ring sends both)."""
    for message in messages:
        if stream.closed:
            return
        stream.queue.put(message)
        connection.ring()
    stream.close()
    connection.ring()


def _queue_unary(stream: Any, request: tuple[Any, ...], connection: WakingConnection) -> None:
    """A unary request, queued whole and closed before one ring: nothing runs the loop
    meanwhile."""
    for message in request:
        stream.queue.put(message)
    stream.close()
    connection.ring()


def _expire(send_stream: Any, response_stream: Any, connection: WakingConnection) -> None:
    """A call's deadline, as nameko-grpc's timeout thread ends it."""
    if send_stream.closed and response_stream.closed:
        return
    response_stream.close(GrpcError(grpc.StatusCode.DEADLINE_EXCEEDED, "Deadline Exceeded"))
    send_stream.close()
    connection.ring()


class ReconnectingPool(ClientConnectionPool):
    # Whether the last try failed: a service that is down is said once, not every second.
    _unreachable = False

    def __init__(self, targets: Any, ssl: Any, spawn_thread: Any) -> None:
        super().__init__(targets, ssl, spawn_thread)
        # Ends a pause before reconnecting when the pool stops, so that the thread is done
        # before nameko kills what is left (with a warning, at every stop).
        self._stopping = eventlet.event.Event()

    def connect(self, target: Any) -> None:
        try:
            connection = self._open(target)
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
        self.connections.put(weakref.ref(connection))

        def run_then_reconnect() -> None:
            connection.run_forever()
            if self.run:
                self.connect(target)

        self.spawn_thread(target=run_then_reconnect, name=f"grpc client connection [{target}]")

    def _open(self, target: Any) -> WakingConnection:
        """ClientConnectionPool.connect's socket (TLS when configured) in a WakingConnection."""
        sock = socket.create_connection(
            (target.hostname, target.port or 50051), timeout=CONNECT_TIMEOUT
        )
        if self.ssl:
            sock = self.ssl.client_context().wrap_socket(
                sock=sock, server_hostname=target.hostname, suppress_ragged_eofs=True
            )
        sock.settimeout(60)
        return WakingConnection(sock)

    def _reconnect_later(self, target: Any) -> None:
        with eventlet.Timeout(RECONNECT_PAUSE_SECONDS, False):
            self._stopping.wait()
        if self.run:
            self.connect(target)

    def stop(self) -> None:
        super().stop()
        if not self._stopping.ready():
            self._stopping.send(None)
        # The paused threads run to their end now, before the container looks for them.
        eventlet.sleep(0)

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

    def invoke(self, request_headers: Any, request: Any, timeout: float | None) -> Any:
        connection = self.channel.conn_pool.get()
        send_stream, response_stream = connection.send_request(request_headers)
        if timeout:
            hubs.get_hub().schedule_call_global(
                timeout, _expire, send_stream, response_stream, connection
            )
        if isinstance(request, tuple):
            # A unary request (nameko-grpc wraps it in a tuple): queued here, no thread needed.
            _queue_unary(send_stream, request, connection)
        else:
            self.spawn_thread(
                target=_populate,
                args=(send_stream, request, connection),
                name=f"populate request [{request}]",
            )
        return response_stream


def call(proxy: Any, service: str, method: str, request: Any, timeout: float) -> Any:
    """One call through a nameko-grpc proxy as a CLIENT span whose context (and the case's
    receipt, in baggage) travels in the call's metadata with the service credential, timed as
    ``rpc.client.duration``."""
    path = f"/{service}/{method}"
    with _tracer.start_as_current_span(
        f"{service}/{method}",
        kind=trace.SpanKind.CLIENT,
        attributes=rpc_metrics.call_attributes(path),
    ) as span:
        metadata = [*telemetry.inject({}).items(), *auth.service_metadata()]
        started = time.perf_counter()
        code = grpc.StatusCode.OK
        try:
            return getattr(proxy, method)(request, metadata=metadata, timeout=timeout)
        except GrpcError as error:
            code = error.code
            span.set_attribute("rpc.grpc.status_code", error.code.value[0])
            span.set_status(trace.StatusCode.ERROR, error.code.name)
            raise
        except OSError:
            code = grpc.StatusCode.UNAVAILABLE
            raise
        except BaseException:
            code = grpc.StatusCode.UNKNOWN
            raise
        finally:
            rpc_metrics.record_client_call(path, code, time.perf_counter() - started)
