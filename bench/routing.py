"""Routing, read off the ledger: when each case was accepted and when it was first routed.

Both times are the intake timeline's own (``accepted`` is stamped by intake as it stores the
case, ``routed`` by the database as the router's entry commits), so the latency is the
platform's, from receipt to ``routed``, without the load generator polling for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from bench.load import Result, paced
from bench.resources import CpuMeter, CpuSnapshot

ACCEPTED = "TIMELINE_ENTRY_KIND_ACCEPTED"
ROUTED = "TIMELINE_ENTRY_KIND_ROUTED"
APPROVED = "TIMELINE_ENTRY_KIND_APPROVED"


async def without_entry(conn: asyncpg.Connection, receipts: list[str], kind: str) -> list[str]:
    """The receipts among ``receipts`` whose timeline has no entry of ``kind`` yet."""
    if not receipts:
        return []
    rows = await conn.fetch(
        """SELECT r.receipt FROM unnest($1::text[]) AS r(receipt)
            WHERE NOT EXISTS (SELECT 1 FROM timeline t
                               WHERE t.receipt = r.receipt AND t.kind = $2)""",
        receipts,
        kind,
    )
    return [r["receipt"] for r in rows]


async def unrouted(conn: asyncpg.Connection, receipts: list[str]) -> list[str]:
    """The receipts not routed yet: the router's backlog, counting events still in the
    outbox or the queue."""
    return await without_entry(conn, receipts, ROUTED)


async def drain(
    conn: asyncpg.Connection, receipts: list[str], timeout: float, kind: str = ROUTED
) -> tuple[float, list[str]]:
    """Waits until every receipt's timeline has an entry of ``kind`` (``routed``: the
    router's backlog is drained) or ``timeout`` passes; returns the seconds waited and the
    receipts still without one."""
    started = time.monotonic()
    pending = await without_entry(conn, receipts, kind)
    while pending and time.monotonic() - started < timeout:
        await asyncio.sleep(0.5)
        pending = await without_entry(conn, pending, kind)
    return time.monotonic() - started, pending


async def routing_latencies(conn: asyncpg.Connection, receipts: list[str]) -> list[float]:
    """Seconds from ``accepted`` to the first ``routed`` entry, for the routed receipts."""
    rows = await conn.fetch(
        """SELECT min(created_at) FILTER (WHERE kind = $2) AS accepted,
                  min(created_at) FILTER (WHERE kind = $3) AS routed
             FROM timeline WHERE receipt = ANY($1::text[])
            GROUP BY receipt""",
        receipts,
        ACCEPTED,
        ROUTED,
    )
    return [
        (r["routed"] - r["accepted"]).total_seconds()
        for r in rows
        if r["accepted"] is not None and r["routed"] is not None
    ]


@dataclass
class BacklogSampler:
    """Samples the backlog once a second while a paced phase runs."""

    conn: asyncpg.Connection
    receipts: list[str]
    samples: list[tuple[float, int]]

    async def run(self, started: float) -> None:
        pending: list[str] = []
        seen = 0
        while True:
            await asyncio.sleep(1.0)
            # Only the receipts not yet seen routed, since a routed case stays routed: asking
            # for every receipt of the phase each second would make the ledger work harder
            # for the benchmark than for the router by the end of a long phase. (The slice is
            # a snapshot: the load generator appends to the list while the query runs.)
            fresh = self.receipts[seen:]
            seen += len(fresh)
            pending = await unrouted(self.conn, pending + fresh)
            self.samples.append((round(time.monotonic() - started, 1), len(pending)))


def backlog_trend(samples: list[tuple[float, int]]) -> float:
    """Least-squares slope (cases per second) of the backlog over the second half of the
    phase, after the pipeline has filled: about zero when the router keeps up."""
    tail = samples[len(samples) // 2 :]
    if len(tail) < 2:
        return 0.0
    xs = [t for t, _ in tail]
    ys = [b for _, b in tail]
    mean_x = sum(xs) / len(xs)
    mean_y = sum(ys) / len(ys)
    spread = sum((x - mean_x) ** 2 for x in xs)
    if spread == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread


@dataclass(frozen=True)
class Offered:
    """A paced load's answers, the receipts accepted (in the order they came), the backlog
    sampled once a second meanwhile, and the CPU snapshot taken as it began."""

    result: Result
    receipts: list[str]
    backlog: list[tuple[float, int]]
    before: CpuSnapshot


async def offer(
    submit: Callable[[], Awaitable[str]],
    rate: float,
    seconds: float,
    intake_url: str,
    meter: CpuMeter,
) -> Offered:
    """Offers ``rate`` applications a second for ``seconds`` (bench.load.paced) while the
    router's backlog is sampled from the ledger at ``intake_url``."""
    receipts: list[str] = []

    async def submitted() -> str:
        receipt = await submit()
        receipts.append(receipt)
        return receipt

    conn = await asyncpg.connect(intake_url)
    sampler = BacklogSampler(conn, receipts, [])
    sampling = asyncio.create_task(sampler.run(time.monotonic()))
    before = meter.snapshot()
    try:
        result = await paced(submitted, rate, seconds)
    finally:
        sampling.cancel()
        await asyncio.gather(sampling, return_exceptions=True)
        await conn.close()
    return Offered(result, receipts, sampler.samples, before)
