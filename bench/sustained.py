"""The sustained end-to-end rate: the highest offered rate at which, for a whole step, the
router keeps up with the window, and what one application costs end to end at that rate.

A step offers a fixed rate over gRPC (open loop, bench.load.paced) for ``sustained_seconds``;
it passes when all of these hold (:data:`RULE`):

- the router's backlog does not grow: its least-squares trend over the step's second half is
  at most ``TREND_NOISE`` x the offered rate (one sample a second; a trend below that is
  sampling noise, above it cases pile up);
- receipt -> routed p99 <= 1 s (both times the ledger's own, bench.routing);
- accept p99 <= 250 ms, counted from each call's scheduled start, so queueing at the window
  shows;
- no accept failed, none was skipped for ``max_in_flight`` calls still unanswered, and none
  was left unrouted once the load stopped and the router was given ``drain_timeout`` to catch
  up.

The search starts at ``sustained_start_share`` of the best closed-loop gRPC accept rate,
grows by ``sustained_growth`` until a step fails (or shrinks by it until one passes), then
bisects (geometric mean) between the best passing and the lowest failing rate
``sustained_bisections`` times, within ``sustained_budget`` seconds. Every step is kept.

Over the best passing step (the lowest tried when none passes, and the results say so):

- CPU per routed application, per process and end to end, from the start of the load to the
  end of its drain, so the routing of the last accepted cases is in it. End to end is the
  platform's processes with PostgreSQL and RabbitMQ: the load generator (the city's windows)
  and the trace sink (standing in for a collector, which a deployment runs elsewhere) are
  shown beside it but not counted, and neither is other work on the shared machine.
- RPCs per routed application by method, served (each call counted once, where it is
  answered), from every process's own /metrics counters before and after.
- SQL statements per routed application by service and operation (services.common.sql_tracing's
  spans, counted by the trace sink), and PostgreSQL's transactions and rows
  written per routed application per database (pg_stat_database deltas). PostgreSQL
  publishes an idle backend's counters up to 10 s late, so each step's counts are read
  ``stats_settle`` seconds after its drain, which is also the pause between steps.

Then the cost of tracing and metrics to the end-to-end rate (:func:`cost`): the platform with
both off ("bare") and the traced, metered one, side by side at the best sustained rate, in
turns; on a machine whose cores the pipeline saturates, the rate it sustains goes as the
inverse of its CPU per application, so the cost is ``1 - cpu(bare) / cpu(on)``, taken both
for the whole pipeline and for the busiest process (the one that saturates first), and the
larger counts.
"""

from __future__ import annotations

import asyncio
import math
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from bench.load import Result
from bench.phases import Bench, Subject, say, summary
from bench.resources import CpuMeter, CpuSnapshot
from bench.routing import backlog_trend, drain, offer, routing_latencies, unrouted
from bench.scrape import Scraper
from bench.stack import PlatformRun, Sink
from services.common.config import DEFAULT_POSTGRES
from services.common.metric_catalog import RPC_CLIENT_DURATION, RPC_SERVER_DURATION

# A backlog trend up to this share of the offered rate is sampling noise.
TREND_NOISE = 0.05
ROUTED_P99_MS = 1000.0
ACCEPT_P99_MS = 250.0
RULE = (
    f"backlog trend over the step's second half <= {TREND_NOISE:.0%} of the offered rate,"
    f" receipt -> routed p99 <= {ROUTED_P99_MS / 1000:g} s, accept p99 <="
    f" {ACCEPT_P99_MS:g} ms (from the scheduled start), no accept failed or skipped, none"
    " unrouted after the drain"
)
# Groups in a CPU meter that are not the platform's own processes.
NOT_PLATFORM = {"load generator", "sink", "postgres", "rabbitmq", "other", "machine"}
# What the end-to-end CPU figure leaves out: the windows, the collector's stand-in, the rest of
# the machine.
NOT_END_TO_END = {"load generator", "sink", "other", "machine"}
SERVED = f"{RPC_SERVER_DURATION.prometheus}_count"
MADE = f"{RPC_CLIENT_DURATION.prometheus}_count"
DATABASE_COUNTERS = (
    "xact_commit",
    "xact_rollback",
    "tup_inserted",
    "tup_updated",
    "tup_deleted",
    "tup_returned",
    "tup_fetched",
)


def end_to_end(per_group: dict[str, float]) -> float:
    return sum(v for k, v in per_group.items() if k not in NOT_END_TO_END)


