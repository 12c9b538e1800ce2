"""The load generator: many calls in flight from one asyncio process.

Two shapes of load:

- closed loop (:func:`closed_loop`): ``in_flight`` callers, each sending its next call as soon
  as the last one answers; the rate it reaches is the throughput at that concurrency.
- open loop (:func:`paced`): calls started on a fixed schedule whatever the answers, the way
  windows across a city send them; latency then includes any queueing the platform builds up.

Calls go over grpc.aio with pre-serialized request bytes, or aiohttp for the HTTP API, so the
load generator spends its CPU on the wire and not on building messages; every phase reports
how many cores it used.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import grpc

from bench.applications import Applications
from onedoor.gateway.v1 import gateway_service_pb2 as pb

SUBMIT = "/onedoor.gateway.v1.GatewayService/SubmitApplication"
GET = "/onedoor.gateway.v1.GatewayService/GetApplication"
DECIDE = "/onedoor.gateway.v1.GatewayService/DecideCase"
CALL_TIMEOUT_SECONDS = 30.0

# A call returns the receipt it produced or looked up; raising counts as an error.
Call = Callable[[], Awaitable[str]]


@dataclass
class Result:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    receipts: list[str] = field(default_factory=list)
    # Calls an open loop could not start because ``max_in_flight`` were still unanswered.
    skipped: int = 0

    @property
    def calls(self) -> int:
        return len(self.latencies)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def percentile_ms(self, q: float) -> float | None:
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        return 1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _error_name(error: BaseException) -> str:
    if isinstance(error, grpc.aio.AioRpcError):
        return error.code().name
    if isinstance(error, aiohttp.ClientResponseError):
        return f"HTTP {error.status}"
    return type(error).__name__


async def closed_loop(call: Call, in_flight: int, seconds: float, warmup: float = 1.0) -> Result:
    """``in_flight`` callers for ``warmup`` + ``seconds``; only calls that start after the
    warm-up and answer before the end count, so connection set-up and the tail of calls
    still open at the end stay out of the figures."""
    result = Result(seconds)
    start = time.perf_counter()
    measure_from = start + warmup
    end = measure_from + seconds

    async def caller() -> None:
        while (began := time.perf_counter()) < end:
            try:
                receipt = await call()
            except Exception as error:
                if began >= measure_from:
                    result.errors[_error_name(error)] += 1
                continue
            answered = time.perf_counter()
            if began >= measure_from and answered <= end:
                result.latencies.append(answered - began)
                result.receipts.append(receipt)

    await asyncio.gather(*(caller() for _ in range(in_flight)))
    return result


async def paced(call: Call, rate: float, seconds: float, max_in_flight: int = 512) -> Result:
    """Starts ``rate`` calls a second for ``seconds`` on a fixed schedule and waits for every
    answer. Latency counts from the scheduled start, so a platform falling behind shows."""
    result = Result(seconds)
    interval = 1.0 / rate
    pending: set[asyncio.Task[None]] = set()
    start = time.perf_counter()

    async def one(scheduled: float) -> None:
        try:
            receipt = await call()
        except Exception as error:
            result.errors[_error_name(error)] += 1
            return
        result.latencies.append(time.perf_counter() - scheduled)
        result.receipts.append(receipt)

    for i in range(int(rate * seconds)):
        scheduled = start + i * interval
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        if len(pending) >= max_in_flight:
            result.skipped += 1
            continue
        task = asyncio.create_task(one(scheduled))
        pending.add(task)
        task.add_done_callback(pending.discard)
    if pending:
        await asyncio.wait(pending)
    return result


class GrpcWindow:
    """The gateway's gRPC API (or the baseline, which serves the same method), over a few
    connections as several window front-ends would open."""

    def __init__(
        self,
        address: str,
        applications: Applications,
        authorization: str = "",
        connections: int = 4,
    ) -> None:
        self.applications = applications
        self.metadata = (("authorization", authorization),) if authorization else None
        # A local subchannel pool per channel: otherwise grpc shares one connection.
        self.channels = [
            grpc.aio.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
            for _ in range(connections)
        ]
        self._submit = [
            c.unary_unary(
                SUBMIT,
                request_serializer=None,
                response_deserializer=pb.SubmitApplicationResponse.FromString,
            )
            for c in self.channels
        ]
        self._get = [
            c.unary_unary(
                GET,
                request_serializer=pb.GetApplicationRequest.SerializeToString,
                response_deserializer=pb.GetApplicationResponse.FromString,
            )
            for c in self.channels
        ]
        self._turn = 0

    def _next(self) -> int:
        self._turn = (self._turn + 1) % len(self.channels)
        return self._turn

    async def ready(self, timeout: float = 10.0) -> None:
        for channel in self.channels:
            await asyncio.wait_for(channel.channel_ready(), timeout)

    async def submit(self) -> str:
        request_id = self.applications.request_id()
        body = self.applications.grpc_body(request_id)
        answer = await self._submit[self._next()](
            body, timeout=CALL_TIMEOUT_SECONDS, metadata=self.metadata
        )
        return str(answer.receipt)

    def lookup(self, receipts: list[str]) -> Call:
        """A call looking up the next of ``receipts`` (round robin)."""
        position = 0

        async def get() -> str:
            nonlocal position
            position = (position + 1) % len(receipts)
            receipt = receipts[position]
            await self._get[self._next()](
                pb.GetApplicationRequest(receipt=receipt),
                timeout=CALL_TIMEOUT_SECONDS,
                metadata=self.metadata,
            )
            return receipt

        return get

    async def approve(self, receipt: str, department: str, authorization: str) -> None:
        """An officer of ``department`` approves the case (the bulk loader's decided
        template)."""
        decide = self.channels[0].unary_unary(
            DECIDE,
            request_serializer=pb.DecideCaseRequest.SerializeToString,
            response_deserializer=pb.DecideCaseResponse.FromString,
        )
        await decide(
            pb.DecideCaseRequest(
                department=department,
                receipt=receipt,
                request_id=self.applications.request_id(),
                decision=pb.DECISION_APPROVE,
            ),
            timeout=CALL_TIMEOUT_SECONDS,
            metadata=(("authorization", authorization),),
        )

    async def close(self) -> None:
        await asyncio.gather(*(c.close() for c in self.channels))


class HttpWindow:
    """The gateway's HTTP/JSON API; keep-alive connections, as many as calls in flight."""

    def __init__(
        self, base_url: str, applications: Applications, in_flight: int, authorization: str = ""
    ) -> None:
        self.applications = applications
        headers = {"Content-Type": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        self.session = aiohttp.ClientSession(
            base_url, connector=aiohttp.TCPConnector(limit=in_flight), headers=headers
        )

    async def submit(self) -> str:
        request_id = self.applications.request_id()
        async with self.session.post(
            "/v1/applications",
            data=self.applications.json_body(request_id),
            timeout=aiohttp.ClientTimeout(total=CALL_TIMEOUT_SECONDS),
        ) as response:
            await response.read()
            response.raise_for_status()
        return self.applications.receipt(request_id)

    async def close(self) -> None:
        await self.session.close()
