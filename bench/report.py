"""The results as a table for the terminal and as targets met or missed.

Every accept figure is printed as a ratio to the baseline at the same concurrency, measured in
the same run: on a shared machine the absolute numbers drift from run to run, the ratios much
less.
"""

from __future__ import annotations

from typing import Any

from bench import ingest
from bench.phases import BUSY_ELSEWHERE
from bench.sustained import NOT_END_TO_END

# CPU groups that are not the server's own processes (the platform's, or the baseline's).
NOT_SERVER = {"load generator", "postgres", "rabbitmq", "machine", "sink", "other"}
CORE_COLUMNS = ("load generator", "server", "postgres", "rabbitmq", "other", "machine")
CORES_HEADER = "cores: load gen / server / postgres / rabbitmq / other / machine"


def _server_cores(cores: dict[str, float]) -> float:
    return round(sum(v for k, v in cores.items() if k not in NOT_SERVER), 2)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _ratio(value: float | None, reference: float | None) -> str:
    if not value or not reference:
        return "-"
    return f"{value / reference:.2f}x"


def _cpu_ms(record: dict[str, Any]) -> float | None:
    """CPU milliseconds per call of every process taking part (load generator, server,
    PostgreSQL, RabbitMQ, sink), other work on the machine left out: unlike the rate, it
    hardly moves when a neighbour takes a core."""
    if not record["rate"]:
        return None
    ours = sum(v for k, v in record["cores"].items() if k not in ("machine", "other"))
    return 1000 * ours / record["rate"]


def _cores(cores: dict[str, float]) -> str:
    values = {**cores, "server": _server_cores(cores)}
    shown = "  ".join(f"{values.get(c, 0.0):4.2f}" for c in CORE_COLUMNS)
    return shown + (" *" if cores.get("other", 0.0) > BUSY_ELSEWHERE else "")


def _accept_rows(results: dict[str, Any]) -> list[str]:
    baseline = results["baseline"]
    header = (
        f"{'ACCEPT':<30}{'in flight':>9}{'apps/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'x baseline':>12}{'cpu ms':>8}   {CORES_HEADER}"
    )
    rows = [header]
    series = [
        ("baseline: grpc.aio + INSERT", baseline),
        ("gateway gRPC, tracing on", results["accept"]["grpc"]),
        ("gateway HTTP, tracing on", results["accept"]["http"]),
    ]
    for label, records in series:
        for n, r in records.items():
            reference = baseline.get(n, {}).get("rate")
            errors = f"  errors {r['errors']}" if r["errors"] else ""
            rows.append(
                f"{label:<30}{n:>9}{r['rate']:>9.1f}{_ms(r['p50_ms']):>9}{_ms(r['p95_ms']):>9}"
                f"{_ms(r['p99_ms']):>9}{_ratio(r['rate'], reference):>12}"
                f"{_ms(_cpu_ms(r)):>8}   {_cores(r['cores'])}{errors}"
            )
    again = results.get("baseline_again", {}).get(str(results["settings"]["reference"]))
    first = baseline.get(str(results["settings"]["reference"]))
    if again and first and first["rate"]:
        drift = again["rate"] / first["rate"] - 1
        rows.append(
            f"the baseline at {results['settings']['reference']} in flight: {first['rate']:.1f}/s"
            f" at the start, {again['rate']:.1f}/s at the end ({100 * drift:+.0f}%: how much the"
            " machine drifted during the run)"
        )
    return rows


def _cpu_per_application(results: dict[str, Any]) -> list[str]:
    """CPU milliseconds each process spends per accepted application: where the cores go."""
    reference = str(results["settings"]["reference"])
    record = results["accept"]["grpc"].get(reference)
    if not record or not record["rate"]:
        return []
    cores = record["cores"]
    parts = [
        f"{name} {1000 * value / record['rate']:.1f}"
        for name, value in sorted(cores.items(), key=lambda kv: -kv[1])
        if name not in ("machine", "other") and value > 0
    ]
    total = 1000 * cores.get("machine", 0.0) / record["rate"]
    return [
        f"where the CPU goes, ms per application (gRPC, {reference} in flight; the router routes"
        f" meanwhile): machine {total:.1f} = " + ", ".join(parts)
    ]