@dataclass
class Counts:
    """The counters a per-application figure divides, read at one moment."""

    # "process: service/method" -> calls served, and calls made.
    served: dict[str, float] = field(default_factory=dict)
    made: dict[str, float] = field(default_factory=dict)
    # service -> SQL operation -> statements, as the trace sink counted them.
    statements: dict[str, dict[str, int]] = field(default_factory=dict)
    # database (the service owning it) -> pg_stat_database counter -> value.
    databases: dict[str, dict[str, int]] = field(default_factory=dict)


def _delta(after: dict[str, Any], before: dict[str, Any]) -> dict[str, Any]:
    """after - before, key by key, nested dictionaries included; zeros left out."""
    found: dict[str, Any] = {}
    for key, value in after.items():
        if isinstance(value, dict):
            inner = _delta(value, before.get(key, {}))
            if inner:
                found[key] = inner
        else:
            change = value - before.get(key, 0)
            if change:
                found[key] = change
    return found


def _per(counts: dict[str, Any], routed: int) -> dict[str, Any]:
    return {
        k: _per(v, routed) if isinstance(v, dict) else round(v / routed, 2)
        for k, v in sorted(counts.items())
    }


def _total(counts: dict[str, Any]) -> float:
    return sum(_total(v) if isinstance(v, dict) else v for v in counts.values())


def _pct_ms(ordered: list[float], q: float) -> float | None:
    if not ordered:
        return None
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


class Pipeline:
    """A running platform under paced load: one step at a time, with its counters."""

    def __init__(self, bench: Bench, run: PlatformRun, sink: Sink | None) -> None:
        self.bench = bench
        self.run = run
        self.sink = sink
        self.subject = Subject(run, bench.applications, sink)
        self._stats: asyncpg.Connection | None = None

    async def open(self) -> None:
        await self.subject.open()
        self._stats = await asyncpg.connect(f"{DEFAULT_POSTGRES}/postgres")

    async def close(self) -> None:
        if self._stats is not None:
            await self._stats.close()
        await self.subject.close()

    async def counts(self) -> Counts:
        found = Counts()
        if self.run.metrics:
            await self._scrape(found)
        if self.sink is not None:
            stats = self.sink.stats() or {}
            found.statements = {k: dict(v) for k, v in stats.get("statements", {}).items()}
        assert self._stats is not None
        rows = await self._stats.fetch(
            f"""SELECT datname, {", ".join(DATABASE_COUNTERS)} FROM pg_stat_database
                 WHERE starts_with(datname, $1)""",
            f"{self.run.prefix}_",
        )
        for row in rows:
            database = str(row["datname"]).removeprefix(f"{self.run.prefix}_")
            found.databases[database] = {c: int(row[c]) for c in DATABASE_COUNTERS}
        return found

    async def _scrape(self, found: Counts) -> None:
        platform = self.run.platform
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:
            for name in platform.processes:
                if name not in platform.ports.metrics:
                    continue
                async with session.get(platform.metrics_url(name)) as response:
                    text = await response.text()
                for family in text_string_to_metric_families(text):
                    for sample in family.samples:
                        into = {SERVED: found.served, MADE: found.made}.get(sample.name)
                        if into is None:
                            continue
                        labels = sample.labels
                        key = f"{name}: {labels.get('rpc_service')}/{labels.get('rpc_method')}"
                        into[key] = into.get(key, 0.0) + sample.value

    async def load(self, rate: float, seconds: float) -> dict[str, Any]:
        """``rate`` applications a second for ``seconds``, then the drain; the step's record,
        its CPU seconds per group over the load and the drain among it."""
        s = self.bench.s
        subject = self.subject
        offered = await offer(
            subject.window.submit, rate, seconds, subject.intake_url, subject.meter
        )
        result, receipts, before = offered.result, offered.receipts, offered.before
        loaded = subject.meter.snapshot()
        at_end = len(await unrouted(subject.conn, receipts))
        drained_in, left = await drain(subject.conn, receipts, s.drain_timeout)
        drained = subject.meter.snapshot()
        latencies = sorted(await routing_latencies(subject.conn, receipts))
        return self._record(
            rate,
            result,
            receipts,
            offered.backlog,
            latencies,
            at_end,
            drained_in,
            left,
            before,
            loaded,
        ) | self._cpu(before, drained, len(latencies))

    def _record(
        self,
        rate: float,
        result: Result,
        receipts: list[str],
        backlog: list[tuple[float, int]],
        latencies: list[float],
        at_end: int,
        drained_in: float,
        left: list[str],
        before: CpuSnapshot,
        loaded: CpuSnapshot,
    ) -> dict[str, Any]:
        trend = backlog_trend(backlog)
        record: dict[str, Any] = {
            "offered_rate": round(rate, 1),
            "accepted": len(receipts),
            "accept": summary(result, CpuMeter.cores(before, loaded), skipped=result.skipped),
            "routed": len(latencies),
            "routed_p50_ms": _pct_ms(latencies, 0.50),
            "routed_p95_ms": _pct_ms(latencies, 0.95),
            "routed_p99_ms": _pct_ms(latencies, 0.99),
            "backlog_samples": backlog,
            "backlog_max": max((b for _, b in backlog), default=0),
            "backlog_at_end": at_end,
            "backlog_trend_per_s": round(trend, 2),
            "drain_after_s": round(drained_in, 1),
            "unrouted_after_drain": len(left),
        }
        failed_on = []
        if trend > TREND_NOISE * rate:
            failed_on.append(f"backlog trend {trend:+.1f}/s > {TREND_NOISE * rate:.1f}/s")
        routed_p99 = record["routed_p99_ms"]
        if routed_p99 is None or routed_p99 > ROUTED_P99_MS:
            failed_on.append(f"routed p99 {routed_p99} ms > {ROUTED_P99_MS:g} ms")
        accept_p99 = record["accept"]["p99_ms"]
        if accept_p99 is None or accept_p99 > ACCEPT_P99_MS:
            failed_on.append(f"accept p99 {accept_p99} ms > {ACCEPT_P99_MS:g} ms")
        if result.errors:
            failed_on.append(f"accept errors {dict(result.errors)}")
        if result.skipped:
            failed_on.append(f"{result.skipped} accepts skipped (too many unanswered)")
        if left:
            failed_on.append(f"{len(left)} unrouted after the drain")
        record["failed_on"] = failed_on
        record["passed"] = not failed_on
        return record

    @staticmethod
    def _cpu(before: CpuSnapshot, after: CpuSnapshot, routed: int) -> dict[str, Any]:
        used = CpuMeter.seconds(before, after)
        window = after.at - before.at
        record: dict[str, Any] = {
            "cpu_window_s": round(window, 1),
            "cpu_seconds": {k: round(v, 3) for k, v in used.items()},
            "cores_over_window": {k: round(v / window, 2) for k, v in used.items()},
        }
        if routed:
            per = {k: round(1000 * v / routed, 2) for k, v in used.items()}
            record["cpu_ms_per_application"] = per
            record["end_to_end_cpu_ms"] = round(1000 * end_to_end(used) / routed, 2)
        else:
            record["cpu_ms_per_application"] = {}
            record["end_to_end_cpu_ms"] = None
        return record


