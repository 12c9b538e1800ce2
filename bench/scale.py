"""``python -m bench.scale`` (``make bench-scale``): replicas of the stateless processes
sharing the work, and where adding them stops helping.

Two platforms side by side, each traced to the discarding sink as ``make bench`` runs them:
one router and one intake, and two routers and two intakes (within a platform one set of
databases and one virtual host: the intakes share the ledger, the routers compete for the
same queues, the gateway sends its intake calls round robin to both, each router calls one
intake). Each is offered the same paced load of dibao applications over the gateway's gRPC
window, in turns (A B B A: the shared machine's drift weighs on both alike), and the router's
backlog is drained after each turn; then each takes as many applications as 32 windows calling
at once get accepted (closed loop, in turns too). Then the databases are read for missing or
duplicate effects, over every application of every turn:

- every receipted application has exactly one case row in the ledger;
- every department deciding it holds it exactly once;
- its timeline has exactly one ``routed`` entry per department;
- the notifier recorded its acceptance message once per recipient (no send record twice,
  and no message twice in what the development provider sent);

and each replica's own /metrics says it did part of the work (the events each router consumed,
the calls each intake served). CPU per process over the load, and per application until it is
routed, shows where the machine's cores went. Then pgbench (bench.pgbench) measures what
intake's database writes for an application, on PostgreSQL alone: the rate no number of
replicas can pass with one PostgreSQL primary like this one.

``--quick`` runs it briefly, to try the mode out. The figures go to bench/results/scale.json.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import asyncpg
from prometheus_client.parser import text_string_to_metric_families

from bench import pgbench
from bench.applications import Applications, clerk_authorization
from bench.load import GrpcWindow, Result, closed_loop
from bench.resources import CpuMeter, CpuSnapshot
from bench.routing import ROUTED, drain, offer, routing_latencies, unrouted
from bench.stack import Cleanup, PlatformRun, Sink, run_cleaning_up
from services.launcher import settings as launcher_settings
from services.launcher.platform import ROOT

RESULTS = ROOT / "bench" / "results"
# (label, what it is, replicas): the label names the run's databases and virtual host.
LAYOUTS: tuple[tuple[str, str, dict[str, int]], ...] = (
    ("scale_one", "1 router + 1 intake", {}),
    ("scale_two", "2 routers + 2 intakes", {"router": 2, "intake": 2}),
)
SCALED = ("router", "intake")
INTAKE_SERVICE = "onedoor.intake.v1.IntakeService"
ACCEPTED_EVENT = "CaseAccepted"
# Windows calling at once in the closed-loop turns (the reference concurrency of make bench).
CAPACITY_IN_FLIGHT = 32
# PostgreSQL's backends report their counts to pg_stat_database within 10 s of going idle.
STATS_SETTLE_SECONDS = 11.0


def say(line: str) -> None:
    print(line, flush=True)


@dataclasses.dataclass(frozen=True)
class Settings:
    # Applications a second offered to each platform, for ``seconds`` in ``turns`` turns.
    rate: float = 20.0
    seconds: float = 32.0
    turns: int = 4
    drain_timeout: float = 120.0
    pgbench_clients: tuple[int, ...] = (1, 4, 16)
    pgbench_seconds: float = 4.0
    pgbench_rounds: int = 3
    # Then the most each platform accepts (closed loop), in turns.
    capacity_turns: int = 2
    capacity_seconds: float = 8.0


QUICK = Settings(
    capacity_turns=1,
    capacity_seconds=3.0,
    rate=15.0,
    seconds=8.0,
    turns=2,
    drain_timeout=60.0,
    pgbench_clients=(1, 4),
    pgbench_seconds=2.0,
    pgbench_rounds=1,
)


# -- what each replica says it did -----------------------------------------------------------


def _samples(url: str) -> list[tuple[str, dict[str, str], float]]:
    with urllib.request.urlopen(url, timeout=5) as response:
        text = response.read().decode()
    return [
        (s.name, dict(s.labels), float(s.value))
        for family in text_string_to_metric_families(text)
        for s in family.samples
    ]


def work_counters(run: PlatformRun) -> dict[str, dict[str, float]]:
    """Per replica of the router, the events it consumed (CaseAccepted and all); per replica
    of intake, the calls its gRPC server answered, by method."""
    found: dict[str, dict[str, float]] = {}
    platform = run.platform
    for name in platform.replica_names("router"):
        counts: dict[str, float] = {}
        for series, labels, value in _samples(platform.metrics_url(name)):
            if series == "onedoor_router_events_total":
                event = labels.get("event", "")
                counts[event] = counts.get(event, 0.0) + value
        found[name] = dict(counts)
    for name in platform.replica_names("intake"):
        counts = {}
        for series, labels, value in _samples(platform.metrics_url(name)):
            if (
                series == "rpc_server_duration_seconds_count"
                and labels.get("rpc_service") == INTAKE_SERVICE
            ):
                method = labels.get("rpc_method", "")
                counts[method] = counts.get(method, 0.0) + value
        found[name] = dict(counts)
    return found


def counter_deltas(
    before: Mapping[str, Mapping[str, float]], after: Mapping[str, Mapping[str, float]]
) -> dict[str, dict[str, int]]:
    """What each replica counted between two readings (a counter only grows)."""
    return {
        name: {
            key: int(value - before.get(name, {}).get(key, 0.0))
            for key, value in sorted(counts.items())
            if value - before.get(name, {}).get(key, 0.0) > 0
        }
        for name, counts in after.items()
    }


# -- what the databases hold ------------------------------------------------------------------


async def _pg_stats(prefix: str) -> dict[str, dict[str, int]]:
    """Commits (read-only ones too) and rows written so far, per database of the run."""
    conn = await asyncpg.connect(f"{pgbench.DEFAULT_POSTGRES}/postgres")
    try:
        rows = await conn.fetch(
            """SELECT datname, xact_commit, tup_inserted + tup_updated + tup_deleted AS written
                 FROM pg_stat_database WHERE left(datname, length($1)) = $1""",
            f"{prefix}_",
        )
    finally:
        await conn.close()
    return {
        r["datname"][len(prefix) + 1 :]: {"commits": r["xact_commit"], "rows": r["written"]}
        for r in rows
    }


def per_application(
    before: Mapping[str, Mapping[str, int]], after: Mapping[str, Mapping[str, int]], accepted: int
) -> dict[str, dict[str, float]]:
    if not accepted:
        return {}
    return {
        database: {
            kind: round((value - before.get(database, {}).get(kind, 0)) / accepted, 2)
            for kind, value in counts.items()
        }
        for database, counts in sorted(after.items())
    }


def tally(counts: Mapping[Any, int], expected: set[Any]) -> dict[str, int]:
    """Against what should be there exactly once each: how many are missing, how many are
    there more than once, and how many are there that nobody expected."""
    return {
        "expected": len(expected),
        "missing": len(expected - set(counts)),
        "more_than_once": sum(1 for k, n in counts.items() if n > 1),
        "unexpected": len(set(counts) - expected),
    }


async def exactly_once(run: PlatformRun, receipts: list[str]) -> dict[str, dict[str, int]]:
    """Each effect of the receipted applications, counted in the databases."""
    platform = run.platform
    accepted = set(receipts)
    intake = await asyncpg.connect(platform.database_url("intake"))
    try:
        cases = {
            r["receipt"]: r["n"]
            for r in await intake.fetch("SELECT receipt, count(*) AS n FROM cases GROUP BY receipt")
        }
        departments = {
            r["receipt"]: list(r["departments"])
            for r in await intake.fetch(
                "SELECT receipt, departments FROM cases WHERE receipt = ANY($1::text[])", receipts
            )
        }
        routed = {
            (r["receipt"], r["department"]): r["n"]
            for r in await intake.fetch(
                """SELECT receipt, department, count(*) AS n FROM timeline
                    WHERE kind = $1 GROUP BY receipt, department""",
                ROUTED,
            )
        }
    finally:
        await intake.close()
    deciding = {(receipt, d) for receipt, ds in departments.items() for d in ds}
    held: dict[tuple[str, str], int] = {}
    for department in sorted({d for _, d in deciding}):
        conn = await asyncpg.connect(platform.database_url(department))
        try:
            for r in await conn.fetch(
                "SELECT receipt, count(*) AS n FROM department_cases GROUP BY receipt"
            ):
                held[(r["receipt"], department)] = r["n"]
        finally:
            await conn.close()
    notifier = await asyncpg.connect(platform.database_url("notifier"))
    try:
        records = {
            (r["receipt"], r["notice_key"], r["recipient"]): r["n"]
            for r in await notifier.fetch(
                """SELECT receipt, notice_key, recipient, count(*) AS n FROM notices
                    GROUP BY receipt, notice_key, recipient"""
            )
        }
    finally:
        await notifier.close()
    acceptance_notices = {k: n for k, n in records.items() if k[1] == "accepted"}
    notified = {k[0] for k in acceptance_notices}
    sent = Counter(_sent_keys(platform.notifier_messages))
    return {
        "case rows": tally(cases, accepted),
        "department cases": tally(held, deciding),
        "routed entries": tally(routed, deciding),
        # One record per (receipt, recipient): its expected set is what was recorded, and
        # every receipted application has at least one.
        "acceptance send records": {
            **tally(acceptance_notices, set(acceptance_notices)),
            "missing": len(accepted - notified),
        },
        "messages sent": {
            "expected": len(sent),
            "missing": 0,
            "more_than_once": sum(1 for n in sent.values() if n > 1),
            "unexpected": 0,
        },
    }


def _sent_keys(path: Path) -> list[str]:
    """The idempotency keys of what the development provider sent (none in quiet hours)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    return [str(json.loads(line)["key"]) for line in lines if line.strip()]