def _routing_rows(results: dict[str, Any]) -> list[str]:
    r = results.get("routing")
    if not r:
        return []
    share = 100 * results["settings"]["routing_share"]
    verdict = "drains (the router keeps up)" if r["keeps_up"] else "GROWS (the router falls behind)"
    accept = r["accept"]
    return [
        f"ROUTING at {r['offered_rate']:.0f} apps/s offered ({share:.0f}% of the best gRPC"
        f" accept rate, {r['best_accept_rate']:.0f}/s), {r['accepted']} accepted",
        f"  receipt -> routed   p50 {_ms(r['routed_p50_ms'])} ms   p95"
        f" {_ms(r['routed_p95_ms'])} ms   p99 {_ms(r['routed_p99_ms'])} ms   ({r['routed']} routed)",
        f"  backlog             max {r['backlog_max']}, at the end of the load"
        f" {r['backlog_at_end']}, trend {r['backlog_trend_per_s']:+.1f}/s, drained"
        f" {r['drain_after_s']:.1f}s after the load stopped ({r['unrouted_after_drain']} left):"
        f" {verdict}",
        f"  accept meanwhile    p50 {_ms(accept['p50_ms'])} ms   p99 {_ms(accept['p99_ms'])} ms"
        f"   {CORES_HEADER} {_cores(accept['cores'])}",
    ]


def _end_to_end_cpu_ms(record: dict[str, Any]) -> float | None:
    """CPU milliseconds per call of the platform's processes, PostgreSQL and RabbitMQ: the
    load generator, the trace sink and other work left out (bench.sustained's rule)."""
    if not record["rate"]:
        return None
    ours = sum(v for k, v in record["cores"].items() if k not in NOT_END_TO_END)
    return 1000 * ours / record["rate"]


def _short(method: str) -> str:
    """``gateway: onedoor.gateway.v1.GatewayService/SubmitApplication`` without the package."""
    process, _, rest = method.partition(": ")
    service, _, name = rest.partition("/")
    return f"{process}: {service.rsplit('.', 1)[-1]}/{name}"


def _wrapped(lead: str, parts: list[str], width: int = 110) -> list[str]:
    rows, line = [], lead
    for part in parts:
        if len(line) + len(part) + 2 > width and line.strip():
            rows.append(line.rstrip(", "))
            line = "    "
        line += part + ", "
    rows.append(line.rstrip(", "))
    return rows


def _best_step(sustained: dict[str, Any]) -> dict[str, Any] | None:
    return next((r for r in sustained["steps"] if r["step"] == sustained.get("best_step")), None)


def _sustained_rows(results: dict[str, Any]) -> list[str]:
    sustained = results.get("sustained")
    if not sustained or not sustained["steps"]:
        return []
    reference = str(results["settings"]["reference"])
    base = results["baseline"].get(reference, {}).get("rate")
    rows = [
        f"SUSTAINED END TO END on '{sustained['platform']}' (traced and metered), paced over"
        f" gRPC, {sustained['step_seconds']:g}s a step, search {sustained['search_s']:.0f}s;"
        " a step passes when:",
        f"  {sustained['rule']}",
        f"{'  step':<8}{'offered/s':>10}{'accepted/s':>11}{'accept p99':>11}{'routed p50':>11}"
        f"{'routed p99':>11}{'backlog max':>12}{'trend/s':>9}{'drain s':>8}{'cpu ms':>8}"
        f"  {'other':>5}  verdict",
    ]
    for r in sustained["steps"]:
        accept = r["accept"]
        other = accept["cores"].get("other", 0.0)
        verdict = "passes" if r["passed"] else "FAILS: " + "; ".join(r["failed_on"])
        rows.append(
            f"{'  ' + str(r['step']):<8}{r['offered_rate']:>10.1f}{accept['rate']:>11.1f}"
            f"{_ms(accept['p99_ms']):>11}{_ms(r['routed_p50_ms']):>11}"
            f"{_ms(r['routed_p99_ms']):>11}{r['backlog_max']:>12}"
            f"{r['backlog_trend_per_s']:>+9.1f}{r['drain_after_s']:>8.1f}"
            f"{_ms(r['end_to_end_cpu_ms']):>8}  {other:>4.2f}{'*' if other > BUSY_ELSEWHERE else ' '}"
            f" {verdict}"
        )
    best = _best_step(sustained)
    if best is None:
        return rows
    rate = best["offered_rate"]
    if sustained["passed"]:
        rows.append(
            f"  sustained: {rate:.1f} applications/s (step {best['step']}) ="
            f" {_ratio(rate, base)} the baseline at {reference} in flight ({_ms(base)}/s)"
        )
    else:
        rows.append(
            f"  NO STEP PASSED: the figures below are of the lowest rate tried, {rate:.1f}/s"
            f" (step {best['step']})"
        )
    rows += _per_application_rows(best)
    rows += _cost_rows(sustained.get("cost"))
    return rows


