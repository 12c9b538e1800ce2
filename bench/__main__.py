"""``make bench``: starts the platform the way a deployment runs it (real PostgreSQL and
RabbitMQ, tracing on with the batch exporter to a local sink), drives it, and prints every
figure beside a baseline measured in the same run; the JSON goes to bench/results/latest.json.

The machine is shared, so the comparisons that matter are made side by side rather than
minutes apart. In order, each phase announced as it runs:

1. the baseline (bench.baseline: grpc.aio + one asyncpg INSERT) at 8, 32 and 64 in flight;
2. tracing: platforms "off" and "on" side by side, accept over gRPC at 32 in flight in turns;
   then metrics: platforms "no-metrics" and "on" (both traced; "on" scraped every 5 s) alike;
3. platform "on": accept over gRPC and over HTTP at 8, 32 and 64 in flight, then routing at
   70% of the best gRPC accept rate; then the sustained end-to-end rate (bench.sustained):
   paced steps searching for the highest rate the router keeps up with, with the CPU, RPCs and
   SQL statements per routed application at it; then platform "bare" (tracing and metrics
   off) beside "on" at that rate, in turns, for what tracing and metrics cost end to end;
4. growth: platforms "small" (10 thousand cases) and "large" (1 million), bulk-loaded, side by
   side: status look-ups and accept in turns;
5. the baseline once more at 32 in flight, to show how far the machine drifted meanwhile;
6. ingest (bench.ingest): the seed's year of 246,000 medical expenses pushed over gRPC and as
   CSV over HTTP to the ingest service alone, against COPY of the same rows, and pushed again.

``--quick`` runs every phase briefly on a small ledger, to try the benchmark itself out.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench import ingest, report, sustained
from bench.phases import QUICK, Bench, Settings, say
from bench.resources import peak_rss_mib
from bench.stack import BaselineServer, Cleanup, PlatformRun, Sink, run_cleaning_up
from services.launcher import settings as launcher_settings
from services.launcher.platform import ROOT

RESULTS = Path(__file__).parent / "results"
QUICK_INGEST = 20_000


def _git() -> dict[str, str]:
    def git(*args: str) -> str:
        try:
            return subprocess.run(
                ["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10
            ).stdout.strip()
        except OSError:
            return ""

    return {
        "commit": git("rev-parse", "--short", "HEAD"),
        "dirty": str(bool(git("status", "--porcelain", "--untracked-files=no"))),
    }


def _start(run: PlatformRun, cleanup: Cleanup, tracing: str) -> None:
    names = ", ".join(s.name for s in run.platform.specs)
    say(f"==> starting platform '{run.label}' ({names}), tracing {tracing}")
    run.start(cleanup)


def _stop(bench: Bench, run: PlatformRun) -> None:
    bench.results["peak_rss_mib"][run.label] = run.peak_rss()
    overflows = run.span_queue_overflows()
    if overflows:
        bench.results.setdefault("span_queue_overflows", {})[run.label] = overflows
    say(f"==> stopping platform '{run.label}'")
    run.stop()


def run_phases(bench: Bench, cleanup: Cleanup, log_dir: Path) -> None:
    results = bench.results
    sink = Sink(cleanup, log_dir)
    server = BaselineServer(cleanup, log_dir)
    asyncio.run(bench.baseline(server, bench.s.in_flight, "baseline"))
    memory = results["peak_rss_mib"]
    memory["baseline server"] = peak_rss_mib(server.process.pid)
    # Its pool holds ten connections and its process memory: not while the platforms run.
    server.stop()

    off = PlatformRun("off", None, log_dir)
    on = PlatformRun("on", sink.endpoint, log_dir)
    _start(off, cleanup, "OFF")
    _start(on, cleanup, "ON (OTLP, batch exporter, to the sink)")
    asyncio.run(bench.tracing(off, on, sink))
    _stop(bench, off)
    unmetered = PlatformRun("no-metrics", sink.endpoint, log_dir, metrics=False)
    _start(unmetered, cleanup, "ON, metrics OFF")
    asyncio.run(bench.metrics(unmetered, on, sink))
    _stop(bench, unmetered)
    asyncio.run(bench.accept_and_route(on, sink))
    asyncio.run(sustained.search(bench, on, sink))
    # Started only now, so that its idle processes stay out of the search's measurements.
    bare = PlatformRun("bare", None, log_dir, metrics=False)
    _start(bare, cleanup, "OFF, metrics OFF")
    asyncio.run(sustained.cost(bench, bare, on, sink))
    _stop(bench, bare)
    _stop(bench, on)

    small = PlatformRun("small", sink.endpoint, log_dir)
    large = PlatformRun("large", sink.endpoint, log_dir)
    _start(small, cleanup, "ON")
    _start(large, cleanup, "ON")
    asyncio.run(bench.growth(small, large, sink))
    _stop(bench, small)
    _stop(bench, large)

    results["baseline_again"] = {}
    server = BaselineServer(cleanup, log_dir)
    asyncio.run(bench.baseline(server, (bench.s.reference,), "baseline_again"))
    server.stop()
    results["ingest"] = ingest.measure(
        cleanup, log_dir, QUICK_INGEST if bench.s is QUICK else ingest.YEAR, sink.endpoint
    )
    memory["trace sink"] = peak_rss_mib(sink.process.pid)
    memory["load generator"] = peak_rss_mib(os.getpid())
    results["sink"] = sink.stats()


def main() -> int:
    # The benchmark signs its callers' tokens with the key its platforms' gateways verify.
    launcher_settings.from_env().keys.configure()
    parser = argparse.ArgumentParser(description="Benchmark the onedoor platform.")
    parser.add_argument(
        "--quick", action="store_true", help="short phases and a small ledger (development)"
    )
    args = parser.parse_args()
    settings = QUICK if args.quick else Settings()
    started = time.monotonic()
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    log_dir = RESULTS / "logs" / stamp
    bench = Bench(settings)
    bench.results["run"] = {
        "started": stamp,
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "logs": str(log_dir.relative_to(ROOT)),
        **_git(),
    }
    say(f"==> onedoor benchmark on {os.cpu_count()} cores; logs in {log_dir.relative_to(ROOT)}/")
    code = run_cleaning_up(lambda cleanup: run_phases(bench, cleanup, log_dir), log_dir)
    if code:
        return code

    bench.results["run"]["duration_s"] = round(time.monotonic() - started, 1)
    bench.results["run"]["remeasured"] = settings.remeasures - bench.remeasures
    bench.results["targets"] = report.targets(bench.results)
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(bench.results, indent=2, ensure_ascii=False)
    (RESULTS / "latest.json").write_text(text)
    (RESULTS / f"{stamp}.json").write_text(text)
    print()
    print(report.render(bench.results))
    say(f"\nresults: {(RESULTS / 'latest.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
