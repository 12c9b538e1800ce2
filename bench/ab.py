"""Before and after, side by side in one run: ``python -m bench.ab --before DIR``.

Runs two whole platforms on this machine, one from another checkout (``DIR``, usually an
earlier commit: ``git worktree add DIR COMMIT && make -C DIR install``) and one from this one,
and offers each the same paced load in turns (A B B A ...), so a drift of the machine weighs on
both. Every turn is end to end: accepted at the window, routed, opened by the department, and
the CPU each process spent on it, per application, counted from the turn's start until its
last case is routed. Only one platform works at a time; the other idles.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench.applications import Applications, clerk_authorization
from bench.load import GrpcWindow
from bench.resources import CpuMeter
from bench.routing import backlog_trend, drain, offer, routing_latencies
from bench.stack import Cleanup, PlatformRun, Sink, run_cleaning_up
from services.launcher import settings as launcher_settings
from services.launcher.platform import ROOT

RESULTS = ROOT / "bench" / "results"
IDLE_SIDE = "the other side, idle"
WHOLE_SIDE = "platform+PG+MQ"
# What the side's own figure leaves out: the machine's whole, the work of neither side.
LOAD_GENERATOR = "load generator"
NOT_THE_SIDE = {"machine", "other", LOAD_GENERATOR, IDLE_SIDE}


def say(line: str) -> None:
    print(line, flush=True)


@dataclass
class Side:
    label: str
    run: PlatformRun
    turns: list[dict[str, Any]] = field(default_factory=list)


def _percentile_ms(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)


async def _turn(
    side: Side, idle: Side, applications: Applications, rate: float, seconds: float
) -> None:
    platform = side.run.platform
    window = GrpcWindow(
        f"127.0.0.1:{platform.ports.gateway_grpc}", applications, clerk_authorization()
    )
    conn = await asyncpg.connect(platform.database_url("intake"))
    try:
        await window.ready()
        # The idle side's processes apart, not in "other": what one side spends idle (a
        # poll, a timer) would otherwise be charged to the other side's turns.
        meter = CpuMeter(
            {
                **{name: [pid] for name, pid in side.run.pids.items()},
                IDLE_SIDE: list(idle.run.pids.values()),
            }
        )
        offered = await offer(window.submit, rate, seconds, platform.database_url("intake"), meter)
        result, receipts, before = offered.result, offered.receipts, offered.before
        drained, left = await drain(conn, receipts, 120.0)
        after = meter.snapshot()
        cores = CpuMeter.cores(before, after)
        wall = after.at - before.at
        routed = len(receipts) - len(left)
        latencies = await routing_latencies(conn, receipts)
        per_application = {
            name: round(used * wall * 1000 / max(routed, 1), 2) for name, used in cores.items()
        }
        per_application[WHOLE_SIDE] = round(
            sum(v for k, v in per_application.items() if k not in NOT_THE_SIDE), 2
        )
        record = {
            "offered_rate": rate,
            "accepted": len(receipts),
            "errors": dict(result.errors),
            "accept_p50_ms": _round(result.percentile_ms(0.50)),
            "accept_p99_ms": _round(result.percentile_ms(0.99)),
            "routed_p50_ms": _percentile_ms(latencies, 0.50),
            "routed_p99_ms": _percentile_ms(latencies, 0.99),
            "backlog_trend_per_s": round(backlog_trend(offered.backlog), 1),
            "drained_after_s": round(drained, 1),
            "unrouted": len(left),
            "cpu_ms_per_application": per_application,
        }
        side.turns.append(record)
        say(
            f"    {side.label}: {len(receipts)} accepted, accept p99 {record['accept_p99_ms']} ms,"
            f" routed p99 {record['routed_p99_ms']} ms, drained {drained:.1f}s after;"
            f" CPU per application {per_application['machine']} ms (machine),"
            f" other work {cores.get('other')} cores"
        )
    finally:
        await conn.close()
        await window.close()


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _pooled(side: Side) -> dict[str, Any]:
    """Each figure's median over the side's turns (a disturbed turn weighs less than in a
    mean)."""

    def median(values: list[float]) -> float | None:
        found = sorted(v for v in values if v is not None)
        return round(found[len(found) // 2], 2) if found else None

    processes = {p for t in side.turns for p in t["cpu_ms_per_application"]}
    used = {
        p: [t["cpu_ms_per_application"].get(p, 0.0) for t in side.turns] for p in sorted(processes)
    }
    return {
        "turns": len(side.turns),
        "cpu_ms_per_application": {p: median(values) for p, values in used.items()},
        # Turn by turn, in order: turn i of one side ran next to turn i of the other.
        "per_turn": used,
        **{
            key: median([t[key] for t in side.turns])
            for key in ("accept_p50_ms", "accept_p99_ms", "routed_p50_ms", "routed_p99_ms")
        },
    }


def render(before: dict[str, Any], after: dict[str, Any]) -> str:
    lines = ["", "CPU per routed application, ms (median of the turns)", ""]
    lines.append(f"  {'process':<22} {'before':>8} {'after':>8} {'after/before':>13}")
    order = sorted(
        before["cpu_ms_per_application"],
        key=lambda p: -(before["cpu_ms_per_application"].get(p) or 0.0),
    )
    for process in order:
        b = before["cpu_ms_per_application"].get(process) or 0.0
        a = after["cpu_ms_per_application"].get(process) or 0.0
        ratio = f"{a / b:.2f}x" if b else "-"
        lines.append(f"  {process:<22} {b:8.2f} {a:8.2f} {ratio:>13}")
    lines.append("")
    for key in ("accept_p50_ms", "accept_p99_ms", "routed_p50_ms", "routed_p99_ms"):
        lines.append(f"  {key:<22} {before[key]!s:>8} {after[key]!s:>8}")
    lines.append("")
    lines.append(f"  {WHOLE_SIDE}: {verdict(before, after, WHOLE_SIDE)}")
    if LOAD_GENERATOR in before["cpu_ms_per_application"]:
        # Not a clean control: the same code for both sides, but it polls each side's ledger
        # until the turn's cases are routed, so a side that drains sooner costs it less.
        lines.append(
            f"  {LOAD_GENERATOR} (the same code for both sides; it also polls each side until"
            f" its turn drains): {verdict(before, after, LOAD_GENERATOR)}"
        )
    return "\n".join(lines)


def verdict(before: dict[str, Any], after: dict[str, Any], process: str) -> str:
    """After against before, pair by pair of adjacent turns (which share the machine's state
    of the moment), and whether the sides' ranges of turns overlap, in words."""
    b = before.get("per_turn", {}).get(process) or []
    a = after.get("per_turn", {}).get(process) or []
    pairs = [(x, y) for x, y in zip(b, a, strict=False) if x]
    if not pairs:
        return "no turns to compare"
    ratios = " ".join(f"{y / x:.2f}" for x, y in pairs)
    lower = sum(1 for x, y in pairs if y < x)
    ranges = f"before {min(b):.2f}-{max(b):.2f} ms, after {min(a):.2f}-{max(a):.2f} ms"
    paired = (
        f"after/before in each pair of adjacent turns {ratios}: lower in {lower} of {len(pairs)}"
    )
    if max(a) < min(b):
        return f"{paired}; {ranges}: lower after in every turn"
    if min(a) > max(b):
        return f"{paired}; {ranges}: higher after in every turn"
    return f"{paired}; {ranges}: the ranges overlap"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", required=True, type=Path, help="the other checkout")
    parser.add_argument(
        "--after", type=Path, default=ROOT, help="the checkout it is compared with (this one)"
    )
    parser.add_argument("--rate", type=float, default=40.0, help="applications a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="per turn")
    parser.add_argument("--turns", type=int, default=4, help="per side")
    parser.add_argument(
        "--env", action="append", default=[], help="NAME=VALUE, the after side only"
    )
    args = parser.parse_args()
    roots = [args.before.resolve(), args.after.resolve()]
    for root in roots:
        if not (root / ".venv" / "bin" / "python").exists() or not (root / "gen").is_dir():
            say(f"!! {root} has no .venv or gen/: run make -C {root} install first")
            return 2
    launcher_settings.from_env().keys.configure()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = RESULTS / "logs" / f"ab-{stamp}"
    applications = Applications()
    extra = dict(e.split("=", 1) for e in args.env)
    sides: list[Side] = []

    def compare(cleanup: Cleanup) -> None:
        sink = Sink(cleanup, log_dir)
        for label, root in zip(("before", "after"), roots, strict=True):
            side = Side(label, PlatformRun(label, sink.endpoint, log_dir))
            side.run.platform.root = root
            side.run.platform.python = str(root / ".venv" / "bin" / "python")
            sides.append(side)
        sides[1].run.platform.extra_env = {**sides[1].run.platform.extra_env, **extra}
        for side in sides:
            say(f"==> starting '{side.label}' from {side.run.platform.root}")
            side.run.start(cleanup)
        say(f"==> {args.turns} turns a side of {args.rate:g}/s for {args.seconds:g}s, in turns")
        for turn in range(args.turns):
            order = sides if turn % 2 == 0 else list(reversed(sides))
            for side in order:
                say(f"==> turn {turn + 1} of {args.turns}: {side.label}")
                idle = sides[1] if side is sides[0] else sides[0]
                asyncio.run(_turn(side, idle, applications, args.rate, args.seconds))

    code = run_cleaning_up(compare, log_dir)
    if code:
        return code
    pooled = {side.label: _pooled(side) for side in sides}
    results = {
        "started": stamp,
        "before": str(roots[0]),
        "after": str(roots[1]),
        "after_env": extra,
        "rate": args.rate,
        "seconds": args.seconds,
        "sides": {side.label: side.turns for side in sides},
        "pooled": pooled,
        "cores": os.cpu_count(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"ab-{stamp}.json").write_text(json.dumps(results, indent=2))
    print(render(pooled["before"], pooled["after"]))
    say(f"\nresults: bench/results/ab-{stamp}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