def _per_application_rows(best: dict[str, Any]) -> list[str]:
    rate = best["offered_rate"]
    cpu = best["cpu_ms_per_application"]
    platform = sorted(
        ((k, v) for k, v in cpu.items() if k not in NOT_END_TO_END), key=lambda kv: -kv[1]
    )
    rows = _wrapped(
        f"  CPU per routed application at {rate:.1f}/s, ms (from the load's start to the end of"
        f" its drain, {best['cpu_window_s']:.0f}s): end to end {_ms(best['end_to_end_cpu_ms'])} = ",
        [f"{k} {v:.2f}" for k, v in platform],
    )
    rows.append(
        f"    not counted: load generator {cpu.get('load generator', 0.0):.2f}, trace sink"
        f" {cpu.get('sink', 0.0):.2f}, other work {cpu.get('other', 0.0):.2f}; whole machine"
        f" {cpu.get('machine', 0.0):.2f}"
    )
    idle = best.get("idle_cores")
    if idle and best["routed"]:
        cores = sum(v for k, v in idle.items() if k not in NOT_END_TO_END)
        share = 1000 * cores * best["cpu_window_s"] / best["routed"]
        rows.append(
            f"    of which idle work: the platform, PostgreSQL and RabbitMQ use {cores:.2f} cores"
            f" with nothing to do (the pause after the drain), {share:.2f} ms per application"
            " at this rate"
        )
    per = best.get("per_application")
    if not per:
        return rows
    by_method = sorted(per["rpcs_by_method"].items(), key=lambda kv: -kv[1])
    rows += _wrapped(
        f"  RPCs per routed application (served, from each process's /metrics):"
        f" {per['rpcs_served']:.2f} served ({per['rpcs_made']:.2f} made) = ",
        [f"{_short(k)} {v:.2f}" for k, v in by_method],
    )
    statements = per["statements_by_service"]
    rows += _wrapped(
        "  SQL statements per routed application (one span each, services.common.sql_tracing, counted"
        f" at the trace sink): {per['statements']:.2f} = ",
        [
            f"{service} {sum(ops.values()):.2f} ("
            + " ".join(f"{op} {n:.2f}" for op, n in sorted(ops.items(), key=lambda kv: -kv[1]))
            + ")"
            for service, ops in sorted(statements.items(), key=lambda kv: -sum(kv[1].values()))
        ],
    )
    databases = per["by_database"]
    rows += _wrapped(
        "  PostgreSQL per routed application (pg_stat_database deltas): transactions"
        f" {per['transactions']:.2f}, rows written {per['rows_written']:.2f} = ",
        [
            f"{name} {d.get('xact_commit', 0) + d.get('xact_rollback', 0):.2f} tx /"
            f" {d.get('tup_inserted', 0) + d.get('tup_updated', 0) + d.get('tup_deleted', 0):.2f}"
            " rows"
            for name, d in sorted(databases.items())
        ],
    )
    return rows


def _cost_rows(cost: dict[str, Any] | None) -> list[str]:
    if not cost or "cost" not in cost:
        return []
    sides = [(k, v) for k, v in cost.items() if isinstance(v, dict)]
    rows = [
        f"  TRACING + METRICS at {cost['offered_rate']:.1f}/s, platforms side by side in turns"
        f" (the metered one scraped every {cost['scrape_seconds']:g}s):"
    ]
    for label, side in sides:
        busiest = side["cpu_ms_per_application"].get(cost["busiest"])
        rows.append(
            f"    {label:<6} end-to-end CPU {_ms(side['end_to_end_cpu_ms'])} ms per routed"
            f" application (turns {side['turn_end_to_end_cpu_ms']}), {cost['busiest']}"
            f" {_ms(busiest)} ms; routed p99 {_ms(side['routed_p99_ms_worst'])} ms, accept p99"
            f" {_ms(side['accept_p99_ms_worst'])} ms; {'keeps up' if side['passed'] else 'FAILS'}"
        )
    rows.append(
        f"    cost to the end-to-end rate: {100 * cost['cost_end_to_end']:.0f}% of the whole"
        f" pipeline's CPU, {100 * cost['cost_busiest']:.0f}% of {cost['busiest']}'s (the busiest"
        f" process): {100 * cost['cost']:.0f}% counted (a CPU-bound pipeline's rate goes as"
        " 1 / its CPU per application)"
    )
    return rows