async def _wait_notified(run: PlatformRun, receipts: list[str], timeout: float) -> float:
    """Waits until the notifier recorded every acceptance message (or ``timeout``)."""
    started = time.monotonic()
    conn = await asyncpg.connect(run.platform.database_url("notifier"))
    try:
        while time.monotonic() - started < timeout:
            done = await conn.fetchval(
                """SELECT count(DISTINCT receipt) FROM notices
                    WHERE notice_key = 'accepted' AND receipt = ANY($1::text[])""",
                receipts,
            )
            if done >= len(set(receipts)):
                break
            await asyncio.sleep(0.5)
    finally:
        await conn.close()
    return time.monotonic() - started


# -- one platform under the load --------------------------------------------------------------


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


@dataclasses.dataclass
class Turn:
    result: Result
    cores: dict[str, float]
    load_average: tuple[float, float, float]
    backlog: list[tuple[float, int]]
    at_end: int
    drained_in: float
    # CPU seconds each process spent from the load's start until its backlog was routed.
    cpu_seconds: dict[str, float]


def cpu_seconds(before: CpuSnapshot, after: CpuSnapshot) -> dict[str, float]:
    wall = after.at - before.at
    return {k: v * wall for k, v in CpuMeter.cores(before, after).items()}


class Side:
    """One running platform as the load generator sees it: its gRPC window, its ledger, a CPU
    meter over its processes, and everything its turns accepted."""

    def __init__(
        self, run: PlatformRun, title: str, applications: Applications, sink_pid: int | None
    ) -> None:
        self.run = run
        self.title = title
        platform = run.platform
        self.window = GrpcWindow(
            f"127.0.0.1:{platform.ports.gateway_grpc}", applications, clerk_authorization()
        )
        groups = {name: [pid] for name, pid in run.pids.items()}
        if sink_pid is not None:
            groups["sink"] = [sink_pid]
        self.meter = CpuMeter(groups)
        # Every receipt the side's turns got; those of the paced turns apart.
        self.receipts: list[str] = []
        self.paced: list[str] = []
        self.turns: list[Turn] = []
        # The closed-loop turns: (result, cores, seconds until routed).
        self.closed: list[tuple[Result, dict[str, float], float]] = []
        self._conn: asyncpg.Connection | None = None
        self._counted: dict[str, dict[str, float]] = {}
        self._stats: dict[str, dict[str, int]] = {}

    @property
    def conn(self) -> asyncpg.Connection:
        assert self._conn is not None, "open() first"
        return self._conn

    async def open(self) -> None:
        await self.window.ready()
        self._conn = await asyncpg.connect(self.run.platform.database_url("intake"))

    async def start_counting(self) -> None:
        """The replicas' counters and the databases' counts to count from."""
        self._counted = await asyncio.to_thread(work_counters, self.run)
        self._stats = await _pg_stats(self.run.prefix)

    async def turn(self, rate: float, seconds: float, drain_timeout: float) -> None:
        """The paced load for ``seconds``, then the wait until the router routed it."""
        offered = await offer(
            self.window.submit,
            rate,
            seconds,
            self.run.platform.database_url("intake"),
            self.meter,
        )
        result, receipts, before = offered.result, offered.receipts, offered.before
        cores = CpuMeter.cores(before, self.meter.snapshot())
        load_average = os.getloadavg()
        at_end = len(await unrouted(self.conn, receipts))
        drained_in, left = await drain(self.conn, receipts, drain_timeout)
        spent = cpu_seconds(before, self.meter.snapshot())
        self.receipts += receipts
        self.paced += receipts
        self.turns.append(
            Turn(result, cores, load_average, offered.backlog, at_end, drained_in, spent)
        )
        say(
            f"    {result.calls} accepted ({result.rate:.1f}/s), {sum(result.errors.values())}"
            f" errors, p99 {_pct(result.latencies, 0.99)} ms; backlog {at_end} at the end,"
            f" routed {drained_in:.1f}s later"
            + (f", {len(left)} still unrouted" if left else "")
            + f" (cores: platform {_platform_sum(cores):.2f}, other {cores.get('other')})"
        )

    async def capacity(self, in_flight: int, seconds: float, drain_timeout: float) -> None:
        """As many applications as ``in_flight`` windows get accepted, one after the other, for
        ``seconds``; then the wait for the router."""
        receipts: list[str] = []

        async def submit() -> str:
            receipt = await self.window.submit()
            receipts.append(receipt)
            return receipt

        before = self.meter.snapshot()
        result = await closed_loop(submit, in_flight, seconds)
        cores = CpuMeter.cores(before, self.meter.snapshot())
        drained_in, left = await drain(self.conn, receipts, drain_timeout)
        self.receipts += receipts
        self.closed.append((result, cores, drained_in))
        say(
            f"    {result.rate:.1f} accepted/s, p99 {_pct(result.latencies, 0.99)} ms,"
            f" {sum(result.errors.values())} errors; routed {drained_in:.1f}s later"
            + (f", {len(left)} still unrouted" if left else "")
            + f" (cores: platform {_platform_sum(cores):.2f}, other {cores.get('other')})"
        )

    def _capacity_record(self, in_flight: int) -> dict[str, Any]:
        results = [r for r, _, _ in self.closed]
        calls = sum(r.calls for r in results)
        seconds = sum(r.seconds for r in results)
        latencies = [x for r in results for x in r.latencies]
        return {
            "in_flight": in_flight,
            "seconds": seconds,
            "rate": round(calls / seconds, 1) if seconds else 0.0,
            "turn_rates": [round(r.rate, 1) for r in results],
            "p50_ms": _pct(latencies, 0.50),
            "p99_ms": _pct(latencies, 0.99),
            "errors": sum(sum(r.errors.values()) for r in results),
            "drain_after_s": round(max((d for _, _, d in self.closed), default=0.0), 1),
            "cores": _mean_cores([c for _, c, _ in self.closed]),
        }

    async def finish(self, rate: float, drain_timeout: float) -> dict[str, Any]:
        """After the last turn: the notifier's records, the counts; the side's record."""
        receipts = self.receipts
        _, left = await drain(self.conn, receipts, drain_timeout)
        finished = time.monotonic()
        notified_in = await _wait_notified(self.run, receipts, drain_timeout)
        latencies = await routing_latencies(self.conn, self.paced)
        # The counts in pg_stat_database lag the work by up to 10 s.
        await asyncio.sleep(max(0.0, STATS_SETTLE_SECONDS - (time.monotonic() - finished)))
        checks = await exactly_once(self.run, receipts)
        work = counter_deltas(self._counted, await asyncio.to_thread(work_counters, self.run))
        written = per_application(self._stats, await _pg_stats(self.run.prefix), len(receipts))
        results = [t.result for t in self.turns]
        calls = sum(r.calls for r in results)
        seconds = sum(r.seconds for r in results)
        accepted = [x for r in results for x in r.latencies]
        errors: Counter[str] = Counter()
        for r in results:
            errors.update(r.errors)
        return {
            "layout": self.title,
            "replicas": {p: len(self.run.platform.replica_names(p)) for p in SCALED},
            "offered_rate": rate,
            "seconds": seconds,
            "turns": len(self.turns),
            "accepted": calls,
            "accept_rate": round(calls / seconds, 1) if seconds else 0.0,
            "turn_rates": [round(r.rate, 1) for r in results],
            "errors": dict(errors),
            "skipped": sum(r.skipped for r in results),
            "accept_p50_ms": _pct(accepted, 0.50),
            "accept_p99_ms": _pct(accepted, 0.99),
            "routed_p50_ms": _pct(latencies, 0.50),
            "routed_p99_ms": _pct(latencies, 0.99),
            "backlog_max": max((b for t in self.turns for _, b in t.backlog), default=0),
            "backlog_at_end": max((t.at_end for t in self.turns), default=0),
            "drain_after_s": round(max((t.drained_in for t in self.turns), default=0.0), 1),
            "unrouted_after_drain": len(left),
            "notified_after_s": round(notified_in, 1),
            "exactly_once": checks,
            "work": work,
            "cores": _mean_cores([t.cores for t in self.turns]),
            "cpu_ms_per_application": {
                k: round(1000 * sum(t.cpu_seconds.get(k, 0.0) for t in self.turns) / calls, 1)
                for k in sorted({k for t in self.turns for k in t.cpu_seconds})
                if calls and k not in ("other", "machine")
            },
            "load_average": [
                round(sum(t.load_average[i] for t in self.turns) / len(self.turns), 2)
                for i in range(3)
            ],
            "per_application": written,
            "capacity": self._capacity_record(CAPACITY_IN_FLIGHT) if self.closed else None,
        }

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
        await self.window.close()