def _counted(record: dict[str, Any], before: Counts, after: Counts) -> None:
    """The counters' change over a step, and per routed application."""
    change = {
        "rpcs_served": _delta(after.served, before.served),
        "rpcs_made": _delta(after.made, before.made),
        "statements": _delta(after.statements, before.statements),
        "databases": _delta(after.databases, before.databases),
    }
    record["counts"] = change
    routed = record["routed"]
    if not routed:
        record["per_application"] = None
        return
    served = change["rpcs_served"]
    statements = change["statements"]
    databases = change["databases"]
    record["per_application"] = {
        "rpcs_served": round(_total(served) / routed, 2),
        "rpcs_made": round(_total(change["rpcs_made"]) / routed, 2),
        "rpcs_by_method": _per(served, routed),
        "statements": round(_total(statements) / routed, 2),
        "statements_by_service": _per(statements, routed),
        "transactions": round(
            sum(d.get("xact_commit", 0) + d.get("xact_rollback", 0) for d in databases.values())
            / routed,
            2,
        ),
        "rows_written": round(
            sum(
                d.get("tup_inserted", 0) + d.get("tup_updated", 0) + d.get("tup_deleted", 0)
                for d in databases.values()
            )
            / routed,
            2,
        ),
        "by_database": _per(databases, routed),
    }