def _growth_rows(results: dict[str, Any]) -> list[str]:
    growth = results["growth"]
    if not growth:
        return []
    rows = [
        f"{'GROWTH':<10}{'cases':>11}{'lookup p50':>12}{'lookup p99':>12}{'lookups/s':>11}"
        f"{'cpu ms':>8}{'accept/s':>10}{'accept p99':>12}{'x small':>9}{'cpu ms':>8}"
    ]
    first = next(iter(growth.values()))["accept"]["rate"]
    for label, r in growth.items():
        lookup, accept = r["lookup"], r["accept"]
        rows.append(
            f"{'  ' + label:<10}{r['cases']:>11,}{_ms(lookup['p50_ms']):>12}"
            f"{_ms(lookup['p99_ms']):>12}{lookup['rate']:>11.1f}{_ms(_cpu_ms(lookup)):>8}"
            f"{accept['rate']:>10.1f}{_ms(accept['p99_ms']):>12}"
            f"{_ratio(accept['rate'], first):>9}{_ms(_cpu_ms(accept)):>8}"
        )
    loads = results.get("bulk_load_s", {})
    rows.append(
        f"  side by side, look-ups at {results['settings']['lookup_in_flight']} in flight and"
        f" accept at {results['settings']['reference']}, in turns; bulk load: "
        + ", ".join(f"{int(n):,} cases in {s:.1f}s" for n, s in loads.items())
    )
    return rows


def _tracing_rows(results: dict[str, Any]) -> list[str]:
    on, off = results["tracing"].get("on"), results["tracing"].get("off")
    if not on or not off:
        return []
    cost = 1 - on["rate"] / off["rate"] if off["rate"] else 0.0
    sink = results.get("sink") or {}
    overflows = results.get("span_queue_overflows") or {}
    overflow = "; ".join(f"{run}: {', '.join(names)}" for run, names in overflows.items()) or "none"
    return [
        f"TRACING  accept over gRPC at {results['settings']['reference']} in flight, two platforms"
        " side by side, in turns:",
        f"  off {off['rate']:.1f}/s (turns {off.get('turn_rates')}, p99 {_ms(off['p99_ms'])} ms,"
        f" cpu {_ms(_cpu_ms(off))} ms per application)",
        f"  on  {on['rate']:.1f}/s (turns {on.get('turn_rates')}, p99 {_ms(on['p99_ms'])} ms,"
        f" cpu {_ms(_cpu_ms(on))} ms per application): tracing costs {100 * cost:.0f}% of"
        " accept throughput",
        f"  the sink received {sink.get('spans', 0):,} spans in {sink.get('exports', 0):,}"
        f" exports; batch exporter queue overflowed (spans dropped) in: {overflow}",
    ]


def _metrics_rows(results: dict[str, Any]) -> list[str]:
    measured = results.get("metrics") or {}
    on, off = measured.get("on"), measured.get("off")
    if not on or not off:
        return []
    cost = 1 - on["rate"] / off["rate"] if off["rate"] else 0.0
    return [
        f"METRICS  accept over gRPC at {results['settings']['reference']} in flight, both traced,"
        " two platforms side by side, in turns:",
        f"  off {off['rate']:.1f}/s (turns {off.get('turn_rates')}, p99 {_ms(off['p99_ms'])} ms,"
        f" cpu {_ms(_cpu_ms(off))} ms per application)",
        f"  on  {on['rate']:.1f}/s (turns {on.get('turn_rates')}, p99 {_ms(on['p99_ms'])} ms,"
        f" cpu {_ms(_cpu_ms(on))} ms per application): metrics cost {100 * cost:.1f}% of"
        " accept throughput",
        f"  every process scraped every {measured['scrape_seconds']:g} s: {measured['scrapes']}"
        f" scrapes, {measured['scrape_failures']} failed",
    ]