def _platform_sum(cores: Mapping[str, float]) -> float:
    outside = ("load generator", "postgres", "rabbitmq", "sink", "other", "machine")
    return sum(v for k, v in cores.items() if k not in outside)


def _mean_cores(samples: list[dict[str, float]]) -> dict[str, float]:
    labels = {label for sample in samples for label in sample}
    return {k: round(sum(s.get(k, 0.0) for s in samples) / len(samples), 2) for k in labels}


async def compare(sides: list[Side], settings: Settings) -> list[dict[str, Any]]:
    """The same paced load on each side in turns, in the order A B B A (so a drift of the
    shared machine weighs on both alike); then each side's record."""
    rate, turns = settings.rate, settings.turns
    seconds = settings.seconds / turns
    drain_timeout = settings.drain_timeout
    for side in sides:
        await side.open()
    # What the processes did while starting (their migrations) reaches pg_stat_database late.
    await asyncio.sleep(STATS_SETTLE_SECONDS)
    for side in sides:
        await side.start_counting()
    for n in range(turns):
        order = sides if n % 2 == 0 else list(reversed(sides))
        for side in order:
            say(
                f"==> {side.title}: {rate:g} applications/s for {seconds:g}s (turn {n + 1} of {turns})"
            )
            await side.turn(rate, seconds, drain_timeout)
    capacity_seconds = settings.capacity_seconds
    for n in range(settings.capacity_turns):
        order = sides if n % 2 == 0 else list(reversed(sides))
        for side in order:
            say(
                f"==> {side.title}: as many as {CAPACITY_IN_FLIGHT} windows get accepted, for"
                f" {capacity_seconds:g}s (turn {n + 1} of {settings.capacity_turns})"
            )
            await side.capacity(CAPACITY_IN_FLIGHT, capacity_seconds, drain_timeout)
    records = []
    for side in sides:
        say(f"==> {side.title}: counting each effect in the databases")
        records.append(await side.finish(rate, drain_timeout))
    return records