def _say_step(record: dict[str, Any]) -> None:
    accept = record["accept"]
    errors = f", errors {accept['errors']}" if accept["errors"] else ""
    say(
        f"    accepted {accept['rate']:.1f}/s (p99 {accept['p99_ms']} ms{errors}); receipt ->"
        f" routed p99 {record['routed_p99_ms']} ms; backlog max {record['backlog_max']}, trend"
        f" {record['backlog_trend_per_s']:+.1f}/s; drained {record['drain_after_s']:.1f}s after"
        f" the load ({record['unrouted_after_drain']} left); end-to-end CPU"
        f" {record['end_to_end_cpu_ms']} ms per routed application (cores: other"
        f" {accept['cores'].get('other')}, machine {accept['cores'].get('machine')})"
    )
    if record["passed"]:
        say("    PASSES")
    else:
        say(f"    FAILS: {'; '.join(record['failed_on'])}")


async def search(bench: Bench, on: PlatformRun, sink: Sink) -> None:
    """The search for the highest sustained rate on the traced, metered platform."""
    s = bench.s
    best_accept = max(r["rate"] for r in bench.results["accept"]["grpc"].values())
    rate = max(1.0, s.sustained_start_share * best_accept)
    say(
        f"==> sustained end to end ({on.label}): from {rate:.0f} applications/s"
        f" ({s.sustained_start_share:.0%} of the best gRPC accept rate, {best_accept:.0f}/s),"
        f" {s.sustained_seconds:g}s a step, within {s.sustained_budget:g}s; a step passes when"
        f" {RULE}"
    )
    pipeline = Pipeline(bench, on, sink)
    await pipeline.open()
    steps: list[dict[str, Any]] = []
    started = time.monotonic()
    passing: float | None = None
    failing: float | None = None
    bisections = 0
    try:
        # The router's backlog from earlier phases is drained already; the counters settle.
        await asyncio.sleep(s.stats_settle)
        counts = await pipeline.counts()
        while True:
            spent = time.monotonic() - started
            say(
                f"==> sustained step {len(steps) + 1}: {rate:.1f}/s offered for"
                f" {s.sustained_seconds:g}s ({spent:.0f}s of {s.sustained_budget:g}s spent)"
            )
            record = {"step": len(steps) + 1, **await pipeline.load(rate, s.sustained_seconds)}
            _say_step(record)
            # The pause is the platform idle: what it spends with nothing to do is part of
            # every application's figure, and shown apart.
            idle_from = pipeline.subject.meter.snapshot()
            await asyncio.sleep(s.stats_settle)
            record["idle_cores"] = CpuMeter.cores(idle_from, pipeline.subject.meter.snapshot())
            after = await pipeline.counts()
            _counted(record, counts, after)
            counts = after
            steps.append(record)
            if record["passed"]:
                passing = max(passing or 0.0, rate)
            else:
                failing = min(failing or math.inf, rate)
            if failing is None:
                rate *= s.sustained_growth
            elif passing is None:
                rate /= s.sustained_growth
                if rate < 1.0:
                    break
            else:
                if bisections >= s.sustained_bisections or failing / passing < 1.05:
                    break
                bisections += 1
                rate = math.sqrt(passing * failing)
            # A failing step's drain can take longer; the budget is for the steps' own time.
            step_time = s.sustained_seconds + s.stats_settle + 5.0
            if time.monotonic() - started + step_time > s.sustained_budget:
                say(f"    the search's {s.sustained_budget:g}s are spent: no further step")
                break
    finally:
        await pipeline.close()
    passed = [r for r in steps if r["passed"]]
    best = (
        max(passed, key=lambda r: r["offered_rate"])
        if passed
        else min(steps, key=lambda r: r["offered_rate"])
    )
    bench.results["sustained"] = {
        "rule": RULE,
        "trend_noise_share": TREND_NOISE,
        "platform": on.label,
        "best_accept_rate": best_accept,
        "step_seconds": s.sustained_seconds,
        "search_s": round(time.monotonic() - started, 1),
        "steps": steps,
        "passed": bool(passed),
        "best_step": best["step"],
        "sustained_rate": best["offered_rate"] if passed else None,
        "span_queue_overflows": on.span_queue_overflows(),
    }
    if passed:
        say(f"    sustained: {best['offered_rate']:.1f}/s (step {best['step']})")
    else:
        say(
            f"    no step passed; the figures per application are the lowest tried"
            f" ({best['offered_rate']:.1f}/s, step {best['step']})"
        )