def _memory_rows(results: dict[str, Any]) -> list[str]:
    memory = results["peak_rss_mib"]
    runs = {k: v for k, v in memory.items() if isinstance(v, dict)}
    singles = {k: v for k, v in memory.items() if not isinstance(v, dict)}
    names: list[str] = []
    for processes in runs.values():
        names += [n for n in processes if n not in names]
    rows = [f"{'PEAK RSS (MiB)':<16}" + "".join(f"{n:>12}" for n in names)]
    for label, processes in runs.items():
        rows.append(
            f"{label:<16}"
            + "".join(
                f"{processes[n]:>12.0f}" if processes.get(n) is not None else f"{'-':>12}"
                for n in names
            )
        )
    if singles:
        rows.append("  " + ", ".join(f"{k} {v:.0f}" for k, v in singles.items() if v is not None))
    return rows


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each target with the measured value and whether it is met (None: not measured)."""
    n = str(results["settings"]["reference"])
    grpc = results["accept"]["grpc"].get(n, {})
    base = results["baseline"].get(n, {})
    routing = results.get("routing", {})
    growth = list(results["growth"].values())
    on, off = results["tracing"].get("on", {}), results["tracing"].get("off", {})

    def check(target: str, value: float | None, met: bool | None, shown: str) -> dict[str, Any]:
        return {"target": target, "value": value, "met": met, "shown": shown}

    ratio = grpc.get("rate", 0) / base["rate"] if base.get("rate") else None
    found = [
        check(
            f"accept over gRPC >= 0.5 x baseline at {n} in flight, tracing on",
            ratio,
            None if ratio is None else ratio >= 0.5,
            "-" if ratio is None else f"{ratio:.2f} x",
        ),
        check(
            f"accept over gRPC p99 <= 50 ms at {n} in flight, tracing on",
            grpc.get("p99_ms"),
            None if grpc.get("p99_ms") is None else grpc["p99_ms"] <= 50,
            f"{_ms(grpc.get('p99_ms'))} ms",
        ),
        check(
            "routing p99 <= 1 s at 70% of the maximum accept rate",
            routing.get("routed_p99_ms"),
            None if routing.get("routed_p99_ms") is None else routing["routed_p99_ms"] <= 1000,
            f"{_ms(routing.get('routed_p99_ms'))} ms",
        ),
        check(
            "routing backlog drains at 70% of the maximum accept rate",
            routing.get("backlog_trend_per_s"),
            routing.get("keeps_up"),
            f"trend {routing.get('backlog_trend_per_s', 0):+.1f}/s",
        ),
    ]
    if len(growth) >= 2:
        small, large = growth[0], growth[-1]
        lookup_p99 = large["lookup"]["p99_ms"]
        found.append(
            check(
                f"status look-up p99 <= 10 ms with {large['cases']:,} cases",
                lookup_p99,
                None if lookup_p99 is None else lookup_p99 <= 10,
                f"{_ms(lookup_p99)} ms",
            )
        )
        kept = (
            large["accept"]["rate"] / small["accept"]["rate"] if small["accept"]["rate"] else None
        )
        found.append(
            check(
                f"accept with {large['cases']:,} cases within 10% of with {small['cases']:,}",
                kept,
                None if kept is None else kept >= 0.9,
                "-" if kept is None else f"{kept:.2f} x",
            )
        )
    if on.get("rate") and off.get("rate"):
        cost = 1 - on["rate"] / off["rate"]
        found.append(
            check(
                "tracing costs <= 15% of accept throughput",
                cost,
                cost <= 0.15,
                f"{100 * cost:.0f}%",
            )
        )
    measured = results.get("metrics") or {}
    if measured.get("on", {}).get("rate") and measured.get("off", {}).get("rate"):
        cost = 1 - measured["on"]["rate"] / measured["off"]["rate"]
        found.append(
            check(
                "metrics cost <= 5% of accept throughput",
                cost,
                cost <= 0.05,
                f"{100 * cost:.1f}%",
            )
        )
    return found + _issue_19_targets(results) + ingest.targets(results)


def _issue_19_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The sustained pipeline's targets, and accept and look-up again under them."""
    n = str(results["settings"]["reference"])
    base = results["baseline"].get(n, {}).get("rate")
    grpc = results["accept"]["grpc"].get(n, {})
    sustained = results.get("sustained") or {}
    found: list[dict[str, Any]] = []

    def check(target: str, value: float | None, met: bool | None, shown: str) -> None:
        found.append({"target": target, "value": value, "met": met, "shown": shown})

    if sustained.get("steps"):
        best = _best_step(sustained) or {}
        rate = sustained.get("sustained_rate")
        ratio = rate / base if rate and base else None
        if not sustained["passed"]:
            shown = f"no step passed (lowest tried {best.get('offered_rate')}/s)"
        else:
            shown = f"{rate:.1f}/s = {_ratio(rate, base)}"
        check(
            f"sustained end-to-end rate >= 0.15 x baseline at {n} in flight"
            f" ({sustained['step_seconds']:g} s steps: backlog flat, routed p99 <= 1 s, accept"
            " p99 <= 250 ms)",
            ratio,
            False if not sustained["passed"] else (None if ratio is None else ratio >= 0.15),
            shown,
        )
        cpu = best.get("end_to_end_cpu_ms")
        check(
            "CPU per application end to end (accept + route + the department's write) <= 6 ms",
            cpu,
            None if cpu is None else cpu <= 6,
            f"{_ms(cpu)} ms" + ("" if sustained["passed"] else " (at the lowest rate tried)"),
        )
    ratio = grpc.get("rate", 0) / base if base else None
    check(
        f"accept alone over gRPC >= 0.25 x baseline at {n} in flight",
        ratio,
        None if ratio is None else ratio >= 0.25,
        "-" if ratio is None else f"{ratio:.2f} x",
    )
    check(
        f"accept alone over gRPC p99 <= 100 ms at {n} in flight",
        grpc.get("p99_ms"),
        None if grpc.get("p99_ms") is None else grpc["p99_ms"] <= 100,
        f"{_ms(grpc.get('p99_ms'))} ms",
    )
    growth = list(results["growth"].values())
    if growth:
        large = growth[-1]
        cpu = _end_to_end_cpu_ms(large["lookup"])
        check(
            f"status look-up CPU <= 2 ms each (platform, PostgreSQL, RabbitMQ), the audit"
            f" entry included, with {large['cases']:,} cases",
            cpu,
            None if cpu is None else cpu <= 2,
            f"{_ms(cpu)} ms",
        )
    cost = (sustained.get("cost") or {}).get("cost")
    if cost is not None:
        check(
            "tracing and metrics together cost <= 10% of the end-to-end rate",
            cost,
            cost <= 0.10,
            f"{100 * cost:.0f}%",
        )
    return found