def shares_correctly(record: Mapping[str, Any]) -> bool:
    """Every effect exactly once, and every replica did part of the work."""
    effects_ok = all(
        c["missing"] == 0 and c["more_than_once"] == 0 and c["unexpected"] == 0
        for c in record["exactly_once"].values()
    )
    work = record["work"]
    routers = [n for n in work if n.startswith("router")]
    intakes = [n for n in work if n.startswith("intake")]
    every_one_worked = all(work[n].get(ACCEPTED_EVENT, 0) > 0 for n in routers) and all(
        sum(work[n].values()) > 0 for n in intakes
    )
    return effects_ok and every_one_worked and record["unrouted_after_drain"] == 0


# -- the whole mode ---------------------------------------------------------------------------


def _machine() -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cores": os.cpu_count(), "cpu": model, "load_average_at_start": os.getloadavg()}


def measure(
    cleanup: Cleanup,
    log_dir: Path,
    sink_endpoint: str,
    quick: bool,
    rate: float | None = None,
) -> dict[str, Any]:
    """Both platforms under the same load, then pgbench; returns the figures (scale.json)."""
    settings = QUICK if quick else Settings()
    if rate is not None:
        settings = dataclasses.replace(settings, rate=rate)
    results: dict[str, Any] = {
        "machine": _machine(),
        "settings": dataclasses.asdict(settings),
        "platforms": {},
    }
    sink_pid = _sink_pid(sink_endpoint)
    applications = Applications()
    runs = []
    for label, title, replicas in LAYOUTS:
        run = PlatformRun(label, sink_endpoint, log_dir)
        run.platform.replicas = replicas
        names = ", ".join(s.name for s in run.platform.specs)
        say(f"==> {title}: starting platform '{label}' ({names}), traced to the sink")
        run.start(cleanup)
        runs.append((run, title))

    async def both() -> tuple[list[dict[str, Any]], pgbench.Template]:
        sides = [Side(run, title, applications, sink_pid) for run, title in runs]
        try:
            records = await compare(sides, settings)
        finally:
            for side in sides:
                await side.close()
        return records, await _template(runs[-1][0])

    records, template = asyncio.run(both())
    for (run, _), record in zip(runs, records, strict=True):
        record["shares_correctly"] = shares_correctly(record)
        results["platforms"][run.label] = record
        say(
            f"    {record['layout']}: every effect exactly once, every replica at work:"
            f" {record['shares_correctly']}"
        )
        say(f"==> stopping platform '{run.label}'")
        run.stop()
    assert template is not None
    cleanup.push("drop the pgbench database", pgbench.drop)
    results["pgbench"] = pgbench.measure(
        template, settings.pgbench_clients, settings.pgbench_seconds, settings.pgbench_rounds, say
    )
    results["machine"]["load_average_at_end"] = os.getloadavg()
    return results