async def cost(bench: Bench, bare: PlatformRun, on: PlatformRun, sink: Sink) -> None:
    """Tracing and metrics off and on, side by side at the sustained rate, in turns."""
    s = bench.s
    sustained = bench.results.get("sustained")
    if not sustained:
        return
    best = next(r for r in sustained["steps"] if r["step"] == sustained["best_step"])
    rate = best["offered_rate"]
    say(
        f"==> tracing and metrics: '{bare.label}' (both off) and '{on.label}' (both on) at"
        f" {rate:.1f}/s, {s.cost_seconds:g}s a turn, {s.cost_turns} turns each"
    )
    sides = [Pipeline(bench, bare, None), Pipeline(bench, on, sink)]
    turns: list[list[dict[str, Any]]] = [[], []]
    # Metrics cost their collection too: the metered side is scraped as in the metrics phase.
    scraper = Scraper(on, s.scrape_seconds)
    scraping = asyncio.create_task(scraper.run())
    try:
        for side in sides:
            await side.open()
        for turn in range(s.cost_turns):
            order = [0, 1] if turn % 2 == 0 else [1, 0]
            for i in order:
                say(f"==> {sides[i].run.label}, turn {turn + 1} of {s.cost_turns}")
                record = await sides[i].load(rate, s.cost_seconds)
                _say_step(record)
                turns[i].append(record)
    finally:
        scraping.cancel()
        await asyncio.gather(scraping, return_exceptions=True)
        for side in sides:
            await side.close()
    pooled = [_pool(records) for records in turns]
    off_side, on_side = pooled
    result: dict[str, Any] = {
        "offered_rate": rate,
        "method": (
            "both platforms side by side at the sustained rate, in turns; cost = 1 -"
            " cpu(bare)/cpu(on) per routed application, end to end and for the busiest"
            " process, the larger counted"
        ),
        "scrape_seconds": s.scrape_seconds,
        "scrapes": scraper.scrapes,
        bare.label: off_side,
        on.label: on_side,
    }
    if off_side["end_to_end_cpu_ms"] and on_side["end_to_end_cpu_ms"]:
        whole = 1 - off_side["end_to_end_cpu_ms"] / on_side["end_to_end_cpu_ms"]
        platform = {k: v for k, v in on_side["cores_over_window"].items() if k not in NOT_PLATFORM}
        busiest = max(platform, key=lambda k: platform[k])
        off_busiest = off_side["cpu_ms_per_application"].get(busiest, 0.0)
        on_busiest = on_side["cpu_ms_per_application"][busiest]
        in_busiest = 1 - off_busiest / on_busiest if on_busiest else 0.0
        result |= {
            "cost_end_to_end": round(whole, 3),
            "busiest": busiest,
            "cost_busiest": round(in_busiest, 3),
            "cost": round(max(whole, in_busiest), 3),
        }
        say(
            f"    end-to-end CPU per routed application: {off_side['end_to_end_cpu_ms']} ms"
            f" bare, {on_side['end_to_end_cpu_ms']} ms traced and metered ({100 * whole:.0f}%);"
            f" {busiest}: {off_busiest} ms and {on_busiest} ms ({100 * in_busiest:.0f}%)"
        )
    bench.results["sustained"]["cost"] = result


def _pool(records: list[dict[str, Any]]) -> dict[str, Any]:
    routed = sum(r["routed"] for r in records)
    used: dict[str, float] = {}
    for r in records:
        for k, v in r["cpu_seconds"].items():
            used[k] = used.get(k, 0.0) + v
    window = sum(r["cpu_window_s"] for r in records)
    latencies = [r["routed_p99_ms"] for r in records if r["routed_p99_ms"] is not None]
    accepts = [r["accept"]["p99_ms"] for r in records if r["accept"]["p99_ms"] is not None]
    return {
        "routed": routed,
        "passed": all(r["passed"] for r in records),
        "turn_end_to_end_cpu_ms": [r["end_to_end_cpu_ms"] for r in records],
        "end_to_end_cpu_ms": round(1000 * end_to_end(used) / routed, 2) if routed else None,
        "cpu_ms_per_application": (
            {k: round(1000 * v / routed, 2) for k, v in used.items()} if routed else {}
        ),
        "cores_over_window": {k: round(v / window, 2) for k, v in used.items()} if window else {},
        "routed_p99_ms_worst": max(latencies, default=None),
        "accept_p99_ms_worst": max(accepts, default=None),
        "backlog_trend_per_s": [r["backlog_trend_per_s"] for r in records],
    }