def render(results: dict[str, Any]) -> str:
    run = results["run"]
    minutes, seconds = divmod(int(run.get("duration_s", 0)), 60)
    dirty = ", uncommitted changes" if run.get("dirty") == "True" else ""
    lines = [
        f"onedoor benchmark {run['started']}: {run['cores']} cores, Python {run['python']},"
        f" commit {run.get('commit', '?')}{dirty}; {minutes}m{seconds:02d}s in all;"
        f" {run.get('remeasured', 0)} measurements taken again (disturbed by other work)",
        "Every process shares the same cores. 'cores' is CPU time / wall time of each side: the"
        " load generator, the server",
        "(the platform's processes, or the baseline's), PostgreSQL, RabbitMQ, and 'other' (the"
        " rest of the machine: other work",
        f"on it, the kernel); * marks a phase in which 'other' used more than {BUSY_ELSEWHERE}"
        " cores. 'cpu ms' is the CPU time per call",
        "of every process taking part ('other' left out).",
        "",
        *_accept_rows(results),
        *_cpu_per_application(results),
        "",
        *_routing_rows(results),
        "",
        *_sustained_rows(results),
        "",
        *_growth_rows(results),
        "",
        *_tracing_rows(results),
        "",
        *_metrics_rows(results),
        "",
        *_memory_rows(results),
        "",
        *ingest.rows(results),
        "",
        "TARGETS",
    ]
    for t in results.get("targets", []):
        mark = {True: "met   ", False: "MISSED", None: "n/a   "}[t["met"]]
        lines.append(f"  [{mark}] {t['target']}: {t['shown']}")
    return "\n".join(lines)