async def _template(run: PlatformRun) -> pgbench.Template:
    conn = await asyncpg.connect(run.platform.database_url("intake"))
    try:
        receipt = await conn.fetchval("SELECT receipt FROM cases ORDER BY created_at LIMIT 1")
        return await pgbench.Template.read(conn, str(receipt))
    finally:
        await conn.close()


def _sink_pid(endpoint: str) -> int | None:
    """The trace sink's process (``python -m bench.sink PORT``), to count its CPU apart."""
    port = endpoint.rsplit(":", 1)[-1]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            args = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"bench.sink" in args and port.encode() in args:
            return int(entry.name)
    return None


# -- the tables -------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def rows(results: Mapping[str, Any]) -> list[str]:
    platforms = results.get("platforms", {})
    if not platforms:
        return []
    labels = list(platforms)
    records = [platforms[label] for label in labels]
    first = records[0]
    width = 26
    lines = [
        f"SCALE: {first['offered_rate']:g} dibao applications/s offered for"
        f" {first['seconds']:g}s ({first['turns']} turns) over the gateway's gRPC window, on"
        f" {results['machine']['cores']} cores ({results['machine']['cpu']})",
        f"  {'':<34}" + "".join(f"{r['layout']:>{width}}" for r in records),
    ]

    def line(name: str, cells: list[str]) -> None:
        lines.append(f"  {name:<34}" + "".join(f"{c:>{width}}" for c in cells))

    line("accepted (per second)", [f"{r['accepted']} ({r['accept_rate']}/s)" for r in records])
    line("errors", [str(sum(r["errors"].values())) for r in records])
    line(
        "accept p50 / p99 ms",
        [f"{_cell(r['accept_p50_ms'])} / {_cell(r['accept_p99_ms'])}" for r in records],
    )
    line(
        "receipt -> routed p50 / p99 ms",
        [f"{_cell(r['routed_p50_ms'])} / {_cell(r['routed_p99_ms'])}" for r in records],
    )
    line(
        "backlog max / at the end", [f"{r['backlog_max']} / {r['backlog_at_end']}" for r in records]
    )
    line("routed after the load (s)", [str(r["drain_after_s"]) for r in records])
    for check in first["exactly_once"]:
        line(
            f"{check}: missing/twice",
            [
                f"{r['exactly_once'][check]['missing']}/{r['exactly_once'][check]['more_than_once']}"
                f" of {r['exactly_once'][check]['expected']}"
                for r in records
            ],
        )
    line("shares correctly", ["yes" if r["shares_correctly"] else "NO" for r in records])
    if all(r.get("capacity") for r in records):
        capacity = records[0]["capacity"]
        line(
            f"most accepted/s, {capacity['in_flight']} in flight",
            [
                f"{r['capacity']['rate']} ({'/'.join(map(str, r['capacity']['turn_rates']))})"
                for r in records
            ],
        )
        line(
            "  its p50 / p99 ms",
            [f"{r['capacity']['p50_ms']} / {r['capacity']['p99_ms']}" for r in records],
        )
        line("  routed after it (s)", [str(r["capacity"]["drain_after_s"]) for r in records])
        line(
            "  whole machine / other (cores)",
            [
                f"{r['capacity']['cores'].get('machine')} / {r['capacity']['cores'].get('other')}"
                for r in records
            ],
        )
    lines.append("  work per replica (over the load and the drain)")
    for r in records:
        for name, counts in r["work"].items():
            if name.startswith("router"):
                shown = f"{counts.get(ACCEPTED_EVENT, 0)} CaseAccepted events"
            else:
                shown = (
                    f"{counts.get('CreateCase', 0)} CreateCase, {sum(counts.values())} calls in all"
                )
            lines.append(f"    {r['layout']:<24} {name:<10} {shown}")
    lines.append(
        "  CPU (cores) over the load, per process (other: the rest of the machine's work, the"
        " idle platform's and other people's)"
    )
    names = sorted(
        {n for r in records for n in r["cores"] if n not in ("machine",)},
        key=lambda n: -max(r["cores"].get(n, 0.0) for r in records),
    )
    for name in names:
        cells = [_cell(r["cores"].get(name)) for r in records]
        if any(c not in ("-", "0.0") for c in cells):
            line(f"  {name}", cells)
    line("  the whole machine", [str(r["cores"].get("machine")) for r in records])
    line(
        "  load average (1, 5, 15 min)",
        [" ".join(f"{v:.1f}" for v in r["load_average"]) for r in records],
    )
    lines.append("  CPU ms per accepted application (the paced turns, until routed), per process")
    spent = sorted(
        {n for r in records for n in r["cpu_ms_per_application"]},
        key=lambda n: -max(r["cpu_ms_per_application"].get(n, 0.0) for r in records),
    )
    for name in spent:
        cells = [_cell(r["cpu_ms_per_application"].get(name)) for r in records]
        if any(c not in ("-", "0.0") for c in cells):
            line(f"  {name}", cells)
    line(
        "  the platform's processes",
        [f"{_platform_sum(r['cpu_ms_per_application']):.1f}" for r in records],
    )
    lines.append("  rows written per accepted application, in each database")
    for database in sorted({d for r in records for d in r["per_application"]}):
        cells = [_cell(r["per_application"].get(database, {}).get("rows")) for r in records]
        if any(c not in ("-", "0.0") for c in cells):
            line(f"  {database}", cells)
    return lines + pgbench_rows(results.get("pgbench"))


def pgbench_rows(bench: Mapping[str, Any] | None) -> list[str]:
    if not bench:
        return []
    server, rows = bench["server"], bench["rows_per_create"]
    lines = [
        "",
        f"PGBENCH: the median of {bench['rounds']} x {bench['seconds']:g}s per level,"
        f" PostgreSQL {server['version']} (fsync"
        f" {server['fsync']}, synchronous_commit {server['synchronous_commit']}, which the platform"
        " keeps)",
        f"  create: intake's one statement (a case, {rows['claims']} claims, its accepted entry,"
        f" {rows['departments']} department's progress, {rows['people']} people, its outbox row)",
        "  application: the create, the relay's published mark, the department's routed entry (3 commits)",
        "  create, no NOTIFY: the create with the outbox's trigger (pg_notify) disabled",
        "  per second, the median of the rounds [their lowest and highest], and its latency",
    ]
    variants = list(dict.fromkeys(lv["variant"] for lv in bench["levels"]))
    lines.append(f"  {'clients':>8} " + " ".join(f"{v:>24}" for v in variants))
    by = {(lv["variant"], lv["clients"]): lv for lv in bench["levels"]}
    for clients in sorted({lv["clients"] for lv in bench["levels"]}):
        cells = []
        for variant in variants:
            found = by.get((variant, clients))
            if found is None:
                cells.append("-")
                continue
            spread = f"[{min(found['round_tps']):.0f}-{max(found['round_tps']):.0f}]"
            cells.append(f"{found['tps']:>7.0f} {spread:>11} {found['latency_ms']:>4.1f}ms")
        lines.append(f"  {clients:>8} " + " ".join(f"{c:>24}" for c in cells))
    return lines


def main() -> int:
    launcher_settings.from_env().keys.configure()
    parser = argparse.ArgumentParser(description="Replicas sharing the work; pgbench's ceiling.")
    parser.add_argument("--quick", action="store_true", help="short phases (development)")
    parser.add_argument("--rate", type=float, help="applications/s offered to each platform")
    args = parser.parse_args()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = RESULTS / "logs" / f"scale-{stamp}"
    say(f"==> onedoor scale bench; logs in {log_dir.relative_to(ROOT)}/")
    results: dict[str, Any] = {}

    def measured(cleanup: Cleanup) -> None:
        sink = Sink(cleanup, log_dir)
        results.update(measure(cleanup, log_dir, sink.endpoint, args.quick, args.rate))

    code = run_cleaning_up(measured, log_dir)
    if code:
        return code
    results["run"] = {"started": stamp, "quick": args.quick, "logs": str(log_dir.relative_to(ROOT))}
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scale.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))
    print()
    print("\n".join(rows(results)))
    say(f"\nresults: {(RESULTS / 'scale.json').relative_to(ROOT)}")
    platforms = results["platforms"].values()
    return 0 if all(r["shares_correctly"] for r in platforms) else 1


if __name__ == "__main__":
    sys.exit(main())
